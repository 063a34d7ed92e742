import PKIMessages
import SwiftASN1

/// One bag of a PKCS#12 SafeContents (RFC 7292 §4.2), parse only.
///
/// ```
/// SafeContents ::= SEQUENCE OF SafeBag
///
/// SafeBag ::= SEQUENCE {
///   bagId          BAG-TYPE.&id ({PKCS12BagSet}),
///   bagValue       [0] EXPLICIT BAG-TYPE.&Type({PKCS12BagSet}{@bagId}),
///   bagAttributes  SET OF PKCS12Attribute OPTIONAL }
/// ```
///
/// The attributes (friendlyName, localKeyId) are skipped: the key and its certificate are paired by
/// their public keys, not by these labels.
struct PKCS12SafeBag: DERParseable {
    var bagID: ASN1ObjectIdentifier
    var value: RawDER

    init(derEncoded node: ASN1Node) throws {
        self = try DER.sequence(node, identifier: .sequence) { nodes in
            let bagID = try ASN1ObjectIdentifier(derEncoded: &nodes)
            let value = try DER.explicitlyTagged(&nodes, tagNumber: 0, tagClass: .contextSpecific) {
                try RawDER(derEncoded: $0)
            }
            while nodes.next() != nil {}
            return PKCS12SafeBag(bagID: bagID, value: value)
        }
    }

    private init(bagID: ASN1ObjectIdentifier, value: RawDER) {
        self.bagID = bagID
        self.value = value
    }
}
