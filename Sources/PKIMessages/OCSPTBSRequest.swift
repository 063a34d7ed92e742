public import SwiftASN1
public import X509

/// The part of an OCSP request that a requestor signs.
///
/// ```
/// TBSRequest ::= SEQUENCE {
///     version             [0]     EXPLICIT Version DEFAULT v1,
///     requestorName       [1]     EXPLICIT GeneralName OPTIONAL,
///     requestList                 SEQUENCE OF Request,
///     requestExtensions   [2]     EXPLICIT Extensions OPTIONAL }
/// Version ::= INTEGER { v1(0) }
/// ```
/// RFC 6960 §4.1.1. `version` v1 (0) is its DEFAULT and is never written (X.690 §11.5); parsing refuses an explicit v1
/// as DER does, and keeps any other version so that the responder can answer it (malformedRequest) instead of
/// failing to parse. An empty requestList parses too; answering it is the responder's decision.
public struct TBSRequest: DERImplicitlyTaggable, Hashable, Sendable {
    public static var defaultIdentifier: ASN1Identifier { .sequence }

    /// v1, the only version RFC 6960 defines.
    public static let v1 = 0

    public var version: Int
    public var requestorName: GeneralName?
    public var requestList: [OCSPSingleRequest]
    public var requestExtensions: [Certificate.Extension]?

    public init(
        version: Int = Self.v1,
        requestorName: GeneralName? = nil,
        requestList: [OCSPSingleRequest],
        requestExtensions: [Certificate.Extension]? = nil
    ) {
        self.version = version
        self.requestorName = requestorName
        self.requestList = requestList
        self.requestExtensions = requestExtensions
    }

    public init(derEncoded rootNode: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        self = try DER.sequence(rootNode, identifier: identifier) { nodes in
            let version = try DER.decodeDefaultExplicitlyTagged(
                &nodes, tagNumber: 0, tagClass: .contextSpecific, defaultValue: Self.v1)
            let requestorName = try DER.optionalExplicitlyTagged(&nodes, tagNumber: 1, tagClass: .contextSpecific) {
                try GeneralName(derEncoded: $0)
            }
            let requestList = try DER.sequence(of: OCSPSingleRequest.self, identifier: .sequence, nodes: &nodes)
            let extensions = try DER.optionalExplicitlyTagged(&nodes, tagNumber: 2, tagClass: .contextSpecific) {
                try OCSPExtensions.parse($0, in: "requestExtensions")
            }
            return TBSRequest(
                version: version,
                requestorName: requestorName,
                requestList: requestList,
                requestExtensions: extensions
            )
        }
    }

    public func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        try coder.appendConstructedNode(identifier: identifier) { coder in
            if self.version != Self.v1 {
                try coder.serialize(self.version, explicitlyTaggedWithTagNumber: 0, tagClass: .contextSpecific)
            }
            if let requestorName {
                try coder.serialize(requestorName, explicitlyTaggedWithTagNumber: 1, tagClass: .contextSpecific)
            }
            try coder.serializeSequenceOf(self.requestList)
            try OCSPExtensions.serialize(self.requestExtensions, tagNumber: 2, into: &coder)
        }
    }

    /// The nonce among the request extensions (RFC 6960 §4.4.1, RFC 9654 §2.1); throws when it is malformed or
    /// present twice.
    public var nonce: OCSPNonce? {
        get throws { try OCSPNonce.find(in: self.requestExtensions) }
    }
}
