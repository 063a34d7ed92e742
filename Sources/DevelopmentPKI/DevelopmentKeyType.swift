import Crypto
import Signing
import _CryptoExtras

/// The key type of the development TSU (time-stamping unit) certificate.
///
/// The raw values are the spellings of the configuration and the command line.
public enum DevelopmentKeyType: String, CaseIterable, Sendable {
    /// ECDSA on P-256; the TSU signs with SHA-256.
    case ecP256 = "ec-p256"
    /// ECDSA on P-384; the TSU signs with SHA-384.
    case ecP384 = "ec-p384"
    /// RSA 2048; the TSU signs with PKCS#1 v1.5 and SHA-256 by default.
    case rsa2048 = "rsa-2048"
    /// RSA 3072; the TSU signs with PKCS#1 v1.5 and SHA-256 by default.
    case rsa3072 = "rsa-3072"
    /// Ed25519.
    case ed25519 = "ed25519"

    /// A fresh key of this type.
    func generateKey() throws -> SoftwareKey {
        switch self {
        case .ecP256: SoftwareKey(P256.Signing.PrivateKey())
        case .ecP384: SoftwareKey(P384.Signing.PrivateKey())
        case .rsa2048: SoftwareKey(try _RSA.Signing.PrivateKey(keySize: .bits2048))
        case .rsa3072: SoftwareKey(try _RSA.Signing.PrivateKey(keySize: .bits3072))
        case .ed25519: SoftwareKey(Curve25519.Signing.PrivateKey())
        }
    }
}
