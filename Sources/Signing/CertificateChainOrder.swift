import X509

/// Puts a signer's issuer certificates in the order ``Signer/chain`` promises: nearest issuer first.
///
/// PKCS#12 files and chain files come in any order (root first is common), may repeat certificates
/// and may even hold the leaf itself. Starting at the leaf, each step takes the candidate whose
/// subject is the current certificate's issuer (and, when both carry them, whose subject key
/// identifier is the current certificate's authority key identifier), until a self-issued
/// certificate or no issuer is found. Candidates off that path are kept after it, in their order:
/// nothing the operator supplied is dropped silently. The leaf, and any other certificate for the
/// leaf's key, never appears in the chain.
enum CertificateChainOrder {
    /// - Parameters:
    ///   - leaf: The signer's certificate.
    ///   - candidates: The other certificates at hand, in any order, repeats allowed.
    /// - Returns: The chain: the issuer path from `leaf` upwards, then the rest.
    static func chain(for leaf: Certificate, from candidates: [Certificate]) -> [Certificate] {
        var remaining: [Certificate] = []
        for candidate in candidates
        where candidate.publicKey != leaf.publicKey && !remaining.contains(candidate) {
            remaining.append(candidate)
        }
        var path: [Certificate] = []
        var current = leaf
        while current.issuer != current.subject,
            let index = remaining.firstIndex(where: { Self.isIssuer($0, of: current) })
        {
            current = remaining.remove(at: index)
            path.append(current)
        }
        return path + remaining
    }

    /// Whether `issuer` names itself as `certificate`'s issuer (subject and, when both are present,
    /// key identifiers).
    static func isIssuer(_ issuer: Certificate, of certificate: Certificate) -> Bool {
        guard issuer.subject == certificate.issuer else { return false }
        guard let authorityKeyID = try? certificate.extensions.authorityKeyIdentifier?.keyIdentifier,
            let subjectKeyID = try? issuer.extensions.subjectKeyIdentifier?.keyIdentifier
        else { return true }
        return authorityKeyID == subjectKeyID
    }
}
