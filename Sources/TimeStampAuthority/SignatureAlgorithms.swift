import PKIMessages
import Signing
import SwiftASN1

/// The CMS algorithm identifiers for a signer's scheme.
///
/// - ECDSA: `ecdsa-with-SHA*` without parameters (RFC 5758 §3.2, RFC 5753 §2.1.1).
/// - RSA PKCS#1 v1.5: `sha*WithRSAEncryption` with NULL parameters (RFC 5754 §3.2, RFC 8017 App. A.2.4).
/// - RSA-PSS: `id-RSASSA-PSS` with explicit RSASSA-PSS-params: the hash, MGF1 with the same hash, salt length equal
///   to the hash length, trailerField left at its DEFAULT (RFC 4056 §2.2, RFC 4055 §3.1).
/// - Ed25519: `id-Ed25519` without parameters, and SHA-512 as the digest algorithm because signed attributes are
///   present (RFC 8419 §3.1).
///
/// CMS digest algorithms are SHA-2 with absent parameters (RFC 5754 §2).
struct CMSAlgorithms {
    let digestAlgorithm: AlgorithmIdentifier
    let signatureAlgorithm: AlgorithmIdentifier

    init(scheme: SignatureScheme) throws(TSAError) {
        let digestOID = Self.digestOID(scheme.digest)
        self.digestAlgorithm = AlgorithmIdentifier(algorithm: digestOID)
        switch scheme {
        case .ecdsaP256SHA256:
            self.signatureAlgorithm = AlgorithmIdentifier(algorithm: .SignatureAlgorithm.ecdsaWithSHA256)
        case .ecdsaP384SHA384:
            self.signatureAlgorithm = AlgorithmIdentifier(algorithm: .SignatureAlgorithm.ecdsaWithSHA384)
        case .ecdsaP521SHA512:
            self.signatureAlgorithm = AlgorithmIdentifier(algorithm: .SignatureAlgorithm.ecdsaWithSHA512)
        case .ed25519:
            self.signatureAlgorithm = AlgorithmIdentifier(algorithm: .SignatureAlgorithm.ed25519)
        default:
            switch scheme.family {
            case .rsaPKCS1v15:
                let oid: ASN1ObjectIdentifier =
                    switch scheme.digest {
                    case .sha384: .SignatureAlgorithm.sha384WithRSAEncryption
                    case .sha512: .SignatureAlgorithm.sha512WithRSAEncryption
                    default: .SignatureAlgorithm.sha256WithRSAEncryption
                    }
                self.signatureAlgorithm = AlgorithmIdentifier(
                    algorithm: oid, parameters: AlgorithmIdentifier.nullParameters)
            case .rsaPSS:
                do {
                    self.signatureAlgorithm = AlgorithmIdentifier(
                        algorithm: .SignatureAlgorithm.rsassaPSS,
                        parameters: try ASN1Any(
                            erasing: RSASSAPSSParameters(hash: digestOID, saltLength: scheme.digest.outputByteCount))
                    )
                } catch {
                    throw .make(.encoding, "cannot encode RSASSA-PSS parameters", cause: error)
                }
            default:
                throw .make(.unsupportedSigner, "the signature scheme \(scheme) cannot sign time-stamp tokens")
            }
        }
    }

    static func digestOID(_ digest: DigestAlgorithm) -> ASN1ObjectIdentifier {
        switch digest {
        case .sha384: .HashAlgorithm.sha384
        case .sha512: .HashAlgorithm.sha512
        default: .HashAlgorithm.sha256
        }
    }
}

/// ```
/// RSASSA-PSS-params ::= SEQUENCE {
///     hashAlgorithm    [0] HashAlgorithm    DEFAULT sha1,
///     maskGenAlgorithm [1] MaskGenAlgorithm DEFAULT mgf1SHA1,
///     saltLength       [2] INTEGER          DEFAULT 20,
///     trailerField     [3] TrailerField     DEFAULT trailerFieldBC }
/// ```
/// RFC 4055 §3.1 (explicit tags). The hash identifiers carry NULL parameters as RFC 4055 §2.1 writes them
/// (`sha256Identifier ::= { id-sha256, NULL }`).
struct RSASSAPSSParameters: DERSerializable {
    let hash: ASN1ObjectIdentifier
    let saltLength: Int

    func serialize(into coder: inout DER.Serializer) throws {
        let hashIdentifier = AlgorithmIdentifier(algorithm: self.hash, parameters: AlgorithmIdentifier.nullParameters)
        let mgf = AlgorithmIdentifier(
            algorithm: .SignatureAlgorithm.mgf1, parameters: try ASN1Any(erasing: hashIdentifier))
        try coder.appendConstructedNode(identifier: .sequence) { coder in
            try coder.serialize(hashIdentifier, explicitlyTaggedWithTagNumber: 0, tagClass: .contextSpecific)
            try coder.serialize(mgf, explicitlyTaggedWithTagNumber: 1, tagClass: .contextSpecific)
            try coder.serialize(self.saltLength, explicitlyTaggedWithTagNumber: 2, tagClass: .contextSpecific)
        }
    }
}
