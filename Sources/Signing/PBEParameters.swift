import SwiftASN1

/// The parameters of PBES1 (RFC 8018 §A.3) and of the PKCS#12 PBE algorithms (RFC 7292 Appendix C),
/// parse only: both have this shape.
///
/// ```
/// PBEParameter ::= SEQUENCE {
///   salt OCTET STRING (SIZE(8)),
///   iterationCount INTEGER }
///
/// pkcs-12PbeParams ::= SEQUENCE {
///   salt        OCTET STRING,
///   iterations  INTEGER }
/// ```
///
/// The salt is skipped.
struct PBEParameters: DERParseable {
    var iterationCount: Int

    init(derEncoded node: ASN1Node) throws {
        self = try DER.sequence(node, identifier: .sequence) { nodes in
            _ = try ASN1OctetString(derEncoded: &nodes)
            return PBEParameters(iterationCount: try Int(derEncoded: &nodes))
        }
    }

    private init(iterationCount: Int) {
        self.iterationCount = iterationCount
    }
}
