public import SwiftASN1

/// The optional signature of an OCSP request.
///
/// ```
/// Signature ::= SEQUENCE {
///     signatureAlgorithm      AlgorithmIdentifier,
///     signature               BIT STRING,
///     certs               [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
/// ```
/// RFC 6960 §4.1.1; the signature covers the DER of the TBSRequest (``OCSPRequest/tbsRequestBytes``). Certificates
/// are kept as their DER, in the order received.
public struct OCSPSignature: DERImplicitlyTaggable, Hashable, Sendable {
    public static var defaultIdentifier: ASN1Identifier { .sequence }

    public var signatureAlgorithm: AlgorithmIdentifier
    public var signature: ASN1BitString
    public var certs: [RawDER]?

    public init(signatureAlgorithm: AlgorithmIdentifier, signature: ASN1BitString, certs: [RawDER]? = nil) {
        self.signatureAlgorithm = signatureAlgorithm
        self.signature = signature
        self.certs = certs
    }

    public init(derEncoded rootNode: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        self = try DER.sequence(rootNode, identifier: identifier) { nodes in
            let algorithm = try AlgorithmIdentifier(derEncoded: &nodes)
            let signature = try ASN1BitString(derEncoded: &nodes)
            let certs = try DER.optionalExplicitlyTagged(&nodes, tagNumber: 0, tagClass: .contextSpecific) {
                try DER.sequence(of: RawDER.self, identifier: .sequence, rootNode: $0)
            }
            return OCSPSignature(signatureAlgorithm: algorithm, signature: signature, certs: certs)
        }
    }

    public func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        try coder.appendConstructedNode(identifier: identifier) { coder in
            try coder.serialize(self.signatureAlgorithm)
            try coder.serialize(self.signature)
            if let certs {
                try coder.serialize(explicitlyTaggedWithTagNumber: 0, tagClass: .contextSpecific) { coder in
                    try coder.serializeSequenceOf(certs)
                }
            }
        }
    }
}
