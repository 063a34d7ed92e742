public import SwiftASN1

/// The outer CMS wrapper.
///
/// ```
/// ContentInfo ::= SEQUENCE {
///     contentType ContentType,
///     content     [0] EXPLICIT ANY DEFINED BY contentType }
/// ```
/// RFC 5652 §3. The content is kept as its DER.
public struct ContentInfo: DERImplicitlyTaggable, Hashable, Sendable {
    public static var defaultIdentifier: ASN1Identifier { .sequence }

    public var contentType: ASN1ObjectIdentifier
    public var content: RawDER

    public init(contentType: ASN1ObjectIdentifier, content: RawDER) {
        self.contentType = contentType
        self.content = content
    }

    public init(derEncoded rootNode: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        self = try DER.sequence(rootNode, identifier: identifier) { nodes in
            let contentType = try ASN1ObjectIdentifier(derEncoded: &nodes)
            let content = try DER.explicitlyTagged(&nodes, tagNumber: 0, tagClass: .contextSpecific) {
                try RawDER(derEncoded: $0)
            }
            return ContentInfo(contentType: contentType, content: content)
        }
    }

    public func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        try coder.appendConstructedNode(identifier: identifier) { coder in
            try coder.serialize(self.contentType)
            try coder.serialize(self.content, explicitlyTaggedWithTagNumber: 0, tagClass: .contextSpecific)
        }
    }
}
