public import SwiftASN1

/// An OCSP request.
///
/// ```
/// OCSPRequest ::= SEQUENCE {
///     tbsRequest                  TBSRequest,
///     optionalSignature   [0]     EXPLICIT Signature OPTIONAL }
/// ```
/// RFC 6960 §4.1.1. The TBSRequest's encoding is kept next to the parsed value (`tbsRequestBytes`: as received when
/// parsed, as encoded once when built), so that a signed request is verified over exactly the bytes the requestor
/// signed. Both are set together and cannot drift apart.
public struct OCSPRequest: DERImplicitlyTaggable, Hashable, Sendable {
    public static var defaultIdentifier: ASN1Identifier { .sequence }

    public let tbsRequest: TBSRequest
    /// The DER of `tbsRequest`, the bytes `optionalSignature` covers.
    public let tbsRequestBytes: RawDER
    public var optionalSignature: OCSPSignature?

    /// Encodes `tbsRequest` once.
    public init(tbsRequest: TBSRequest, optionalSignature: OCSPSignature? = nil) throws {
        self.tbsRequest = tbsRequest
        self.tbsRequestBytes = try RawDER(encoding: tbsRequest)
        self.optionalSignature = optionalSignature
    }

    public init(derEncoded rootNode: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        self = try DER.sequence(rootNode, identifier: identifier) { nodes in
            guard let tbsNode = nodes.next() else {
                throw ASN1Error.invalidASN1Object(reason: "OCSPRequest without tbsRequest")
            }
            let tbsRequest = try TBSRequest(derEncoded: tbsNode)
            let signature = try DER.optionalExplicitlyTagged(&nodes, tagNumber: 0, tagClass: .contextSpecific) {
                try OCSPSignature(derEncoded: $0)
            }
            return OCSPRequest(
                parsed: tbsRequest,
                bytes: RawDER(trustedEncoding: tbsNode.encodedBytes),
                optionalSignature: signature
            )
        }
    }

    private init(parsed tbsRequest: TBSRequest, bytes: RawDER, optionalSignature: OCSPSignature?) {
        self.tbsRequest = tbsRequest
        self.tbsRequestBytes = bytes
        self.optionalSignature = optionalSignature
    }

    public func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        try coder.appendConstructedNode(identifier: identifier) { coder in
            try coder.serialize(self.tbsRequestBytes)
            if let optionalSignature {
                try coder.serialize(optionalSignature, explicitlyTaggedWithTagNumber: 0, tagClass: .contextSpecific)
            }
        }
    }
}
