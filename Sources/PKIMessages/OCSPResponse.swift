public import SwiftASN1

/// An OCSP response: a status, and for `successful` the signed payload.
///
/// ```
/// OCSPResponse ::= SEQUENCE {
///     responseStatus         OCSPResponseStatus,
///     responseBytes          [0] EXPLICIT ResponseBytes OPTIONAL }
/// ```
/// RFC 6960 §4.2.1. The status and the payload agree by construction: `successful` carries ResponseBytes, every
/// other status is an error response, a lone unsigned status (§2.3). Parsing refuses a successful response without
/// responseBytes and an error response with them; serializing refuses `.error(.successful)`. An error response is
/// five octets, `30 03 0A 01 nn`; ``unsuccessful(_:)`` gives them without encoding anything.
public enum OCSPResponse: DERImplicitlyTaggable, Hashable, Sendable {
    case successful(ResponseBytes)
    /// An error status (malformedRequest, internalError, tryLater, sigRequired, unauthorized or a later one).
    case error(OCSPResponseStatus)

    public static var defaultIdentifier: ASN1Identifier { .sequence }

    /// A successful response carrying `basicResponse` (id-pkix-ocsp-basic).
    public init(basicResponse: BasicOCSPResponse) throws {
        self = .successful(try ResponseBytes(basicResponse: basicResponse))
    }

    public var responseStatus: OCSPResponseStatus {
        switch self {
        case .successful: .successful
        case .error(let status): status
        }
    }

    public var responseBytes: ResponseBytes? {
        guard case .successful(let bytes) = self else { return nil }
        return bytes
    }

    /// The BasicOCSPResponse of a successful response, nil for an error response; throws when the payload is not a
    /// well-formed basic response.
    public func basicResponse() throws -> BasicOCSPResponse? {
        try self.responseBytes?.basicResponse()
    }

    public init(derEncoded rootNode: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        self = try DER.sequence(rootNode, identifier: identifier) { nodes in
            let status = try OCSPResponseStatus(derEncoded: &nodes)
            let bytes = try DER.optionalExplicitlyTagged(&nodes, tagNumber: 0, tagClass: .contextSpecific) {
                try ResponseBytes(derEncoded: $0)
            }
            switch (status, bytes) {
            case (.successful, .some(let bytes)):
                return .successful(bytes)
            case (.successful, .none):
                throw ASN1Error.invalidASN1Object(reason: "a successful OCSP response must carry responseBytes")
            case (_, .some):
                throw ASN1Error.invalidASN1Object(reason: "a \(status) OCSP response must not carry responseBytes")
            case (_, .none):
                return .error(status)
            }
        }
    }

    public func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        if case .error(.successful) = self {
            throw ASN1Error.invalidASN1Object(reason: "an error OCSP response cannot have the status successful")
        }
        try coder.appendConstructedNode(identifier: identifier) { coder in
            try coder.serialize(self.responseStatus)
            if case .successful(let bytes) = self {
                try coder.serialize(bytes, explicitlyTaggedWithTagNumber: 0, tagClass: .contextSpecific)
            }
        }
    }

    /// The complete DER of the error response with `status`: `30 03 0A 01 01` for malformedRequest.
    ///
    /// - Precondition: `status` is not `successful` (which needs responseBytes) and is allowed (not 4, not negative):
    ///   a programmer error, not an input error.
    public static func unsuccessful(_ status: OCSPResponseStatus) -> [UInt8] {
        precondition(status != .successful && status.isAllowed, "no error response has the status \(status)")
        // The minimal two's complement content octets of a non-negative ENUMERATED (X.690 §8.4, §8.3.2).
        var content: [UInt8] = []
        var value = status.rawValue
        repeat {
            content.insert(UInt8(truncatingIfNeeded: value), at: 0)
            value >>= 8
        } while value > 0
        if let first = content.first, first & 0x80 != 0 {
            content.insert(0, at: 0)
        }
        return [0x30, UInt8(content.count + 2), 0x0A, UInt8(content.count)] + content
    }
}
