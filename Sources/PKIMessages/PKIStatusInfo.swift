public import SwiftASN1

/// The status part of a time-stamp response.
///
/// ```
/// PKIStatusInfo ::= SEQUENCE {
///     status        PKIStatus,
///     statusString  PKIFreeText     OPTIONAL,
///     failInfo      PKIFailureInfo  OPTIONAL  }
/// PKIFreeText ::= SEQUENCE SIZE (1..MAX) OF UTF8String
/// ```
/// RFC 3161 §2.4.2, RFC 4210 §5.2.3.
public struct PKIStatusInfo: DERImplicitlyTaggable, Hashable, Sendable {
    public static var defaultIdentifier: ASN1Identifier { .sequence }

    public var status: PKIStatus
    public var statusString: [String]?
    public var failInfo: PKIFailureInfo?

    public init(status: PKIStatus, statusString: [String]? = nil, failInfo: PKIFailureInfo? = nil) {
        self.status = status
        self.statusString = statusString
        self.failInfo = failInfo
    }

    public init(derEncoded rootNode: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        self = try DER.sequence(rootNode, identifier: identifier) { nodes in
            let status = try PKIStatus(derEncoded: &nodes)
            var text: [String]?
            var failInfo: PKIFailureInfo?
            var next = nodes.next()
            if let node = next, node.identifier == .sequence {
                let strings = try DER.sequence(of: ASN1UTF8String.self, identifier: .sequence, rootNode: node)
                guard !strings.isEmpty else {
                    throw ASN1Error.invalidASN1Object(reason: "PKIFreeText must hold at least one string")
                }
                text = strings.map { String($0) }
                next = nodes.next()
            }
            if let node = next, node.identifier == .bitString {
                failInfo = try PKIFailureInfo(derEncoded: node)
                next = nodes.next()
            }
            if let node = next {
                throw ASN1Error.unexpectedFieldType(node.identifier)
            }
            return PKIStatusInfo(status: status, statusString: text, failInfo: failInfo)
        }
    }

    public func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        try coder.appendConstructedNode(identifier: identifier) { coder in
            try coder.serialize(self.status)
            if let statusString, !statusString.isEmpty {
                try coder.serializeSequenceOf(statusString.map { ASN1UTF8String($0) })
            }
            if let failInfo { try coder.serialize(failInfo) }
        }
    }
}
