public import SwiftASN1
public import X509

/// A signed OCSP response, the payload of a successful OCSPResponse.
///
/// ```
/// BasicOCSPResponse ::= SEQUENCE {
///     tbsResponseData      ResponseData,
///     signatureAlgorithm   AlgorithmIdentifier,
///     signature            BIT STRING,
///     certs            [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
/// ```
/// RFC 6960 §4.2.1. The signature covers the DER of `tbsResponseData`; the encoding is kept next to the parsed value
/// (`tbsResponseDataBytes`: as received when parsed, as encoded once when built), so that a verifier checks exactly
/// what was signed and a parsed response re-encodes byte for byte. The two cannot drift apart: both are set together,
/// by parsing or by one of the initialisers. Certificates are kept as their DER, in the order given
/// (``certificates()`` parses them).
public struct BasicOCSPResponse: DERImplicitlyTaggable, Hashable, Sendable {
    public static var defaultIdentifier: ASN1Identifier { .sequence }

    /// The signed response data.
    public let tbsResponseData: ResponseData
    /// The DER of `tbsResponseData`, the bytes the signature covers.
    public let tbsResponseDataBytes: RawDER
    public var signatureAlgorithm: AlgorithmIdentifier
    public var signature: ASN1BitString
    public var certs: [RawDER]?

    /// Encodes `tbsResponseData` once; sign ``tbsResponseDataBytes`` before, or use
    /// ``init(tbsResponseDataBytes:signatureAlgorithm:signature:certs:)`` with the bytes that were signed.
    public init(
        tbsResponseData: ResponseData,
        signatureAlgorithm: AlgorithmIdentifier,
        signature: ASN1BitString,
        certs: [RawDER]? = nil
    ) throws {
        self.tbsResponseData = tbsResponseData
        self.tbsResponseDataBytes = try RawDER(encoding: tbsResponseData)
        self.signatureAlgorithm = signatureAlgorithm
        self.signature = signature
        self.certs = certs
    }

    /// Wraps the ResponseData bytes that were signed; throws when they are not one DER ResponseData.
    public init(
        tbsResponseDataBytes: RawDER,
        signatureAlgorithm: AlgorithmIdentifier,
        signature: ASN1BitString,
        certs: [RawDER]? = nil
    ) throws {
        self.tbsResponseData = try ResponseData(derEncoded: tbsResponseDataBytes.bytes)
        self.tbsResponseDataBytes = tbsResponseDataBytes
        self.signatureAlgorithm = signatureAlgorithm
        self.signature = signature
        self.certs = certs
    }

    public init(derEncoded rootNode: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        self = try DER.sequence(rootNode, identifier: identifier) { nodes in
            guard let dataNode = nodes.next() else {
                throw ASN1Error.invalidASN1Object(reason: "BasicOCSPResponse without tbsResponseData")
            }
            let data = try ResponseData(derEncoded: dataNode)
            let algorithm = try AlgorithmIdentifier(derEncoded: &nodes)
            let signature = try ASN1BitString(derEncoded: &nodes)
            let certs = try DER.optionalExplicitlyTagged(&nodes, tagNumber: 0, tagClass: .contextSpecific) {
                try DER.sequence(of: RawDER.self, identifier: .sequence, rootNode: $0)
            }
            return BasicOCSPResponse(
                parsed: data,
                bytes: RawDER(trustedEncoding: dataNode.encodedBytes),
                signatureAlgorithm: algorithm,
                signature: signature,
                certs: certs
            )
        }
    }

    private init(
        parsed data: ResponseData,
        bytes: RawDER,
        signatureAlgorithm: AlgorithmIdentifier,
        signature: ASN1BitString,
        certs: [RawDER]?
    ) {
        self.tbsResponseData = data
        self.tbsResponseDataBytes = bytes
        self.signatureAlgorithm = signatureAlgorithm
        self.signature = signature
        self.certs = certs
    }

    public func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        try coder.appendConstructedNode(identifier: identifier) { coder in
            try coder.serialize(self.tbsResponseDataBytes)
            try coder.serialize(self.signatureAlgorithm)
            try coder.serialize(self.signature)
            if let certs {
                try coder.serialize(explicitlyTaggedWithTagNumber: 0, tagClass: .contextSpecific) { coder in
                    try coder.serializeSequenceOf(certs)
                }
            }
        }
    }

    /// The certificates the response carries, parsed.
    public func certificates() throws -> [Certificate] {
        try (self.certs ?? []).map { try Certificate(derEncoded: Array($0.bytes)) }
    }
}
