public import PKIMessages
import SwiftASN1

extension SignatureScheme {
    /// The digest AlgorithmIdentifier: SHA-2 with absent parameters (RFC 5754 §2), as CMS digestAlgorithm.
    public var digestAlgorithmIdentifier: AlgorithmIdentifier {
        AlgorithmIdentifier(algorithm: Self.digestOID(self.digest))
    }

    /// The signature AlgorithmIdentifier, for CMS SignerInfo, OCSP BasicOCSPResponse and X.509 alike:
    ///
    /// - ECDSA: `ecdsa-with-SHA256/384/512` without parameters (RFC 5758 §3.2).
    /// - RSA PKCS#1 v1.5: `sha256/384/512WithRSAEncryption` with NULL parameters (RFC 5754 §3.2, RFC 8017 App. A.2.4).
    /// - RSA-PSS: `id-RSASSA-PSS` with explicit RSASSA-PSS-params: the hash, MGF1 with the same hash, salt length equal
    ///   to the hash length, trailerField left at its DEFAULT (RFC 4056 §2.2, RFC 4055 §3.1).
    /// - Ed25519: `id-Ed25519` without parameters (RFC 8410 §3); in CMS with signed attributes SHA-512 is the digest
    ///   (RFC 8419 §3.1), which `digest` already says.
    public func signatureAlgorithmIdentifier() throws -> AlgorithmIdentifier {
        switch self.family {
        case .ecdsa:
            let oid: ASN1ObjectIdentifier =
                switch self.digest {
                case .sha384: .SignatureAlgorithm.ecdsaWithSHA384
                case .sha512: .SignatureAlgorithm.ecdsaWithSHA512
                default: .SignatureAlgorithm.ecdsaWithSHA256
                }
            return AlgorithmIdentifier(algorithm: oid)
        case .rsaPKCS1v15:
            let oid: ASN1ObjectIdentifier =
                switch self.digest {
                case .sha384: .SignatureAlgorithm.sha384WithRSAEncryption
                case .sha512: .SignatureAlgorithm.sha512WithRSAEncryption
                default: .SignatureAlgorithm.sha256WithRSAEncryption
                }
            return AlgorithmIdentifier(algorithm: oid, parameters: AlgorithmIdentifier.nullParameters)
        case .rsaPSS:
            let parameters = RSASSAPSSParameters(
                hash: Self.digestOID(self.digest), saltLength: self.digest.outputByteCount)
            return AlgorithmIdentifier(
                algorithm: .SignatureAlgorithm.rsassaPSS, parameters: try ASN1Any(erasing: parameters))
        default:
            return AlgorithmIdentifier(algorithm: .SignatureAlgorithm.ed25519)
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
