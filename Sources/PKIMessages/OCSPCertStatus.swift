public import SwiftASN1

/// The status of one certificate in a response.
///
/// ```
/// CertStatus ::= CHOICE {
///     good        [0]     IMPLICIT NULL,
///     revoked     [1]     IMPLICIT RevokedInfo,
///     unknown     [2]     IMPLICIT UnknownInfo }
/// UnknownInfo ::= NULL
/// ```
/// RFC 6960 §4.2.1. Unlike ResponderID's, these tags are IMPLICIT: they replace the tags of the alternatives' types
/// (a NULL, a SEQUENCE), so good is `80 00`, unknown `82 00`, and revoked `A1 len <RevokedInfo content>`.
public enum CertStatus: DERParseable, DERSerializable, Hashable, Sendable {
    case good
    case revoked(RevokedInfo)
    case unknown

    static let goodTag = ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)
    static let revokedTag = ASN1Identifier(tagWithNumber: 1, tagClass: .contextSpecific)
    static let unknownTag = ASN1Identifier(tagWithNumber: 2, tagClass: .contextSpecific)

    public init(derEncoded node: ASN1Node) throws {
        switch node.identifier {
        case Self.goodTag:
            _ = try ASN1Null(derEncoded: node, withIdentifier: Self.goodTag)
            self = .good
        case Self.revokedTag:
            self = .revoked(try RevokedInfo(derEncoded: node, withIdentifier: Self.revokedTag))
        case Self.unknownTag:
            _ = try ASN1Null(derEncoded: node, withIdentifier: Self.unknownTag)
            self = .unknown
        default:
            throw ASN1Error.unexpectedFieldType(node.identifier)
        }
    }

    public func serialize(into coder: inout DER.Serializer) throws {
        switch self {
        case .good:
            ASN1Null().serialize(into: &coder, withIdentifier: Self.goodTag)
        case .revoked(let info):
            try info.serialize(into: &coder, withIdentifier: Self.revokedTag)
        case .unknown:
            ASN1Null().serialize(into: &coder, withIdentifier: Self.unknownTag)
        }
    }
}

/// When and why a certificate was revoked.
///
/// ```
/// RevokedInfo ::= SEQUENCE {
///     revocationTime              GeneralizedTime,
///     revocationReason    [0]     EXPLICIT CRLReason OPTIONAL }
/// ```
/// RFC 6960 §4.2.1. The reason is `A0 03 0A 01 nn`. Build times with `GeneralizedTimeText(wholeSecondsSince1970:)`.
public struct RevokedInfo: DERImplicitlyTaggable, Hashable, Sendable {
    public static var defaultIdentifier: ASN1Identifier { .sequence }

    public var revocationTime: GeneralizedTimeText
    public var revocationReason: CRLReason?

    public init(revocationTime: GeneralizedTimeText, revocationReason: CRLReason? = nil) {
        self.revocationTime = revocationTime
        self.revocationReason = revocationReason
    }

    public init(derEncoded rootNode: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        self = try DER.sequence(rootNode, identifier: identifier) { nodes in
            let time = try GeneralizedTimeText(derEncoded: &nodes)
            let reason = try DER.optionalExplicitlyTagged(&nodes, tagNumber: 0, tagClass: .contextSpecific) {
                try CRLReason(derEncoded: $0)
            }
            return RevokedInfo(revocationTime: time, revocationReason: reason)
        }
    }

    public func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        try coder.appendConstructedNode(identifier: identifier) { coder in
            try coder.serialize(self.revocationTime)
            if let revocationReason {
                try coder.serialize(revocationReason, explicitlyTaggedWithTagNumber: 0, tagClass: .contextSpecific)
            }
        }
    }
}
