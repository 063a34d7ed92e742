/// The OCSP responder (RFC 6960 / RFC 5019).
public struct OCSPSettings: Sendable, Hashable {
    /// How requests carrying a nonce are answered.
    public enum NoncePolicy: String, Sendable, Hashable, CaseIterable {
        /// Sign a fresh response that echoes the nonce (RFC 6960 §4.4.1, RFC 9654).
        case sign
        /// Serve the pre-signed response without the nonce, as RFC 5019 §4 allows for high-volume responders.
        case ignore
    }

    /// How the responder names itself in ResponseData (RFC 6960 §4.2.1).
    public enum ResponderIDForm: String, Sendable, Hashable, CaseIterable {
        /// SHA-1 of the responder's subjectPublicKey.
        case byKey
        /// The responder certificate's subject.
        case byName
    }

    /// Where the status of an issuer's certificates comes from.
    public enum StatusSource: Sendable, Hashable {
        /// An OpenSSL CA database (`index.txt`): every issued certificate, so "non-issued is revoked" is possible.
        case opensslIndex(path: String)
        /// A CRL file (DER or PEM): revoked certificates only.
        case crl(path: String)
        /// The ledger, written by `sigillum ocsp revoke|unrevoke|import-crl|import-index`.
        case ledger
    }

    /// One issuing CA served by this responder.
    public struct Issuer: Sendable, Hashable {
        /// Absolute path of the issuing CA's certificate.
        public var certificateFile: String
        /// The key that signs answers: the CA's own, or a delegated responder's whose certificate the CA issued
        /// with EKU id-kp-OCSPSigning and id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2).
        public var signer: SignerSettings
        public var responderID: ResponderIDForm
        public var status: StatusSource
        /// Answer serials the CA never issued as revoked (RFC 6960 §2.2); only with a source that lists every issued
        /// certificate.
        public var nonIssuedIsRevoked: Bool

        public init(
            certificateFile: String,
            signer: SignerSettings,
            responderID: ResponderIDForm = .byKey,
            status: StatusSource,
            nonIssuedIsRevoked: Bool = false
        ) {
            self.certificateFile = certificateFile
            self.signer = signer
            self.responderID = responderID
            self.status = status
            self.nonIssuedIsRevoked = nonIssuedIsRevoked
        }
    }

    public var enabled: Bool
    public var issuers: [Issuer]
    /// Most CertIDs in one request; more is malformedRequest.
    public var maxCertIDs: Int
    /// nextUpdate − thisUpdate of every answer, in seconds.
    public var validitySeconds: Int
    /// Pre-signed answers are refreshed once this fraction of their validity has passed (0 < f < 1).
    public var refreshFraction: Double
    public var nonces: NoncePolicy
    /// Refuse unsigned requests with sigRequired, and verify signed ones.
    public var requireSignedRequests: Bool
    /// How often file status sources are checked for changes, in milliseconds.
    public var sourcePollMilliseconds: Int

    public init(
        enabled: Bool = false,
        issuers: [Issuer] = [],
        maxCertIDs: Int = 10,
        validitySeconds: Int = 86_400,
        refreshFraction: Double = 0.5,
        nonces: NoncePolicy = .sign,
        requireSignedRequests: Bool = false,
        sourcePollMilliseconds: Int = 500
    ) {
        self.enabled = enabled
        self.issuers = issuers
        self.maxCertIDs = maxCertIDs
        self.validitySeconds = validitySeconds
        self.refreshFraction = refreshFraction
        self.nonces = nonces
        self.requireSignedRequests = requireSignedRequests
        self.sourcePollMilliseconds = sourcePollMilliseconds
    }
}
