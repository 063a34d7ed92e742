import Crypto
import Foundation
public import X509
import _CryptoExtras

/// A ``Signer`` whose key is in process memory.
///
/// The hash follows the key: P-256 signs with SHA-256, P-384 with SHA-384, P-521 with SHA-512.
/// RSA keys sign with PKCS#1 v1.5 or PSS and SHA-256 by default, both configurable. Ed25519 signs
/// the message as is.
///
/// ``sign(_:)`` is synchronous inside: no actor hop, no lock, no I/O; it hashes and signs. The type
/// is a value; share it freely between tasks.
public struct SoftwareSigner: Signer {
    /// The padding an RSA key signs with. Ignored for other keys.
    public struct RSAPadding: Sendable, Hashable, CustomStringConvertible {
        enum Backing: Sendable, Hashable {
            case pkcs1v15
            case pss
        }

        let backing: Backing

        private init(_ backing: Backing) {
            self.backing = backing
        }

        /// RSASSA-PKCS1-v1_5 (RFC 8017 §8.2): the most widely verified form.
        public static let pkcs1v15 = RSAPadding(.pkcs1v15)

        /// RSASSA-PSS (RFC 8017 §8.1) with MGF1 over the same hash and a salt as long as the hash.
        public static let pss = RSAPadding(.pss)

        public var description: String {
            String(describing: self.backing)
        }
    }

    private enum Operation: Sendable {
        case p256(P256.Signing.PrivateKey)
        case p384(P384.Signing.PrivateKey)
        case p521(P521.Signing.PrivateKey)
        case rsa(_RSA.Signing.PrivateKey, _RSA.Signing.Padding, DigestAlgorithm)
        case ed25519(Curve25519.Signing.PrivateKey)
    }

    private let operation: Operation

    public let scheme: SignatureScheme
    public let certificate: Certificate
    public let chain: [Certificate]

    /// `software`.
    public var kind: String {
        "software"
    }

    /// Always ``SignerHealth/available``: a key in memory cannot go away.
    public var health: SignerHealth {
        .available
    }

    /// Creates a signer from a key and its certificate.
    ///
    /// The initialiser does not check that `key` belongs to `certificate`; call
    /// ``Signer/verifyKeyMatchesCertificate()`` once at start-up for that.
    ///
    /// - Parameters:
    ///   - key: The private key.
    ///   - certificate: The certificate of `key`.
    ///   - chain: The issuer chain: nearest issuer first, `certificate` excluded; may be empty.
    ///   - rsaPadding: For RSA keys, the padding; ignored otherwise.
    ///   - rsaDigest: For RSA keys, the hash; ignored otherwise.
    public init(
        key: SoftwareKey,
        certificate: Certificate,
        chain: [Certificate] = [],
        rsaPadding: RSAPadding = .pkcs1v15,
        rsaDigest: DigestAlgorithm = .sha256
    ) {
        switch key.backing {
        case .p256(let key):
            self.operation = .p256(key)
            self.scheme = .ecdsaP256SHA256
        case .p384(let key):
            self.operation = .p384(key)
            self.scheme = .ecdsaP384SHA384
        case .p521(let key):
            self.operation = .p521(key)
            self.scheme = .ecdsaP521SHA512
        case .rsa(let key):
            switch rsaPadding.backing {
            case .pkcs1v15:
                self.operation = .rsa(key, .insecurePKCS1v1_5, rsaDigest)
                self.scheme = SignatureScheme(.rsaPKCS1v15(rsaDigest))
            case .pss:
                self.operation = .rsa(key, .PSS, rsaDigest)
                self.scheme = SignatureScheme(.rsaPSS(rsaDigest))
            }
        case .ed25519(let key):
            self.operation = .ed25519(key)
            self.scheme = .ed25519
        }
        self.certificate = certificate
        self.chain = chain
    }

    /// Signs `message` per ``scheme``, synchronously.
    ///
    /// - Parameter message: The octets to sign; the signer hashes them itself.
    /// - Returns: For ECDSA a DER `ECDSA-Sig-Value`; for RSA the raw signature octets; for Ed25519
    ///   64 octets.
    /// - Throws: ``SignerError`` with code ``SignerError/ErrorCode/signingFailed`` if swift-crypto
    ///   fails.
    public func sign(_ message: [UInt8]) throws -> [UInt8] {
        do {
            switch self.operation {
            case .p256(let key):
                return Array(try key.signature(for: SHA256.hash(data: message)).derRepresentation)
            case .p384(let key):
                return Array(try key.signature(for: SHA384.hash(data: message)).derRepresentation)
            case .p521(let key):
                return Array(try key.signature(for: SHA512.hash(data: message)).derRepresentation)
            case .rsa(let key, let padding, let digest):
                let signature: _RSA.Signing.RSASignature
                switch digest.backing {
                case .sha256: signature = try key.signature(for: SHA256.hash(data: message), padding: padding)
                case .sha384: signature = try key.signature(for: SHA384.hash(data: message), padding: padding)
                case .sha512: signature = try key.signature(for: SHA512.hash(data: message), padding: padding)
                }
                return Array(signature.rawRepresentation)
            case .ed25519(let key):
                return Array(try key.signature(for: message))
            }
        } catch {
            throw SignerError.signingFailed(
                reason: "the software key (\(self.scheme)) failed to sign; this points to a damaged key",
                cause: error
            )
        }
    }
}
