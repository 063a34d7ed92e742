import Foundation
import SwiftASN1
public import X509

/// A private key file opened, whatever its container: what it holds and in which format.
///
/// Reads, in PEM or DER:
/// - unencrypted PKCS#8, SEC1 and PKCS#1 keys (as ``KeyFileReader`` does);
/// - encrypted PKCS#8 (`ENCRYPTED PRIVATE KEY`: PBES2 with PBKDF2 or scrypt, PBES1, PKCS#12 PBE);
/// - OpenSSL's traditional encrypted PEM (`Proc-Type: 4,ENCRYPTED`);
/// - PKCS#12 (`.p12`, `.pfx`; recognised by extension or content), modern (PBES2/AES, SHA-256 MAC) or
///   legacy (RC2/3DES, SHA-1 MAC), with its certificates;
/// - a PEM key file may also carry `CERTIFICATE` blocks.
///
/// Encrypted containers are opened by libcrypto (``LibCrypto``), which hands back the key as an
/// unencrypted PKCS#8 structure in memory; ``KeyFileReader`` turns that into a swift-crypto key, so
/// signing never goes through OpenSSL. The intermediate key bytes are zeroed after use.
///
/// Every error names the file and says what to fix: ``SignerError/ErrorCode/passphraseRequired``
/// (an encrypted file without a passphrase), ``SignerError/ErrorCode/wrongPassphrase``,
/// ``SignerError/ErrorCode/unsupportedAlgorithm`` (a key type Sigillum does not sign with, or an
/// encryption OpenSSL does not offer here), ``SignerError/ErrorCode/unreadableFile``,
/// ``SignerError/ErrorCode/notAKey``, ``SignerError/ErrorCode/invalidKey``,
/// ``SignerError/ErrorCode/notACertificate`` and, from the passphrase's source,
/// ``SignerError/ErrorCode/secretUnavailable``.
public struct KeyFile: Sendable {
    /// The file's path.
    public let path: String

    /// The container the key came in.
    public let format: KeyFileFormat

    /// The private key.
    public let key: SoftwareKey

    /// The certificates stored with the key, in DER order of the file: a PKCS#12 file's (the one
    /// OpenSSL paired with the key first), or the `CERTIFICATE` blocks of a PEM key file. Nothing is
    /// checked here; ``KeyFileSignerSource`` picks the key's certificate and orders the chain.
    public let certificates: [Certificate]

    /// Opens the key file at `path`, reading the passphrase (when the file needs one) from the
    /// process environment and file system.
    ///
    /// - Parameters:
    ///   - path: The key file.
    ///   - passphrase: Where the passphrase comes from, or `nil` when the file is not encrypted (a
    ///     PKCS#12 file with an empty password opens without one).
    public static func read(atPath path: String, passphrase: SecretSource?) throws -> KeyFile {
        try self.read(atPath: path, passphrase: passphrase, environment: ProcessInfo.processInfo.environment)
    }

    /// Opens the key file at `path`, resolving the passphrase's variables in `environment`.
    ///
    /// - Parameters:
    ///   - path: The key file.
    ///   - passphrase: Where the passphrase comes from, or `nil`.
    ///   - environment: The variables ``SecretSource/resolve(environment:)`` looks in.
    public static func read(
        atPath path: String,
        passphrase: SecretSource?,
        environment: [String: String]
    ) throws -> KeyFile {
        let opened = try Opened(path: path, passphrase: passphrase, environment: environment)
        return try KeyFile(opened)
    }

    init(_ opened: Opened) throws {
        self.path = opened.path
        self.key = try KeyFileReader.parseKey(opened.key.bytes, source: opened.source)
        // Found by KeyFileReader's own rules, so known whenever it read a key.
        self.format = opened.container.format ?? .pkcs8
        self.certificates = try opened.certificates()
    }
}

extension KeyFile {
    /// A key file read and decrypted, before its key is turned into a swift-crypto key.
    struct Opened {
        var path: String
        var container: KeyFileContainer
        /// PEM or DER that ``KeyFileReader`` reads: the file itself, or the decrypted PKCS#8.
        var key: SecretBytes
        /// DER certificates from the file.
        var certificateDER: [[UInt8]]

        /// `the key file PATH`, for messages.
        var source: String { "the key file \(self.path)" }

        init(path: String, passphrase: SecretSource?, environment: [String: String]) throws {
            let bytes = SecretBytes(try FileInput.read(path: path, what: "key"))
            let container = KeyFileContainer(bytes: bytes.bytes, path: path)
            try self.init(
                path: path, bytes: bytes, container: container, passphrase: passphrase, environment: environment)
        }

        init(
            path: String,
            bytes: SecretBytes,
            container: KeyFileContainer,
            passphrase: SecretSource?,
            environment: [String: String]
        ) throws {
            self.path = path
            self.container = container
            self.certificateDER = container.visibleCertificates
            let source = "the key file \(path)"
            switch container.content {
            case .plain:
                self.key = bytes
            case .encryptedPKCS8(let der):
                let secret = try Self.requiredPassphrase(passphrase, environment: environment, container, path: path)
                do {
                    self.key = try LibCrypto.decryptPKCS8(der, passphrase: secret)
                } catch {
                    throw Self.error(error, container, path: path, passphrase: passphrase)
                }
            case .traditionalEncryptedPEM:
                let secret = try Self.requiredPassphrase(passphrase, environment: environment, container, path: path)
                do {
                    self.key = try LibCrypto.decryptTraditionalPEM(bytes.bytes, passphrase: secret)
                } catch {
                    throw Self.error(error, container, path: path, passphrase: passphrase)
                }
            case .pkcs12(let der):
                var secret: SecretBytes?
                if let passphrase {
                    let resolved = SecretBytes(try passphrase.resolve(environment: environment))
                    guard !resolved.bytes.contains(0) else {
                        throw SignerError.secretUnavailable(
                            reason: """
                                the passphrase for \(source) (from \(passphrase)) holds a NUL byte, which a PKCS#12 \
                                password cannot; check the secret
                                """
                        )
                    }
                    secret = resolved
                }
                let contents: LibCrypto.PKCS12Contents
                do {
                    contents = try LibCrypto.openPKCS12(der, passphrase: secret)
                } catch {
                    throw Self.error(error, container, path: path, passphrase: passphrase)
                }
                guard let key = contents.privateKeyInfo else {
                    throw SignerError.notAKey(
                        reason: """
                            \(source) is a PKCS#12 file without a private key (it holds \
                            \(contents.certificates.count) certificates only); export it again with the key \
                            (`openssl pkcs12 -export -inkey KEY -in CERT -certfile CHAIN`)
                            """
                    )
                }
                self.key = key
                self.certificateDER = contents.certificates
            }
        }

        /// The certificates, parsed.
        func certificates() throws -> [Certificate] {
            try self.certificateDER.enumerated().map { index, der in
                do {
                    return try Certificate(derEncoded: der)
                } catch {
                    throw SignerError.notACertificate(
                        reason: "certificate \(index + 1) in \(self.source) does not parse as X.509; export it again",
                        cause: error
                    )
                }
            }
        }

        private static func requiredPassphrase(
            _ passphrase: SecretSource?,
            environment: [String: String],
            _ container: KeyFileContainer,
            path: String
        ) throws -> SecretBytes {
            guard let passphrase else {
                throw Self.passphraseRequired(container, path: path, cause: nil)
            }
            return SecretBytes(try passphrase.resolve(environment: environment))
        }

        private static func passphraseRequired(
            _ container: KeyFileContainer,
            path: String,
            cause: (any Error)?
        ) -> SignerError {
            let format = container.format == .pkcs12 ? "a PKCS#12 file" : "an encrypted key"
            return SignerError.passphraseRequired(
                reason: """
                    the key file \(path) is \(format) protected by a passphrase, and none is configured: set \
                    the signer's passphrase (a file, an environment variable or a systemd credential); \
                    `sigillum keys inspect \(path)` shows how the file is protected
                    """,
                cause: cause
            )
        }

        /// The SignerError for a failure of libcrypto to open the file.
        private static func error(
            _ error: any Error,
            _ container: KeyFileContainer,
            path: String,
            passphrase: SecretSource?
        ) -> SignerError {
            let source = "the key file \(path)"
            guard let failure = error as? LibCryptoFailure else {
                return (error as? SignerError)
                    ?? SignerError.invalidKey(reason: "\(source) could not be opened", cause: error)
            }
            let format = container.format.map(String.init(describing:)) ?? "key"
            let openSSLSays = failure.reasons.isEmpty ? "" : " (OpenSSL: \(failure.reasons.joined(separator: "; ")))"
            if failure.function.hasPrefix("d2i_") {
                return SignerError.invalidKey(
                    reason: "\(source) is not a valid \(format) file\(openSSLSays); export it again",
                    cause: failure
                )
            }
            var kind = failure.kind
            if kind == .unsupportedAlgorithm, passphrase != nil, case .traditionalEncryptedPEM = container.content {
                // The DEK-Info ciphers (AES, 3DES) are in the default provider; here "unsupported" comes from the
                // decoders that found no key in the decrypted bytes: a wrong passphrase whose padding checked out by
                // chance (about 1 in 256).
                kind = .badDecrypt
            }
            switch kind {
            case .unsupportedAlgorithm:
                let legacy = container.protections.contains(where: \.needsLegacyProvider)
                let advice: String
                if legacy && !LibCrypto.legacyProviderLoaded {
                    advice = """
                        it uses algorithms that OpenSSL 3 keeps in its legacy provider, which could not be \
                        loaded (Debian ships it in libssl3 as ossl-modules/legacy.so); install it, or re-export \
                        the file with modern algorithms (`openssl pkcs12 -export`, AES-256-CBC)
                        """
                } else {
                    advice = """
                        it uses an encryption OpenSSL does not offer here; re-export it with modern algorithms \
                        (`openssl pkcs12 -export`, or `openssl pkcs8 -topk8 -v2 aes-256-cbc`)
                        """
                }
                return SignerError.unsupportedAlgorithm(
                    reason: "\(source) cannot be opened\(openSSLSays): \(advice)", cause: failure)
            case .macVerification, .badDecrypt, .passphraseNotGiven, .other:
                guard let passphrase else {
                    return Self.passphraseRequired(container, path: path, cause: failure)
                }
                return SignerError.wrongPassphrase(
                    reason: """
                        \(source) does not open with the passphrase from \(passphrase)\(openSSLSays): the \
                        passphrase is wrong, or belongs to another file; check the secret, or try it with \
                        `openssl \(format == "PKCS#12" ? "pkcs12 -info -noout -in" : "pkey -noout -in") FILE`
                        """,
                    cause: failure
                )
            }
        }
    }
}
