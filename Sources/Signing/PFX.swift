import PKIMessages
import SwiftASN1

/// A PKCS#12 file (RFC 7292 §4), parse only, to describe its envelope; libcrypto opens it.
///
/// ```
/// PFX ::= SEQUENCE {
///   version    INTEGER {v3(3)}(v3,...),
///   authSafe   ContentInfo,
///   macData    MacData OPTIONAL }
///
/// AuthenticatedSafe ::= SEQUENCE OF ContentInfo
///   -- Data if unencrypted
///   -- EncryptedData if password-encrypted
///   -- EnvelopedData if public key-encrypted
/// ```
///
/// Only the password integrity mode is read: `authSafe` of type `data`, whose OCTET STRING holds the
/// `AuthenticatedSafe`. The public-key mode (`signedData`) is refused.
struct PFX: DERParseable {
    /// The contents of the `AuthenticatedSafe`, in order.
    var authenticatedSafe: [ContentInfo]
    var macData: MacData?

    init(derEncoded node: ASN1Node) throws {
        self = try DER.sequence(node, identifier: .sequence) { nodes in
            let version = try Int(derEncoded: &nodes)
            guard version == 3 else {
                throw ASN1Error.invalidASN1Object(reason: "PFX version \(version), expected 3")
            }
            let authSafe = try ContentInfo(derEncoded: &nodes)
            guard authSafe.contentType == .CMSContentType.data else {
                throw ASN1Error.invalidASN1Object(
                    reason: "PFX authSafe of type \(authSafe.contentType); only password integrity (data) is read"
                )
            }
            let octets = try ASN1OctetString(derEncoded: authSafe.content.bytes)
            let contents = try DER.sequence(
                of: ContentInfo.self, identifier: .sequence, rootNode: DER.parse(octets.bytes))
            let macData = try nodes.next().map { try MacData(derEncoded: $0) }
            return PFX(authenticatedSafe: contents, macData: macData)
        }
    }

    /// Whether `bytes` look like a PFX: a SEQUENCE starting with INTEGER 3 and a ContentInfo.
    static func looksLikePFX(_ bytes: [UInt8]) -> Bool {
        guard let node = try? DER.parse(bytes), node.identifier == .sequence,
            case .constructed(let children) = node.content
        else { return false }
        var iterator = children.makeIterator()
        guard let version = iterator.next(), (try? Int(derEncoded: version)) == 3,
            let authSafe = iterator.next(), authSafe.identifier == .sequence,
            case .constructed(let authSafeChildren) = authSafe.content
        else { return false }
        var authSafeIterator = authSafeChildren.makeIterator()
        return authSafeIterator.next()?.identifier == ASN1Identifier.objectIdentifier
    }

    private init(authenticatedSafe: [ContentInfo], macData: MacData?) {
        self.authenticatedSafe = authenticatedSafe
        self.macData = macData
    }
}
