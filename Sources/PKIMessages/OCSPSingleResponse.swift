public import SwiftASN1
public import X509

/// The status of one certificate.
///
/// ```
/// SingleResponse ::= SEQUENCE {
///     certID                       CertID,
///     certStatus                   CertStatus,
///     thisUpdate                   GeneralizedTime,
///     nextUpdate         [0]       EXPLICIT GeneralizedTime OPTIONAL,
///     singleExtensions   [1]       EXPLICIT Extensions OPTIONAL }
/// ```
/// RFC 6960 §4.2.1; `certID` echoes the request's byte for byte (§4.2.2.3). nextUpdate is `A0 11 18 0F …Z`. Times
/// are kept as their text; build them with `GeneralizedTimeText(wholeSecondsSince1970:)` (RFC 5280 §4.1.2.5.2 form).
public struct SingleResponse: DERImplicitlyTaggable, Hashable, Sendable {
    public static var defaultIdentifier: ASN1Identifier { .sequence }

    public var certID: CertID
    public var certStatus: CertStatus
    public var thisUpdate: GeneralizedTimeText
    public var nextUpdate: GeneralizedTimeText?
    public var singleExtensions: [Certificate.Extension]?

    public init(
        certID: CertID,
        certStatus: CertStatus,
        thisUpdate: GeneralizedTimeText,
        nextUpdate: GeneralizedTimeText? = nil,
        singleExtensions: [Certificate.Extension]? = nil
    ) {
        self.certID = certID
        self.certStatus = certStatus
        self.thisUpdate = thisUpdate
        self.nextUpdate = nextUpdate
        self.singleExtensions = singleExtensions
    }

    public init(derEncoded rootNode: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        self = try DER.sequence(rootNode, identifier: identifier) { nodes in
            let certID = try CertID(derEncoded: &nodes)
            guard let statusNode = nodes.next() else {
                throw ASN1Error.invalidASN1Object(reason: "SingleResponse without certStatus")
            }
            let status = try CertStatus(derEncoded: statusNode)
            let thisUpdate = try GeneralizedTimeText(derEncoded: &nodes)
            let nextUpdate = try DER.optionalExplicitlyTagged(&nodes, tagNumber: 0, tagClass: .contextSpecific) {
                try GeneralizedTimeText(derEncoded: $0)
            }
            let extensions = try DER.optionalExplicitlyTagged(&nodes, tagNumber: 1, tagClass: .contextSpecific) {
                try OCSPExtensions.parse($0, in: "singleExtensions")
            }
            return SingleResponse(
                certID: certID,
                certStatus: status,
                thisUpdate: thisUpdate,
                nextUpdate: nextUpdate,
                singleExtensions: extensions
            )
        }
    }

    public func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        try coder.appendConstructedNode(identifier: identifier) { coder in
            try coder.serialize(self.certID)
            try coder.serialize(self.certStatus)
            try coder.serialize(self.thisUpdate)
            if let nextUpdate {
                try coder.serialize(nextUpdate, explicitlyTaggedWithTagNumber: 0, tagClass: .contextSpecific)
            }
            try OCSPExtensions.serialize(self.singleExtensions, tagNumber: 1, into: &coder)
        }
    }
}
