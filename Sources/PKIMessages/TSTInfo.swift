public import SwiftASN1
public import X509

/// The content a time-stamp token signs.
///
/// ```
/// TSTInfo ::= SEQUENCE  {
///     version        INTEGER  { v1(1) },
///     policy         TSAPolicyId,
///     messageImprint MessageImprint,
///     serialNumber   INTEGER,
///     genTime        GeneralizedTime,
///     accuracy       Accuracy                 OPTIONAL,
///     ordering       BOOLEAN                  DEFAULT FALSE,
///     nonce          INTEGER                  OPTIONAL,
///     tsa            [0] GeneralName          OPTIONAL,
///     extensions     [1] IMPLICIT Extensions  OPTIONAL  }
/// ```
/// RFC 3161 §2.4.2. `ordering` FALSE is its DEFAULT and is never written (X.690 §11.5). `tsa` is a CHOICE, so its
/// `[0]` tag is explicit although the module uses IMPLICIT TAGS (X.680 §31.2.7). `genTime` is kept as its exact
/// text so that the number of fraction digits (none trailing zero, RFC 3161 §2.4.2) survives a round trip.
public struct TSTInfo: DERImplicitlyTaggable, Hashable, Sendable {
    public static var defaultIdentifier: ASN1Identifier { .sequence }

    static let tsaTag = ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)
    static let extensionsTag = ASN1Identifier(tagWithNumber: 1, tagClass: .contextSpecific)

    public var version: Int
    public var policy: ASN1ObjectIdentifier
    public var messageImprint: MessageImprint
    public var serialNumber: DERInteger
    public var genTime: GeneralizedTimeText
    public var accuracy: Accuracy?
    public var ordering: Bool
    public var nonce: DERInteger?
    public var tsa: GeneralName?
    public var extensions: [Certificate.Extension]?

    public init(
        version: Int = 1,
        policy: ASN1ObjectIdentifier,
        messageImprint: MessageImprint,
        serialNumber: DERInteger,
        genTime: GeneralizedTimeText,
        accuracy: Accuracy? = nil,
        ordering: Bool = false,
        nonce: DERInteger? = nil,
        tsa: GeneralName? = nil,
        extensions: [Certificate.Extension]? = nil
    ) {
        self.version = version
        self.policy = policy
        self.messageImprint = messageImprint
        self.serialNumber = serialNumber
        self.genTime = genTime
        self.accuracy = accuracy
        self.ordering = ordering
        self.nonce = nonce
        self.tsa = tsa
        self.extensions = extensions
    }

    public init(derEncoded rootNode: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        self = try DER.sequence(rootNode, identifier: identifier) { nodes in
            let version = try Int(derEncoded: &nodes)
            let policy = try ASN1ObjectIdentifier(derEncoded: &nodes)
            let imprint = try MessageImprint(derEncoded: &nodes)
            let serial = try DERInteger(derEncoded: &nodes)
            let genTime = try GeneralizedTimeText(derEncoded: &nodes)
            var accuracy: Accuracy?
            var ordering = false
            var nonce: DERInteger?
            var tsa: GeneralName?
            var extensions: [Certificate.Extension]?
            var next = nodes.next()
            if let node = next, node.identifier == .sequence {
                accuracy = try Accuracy(derEncoded: node)
                next = nodes.next()
            }
            if let node = next, node.identifier == .boolean {
                ordering = try Bool(derEncoded: node)
                next = nodes.next()
            }
            if let node = next, node.identifier == .integer {
                nonce = try DERInteger(derEncoded: node)
                next = nodes.next()
            }
            if let node = next, node.identifier == Self.tsaTag {
                tsa = try DER.explicitlyTagged(node, tagNumber: 0, tagClass: .contextSpecific) {
                    try GeneralName(derEncoded: $0)
                }
                next = nodes.next()
            }
            if let node = next, node.identifier == Self.extensionsTag {
                extensions = try DER.sequence(
                    of: Certificate.Extension.self, identifier: Self.extensionsTag, rootNode: node)
                // Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension (RFC 5280 §4.1).
                guard extensions?.isEmpty == false else {
                    throw ASN1Error.invalidASN1Object(reason: "TSTInfo extensions must not be empty")
                }
                next = nodes.next()
            }
            if let node = next {
                throw ASN1Error.unexpectedFieldType(node.identifier)
            }
            return TSTInfo(
                version: version,
                policy: policy,
                messageImprint: imprint,
                serialNumber: serial,
                genTime: genTime,
                accuracy: accuracy,
                ordering: ordering,
                nonce: nonce,
                tsa: tsa,
                extensions: extensions
            )
        }
    }

    public func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        try coder.appendConstructedNode(identifier: identifier) { coder in
            try coder.serialize(self.version)
            try coder.serialize(self.policy)
            try coder.serialize(self.messageImprint)
            try coder.serialize(self.serialNumber)
            try coder.serialize(self.genTime)
            if let accuracy { try coder.serialize(accuracy) }
            if self.ordering { try coder.serialize(true) }
            if let nonce { try coder.serialize(nonce) }
            if let tsa { try coder.serialize(tsa, explicitlyTaggedWithIdentifier: Self.tsaTag) }
            if let extensions, !extensions.isEmpty {
                try coder.serializeSequenceOf(extensions, identifier: Self.extensionsTag)
            }
        }
    }
}
