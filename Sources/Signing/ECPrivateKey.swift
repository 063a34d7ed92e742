import SwiftASN1

/// An elliptic-curve private key (RFC 5915 §3, SEC 1 §C.4), parse only.
///
/// ```
/// ECPrivateKey ::= SEQUENCE {
///   version        INTEGER { ecPrivkeyVer1(1) } (ecPrivkeyVer1),
///   privateKey     OCTET STRING,
///   parameters [0] ECParameters {{ NamedCurve }} OPTIONAL,
///   publicKey  [1] BIT STRING OPTIONAL
/// }
/// ```
///
/// Only the `namedCurve` choice of `ECParameters` (RFC 5480 §2.1.1) is kept; `implicitCurve` and
/// `specifiedCurve` leave ``namedCurve`` `nil` and set ``hasOtherParameters``.
struct ECPrivateKey: DERParseable {
    var privateKey: ASN1OctetString
    var namedCurve: ASN1ObjectIdentifier?
    var hasOtherParameters: Bool
    var publicKey: ASN1BitString?

    init(derEncoded node: ASN1Node) throws {
        self = try DER.sequence(node, identifier: .sequence) { nodes in
            let version = try Int(derEncoded: &nodes)
            guard version == 1 else {
                throw ASN1Error.invalidASN1Object(reason: "ECPrivateKey version \(version), expected 1")
            }
            let privateKey = try ASN1OctetString(derEncoded: &nodes)
            let parameters = try DER.optionalExplicitlyTagged(&nodes, tagNumber: 0, tagClass: .contextSpecific) {
                ASN1Any(derEncoded: $0)
            }
            let publicKey = try DER.optionalExplicitlyTagged(&nodes, tagNumber: 1, tagClass: .contextSpecific) {
                try ASN1BitString(derEncoded: $0)
            }
            let namedCurve = parameters.flatMap { try? ASN1ObjectIdentifier(asn1Any: $0) }
            return ECPrivateKey(
                privateKey: privateKey,
                namedCurve: namedCurve,
                hasOtherParameters: parameters != nil && namedCurve == nil,
                publicKey: publicKey
            )
        }
    }

    private init(
        privateKey: ASN1OctetString,
        namedCurve: ASN1ObjectIdentifier?,
        hasOtherParameters: Bool,
        publicKey: ASN1BitString?
    ) {
        self.privateKey = privateKey
        self.namedCurve = namedCurve
        self.hasOtherParameters = hasOtherParameters
        self.publicKey = publicKey
    }
}
