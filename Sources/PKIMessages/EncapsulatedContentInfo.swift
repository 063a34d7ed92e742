public import SwiftASN1

/// The signed content inside SignedData.
///
/// ```
/// EncapsulatedContentInfo ::= SEQUENCE {
///     eContentType ContentType,
///     eContent     [0] EXPLICIT OCTET STRING OPTIONAL }
/// ```
/// RFC 5652 §5.2. For a time-stamp token eContentType is id-ct-TSTInfo and eContent holds the TSTInfo DER
/// (RFC 3161 §2.4.2).
public struct EncapsulatedContentInfo: DERImplicitlyTaggable, Hashable, Sendable {
    public static var defaultIdentifier: ASN1Identifier { .sequence }

    public var eContentType: ASN1ObjectIdentifier
    public var eContent: ArraySlice<UInt8>?

    public init(eContentType: ASN1ObjectIdentifier, eContent: ArraySlice<UInt8>?) {
        self.eContentType = eContentType
        self.eContent = eContent
    }

    public init(derEncoded rootNode: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        self = try DER.sequence(rootNode, identifier: identifier) { nodes in
            let type = try ASN1ObjectIdentifier(derEncoded: &nodes)
            let content = try DER.optionalExplicitlyTagged(&nodes, tagNumber: 0, tagClass: .contextSpecific) {
                try ASN1OctetString(derEncoded: $0).bytes
            }
            return EncapsulatedContentInfo(eContentType: type, eContent: content)
        }
    }

    public func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        try coder.appendConstructedNode(identifier: identifier) { coder in
            try coder.serialize(self.eContentType)
            if let eContent {
                try coder.serialize(
                    ASN1OctetString(contentBytes: eContent),
                    explicitlyTaggedWithTagNumber: 0,
                    tagClass: .contextSpecific
                )
            }
        }
    }
}
