/// What the responder needs to know, validated by the caller (ApplianceConfig in the daemon).
public struct OCSPResponderConfiguration: Sendable, Hashable {
    /// How requests with a nonce are answered.
    public enum NoncePolicy: Sendable, Hashable {
        /// Sign live and echo the nonce (RFC 6960 §4.4.1, RFC 9654 §2.1).
        case sign
        /// Serve the pre-signed answer without the nonce (RFC 5019 §4).
        case ignore
    }

    /// Most CertIDs in one request (more → malformedRequest).
    public var maxCertIDs: Int
    /// nextUpdate − thisUpdate, seconds.
    public var validitySeconds: Int64
    /// Pre-signed answers are re-signed once this fraction of their validity has passed.
    public var refreshFraction: Double
    public var nonces: NoncePolicy
    /// Refuse unsigned requests with sigRequired and verify the signature of signed ones.
    public var requireSignedRequests: Bool

    public init(
        maxCertIDs: Int = 10,
        validitySeconds: Int64 = 86_400,
        refreshFraction: Double = 0.5,
        nonces: NoncePolicy = .sign,
        requireSignedRequests: Bool = false
    ) {
        self.maxCertIDs = maxCertIDs
        self.validitySeconds = validitySeconds
        self.refreshFraction = refreshFraction
        self.nonces = nonces
        self.requireSignedRequests = requireSignedRequests
    }

    /// Seconds after thisUpdate at which an answer is due for re-signing.
    var refreshAfterSeconds: Int64 { max(1, Int64(Double(self.validitySeconds) * self.refreshFraction)) }
}
