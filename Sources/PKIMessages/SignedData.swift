public import SwiftASN1

/// CMS signed data.
///
/// ```
/// SignedData ::= SEQUENCE {
///     version          CMSVersion,
///     digestAlgorithms DigestAlgorithmIdentifiers,
///     encapContentInfo EncapsulatedContentInfo,
///     certificates     [0] IMPLICIT CertificateSet OPTIONAL,
///     crls             [1] IMPLICIT RevocationInfoChoices OPTIONAL,
///     signerInfos      SignerInfos }
/// DigestAlgorithmIdentifiers ::= SET OF DigestAlgorithmIdentifier
/// SignerInfos ::= SET OF SignerInfo
/// ```
/// RFC 5652 §5.1: version 3 whenever eContentType is not id-data (as in every time-stamp token) or a SignerInfo is
/// version 3. Certificates and CRLs are kept as their DER, in the order received.
public struct SignedData: DERImplicitlyTaggable, Hashable, Sendable {
    public static var defaultIdentifier: ASN1Identifier { .sequence }

    static let certificatesTag = ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)
    static let crlsTag = ASN1Identifier(tagWithNumber: 1, tagClass: .contextSpecific)

    public var version: Int
    public var digestAlgorithms: [AlgorithmIdentifier]
    public var encapContentInfo: EncapsulatedContentInfo
    public var certificates: [RawDER]?
    public var crls: [RawDER]?
    public var signerInfos: [SignerInfo]

    public init(
        version: Int,
        digestAlgorithms: [AlgorithmIdentifier],
        encapContentInfo: EncapsulatedContentInfo,
        certificates: [RawDER]? = nil,
        crls: [RawDER]? = nil,
        signerInfos: [SignerInfo]
    ) {
        self.version = version
        self.digestAlgorithms = digestAlgorithms
        self.encapContentInfo = encapContentInfo
        self.certificates = certificates
        self.crls = crls
        self.signerInfos = signerInfos
    }

    public init(derEncoded rootNode: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        self = try DER.sequence(rootNode, identifier: identifier) { nodes in
            let version = try Int(derEncoded: &nodes)
            let digests = try DER.set(of: AlgorithmIdentifier.self, identifier: .set, nodes: &nodes)
            let encap = try EncapsulatedContentInfo(derEncoded: &nodes)
            var certificates: [RawDER]?
            var crls: [RawDER]?
            var next = nodes.next()
            if let node = next, node.identifier == Self.certificatesTag {
                certificates = try Self.rawElements(of: node)
                next = nodes.next()
            }
            if let node = next, node.identifier == Self.crlsTag {
                crls = try Self.rawElements(of: node)
                next = nodes.next()
            }
            guard let signerNode = next else {
                throw ASN1Error.invalidASN1Object(reason: "SignedData without signerInfos")
            }
            let signers = try DER.set(of: SignerInfo.self, identifier: .set, rootNode: signerNode)
            return SignedData(
                version: version,
                digestAlgorithms: digests,
                encapContentInfo: encap,
                certificates: certificates,
                crls: crls,
                signerInfos: signers
            )
        }
    }

    static func rawElements(of node: ASN1Node) throws -> [RawDER] {
        guard case .constructed(let children) = node.content else {
            throw ASN1Error.invalidASN1Object(reason: "certificate set is not constructed")
        }
        return try children.map { try RawDER(derEncoded: $0) }
    }

    public func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        try coder.appendConstructedNode(identifier: identifier) { coder in
            try coder.serialize(self.version)
            try coder.serializeSetOf(self.digestAlgorithms)
            try coder.serialize(self.encapContentInfo)
            // Kept in the order given: what was received re-encodes byte for byte, and a producer that wants DER
            // order sorts before building (CMS is BER; the signature does not cover these sets).
            if let certificates {
                try coder.serializeSequenceOf(certificates, identifier: Self.certificatesTag)
            }
            if let crls {
                try coder.serializeSequenceOf(crls, identifier: Self.crlsTag)
            }
            try coder.serializeSetOf(self.signerInfos)
        }
    }
}
