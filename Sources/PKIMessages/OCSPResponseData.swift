public import SwiftASN1
public import X509

/// The signed part of a basic OCSP response.
///
/// ```
/// ResponseData ::= SEQUENCE {
///     version              [0] EXPLICIT Version DEFAULT v1,
///     responderID              ResponderID,
///     producedAt               GeneralizedTime,
///     responses                SEQUENCE OF SingleResponse,
///     responseExtensions   [1] EXPLICIT Extensions OPTIONAL }
/// Version ::= INTEGER { v1(0) }
/// ```
/// RFC 6960 §4.2.1. `version` v1 (0) is its DEFAULT and is never written (X.690 §11.5); parsing refuses an explicit
/// v1 as DER does. `producedAt` is kept as its text; build it with `GeneralizedTimeText(wholeSecondsSince1970:)`.
public struct ResponseData: DERImplicitlyTaggable, Hashable, Sendable {
    public static var defaultIdentifier: ASN1Identifier { .sequence }

    /// v1, the only version RFC 6960 defines.
    public static let v1 = 0

    public var version: Int
    public var responderID: ResponderID
    public var producedAt: GeneralizedTimeText
    public var responses: [SingleResponse]
    public var responseExtensions: [Certificate.Extension]?

    public init(
        version: Int = Self.v1,
        responderID: ResponderID,
        producedAt: GeneralizedTimeText,
        responses: [SingleResponse],
        responseExtensions: [Certificate.Extension]? = nil
    ) {
        self.version = version
        self.responderID = responderID
        self.producedAt = producedAt
        self.responses = responses
        self.responseExtensions = responseExtensions
    }

    public init(derEncoded rootNode: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        self = try DER.sequence(rootNode, identifier: identifier) { nodes in
            let version = try DER.decodeDefaultExplicitlyTagged(
                &nodes, tagNumber: 0, tagClass: .contextSpecific, defaultValue: Self.v1)
            guard let responderNode = nodes.next() else {
                throw ASN1Error.invalidASN1Object(reason: "ResponseData without responderID")
            }
            let responderID = try ResponderID(derEncoded: responderNode)
            let producedAt = try GeneralizedTimeText(derEncoded: &nodes)
            let responses = try DER.sequence(of: SingleResponse.self, identifier: .sequence, nodes: &nodes)
            let extensions = try DER.optionalExplicitlyTagged(&nodes, tagNumber: 1, tagClass: .contextSpecific) {
                try OCSPExtensions.parse($0, in: "responseExtensions")
            }
            return ResponseData(
                version: version,
                responderID: responderID,
                producedAt: producedAt,
                responses: responses,
                responseExtensions: extensions
            )
        }
    }

    public func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        try coder.appendConstructedNode(identifier: identifier) { coder in
            if self.version != Self.v1 {
                try coder.serialize(self.version, explicitlyTaggedWithTagNumber: 0, tagClass: .contextSpecific)
            }
            try coder.serialize(self.responderID)
            try coder.serialize(self.producedAt)
            try coder.serializeSequenceOf(self.responses)
            try OCSPExtensions.serialize(self.responseExtensions, tagNumber: 1, into: &coder)
        }
    }

    /// The nonce among the response extensions (RFC 6960 §4.4.1); throws when it is malformed.
    public var nonce: OCSPNonce? {
        get throws { try OCSPNonce.find(in: self.responseExtensions) }
    }
}
