public import SwiftASN1

/// The typed payload of a successful OCSP response.
///
/// ```
/// ResponseBytes ::= SEQUENCE {
///     responseType   OBJECT IDENTIFIER,
///     response       OCTET STRING }
/// ```
/// RFC 6960 §4.2.1: for id-pkix-ocsp-basic (swift-asn1's `.OCSP.basicResponse`) `response` holds the DER of a
/// ``BasicOCSPResponse``, the one type every responder and client supports. Other types are kept as octets.
public struct ResponseBytes: DERImplicitlyTaggable, Hashable, Sendable {
    public static var defaultIdentifier: ASN1Identifier { .sequence }

    public var responseType: ASN1ObjectIdentifier
    /// The OCTET STRING's value: for a basic response, the BasicOCSPResponse DER.
    public var response: ArraySlice<UInt8>

    public init(responseType: ASN1ObjectIdentifier, response: ArraySlice<UInt8>) {
        self.responseType = responseType
        self.response = response
    }

    /// An id-pkix-ocsp-basic payload holding `basicResponse`'s DER.
    public init(basicResponse: BasicOCSPResponse) throws {
        var coder = DER.Serializer()
        try coder.serialize(basicResponse)
        self.init(responseType: .OCSP.basicResponse, response: coder.serializedBytes[...])
    }

    public init(derEncoded rootNode: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        self = try DER.sequence(rootNode, identifier: identifier) { nodes in
            let type = try ASN1ObjectIdentifier(derEncoded: &nodes)
            let response = try ASN1OctetString(derEncoded: &nodes).bytes
            return ResponseBytes(responseType: type, response: response)
        }
    }

    public func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        try coder.appendConstructedNode(identifier: identifier) { coder in
            try coder.serialize(self.responseType)
            try coder.serialize(ASN1OctetString(contentBytes: self.response))
        }
    }

    /// The payload parsed as a BasicOCSPResponse; throws when `responseType` is not id-pkix-ocsp-basic or the octets
    /// are not one DER BasicOCSPResponse.
    public func basicResponse() throws -> BasicOCSPResponse {
        guard self.responseType == .OCSP.basicResponse else {
            throw ASN1Error.invalidASN1Object(reason: "response type \(self.responseType) is not id-pkix-ocsp-basic")
        }
        return try BasicOCSPResponse(derEncoded: self.response)
    }
}
