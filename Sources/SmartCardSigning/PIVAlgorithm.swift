import Crypto
import Signing
public import X509
import _CryptoExtras

/// A PIV cryptographic algorithm identifier (NIST SP 800-78-4, Table 6-2): P1 of GENERAL AUTHENTICATE.
public struct PIVAlgorithm: Sendable, Hashable, CustomStringConvertible {
    /// The algorithm identifier octet.
    public let rawValue: UInt8

    private init(_ rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// `07`: RSA with a 2048-bit modulus.
    public static let rsa2048 = PIVAlgorithm(0x07)

    /// `11`: ECC on curve P-256.
    public static let eccP256 = PIVAlgorithm(0x11)

    /// `14`: ECC on curve P-384.
    public static let eccP384 = PIVAlgorithm(0x14)

    /// `RSA-2048`, `ECC P-256`, `ECC P-384`.
    public var name: String {
        switch self.rawValue {
        case 0x07: "RSA-2048"
        case 0x11: "ECC P-256"
        case 0x14: "ECC P-384"
        default: "algorithm \(hexString([self.rawValue]))"
        }
    }

    public var description: String {
        "\(self.name) (\(hexString([self.rawValue])))"
    }

    /// The length of a signature input: the digest for ECC (SP 800-73-4 Part 2 §3.2.4: the hash, as
    /// long as the field), the whole padded block for RSA.
    var inputLength: Int {
        switch self.rawValue {
        case 0x07: 256
        case 0x11: 32
        default: 48
        }
    }

    /// The algorithm of a certificate's public key, or `nil` when PIV cards cannot hold it or Sigillum
    /// does not sign with it (RSA-1024, RSA-3072, P-521, Ed25519).
    public init?(publicKey: Certificate.PublicKey) {
        if P256.Signing.PublicKey(publicKey) != nil {
            self = .eccP256
        } else if P384.Signing.PublicKey(publicKey) != nil {
            self = .eccP384
        } else if let key = _RSA.Signing.PublicKey(publicKey), key.keySizeInBits == 2048 {
            self = .rsa2048
        } else {
            return nil
        }
    }

    /// The scheme a key of this algorithm signs with: ECDSA with the curve's hash, RSA PKCS#1 v1.5
    /// with `rsaDigest`.
    func scheme(rsaDigest: DigestAlgorithm) -> SignatureScheme {
        switch self.rawValue {
        case 0x11: .ecdsaP256SHA256
        case 0x14: .ecdsaP384SHA384
        default:
            if rsaDigest == .sha384 {
                .rsaPKCS1v15SHA384
            } else if rsaDigest == .sha512 {
                .rsaPKCS1v15SHA512
            } else {
                .rsaPKCS1v15SHA256
            }
        }
    }
}
