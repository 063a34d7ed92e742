public import SwiftASN1
public import X509

/// A time-stamp request.
///
/// ```
/// TimeStampReq ::= SEQUENCE {
///     version          INTEGER { v1(1) },
///     messageImprint   MessageImprint,
///     reqPolicy        TSAPolicyId             OPTIONAL,
///     nonce            INTEGER                 OPTIONAL,
///     certReq          BOOLEAN                 DEFAULT FALSE,
///     extensions       [0] IMPLICIT Extensions OPTIONAL }
/// TSAPolicyId ::= OBJECT IDENTIFIER
/// ```
/// RFC 3161 §2.4.1. The version is parsed as any INTEGER so that the TSA can answer an unsupported version with a
/// rejection instead of a parse failure. An explicitly encoded `certReq FALSE` is not DER (X.690 §11.5) but is
/// accepted, as several client libraries send it.
public struct TimeStampReq: DERImplicitlyTaggable, Hashable, Sendable {
    public static var defaultIdentifier: ASN1Identifier { .sequence }

    public var version: Int
    public var messageImprint: MessageImprint
    public var reqPolicy: ASN1ObjectIdentifier?
    public var nonce: DERInteger?
    public var certReq: Bool
    public var extensions: [Certificate.Extension]?

    public init(
        version: Int = 1,
        messageImprint: MessageImprint,
        reqPolicy: ASN1ObjectIdentifier? = nil,
        nonce: DERInteger? = nil,
        certReq: Bool = false,
        extensions: [Certificate.Extension]? = nil
    ) {
        self.version = version
        self.messageImprint = messageImprint
        self.reqPolicy = reqPolicy
        self.nonce = nonce
        self.certReq = certReq
        self.extensions = extensions
    }

    public init(derEncoded rootNode: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        self = try DER.sequence(rootNode, identifier: identifier) { nodes in
            let version = try Int(derEncoded: &nodes)
            let imprint = try MessageImprint(derEncoded: &nodes)
            var policy: ASN1ObjectIdentifier?
            var nonce: DERInteger?
            var certReq = false
            var extensions: [Certificate.Extension]?
            var next = nodes.next()
            if let node = next, node.identifier == .objectIdentifier {
                policy = try ASN1ObjectIdentifier(derEncoded: node)
                next = nodes.next()
            }
            if let node = next, node.identifier == .integer {
                nonce = try DERInteger(derEncoded: node)
                next = nodes.next()
            }
            if let node = next, node.identifier == .boolean {
                certReq = try Bool(derEncoded: node)
                next = nodes.next()
            }
            if let node = next, node.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific) {
                extensions = try DER.sequence(
                    of: Certificate.Extension.self, identifier: node.identifier, rootNode: node)
                // Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension (RFC 5280 §4.1).
                guard extensions?.isEmpty == false else {
                    throw ASN1Error.invalidASN1Object(reason: "request extensions must not be empty")
                }
                next = nodes.next()
            }
            if let node = next {
                throw ASN1Error.unexpectedFieldType(node.identifier)
            }
            return TimeStampReq(
                version: version,
                messageImprint: imprint,
                reqPolicy: policy,
                nonce: nonce,
                certReq: certReq,
                extensions: extensions
            )
        }
    }

    public func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        try coder.appendConstructedNode(identifier: identifier) { coder in
            try coder.serialize(self.version)
            try coder.serialize(self.messageImprint)
            if let reqPolicy { try coder.serialize(reqPolicy) }
            if let nonce { try coder.serialize(nonce) }
            if self.certReq { try coder.serialize(true) }
            if let extensions {
                try coder.serializeSequenceOf(
                    extensions,
                    identifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)
                )
            }
        }
    }
}
