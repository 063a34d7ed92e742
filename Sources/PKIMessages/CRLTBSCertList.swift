public import SwiftASN1
public import X509

/// The signed part of a CRL.
///
/// ```
/// TBSCertList  ::=  SEQUENCE  {
///     version                 Version OPTIONAL,
///                                  -- if present, MUST be v2
///     signature               AlgorithmIdentifier,
///     issuer                  Name,
///     thisUpdate              Time,
///     nextUpdate              Time OPTIONAL,
///     revokedCertificates     SEQUENCE OF SEQUENCE  { … }  OPTIONAL,
///     crlExtensions           [0]  EXPLICIT Extensions OPTIONAL
///                                  -- if present, version MUST be v2
///                             }
/// Version ::= INTEGER { v1(0), v2(1) }
/// ```
/// RFC 5280 §5.1.2. `version` is nil when absent (a v1 CRL) and 1 for v2; 0 written out is tolerated, other values
/// are refused. `revokedCertificates` is nil when absent (§5.1.2.6: absent when nothing is revoked) and keeps an empty
/// list when one was sent, so that a parsed TBSCertList re-encodes as received. Entries are parsed in one pass, in
/// the order of the CRL (``CRLEntry``).
public struct TBSCertList: DERImplicitlyTaggable, Hashable, Sendable {
    public static var defaultIdentifier: ASN1Identifier { .sequence }

    /// v2, the version a CRL with extensions must state.
    public static let v2 = 1

    static let crlExtensionsTag = ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)

    public var version: Int?
    public var signature: AlgorithmIdentifier
    public var issuer: DistinguishedName
    public var thisUpdate: CRLTime
    public var nextUpdate: CRLTime?
    public var revokedCertificates: [CRLEntry]?
    public var crlExtensions: [Certificate.Extension]?

    public init(
        version: Int? = Self.v2,
        signature: AlgorithmIdentifier,
        issuer: DistinguishedName,
        thisUpdate: CRLTime,
        nextUpdate: CRLTime?,
        revokedCertificates: [CRLEntry]? = nil,
        crlExtensions: [Certificate.Extension]? = nil
    ) {
        self.version = version
        self.signature = signature
        self.issuer = issuer
        self.thisUpdate = thisUpdate
        self.nextUpdate = nextUpdate
        self.revokedCertificates = revokedCertificates
        self.crlExtensions = crlExtensions
    }

    public init(derEncoded rootNode: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        self = try DER.sequence(rootNode, identifier: identifier) { nodes in
            var version: Int?
            var next = nodes.next()
            if let node = next, node.identifier == .integer {
                let value = try Int(derEncoded: node)
                guard value == Self.v2 || value == 0 else {
                    throw ASN1Error.invalidASN1Object(reason: "CRL version \(value) is neither v1 nor v2")
                }
                version = value
                next = nodes.next()
            }
            guard let signatureNode = next else {
                throw ASN1Error.invalidASN1Object(reason: "TBSCertList without signature")
            }
            let signature = try AlgorithmIdentifier(derEncoded: signatureNode)
            guard let issuerNode = nodes.next() else {
                throw ASN1Error.invalidASN1Object(reason: "TBSCertList without issuer")
            }
            let issuer = try DistinguishedName(derEncoded: issuerNode)
            guard let thisUpdateNode = nodes.next() else {
                throw ASN1Error.invalidASN1Object(reason: "TBSCertList without thisUpdate")
            }
            let thisUpdate = try CRLTime(derEncoded: thisUpdateNode)
            var nextUpdate: CRLTime?
            var revoked: [CRLEntry]?
            var extensions: [Certificate.Extension]?
            next = nodes.next()
            if let node = next, node.identifier == .utcTime || node.identifier == .generalizedTime {
                nextUpdate = try CRLTime(derEncoded: node)
                next = nodes.next()
            }
            if let node = next, node.identifier == .sequence {
                revoked = try DER.sequence(of: CRLEntry.self, identifier: .sequence, rootNode: node)
                next = nodes.next()
            }
            if let node = next, node.identifier == Self.crlExtensionsTag {
                extensions = try DER.explicitlyTagged(node, tagNumber: 0, tagClass: .contextSpecific) {
                    try DER.sequence(of: Certificate.Extension.self, identifier: .sequence, rootNode: $0)
                }
                guard extensions?.isEmpty == false else {
                    throw ASN1Error.invalidASN1Object(reason: "crlExtensions must not be empty")
                }
                next = nodes.next()
            }
            if let node = next {
                throw ASN1Error.unexpectedFieldType(node.identifier)
            }
            return TBSCertList(
                version: version,
                signature: signature,
                issuer: issuer,
                thisUpdate: thisUpdate,
                nextUpdate: nextUpdate,
                revokedCertificates: revoked,
                crlExtensions: extensions
            )
        }
    }

    public func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        try coder.appendConstructedNode(identifier: identifier) { coder in
            if let version { try coder.serialize(version) }
            try coder.serialize(self.signature)
            try coder.serialize(self.issuer)
            try coder.serialize(self.thisUpdate)
            if let nextUpdate { try coder.serialize(nextUpdate) }
            if let revokedCertificates { try coder.serializeSequenceOf(revokedCertificates) }
            if let crlExtensions, !crlExtensions.isEmpty {
                try coder.serialize(explicitlyTaggedWithTagNumber: 0, tagClass: .contextSpecific) { coder in
                    try coder.serializeSequenceOf(crlExtensions)
                }
            }
        }
    }

    /// The CRL number extension (RFC 5280 §5.2.3), nil when absent.
    public var crlNumber: DERInteger? {
        get throws {
            try self.crlExtensions?.first { $0.oid == .X509ExtensionID.crlNumber }.map {
                try DERInteger(derEncoded: $0.value)
            }
        }
    }
}
