public import SwiftASN1
public import X509

/// Identifies the certificate whose status is asked for or given.
///
/// ```
/// CertID ::= SEQUENCE {
///     hashAlgorithm       AlgorithmIdentifier,
///     issuerNameHash      OCTET STRING, -- Hash of issuer's DN
///     issuerKeyHash       OCTET STRING, -- Hash of issuer's public key
///     serialNumber        CertificateSerialNumber }
/// ```
/// RFC 6960 §4.1.1. A response echoes each CertID exactly as the request sent it (RFC 6960 §4.2.2.3), so every
/// field keeps its encoding: the hash algorithm with absent or NULL parameters as received (`AlgorithmIdentifier`
/// keeps them as `ASN1Any`), the serial number as its INTEGER content octets (`DERInteger`). A parsed CertID
/// re-encodes byte for byte. Two CertIDs that differ only in the parameters' form are different values; a responder
/// that matches on the hash algorithm compares `hashAlgorithm.algorithm`.
public struct CertID: DERImplicitlyTaggable, Hashable, Sendable {
    public static var defaultIdentifier: ASN1Identifier { .sequence }

    public var hashAlgorithm: AlgorithmIdentifier
    public var issuerNameHash: ArraySlice<UInt8>
    public var issuerKeyHash: ArraySlice<UInt8>
    public var serialNumber: DERInteger

    public init(
        hashAlgorithm: AlgorithmIdentifier,
        issuerNameHash: ArraySlice<UInt8>,
        issuerKeyHash: ArraySlice<UInt8>,
        serialNumber: DERInteger
    ) {
        self.hashAlgorithm = hashAlgorithm
        self.issuerNameHash = issuerNameHash
        self.issuerKeyHash = issuerKeyHash
        self.serialNumber = serialNumber
    }

    public init(derEncoded rootNode: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        self = try DER.sequence(rootNode, identifier: identifier) { nodes in
            let algorithm = try AlgorithmIdentifier(derEncoded: &nodes)
            let nameHash = try ASN1OctetString(derEncoded: &nodes).bytes
            let keyHash = try ASN1OctetString(derEncoded: &nodes).bytes
            let serial = try DERInteger(derEncoded: &nodes)
            return CertID(
                hashAlgorithm: algorithm, issuerNameHash: nameHash, issuerKeyHash: keyHash, serialNumber: serial)
        }
    }

    public func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        try coder.appendConstructedNode(identifier: identifier) { coder in
            try coder.serialize(self.hashAlgorithm)
            try coder.serialize(ASN1OctetString(contentBytes: self.issuerNameHash))
            try coder.serialize(ASN1OctetString(contentBytes: self.issuerKeyHash))
            try coder.serialize(self.serialNumber)
        }
    }
}

extension CertID {
    /// The bytes whose hash is `issuerNameHash` for certificates issued by `issuer`: the DER of the issuer
    /// certificate's subject, exactly as that certificate encodes it (RFC 6960 §4.1.1). Callers hash them with the
    /// CertID's hash algorithm (PKIMessages does no cryptography).
    public static func issuerNameHashInput(of issuer: Certificate) -> [UInt8] {
        if let fields = try? OCSPCertificateFields(tbsCertificate: issuer.tbsCertificateBytes) {
            return Array(fields.subject)
        }
        // Not reached for a parsed Certificate, whose TBSCertificate has already been read once.
        var coder = DER.Serializer()
        return (try? coder.serialize(issuer.subject)).map { coder.serializedBytes } ?? []
    }

    /// The bytes whose hash is `issuerKeyHash` for certificates issued by `issuer`: the value of the issuer's
    /// subjectPublicKey BIT STRING without tag, length and unused-bits octet (RFC 6960 §4.1.1). The same bytes as
    /// ``ResponderID/keyHashInput(of:)``.
    public static func issuerKeyHashInput(of issuer: Certificate) -> [UInt8] {
        ResponderID.keyHashInput(of: issuer)
    }
}

/// The two parts of a TBSCertificate that OCSP hashes, read from its encoding so that they are the exact octets the
/// certificate carries (swift-certificates re-encodes the subject and the key from its model).
///
/// ```
/// TBSCertificate ::= SEQUENCE {
///     version         [0]  EXPLICIT Version DEFAULT v1,
///     serialNumber         CertificateSerialNumber,
///     signature            AlgorithmIdentifier,
///     issuer               Name,
///     validity             Validity,
///     subject              Name,
///     subjectPublicKeyInfo SubjectPublicKeyInfo,
///     ... }
/// SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }
/// ```
/// RFC 5280 §4.1.
struct OCSPCertificateFields {
    /// The subject Name's DER, tag and length included.
    var subject: ArraySlice<UInt8>
    /// The subjectPublicKey BIT STRING's value octets, without the unused-bits octet.
    var subjectPublicKey: ArraySlice<UInt8>

    init(tbsCertificate bytes: ArraySlice<UInt8>) throws {
        let root = try DER.parse(bytes)
        guard root.identifier == .sequence, case .constructed(let children) = root.content else {
            throw ASN1Error.unexpectedFieldType(root.identifier)
        }
        var nodes = children.makeIterator()
        var next = nodes.next()
        if let node = next, node.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific) {
            next = nodes.next()
        }
        // serialNumber (already in `next`), signature, issuer, validity.
        for _ in 0..<3 {
            guard next != nil else { break }
            next = nodes.next()
        }
        guard next != nil, let subject = nodes.next(), let spki = nodes.next(), subject.identifier == .sequence else {
            throw ASN1Error.invalidASN1Object(reason: "TBSCertificate without subject and subjectPublicKeyInfo")
        }
        self.subject = subject.encodedBytes
        self.subjectPublicKey = try DER.sequence(spki, identifier: .sequence) { nodes in
            _ = try AlgorithmIdentifier(derEncoded: &nodes)
            let key = try ASN1BitString(derEncoded: &nodes)
            guard key.paddingBits == 0 else {
                throw ASN1Error.invalidASN1Object(reason: "subjectPublicKey is not a whole number of octets")
            }
            return key.bytes
        }
    }
}
