import Crypto
import Foundation
import SwiftASN1
public import X509

/// What a key file holds, for `sigillum keys inspect`: its container and how each part is
/// protected (readable without a passphrase), and, once opened, the key and the certificates.
///
/// Made by ``inspect(atPath:passphrase:environment:)``, which fails only when the file cannot be
/// read at all: a file that needs a passphrase, or does not open with the one given, still shows its
/// envelope, with ``problem`` saying why the key is not shown.
public struct KeyFileInspection: Sendable {
    /// How one part of the file is protected.
    public struct Protection: Sendable, Hashable {
        /// The part: `key`, `integrity`, `certificate`, `encrypted bags (certificates)`…
        public var part: String
        /// How, such as `PBES2 with AES-256-CBC, key from PBKDF2 (hmacWithSHA256, 2048 iterations)`,
        /// `HMAC with SHA-1 (2048 iterations)` or `not encrypted`.
        public var algorithm: String
        /// Whether OpenSSL 3 offers the algorithm only in its legacy provider.
        public var needsLegacyProvider: Bool

        public init(part: String, algorithm: String, needsLegacyProvider: Bool = false) {
            self.part = part
            self.algorithm = algorithm
            self.needsLegacyProvider = needsLegacyProvider
        }
    }

    /// One certificate found in the file.
    public struct CertificateEntry: Sendable {
        public var certificate: Certificate
        /// The SHA-256 of the certificate's SubjectPublicKeyInfo, as ``KeyFileInspection/fingerprint(of:)``.
        public var publicKeyFingerprint: String
        /// Whether the certificate's public key is the file's key; `nil` when the key is not known.
        public var matchesKey: Bool?
    }

    /// The file's path.
    public var path: String
    /// The container, or `nil` when the file holds no key format Sigillum knows.
    public var format: KeyFileFormat?
    /// Whether the file is PEM text (else DER).
    public var isPEM: Bool
    /// How the file protects its parts, in file order; empty when nothing is encrypted.
    public var protections: [Protection]
    /// Whether OpenSSL's legacy provider is loaded in this process.
    public var legacyProviderLoaded: Bool
    /// The key, when the file opened.
    public var key: SoftwareKey?
    /// The SHA-256 of the key's SubjectPublicKeyInfo, when the file opened.
    public var publicKeyFingerprint: String?
    /// The certificates: the key's own first and its chain in order when the key is known, else as
    /// found; an encrypted PKCS#12 shows only its unencrypted bags before it is opened.
    public var certificates: [CertificateEntry]
    /// Why the key is not shown (``SignerError/ErrorCode/passphraseRequired``,
    /// ``SignerError/ErrorCode/wrongPassphrase``, an unsupported key…), or `nil`.
    public var problem: SignerError?

    /// Whether some part needs OpenSSL's legacy provider.
    public var needsLegacyProvider: Bool {
        self.protections.contains(where: \.needsLegacyProvider)
    }

    /// Inspects the key file at `path`, reading the passphrase (if given) from the process environment.
    ///
    /// - Throws: ``SignerError`` with code ``SignerError/ErrorCode/unreadableFile`` only.
    public static func inspect(atPath path: String, passphrase: SecretSource?) throws -> KeyFileInspection {
        try self.inspect(atPath: path, passphrase: passphrase, environment: ProcessInfo.processInfo.environment)
    }

    /// Inspects the key file at `path`, resolving the passphrase's variables in `environment`.
    ///
    /// - Throws: ``SignerError`` with code ``SignerError/ErrorCode/unreadableFile`` only.
    public static func inspect(
        atPath path: String,
        passphrase: SecretSource?,
        environment: [String: String]
    ) throws -> KeyFileInspection {
        let bytes = SecretBytes(try FileInput.read(path: path, what: "key"))
        let container = KeyFileContainer(bytes: bytes.bytes, path: path)
        var inspection = KeyFileInspection(
            path: path,
            format: container.format,
            isPEM: container.isPEM,
            protections: container.protections,
            legacyProviderLoaded: LibCrypto.legacyProviderLoaded,
            certificates: []
        )
        var certificates = container.visibleCertificates.compactMap { try? Certificate(derEncoded: $0) }
        do {
            let opened = try KeyFile.Opened(
                path: path,
                bytes: bytes,
                container: container,
                passphrase: passphrase,
                environment: environment
            )
            certificates = try opened.certificates()
            let keyFile = try KeyFile(opened)
            inspection.key = keyFile.key
            inspection.publicKeyFingerprint = Self.fingerprint(of: keyFile.key.publicKey)
        } catch let error as SignerError {
            inspection.problem = error
        }
        inspection.certificates = Self.entries(certificates, key: inspection.key)
        return inspection
    }

    /// The SHA-256 of `publicKey`'s DER SubjectPublicKeyInfo, in colon-separated upper-case hex:
    /// the value of `openssl pkey -pubout -outform DER | openssl dgst -sha256 -c`.
    public static func fingerprint(of publicKey: Certificate.PublicKey) -> String {
        var serializer = DER.Serializer()
        guard (try? serializer.serialize(publicKey)) != nil else { return "(public key does not encode)" }
        return SHA256.hash(data: serializer.serializedBytes)
            .map { String(format: "%02X", $0) }
            .joined(separator: ":")
    }

    /// The key's certificate first, then its chain in order; or as found when there is no key.
    private static func entries(_ certificates: [Certificate], key: SoftwareKey?) -> [CertificateEntry] {
        var ordered = certificates
        if let key, let leaf = certificates.first(where: { $0.publicKey == key.publicKey }) {
            let chain = CertificateChainOrder.chain(for: leaf, from: certificates)
            // Other certificates for the same key (a renewal) are never chain members: list them last.
            let sameKey = certificates.filter { $0 != leaf && $0.publicKey == leaf.publicKey }
            ordered = [leaf] + chain + sameKey
        }
        return ordered.map { certificate in
            CertificateEntry(
                certificate: certificate,
                publicKeyFingerprint: Self.fingerprint(of: certificate.publicKey),
                matchesKey: key.map { certificate.publicKey == $0.publicKey }
            )
        }
    }

    private init(
        path: String,
        format: KeyFileFormat?,
        isPEM: Bool,
        protections: [Protection],
        legacyProviderLoaded: Bool,
        certificates: [CertificateEntry]
    ) {
        self.path = path
        self.format = format
        self.isPEM = isPEM
        self.protections = protections
        self.legacyProviderLoaded = legacyProviderLoaded
        self.certificates = certificates
    }
}
