public import SwiftASN1

/// A CMS attribute.
///
/// ```
/// Attribute ::= SEQUENCE {
///     attrType   OBJECT IDENTIFIER,
///     attrValues SET OF AttributeValue }
/// AttributeValue ::= ANY
/// ```
/// RFC 5652 §5.3.
public struct CMSAttribute: DERImplicitlyTaggable, Hashable, Sendable {
    public static var defaultIdentifier: ASN1Identifier { .sequence }

    public var attrType: ASN1ObjectIdentifier
    public var attrValues: [ASN1Any]

    public init(attrType: ASN1ObjectIdentifier, attrValues: [ASN1Any]) {
        self.attrType = attrType
        self.attrValues = attrValues
    }

    public init(derEncoded rootNode: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        self = try DER.sequence(rootNode, identifier: identifier) { nodes in
            let type = try ASN1ObjectIdentifier(derEncoded: &nodes)
            let values = try DER.set(of: ASN1Any.self, identifier: .set, nodes: &nodes)
            return CMSAttribute(attrType: type, attrValues: values)
        }
    }

    public func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        try coder.appendConstructedNode(identifier: identifier) { coder in
            try coder.serialize(self.attrType)
            try coder.serializeSetOf(self.attrValues)
        }
    }
}
