public import Signing

/// The settings of one ``PKCS11Signer``: which module, token and key, where the PIN and certificate
/// come from, and how sessions and recovery behave.
///
/// The time-stamp unit and each OCSP issuer have a configuration of their own; signers on the same
/// module share one ``PKCS11Module``.
public struct PKCS11SignerConfiguration: Sendable {
    /// The module's shared library, such as `/usr/lib/softhsm/libsofthsm2.so`. Used when the signer
    /// loads the module itself; ignored when it is given one.
    public var modulePath: String

    /// The token, by label or serial number.
    public var token: PKCS11TokenSelector

    /// The private key, by label or `CKA_ID`.
    public var key: PKCS11KeySelector

    /// Where the user PIN comes from. It is read at each login (start-up and after a reconnection) and
    /// not kept in memory.
    public var pin: SecretSource

    /// Where the certificate comes from: the token (default) or a file.
    public var certificate: PKCS11CertificateSource

    /// A PEM file with the issuer chain (nearest issuer first), or `nil`. A copy of the signer's own
    /// certificate at its start is skipped.
    public var chainFile: String?

    /// For RSA keys, the padding: ``Signing/SignatureScheme/Family/rsaPKCS1v15`` (default) or
    /// ``Signing/SignatureScheme/Family/rsaPSS``. EC keys sign with ECDSA and Ed25519 keys with EdDSA
    /// whatever this says.
    public var rsaPadding: SignatureScheme.Family

    /// For RSA keys, the hash (default SHA-256). EC keys use the hash of their curve: SHA-256 for P-256,
    /// SHA-384 for P-384, SHA-512 for P-521.
    public var rsaDigest: DigestAlgorithm

    /// The number of sessions signing in parallel (default 4), 1 to 64. Each has a thread of its own.
    public var sessionPoolSize: Int

    /// How long a signature waits for a free session before failing with
    /// ``PKCS11Error/ErrorCode/sessionPoolExhausted`` (default 5 s).
    public var sessionWaitTimeout: Duration

    /// The first pause between reconnection attempts (default 250 ms); it doubles after each failure.
    public var reconnectInitialDelay: Duration

    /// The longest pause between reconnection attempts (default 10 s).
    public var reconnectMaximumDelay: Duration

    /// How often an idle, healthy signer checks its token, login and key (default 5 s), so `health`
    /// notices a token that vanished without waiting for a signature.
    public var healthCheckInterval: Duration

    /// Whether a reconnection that does not find the token calls `C_Finalize` and `C_Initialize` to make
    /// the module scan again (default `true`).
    ///
    /// SoftHSM2 reads its token directory only at `C_Initialize`, and other modules list tokens
    /// inserted later only after it. Re-initialising ends every session of the module, so other signers
    /// on it reconnect too; set `false` for modules that notice new tokens in `C_GetSlotList`.
    public var reinitializeModuleToRescan: Bool

    /// A configuration with the defaults for everything but module, token, key and PIN.
    public init(
        modulePath: String,
        token: PKCS11TokenSelector,
        key: PKCS11KeySelector,
        pin: SecretSource,
        certificate: PKCS11CertificateSource = .token,
        chainFile: String? = nil,
        rsaPadding: SignatureScheme.Family = .rsaPKCS1v15,
        rsaDigest: DigestAlgorithm = .sha256
    ) {
        self.modulePath = modulePath
        self.token = token
        self.key = key
        self.pin = pin
        self.certificate = certificate
        self.chainFile = chainFile
        self.rsaPadding = rsaPadding
        self.rsaDigest = rsaDigest
        self.sessionPoolSize = 4
        self.sessionWaitTimeout = .seconds(5)
        self.reconnectInitialDelay = .milliseconds(250)
        self.reconnectMaximumDelay = .seconds(10)
        self.healthCheckInterval = .seconds(5)
        self.reinitializeModuleToRescan = true
    }

    /// Checks the numeric settings.
    func validate() throws {
        guard (1...64).contains(self.sessionPoolSize) else {
            throw PKCS11Error(
                code: .invalidConfiguration,
                reason: "the session pool size is \(self.sessionPoolSize); use 1 to 64 (default 4)"
            )
        }
        guard self.sessionWaitTimeout > .zero, self.reconnectInitialDelay > .zero,
            self.reconnectMaximumDelay >= self.reconnectInitialDelay, self.healthCheckInterval > .zero
        else {
            throw PKCS11Error(
                code: .invalidConfiguration,
                reason: """
                    the session wait, reconnection delays and health check interval must be positive, and the \
                    maximum reconnection delay at least the initial one
                    """
            )
        }
        guard self.rsaPadding == .rsaPKCS1v15 || self.rsaPadding == .rsaPSS else {
            throw PKCS11Error(
                code: .invalidConfiguration,
                reason: "the RSA padding is \(self.rsaPadding); use rsaPKCS1v15 or rsaPSS"
            )
        }
    }
}
