public import SwiftASN1
public import X509

/// Names the responder that signed a response.
///
/// ```
/// ResponderID ::= CHOICE {
///     byName   [1] Name,
///     byKey    [2] KeyHash }
/// KeyHash ::= OCTET STRING -- SHA-1 hash of responder's public key
///                          -- (excluding the tag and length fields)
/// ```
/// RFC 6960 §4.2.1. The module uses EXPLICIT TAGS, and a CHOICE is tagged explicitly anyway (X.680 §31.2.7): byName is
/// `A1 len 30 …`, byKey is `A2 16 04 14 <20 octets>`. The key hash is the SHA-1 of the subjectPublicKey BIT STRING's
/// value, not the subject key identifier extension (which a CA may compute another way, RFC 5280 §4.2.1.2);
/// ``keyHashInput(of:)`` gives the bytes to hash.
public enum ResponderID: DERParseable, DERSerializable, Hashable, Sendable {
    case byName(DistinguishedName)
    case byKey(ArraySlice<UInt8>)

    static let byNameTag = ASN1Identifier(tagWithNumber: 1, tagClass: .contextSpecific)
    static let byKeyTag = ASN1Identifier(tagWithNumber: 2, tagClass: .contextSpecific)

    public init(derEncoded node: ASN1Node) throws {
        switch node.identifier {
        case Self.byNameTag:
            self = .byName(
                try DER.explicitlyTagged(node, tagNumber: 1, tagClass: .contextSpecific) {
                    try DistinguishedName(derEncoded: $0)
                }
            )
        case Self.byKeyTag:
            self = .byKey(
                try DER.explicitlyTagged(node, tagNumber: 2, tagClass: .contextSpecific) {
                    try ASN1OctetString(derEncoded: $0).bytes
                }
            )
        default:
            throw ASN1Error.unexpectedFieldType(node.identifier)
        }
    }

    public func serialize(into coder: inout DER.Serializer) throws {
        switch self {
        case .byName(let name):
            try coder.serialize(name, explicitlyTaggedWithIdentifier: Self.byNameTag)
        case .byKey(let hash):
            try coder.serialize(ASN1OctetString(contentBytes: hash), explicitlyTaggedWithIdentifier: Self.byKeyTag)
        }
    }

    /// The bytes whose SHA-1 is the byKey hash of `certificate`'s key: its subjectPublicKey BIT STRING value, without
    /// tag, length and unused-bits octet, exactly as the certificate encodes it (RFC 6960 §4.2.1). PKIMessages does
    /// no cryptography; callers hash these bytes with SHA-1.
    public static func keyHashInput(of certificate: Certificate) -> [UInt8] {
        if let fields = try? OCSPCertificateFields(tbsCertificate: certificate.tbsCertificateBytes) {
            return Array(fields.subjectPublicKey)
        }
        // Not reached for a parsed Certificate; swift-certificates' canonical form of the same key.
        return Array(certificate.publicKey.subjectPublicKeyInfoBytes)
    }
}
