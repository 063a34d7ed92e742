public import Signing

/// Which reader a card of a ``SmartCardSigner`` is in.
public enum SmartCardReaderSelector: Sendable, Hashable, CustomStringConvertible {
    /// The reader with exactly this name, such as `Yubico YubiKey OTP+FIDO+CCID 00 00`.
    case name(String)

    /// The first reader whose name contains this text (case-sensitive), such as `YubiKey`.
    case nameContaining(String)

    /// The first reader holding a card that has the PIV application (and not taken by another card of
    /// the same signer).
    case firstWithPIV

    public var description: String {
        switch self {
        case .name(let name): "the reader \"\(name)\""
        case .nameContaining(let text): "the reader whose name contains \"\(text)\""
        case .firstWithPIV: "the first reader with a PIV card"
        }
    }
}

/// Where the certificate of a ``SmartCardSigner`` comes from.
public enum SmartCardCertificateSource: Sendable, Hashable {
    /// The key's certificate data object on the card (GET DATA `5FC10A` for 9C, …), decompressed when
    /// the card stores it gzip-compressed.
    case card

    /// A PEM or DER file; a PEM file may hold the issuer chain after the certificate.
    case file(path: String)
}

/// The settings of one ``SmartCardSigner``: which readers and key, where the PIN and certificate come
/// from, how signatures queue for the card, and how recovery behaves.
///
/// Several readers make a pool: one card in each, every card holding the same key (imported onto
/// each) for the one certificate. Signatures go to whichever card is free.
public struct SmartCardSignerConfiguration: Sendable {
    /// The readers, one card each (default: the first reader with a PIV card). All cards must hold the
    /// key of the same certificate.
    public var readers: [SmartCardReaderSelector]

    /// The key's slot (default 9C, Digital Signature).
    public var keyReference: PIVKeyReference

    /// Where the PIV PIN comes from; `nil` only for a key used without PIN (9E). It is read once at
    /// start-up and kept, zeroed when the signer closes: the 9C key needs it before every signature.
    public var pin: SecretSource?

    /// When the PIN is presented; `nil` (default) follows SP 800-73-4 for the key reference: before
    /// every signature for 9C, once per connection for 9A and 9D, never for 9E.
    public var pinPolicy: SmartCardPINPolicy?

    /// Where the certificate comes from: the card (default) or a file.
    public var certificate: SmartCardCertificateSource

    /// A PEM file with the issuer chain (nearest issuer first), or `nil`. A copy of the signer's own
    /// certificate at its start is skipped.
    public var chainFile: String?

    /// For RSA keys, the hash (default SHA-256); the DigestInfo and PKCS#1 v1.5 padding are built on
    /// the host. EC keys use their curve's hash: SHA-256 for P-256, SHA-384 for P-384.
    public var rsaDigest: DigestAlgorithm

    /// How long a signature waits for a free card before failing with
    /// ``SmartCardError/ErrorCode/cardBusy`` (default 2 s).
    public var queueWaitTimeout: Duration

    /// How many signatures may wait for a card at once (default 32); more fail at once with
    /// ``SmartCardError/ErrorCode/cardBusy``.
    public var maximumQueueLength: Int

    /// The first pause between reconnection attempts (default 250 ms); it doubles after each failure.
    public var reconnectInitialDelay: Duration

    /// The longest pause between reconnection attempts (default 5 s).
    public var reconnectMaximumDelay: Duration

    /// How often an idle, healthy card is checked (`SCardStatus`; default 2 s), so ``SmartCardSigner/health``
    /// notices a removed card without waiting for a signature.
    public var healthCheckInterval: Duration

    /// A configuration with the defaults for everything but the readers, key and PIN.
    public init(
        readers: [SmartCardReaderSelector] = [.firstWithPIV],
        keyReference: PIVKeyReference = .digitalSignature,
        pin: SecretSource?,
        pinPolicy: SmartCardPINPolicy? = nil,
        certificate: SmartCardCertificateSource = .card,
        chainFile: String? = nil,
        rsaDigest: DigestAlgorithm = .sha256
    ) {
        self.readers = readers
        self.keyReference = keyReference
        self.pin = pin
        self.pinPolicy = pinPolicy
        self.certificate = certificate
        self.chainFile = chainFile
        self.rsaDigest = rsaDigest
        self.queueWaitTimeout = .seconds(2)
        self.maximumQueueLength = 32
        self.reconnectInitialDelay = .milliseconds(250)
        self.reconnectMaximumDelay = .seconds(5)
        self.healthCheckInterval = .seconds(2)
    }

    /// The PIN policy in force: the configured one or the key reference's.
    public var effectivePINPolicy: SmartCardPINPolicy {
        self.pinPolicy ?? self.keyReference.defaultPINPolicy
    }

    /// Checks the settings against each other.
    func validate() throws(SmartCardError) {
        guard (1...16).contains(self.readers.count) else {
            throw SmartCardError(
                code: .invalidConfiguration,
                reason: "the signer has \(self.readers.count) readers; give 1 to 16 (one card each)"
            )
        }
        let names = self.readers.compactMap { selector -> String? in
            if case .name(let name) = selector { return name }
            return nil
        }
        if let twice = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
            throw SmartCardError(
                code: .invalidConfiguration,
                reason: "the reader \"\(twice)\" is configured twice; each card of a pool needs a reader of its own"
            )
        }
        guard self.maximumQueueLength >= 0 else {
            throw SmartCardError(
                code: .invalidConfiguration,
                reason: "the maximum queue length is \(self.maximumQueueLength); use 0 or more (default 32)"
            )
        }
        guard self.queueWaitTimeout > .zero, self.reconnectInitialDelay > .zero,
            self.reconnectMaximumDelay >= self.reconnectInitialDelay, self.healthCheckInterval > .zero
        else {
            throw SmartCardError(
                code: .invalidConfiguration,
                reason: """
                    the queue wait, reconnection delays and health check interval must be positive, and the \
                    maximum reconnection delay at least the initial one
                    """
            )
        }
        if self.effectivePINPolicy != .never, self.pin == nil {
            throw SmartCardError(
                code: .invalidConfiguration,
                reason: """
                    key \(self.keyReference) signs only after the PIN (policy: \(self.effectivePINPolicy)), but no \
                    PIN source is configured; give one (a file, an environment variable or a systemd credential)
                    """
            )
        }
        if self.rsaDigest != .sha256, self.rsaDigest != .sha384, self.rsaDigest != .sha512 {
            throw SmartCardError(
                code: .invalidConfiguration,
                reason: "the RSA hash is \(self.rsaDigest); use SHA-256, SHA-384 or SHA-512"
            )
        }
    }
}
