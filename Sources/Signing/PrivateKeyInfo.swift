import SwiftASN1

/// A PKCS#8 private key (RFC 5958 §2, the successor of RFC 5208's `PrivateKeyInfo`), parse only.
///
/// ```
/// OneAsymmetricKey ::= SEQUENCE {
///   version                   Version,            -- v1(0) or v2(1)
///   privateKeyAlgorithm       PrivateKeyAlgorithmIdentifier,
///   privateKey                PrivateKey,         -- OCTET STRING
///   attributes            [0] Attributes OPTIONAL,
///   ...,
///   [[2: publicKey        [1] PublicKey OPTIONAL ]],
///   ...
/// }
/// ```
///
/// `attributes` and `publicKey` are skipped. The content of `privateKey` depends on the algorithm:
/// an `ECPrivateKey` (RFC 5915), an `RSAPrivateKey` (RFC 8017 §A.1.2) or a `CurvePrivateKey`
/// (RFC 8410 §7).
struct PrivateKeyInfo: DERParseable {
    var algorithm: KeyAlgorithmIdentifier
    var privateKey: ASN1OctetString

    init(derEncoded node: ASN1Node) throws {
        self = try DER.sequence(node, identifier: .sequence) { nodes in
            let version = try Int(derEncoded: &nodes)
            guard version == 0 || version == 1 else {
                throw ASN1Error.invalidASN1Object(reason: "PKCS#8 version \(version), expected 0 or 1")
            }
            let algorithm = try KeyAlgorithmIdentifier(derEncoded: &nodes)
            let privateKey = try ASN1OctetString(derEncoded: &nodes)
            // attributes [0] and publicKey [1] are not used.
            while nodes.next() != nil {}
            return PrivateKeyInfo(algorithm: algorithm, privateKey: privateKey)
        }
    }

    private init(algorithm: KeyAlgorithmIdentifier, privateKey: ASN1OctetString) {
        self.algorithm = algorithm
        self.privateKey = privateKey
    }
}
