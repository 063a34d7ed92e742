import SwiftASN1

extension ASN1ObjectIdentifier.AlgorithmIdentifier {
    /// id-Ed25519 (RFC 8410 §3).
    static let idEd25519: ASN1ObjectIdentifier = [1, 3, 101, 112]

    /// id-Ed448 (RFC 8410 §3).
    static let idEd448: ASN1ObjectIdentifier = [1, 3, 101, 113]

    /// id-X25519 (RFC 8410 §3), a key-agreement key.
    static let idX25519: ASN1ObjectIdentifier = [1, 3, 101, 110]

    /// id-X448 (RFC 8410 §3), a key-agreement key.
    static let idX448: ASN1ObjectIdentifier = [1, 3, 101, 111]

    /// id-dsa (RFC 3279 §2.3.2).
    static let idDSA: ASN1ObjectIdentifier = [1, 2, 840, 10040, 4, 1]
}

extension ASN1ObjectIdentifier.NamedCurves {
    /// secp256k1 (SEC 2 §2.4.1), the Bitcoin curve.
    static let secp256k1: ASN1ObjectIdentifier = [1, 3, 132, 0, 10]
}

extension ASN1ObjectIdentifier {
    /// A readable name for the key algorithms and curves Sigillum reports on, else the dotted OID.
    var keyAlgorithmName: String {
        switch self {
        case .AlgorithmIdentifier.idEcPublicKey: "EC (id-ecPublicKey)"
        case .AlgorithmIdentifier.rsaEncryption: "RSA (rsaEncryption)"
        case .AlgorithmIdentifier.rsaPSS: "RSA-PSS (id-RSASSA-PSS)"
        case .AlgorithmIdentifier.idEd25519: "Ed25519"
        case .AlgorithmIdentifier.idEd448: "Ed448"
        case .AlgorithmIdentifier.idX25519: "X25519"
        case .AlgorithmIdentifier.idX448: "X448"
        case .AlgorithmIdentifier.idDSA: "DSA"
        case .NamedCurves.secp256r1: "P-256 (secp256r1)"
        case .NamedCurves.secp384r1: "P-384 (secp384r1)"
        case .NamedCurves.secp521r1: "P-521 (secp521r1)"
        case .NamedCurves.secp256k1: "secp256k1"
        default: "OID \(self)"
        }
    }
}
