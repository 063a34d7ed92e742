public import X509

/// A private key that signs for a certificate: the seam every signer backend implements.
///
/// The software backend (``SoftwareSigner``) holds the key in memory; hardware backends (a PKCS#11
/// HSM, a PIV smart card) keep it on the token. The services that sign — the time-stamp authority
/// and the OCSP responder — see only this protocol.
///
/// Conformers must be cheap to call concurrently: the time-stamp authority calls ``sign(_:)`` on
/// its hot path.
public protocol Signer: Sendable {
    /// How this signer signs.
    var scheme: SignatureScheme { get }

    /// The certificate of the signing key.
    var certificate: Certificate { get }

    /// The issuer chain of ``certificate``: nearest issuer first, the leaf excluded; may be empty.
    var chain: [Certificate] { get }

    /// The backend, for logs and metrics: `software`, and later `pkcs11` or `piv`.
    var kind: String { get }

    /// Signs `message`.
    ///
    /// The signer hashes `message` with the scheme's ``SignatureScheme/digest`` itself; Ed25519
    /// signs `message` as is (pure EdDSA).
    ///
    /// - Parameter message: The octets to sign, for instance DER-encoded CMS signed attributes.
    /// - Returns: For ECDSA a DER `ECDSA-Sig-Value`; for RSA the raw signature octets; for Ed25519
    ///   64 octets.
    /// - Throws: ``SignerError`` (or a backend's error) when the key cannot sign.
    func sign(_ message: [UInt8]) async throws -> [UInt8]

    /// Whether the signer can sign right now.
    ///
    /// Software signers are always available; hardware backends report a missing token or a lost
    /// login here.
    var health: SignerHealth { get }
}

/// Whether a ``Signer`` can sign right now.
public enum SignerHealth: Sendable, Hashable {
    /// The signer can sign.
    case available

    /// The signer cannot sign; `reason` says why and what to do, for the status page and logs.
    case unavailable(reason: String)
}
