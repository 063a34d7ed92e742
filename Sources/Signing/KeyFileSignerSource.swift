import Foundation
import X509

/// A ``SoftwareSigner`` described by files: a key file, its passphrase, and where its certificate and
/// chain come from. ``load()`` opens them and proves that key and certificate belong together.
///
/// The certificate: the one in ``certificateFile`` that holds the key's public key when that file is
/// set, else the one in the key file (PKCS#12, or a PEM key file with `CERTIFICATE` blocks) that
/// holds it. OpenSSL's own pairing in a PKCS#12 file (by `localKeyId`) is not trusted: the public
/// keys decide. The chain: the other certificates of ``certificateFile``, plus those of
/// ``chainFile`` when set, else the key file's other certificates; put in issuer order by
/// ``Signer/chain``'s rule (nearest issuer first).
///
/// Then the key signs a probe that the certificate's public key must verify
/// (``Signer/verifyKeyMatchesCertificate()``), so a mismatched pair fails at start-up, not in the
/// first token.
public struct KeyFileSignerSource: Sendable, Hashable {
    /// The private key file (see ``KeyFile`` for the formats).
    public var keyFile: String
    /// Where the key file's passphrase comes from; `nil` for an unencrypted file.
    public var passphrase: SecretSource?
    /// The signer's certificate (PEM or DER), or `nil` to take it from the key file.
    public var certificateFile: String?
    /// Issuer certificates (PEM), or `nil` to take them from the key file and ``certificateFile``.
    public var chainFile: String?
    /// For RSA keys, the padding.
    public var rsaPadding: SoftwareSigner.RSAPadding
    /// For RSA keys, the hash.
    public var rsaDigest: DigestAlgorithm

    public init(
        keyFile: String,
        passphrase: SecretSource? = nil,
        certificateFile: String? = nil,
        chainFile: String? = nil,
        rsaPadding: SoftwareSigner.RSAPadding = .pkcs1v15,
        rsaDigest: DigestAlgorithm = .sha256
    ) {
        self.keyFile = keyFile
        self.passphrase = passphrase
        self.certificateFile = certificateFile
        self.chainFile = chainFile
        self.rsaPadding = rsaPadding
        self.rsaDigest = rsaDigest
    }

    /// Opens the files, reading the passphrase from the process environment and file system.
    ///
    /// - Throws: ``SignerError``, naming the file concerned: the codes of ``KeyFile``, and
    ///   ``SignerError/ErrorCode/keyCertificateMismatch`` (naming the key file and the certificate's
    ///   file) or ``SignerError/ErrorCode/notACertificate`` (no certificate anywhere).
    public func load() async throws -> SoftwareSigner {
        try await self.load(environment: ProcessInfo.processInfo.environment)
    }

    /// Opens the files, resolving the passphrase's variables in `environment`.
    public func load(environment: [String: String]) async throws -> SoftwareSigner {
        let keyFile = try KeyFile.read(atPath: self.keyFile, passphrase: self.passphrase, environment: environment)
        let key = keyFile.key
        let leaf: Certificate
        let leafFile: String
        var candidates: [Certificate] = []
        if let certificateFile = self.certificateFile {
            let certificates = try CertificateFileReader.readCertificates(atPath: certificateFile)
            guard let match = certificates.first(where: { $0.publicKey == key.publicKey }) else {
                throw self.mismatch(key, certificates: certificates, in: "the certificate file \(certificateFile)")
            }
            leaf = match
            leafFile = "the certificate file \(certificateFile)"
            candidates = certificates
        } else {
            guard !keyFile.certificates.isEmpty else {
                throw SignerError.notACertificate(
                    reason: """
                        the key file \(self.keyFile) holds no certificate and no certificate file is configured; \
                        set the signer's certificate file, or use a PKCS#12 file with the certificate
                        """
                )
            }
            guard let match = keyFile.certificates.first(where: { $0.publicKey == key.publicKey }) else {
                throw self.mismatch(key, certificates: keyFile.certificates, in: "the key file \(self.keyFile)")
            }
            leaf = match
            leafFile = "the key file \(self.keyFile)"
        }
        if let chainFile = self.chainFile {
            candidates += try CertificateFileReader.readCertificates(atPath: chainFile)
        } else {
            candidates += keyFile.certificates
        }
        let signer = SoftwareSigner(
            key: key,
            certificate: leaf,
            chain: CertificateChainOrder.chain(for: leaf, from: candidates),
            rsaPadding: self.rsaPadding,
            rsaDigest: self.rsaDigest
        )
        do {
            try await signer.verifyKeyMatchesCertificate()
        } catch let error as SignerError where error.code == .keyCertificateMismatch {
            throw SignerError.keyCertificateMismatch(
                reason: "the key file \(self.keyFile) and \(leafFile): \(error.reason)",
                cause: error
            )
        }
        return signer
    }

    private func mismatch(_ key: SoftwareKey, certificates: [Certificate], in file: String) -> SignerError {
        let keyFingerprint = KeyFileInspection.fingerprint(of: key.publicKey)
        let listed = certificates.prefix(3).map { "\"\($0.subject)\"" }.joined(separator: ", ")
        let more = certificates.count > 3 ? " and \(certificates.count - 3) more" : ""
        return SignerError.keyCertificateMismatch(
            reason: """
                the key in the key file \(self.keyFile) (\(key), public key SHA-256 \(keyFingerprint)) belongs \
                to none of the \(certificates.count) certificates in \(file) (\(listed)\(more)); configure the \
                certificate issued for this key, or the key of this certificate (`sigillum keys inspect` shows \
                both fingerprints)
                """
        )
    }
}

extension SoftwareSigner {
    /// Loads a signer from a key file and its certificate, proving that they belong together; see
    /// ``KeyFileSignerSource``.
    ///
    /// - Parameters:
    ///   - keyFile: The private key: PEM or DER PKCS#8, SEC1 or PKCS#1, encrypted PKCS#8, traditional
    ///     encrypted PEM, or PKCS#12 (`.p12`, `.pfx`).
    ///   - passphrase: Where the passphrase comes from, for an encrypted file.
    ///   - certificateFile: The certificate, or `nil` to take it from the key file.
    ///   - chainFile: Issuer certificates, or `nil` to take them from the key file.
    ///   - rsaPadding: For RSA keys, the padding.
    ///   - rsaDigest: For RSA keys, the hash.
    public static func load(
        keyFile: String,
        passphrase: SecretSource? = nil,
        certificateFile: String? = nil,
        chainFile: String? = nil,
        rsaPadding: RSAPadding = .pkcs1v15,
        rsaDigest: DigestAlgorithm = .sha256
    ) async throws -> SoftwareSigner {
        try await KeyFileSignerSource(
            keyFile: keyFile,
            passphrase: passphrase,
            certificateFile: certificateFile,
            chainFile: chainFile,
            rsaPadding: rsaPadding,
            rsaDigest: rsaDigest
        ).load()
    }
}
