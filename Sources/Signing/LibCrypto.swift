import COpenSSL

/// The one door to OpenSSL's libcrypto (the system's OpenSSL 3, through `COpenSSL`).
///
/// Sigillum signs with swift-crypto; libcrypto only opens the containers swift-crypto does not read:
/// encrypted PKCS#8 (PBES2 with PBKDF2 or scrypt, PBES1, PKCS#12 PBE), OpenSSL's traditional
/// encrypted PEM (`Proc-Type: 4,ENCRYPTED`) and PKCS#12. Every call takes Swift bytes and returns
/// Swift bytes: a key leaves as an unencrypted PKCS#8 `PrivateKeyInfo` in ``SecretBytes`` (zeroed
/// when released) for ``KeyFileReader`` to turn into a swift-crypto key, certificates leave as DER.
/// No OpenSSL pointer leaves this type, and buffers libcrypto allocated for key material are cleared
/// before they are freed.
///
/// Each operation starts with an empty error queue (it is per thread, and no call here suspends),
/// turns a failure into a ``LibCryptoFailure`` holding the queue's entries, each classified, and
/// leaves the queue empty.
///
/// Providers: the first use loads OpenSSL's `default` provider and then its `legacy` provider into
/// the default library context. PKCS#12 files made with `openssl pkcs12 -legacy`, by OpenSSL 1.1 or
/// by older Windows and Java tools encrypt their certificates with RC2-40 (and may use RC4 or single
/// DES), which OpenSSL 3 offers only in the legacy provider. Loading `legacy` explicitly turns off
/// the implicit loading of `default`, so `default` is loaded first. Debian 12 ships the legacy
/// provider in `libssl3` (`/usr/lib/x86_64-linux-gnu/ossl-modules/legacy.so`); when it cannot be
/// loaded, legacy files fail with ``LibCryptoFailure/Kind/unsupportedAlgorithm`` and
/// ``legacyProviderLoaded`` says why.
enum LibCrypto {
    /// The libcrypto version in use, such as `OpenSSL 3.0.22 1 Jul 2025`.
    static var version: String {
        String(cString: OpenSSL_version(OPENSSL_VERSION))
    }

    /// Whether OpenSSL's legacy provider is loaded (RC2, RC4, DES and other old PKCS#12 algorithms).
    static var legacyProviderLoaded: Bool {
        Self.providers.legacy
    }

    // MARK: - Operations

    /// Decrypts a DER `EncryptedPrivateKeyInfo` (RFC 5958 §3) with `passphrase`.
    ///
    /// - Returns: The DER `PrivateKeyInfo`.
    /// - Throws: ``LibCryptoFailure``: ``LibCryptoFailure/Kind/badDecrypt`` for a wrong passphrase.
    static func decryptPKCS8(_ der: [UInt8], passphrase: SecretBytes) throws(LibCryptoFailure) -> SecretBytes {
        Self.startOperation()
        defer { ERR_clear_error() }
        let encrypted: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var cursor = buffer.baseAddress
            return d2i_X509_SIG(nil, &cursor, CLong(buffer.count))
        }
        guard let encrypted else {
            throw Self.failure("d2i_X509_SIG", meaning: "the EncryptedPrivateKeyInfo does not decode")
        }
        defer { X509_SIG_free(encrypted) }
        let info: OpaquePointer? = passphrase.bytes.withUnsafeBytes { secret in
            PKCS8_decrypt_ex(
                encrypted,
                secret.baseAddress?.assumingMemoryBound(to: CChar.self),
                Int32(secret.count),
                nil,
                nil
            )
        }
        guard let info else {
            throw Self.failure("PKCS8_decrypt_ex", meaning: "the key does not decrypt")
        }
        defer { PKCS8_PRIV_KEY_INFO_free(info) }
        return try Self.encodePrivateKeyInfo(info)
    }

    /// Reads a PEM private key encrypted in OpenSSL's traditional way (`Proc-Type: 4,ENCRYPTED`,
    /// `DEK-Info:`), which `openssl ec -aes256` and `openssl rsa -aes256` still write.
    ///
    /// - Returns: The DER `PrivateKeyInfo`.
    /// - Throws: ``LibCryptoFailure``: ``LibCryptoFailure/Kind/badDecrypt`` for a wrong passphrase.
    static func decryptTraditionalPEM(_ pem: [UInt8], passphrase: SecretBytes) throws(LibCryptoFailure)
        -> SecretBytes
    {
        Self.startOperation()
        defer { ERR_clear_error() }
        let key: OpaquePointer? = pem.withUnsafeBytes { text in
            passphrase.bytes.withUnsafeBytes { secret in
                // A read-only memory BIO over `text`: it must not outlive this closure.
                guard let bio = BIO_new_mem_buf(text.baseAddress, Int32(text.count)) else { return nil }
                defer { BIO_free(bio) }
                var callbackState = sigillum_ossl_passphrase(
                    bytes: secret.baseAddress?.assumingMemoryBound(to: UInt8.self),
                    length: secret.count,
                    requests: 0
                )
                return sigillum_ossl_read_pem_private_key(bio, &callbackState)
            }
        }
        guard let key else {
            throw Self.failure("PEM_read_bio_PrivateKey_ex", meaning: "the key does not decrypt")
        }
        defer { EVP_PKEY_free(key) }
        return try Self.privateKeyInfo(of: key)
    }

    /// What a PKCS#12 file holds once opened.
    struct PKCS12Contents {
        /// The DER `PrivateKeyInfo` of the key, if the file holds one.
        var privateKeyInfo: SecretBytes?
        /// The certificates in DER: the one `PKCS12_parse` paired with the key first (when it found
        /// one), then the others in file order.
        var certificates: [[UInt8]]
    }

    /// Opens a DER PKCS#12 file (RFC 7292) with `PKCS12_parse`.
    ///
    /// - Parameter passphrase: The passphrase, or `nil` to try a file protected by an empty or absent
    ///   password. It must not contain a NUL octet (`PKCS12_parse` takes a C string).
    /// - Throws: ``LibCryptoFailure``: ``LibCryptoFailure/Kind/macVerification`` for a wrong (or missing)
    ///   passphrase, ``LibCryptoFailure/Kind/unsupportedAlgorithm`` for an algorithm no loaded provider
    ///   offers.
    static func openPKCS12(_ der: [UInt8], passphrase: SecretBytes?) throws(LibCryptoFailure) -> PKCS12Contents {
        Self.startOperation()
        defer { ERR_clear_error() }
        let container: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var cursor = buffer.baseAddress
            return d2i_PKCS12(nil, &cursor, CLong(buffer.count))
        }
        guard let container else {
            throw Self.failure("d2i_PKCS12", meaning: "the PKCS#12 structure does not decode")
        }
        defer { PKCS12_free(container) }

        var key: OpaquePointer?
        var certificate: OpaquePointer?
        var others: OpaquePointer?
        defer {
            EVP_PKEY_free(key)
            X509_free(certificate)
            sigillum_ossl_certificate_stack_free(others)
        }
        let parsed: Int32
        if let passphrase {
            // PKCS12_parse takes a C string: a NUL-terminated copy, cleared on release.
            let terminated = SecretBytes(passphrase.bytes + [0])
            parsed = terminated.bytes.withUnsafeBytes { secret in
                PKCS12_parse(
                    container,
                    secret.baseAddress?.assumingMemoryBound(to: CChar.self),
                    &key,
                    &certificate,
                    &others
                )
            }
        } else {
            parsed = PKCS12_parse(container, nil, &key, &certificate, &others)
        }
        guard parsed == 1 else {
            throw Self.failure("PKCS12_parse", meaning: "the PKCS#12 file does not open")
        }

        var certificates: [[UInt8]] = []
        if let certificate {
            certificates.append(try Self.encodeCertificate(certificate))
        }
        for index in 0..<sigillum_ossl_certificate_count(others) {
            guard let other = sigillum_ossl_certificate_at(others, index) else { continue }
            certificates.append(try Self.encodeCertificate(other))
        }
        let privateKeyInfo = try key.map { key throws(LibCryptoFailure) in try Self.privateKeyInfo(of: key) }
        return PKCS12Contents(privateKeyInfo: privateKeyInfo, certificates: certificates)
    }

    /// Overwrites `bytes` with zeros in a way the compiler keeps (`OPENSSL_cleanse`).
    static func cleanse(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { buffer in
            guard let base = buffer.baseAddress, buffer.count > 0 else { return }
            OPENSSL_cleanse(base, buffer.count)
        }
    }

    // MARK: - Encoding

    /// The unencrypted PKCS#8 DER of an `EVP_PKEY`.
    private static func privateKeyInfo(of key: OpaquePointer) throws(LibCryptoFailure) -> SecretBytes {
        guard let info = EVP_PKEY2PKCS8(key) else {
            throw Self.failure("EVP_PKEY2PKCS8", meaning: "the key cannot be written as PKCS#8")
        }
        defer { PKCS8_PRIV_KEY_INFO_free(info) }
        return try Self.encodePrivateKeyInfo(info)
    }

    /// `i2d_PKCS8_PRIV_KEY_INFO` into a libcrypto buffer, copied out, then cleared and freed.
    private static func encodePrivateKeyInfo(_ info: OpaquePointer) throws(LibCryptoFailure) -> SecretBytes {
        var output: UnsafeMutablePointer<UInt8>?
        let length = i2d_PKCS8_PRIV_KEY_INFO(info, &output)
        guard length > 0, let output else {
            throw Self.failure("i2d_PKCS8_PRIV_KEY_INFO", meaning: "the key cannot be encoded")
        }
        defer { sigillum_ossl_clear_free(output, Int(length)) }
        return SecretBytes(Array(UnsafeBufferPointer(start: output, count: Int(length))))
    }

    private static func encodeCertificate(_ certificate: OpaquePointer) throws(LibCryptoFailure) -> [UInt8] {
        var output: UnsafeMutablePointer<UInt8>?
        let length = i2d_X509(certificate, &output)
        guard length > 0, let output else {
            throw Self.failure("i2d_X509", meaning: "a certificate cannot be encoded")
        }
        defer { sigillum_ossl_free(output) }
        return Array(UnsafeBufferPointer(start: output, count: Int(length)))
    }

    // MARK: - Providers and errors

    private struct Providers: Sendable {
        var legacy: Bool
    }

    /// Loaded once per process, on first use (a `static let` initialiser runs exactly once).
    private static let providers: Providers = {
        ERR_clear_error()
        // Loaded for the life of the process: never unloaded, so the handles are not kept.
        _ = OSSL_PROVIDER_load(nil, "default")
        let legacy = OSSL_PROVIDER_load(nil, "legacy") != nil
        ERR_clear_error()
        return Providers(legacy: legacy)
    }()

    private static func startOperation() {
        _ = Self.providers
        ERR_clear_error()
    }

    /// The failure of `function`, with this thread's error queue drained into it.
    private static func failure(_ function: String, meaning: String) -> LibCryptoFailure {
        var entries: [LibCryptoFailure.Entry] = []
        while true {
            var detail: UnsafePointer<CChar>?
            let code = sigillum_ossl_error_pop(&detail)
            guard code != 0 else { break }
            var text = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &text, text.count)
            var line = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if let detail {
                line += " (\(String(cString: detail)))"
            }
            entries.append(LibCryptoFailure.Entry(code: UInt(code), kind: Self.kind(of: code), text: line))
        }
        return LibCryptoFailure(function: function, meaning: meaning, entries: entries)
    }

    private static func kind(of code: UInt) -> LibCryptoFailure.Kind {
        switch sigillum_ossl_error_classify(code) {
        case SIGILLUM_OSSL_ERROR_BAD_DECRYPT: .badDecrypt
        case SIGILLUM_OSSL_ERROR_MAC_VERIFY: .macVerification
        case SIGILLUM_OSSL_ERROR_UNSUPPORTED: .unsupportedAlgorithm
        case SIGILLUM_OSSL_ERROR_NO_PASSPHRASE: .passphraseNotGiven
        default: .other
        }
    }
}

/// A failed libcrypto operation: the function, what it means, and libcrypto's error queue.
struct LibCryptoFailure: Error, CustomStringConvertible {
    /// What an error-queue entry says, as far as Sigillum tells kinds apart.
    enum Kind: Sendable, Hashable {
        /// Decryption produced bad padding (`bad decrypt`, `pkcs12 cipherfinal error`): a wrong passphrase.
        case badDecrypt
        /// The PKCS#12 MAC did not verify (`mac verify failure`): a wrong passphrase.
        case macVerification
        /// No loaded provider offers an algorithm (`unsupported`).
        case unsupportedAlgorithm
        /// libcrypto asked for a passphrase and none was given.
        case passphraseNotGiven
        /// A structure did not decode, or anything else.
        case other
    }

    /// One entry of libcrypto's error queue.
    struct Entry: Sendable {
        /// The packed code (`ERR_get_error`).
        var code: UInt
        var kind: Kind
        /// `ERR_error_string_n`'s text, such as `error:11800071:PKCS12 routines::mac verify failure`.
        var text: String
    }

    /// The libcrypto function that failed, such as `PKCS12_parse`.
    var function: String
    /// What the failure means in Sigillum's words.
    var meaning: String
    /// The error queue, oldest first.
    var entries: [Entry]

    /// The most telling kind in the queue: an unsupported algorithm before a MAC failure before a bad
    /// decryption before a missing passphrase.
    var kind: Kind {
        let kinds = Set(self.entries.map(\.kind))
        for kind in [Kind.unsupportedAlgorithm, .macVerification, .badDecrypt, .passphraseNotGiven]
        where kinds.contains(kind) {
            return kind
        }
        return .other
    }

    /// libcrypto's reasons, without repeats, such as `mac verify failure`.
    var reasons: [String] {
        var seen: Set<String> = []
        return self.entries.compactMap { entry in
            // "error:CODE:LIBRARY:FUNCTION:REASON (detail)": the reason is what follows the fourth colon.
            let reason =
                entry.text.split(separator: ":", maxSplits: 4, omittingEmptySubsequences: false)
                .dropFirst(4).first.map(String.init) ?? entry.text
            return seen.insert(reason).inserted ? reason : nil
        }
    }

    var description: String {
        let queue =
            self.entries.isEmpty ? "no OpenSSL error recorded" : self.entries.map(\.text).joined(separator: "; ")
        return "OpenSSL \(self.function) failed, \(self.meaning): \(queue)"
    }
}

/// Secret octets (a passphrase, a decrypted private key), overwritten with zeros when released.
///
/// A class, so the one buffer is cleared however often the reference is passed around; keep the
/// octets inside (`bytes`), copy them out only into swift-crypto.
final class SecretBytes {
    private(set) var bytes: [UInt8]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    deinit {
        LibCrypto.cleanse(&self.bytes)
    }
}
