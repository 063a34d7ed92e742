public import SwiftASN1
import X509

/// A certificate revocation list.
///
/// ```
/// CertificateList  ::=  SEQUENCE  {
///     tbsCertList          TBSCertList,
///     signatureAlgorithm   AlgorithmIdentifier,
///     signatureValue       BIT STRING  }
/// ```
/// RFC 5280 §5.1. The TBSCertList's encoding is kept next to the parsed value (`tbsCertListBytes`: as received when
/// parsed, as encoded once when built), so the signature is checked over exactly the signed bytes and a parsed CRL
/// re-encodes byte for byte. ``parse(bytes:)`` takes DER or PEM (`-----BEGIN X509 CRL-----`). Parsing is linear in
/// the number of entries: one DER pass builds the node tree, one pass reads the entries.
public struct CertificateList: DERImplicitlyTaggable, PEMParseable, PEMSerializable, Hashable, Sendable {
    public static var defaultIdentifier: ASN1Identifier { .sequence }

    /// `X509 CRL`, the PEM label of RFC 7468 §6.
    public static var defaultPEMDiscriminator: String { "X509 CRL" }

    public let tbsCertList: TBSCertList
    /// The DER of `tbsCertList`, the bytes the signature covers.
    public let tbsCertListBytes: RawDER
    public var signatureAlgorithm: AlgorithmIdentifier
    public var signatureValue: ASN1BitString

    /// Encodes `tbsCertList` once.
    public init(tbsCertList: TBSCertList, signatureAlgorithm: AlgorithmIdentifier, signatureValue: ASN1BitString) throws
    {
        self.tbsCertList = tbsCertList
        self.tbsCertListBytes = try RawDER(encoding: tbsCertList)
        self.signatureAlgorithm = signatureAlgorithm
        self.signatureValue = signatureValue
    }

    public init(derEncoded rootNode: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        self = try DER.sequence(rootNode, identifier: identifier) { nodes in
            guard let tbsNode = nodes.next() else {
                throw ASN1Error.invalidASN1Object(reason: "CertificateList without tbsCertList")
            }
            let tbs = try TBSCertList(derEncoded: tbsNode)
            let algorithm = try AlgorithmIdentifier(derEncoded: &nodes)
            let signature = try ASN1BitString(derEncoded: &nodes)
            return CertificateList(
                parsed: tbs,
                bytes: RawDER(trustedEncoding: tbsNode.encodedBytes),
                signatureAlgorithm: algorithm,
                signatureValue: signature
            )
        }
    }

    private init(
        parsed tbs: TBSCertList,
        bytes: RawDER,
        signatureAlgorithm: AlgorithmIdentifier,
        signatureValue: ASN1BitString
    ) {
        self.tbsCertList = tbs
        self.tbsCertListBytes = bytes
        self.signatureAlgorithm = signatureAlgorithm
        self.signatureValue = signatureValue
    }

    public func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        try coder.appendConstructedNode(identifier: identifier) { coder in
            try coder.serialize(self.tbsCertListBytes)
            try coder.serialize(self.signatureAlgorithm)
            try coder.serialize(self.signatureValue)
        }
    }

    /// A CRL from a file's bytes: DER when the first octet is 0x30 (a SEQUENCE), which must then be exactly one
    /// CertificateList with no trailing bytes; PEM otherwise, in which case the first `X509 CRL` block is read and
    /// any text around it (such as `openssl crl -text` output) ignored.
    public static func parse(bytes: some Collection<UInt8>) throws -> CertificateList {
        if bytes.first == 0x30 {
            return try CertificateList(derEncoded: Array(bytes))
        }
        let documents = try PEMDocument.parseMultiple(pemString: String(decoding: bytes, as: UTF8.self))
        guard let document = documents.first(where: { $0.discriminator == Self.defaultPEMDiscriminator }) else {
            throw ASN1Error.invalidPEMDocument(reason: "no \(Self.defaultPEMDiscriminator) PEM block")
        }
        return try CertificateList(derEncoded: document.derBytes)
    }

    /// The revoked certificates, in the order of the CRL (empty when there are none).
    public var revokedCertificates: [CRLEntry] { self.tbsCertList.revokedCertificates ?? [] }
}
