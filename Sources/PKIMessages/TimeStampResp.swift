public import SwiftASN1

/// A time-stamp response.
///
/// ```
/// TimeStampResp ::= SEQUENCE  {
///     status           PKIStatusInfo,
///     timeStampToken   TimeStampToken  OPTIONAL  }
/// TimeStampToken ::= ContentInfo
///     -- contentType is id-signedData, content is SignedData
///     -- eContentType within SignedData is id-ct-TSTInfo, eContent is TSTInfo
/// ```
/// RFC 3161 §2.4.2. The token is kept as its DER (`RawDER`): its signature covers bytes inside it, and clients hash
/// or store it as received. Parsing checks that the status and the presence of a token agree.
public struct TimeStampResp: DERImplicitlyTaggable, Hashable, Sendable {
    public static var defaultIdentifier: ASN1Identifier { .sequence }

    public var status: PKIStatusInfo
    public var timeStampToken: RawDER?

    public init(status: PKIStatusInfo, timeStampToken: RawDER? = nil) {
        self.status = status
        self.timeStampToken = timeStampToken
    }

    public init(derEncoded rootNode: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        self = try DER.sequence(rootNode, identifier: identifier) { nodes in
            let status = try PKIStatusInfo(derEncoded: &nodes)
            let token = try nodes.next().map { try RawDER(derEncoded: $0) }
            // RFC 3161 §2.4.2: a token is present if and only if the status is granted or grantedWithMods.
            if (token != nil) != status.status.carriesToken {
                throw ASN1Error.invalidASN1Object(
                    reason: token == nil
                        ? "a \(status.status) response must carry a token"
                        : "a \(status.status) response must not carry a token"
                )
            }
            return TimeStampResp(status: status, timeStampToken: token)
        }
    }

    public func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        try coder.appendConstructedNode(identifier: identifier) { coder in
            try coder.serialize(self.status)
            if let timeStampToken { try coder.serialize(timeStampToken) }
        }
    }

    /// Parses the token as CMS ContentInfo → SignedData → TSTInfo.
    public func parsedToken() throws -> TimeStampToken? {
        try self.timeStampToken.map { try TimeStampToken(derEncoded: $0.bytes) }
    }
}
