public import SwiftASN1

/// The validated configuration of `sigillumd`: every value typed and checked, paths absolute.
///
/// Produced by `ConfigurationLoader` from a YAML file or from the embedded development default; modules receive
/// the parts they need and never read files or the environment themselves.
public struct ApplianceConfiguration: Sendable, Hashable {
    /// Where keys, the development PKI and the ledger live.
    public var stateDirectory: String
    /// The public listener (TSA).
    public var listen: ListenAddress
    /// The admin listener (`/health`, `/metrics`); keep it off public interfaces.
    public var adminListen: ListenAddress
    public var http: HTTPSettings
    public var ledger: LedgerSettings
    public var tsa: TSASettings
    public var ocsp: OCSPSettings
    public var clock: ClockSettings
    /// True when this is the embedded development default (creates the development PKI).
    public var isDevelopmentDefault: Bool

    public init(
        stateDirectory: String,
        listen: ListenAddress,
        adminListen: ListenAddress,
        http: HTTPSettings,
        ledger: LedgerSettings,
        tsa: TSASettings,
        ocsp: OCSPSettings = OCSPSettings(),
        clock: ClockSettings = ClockSettings(),
        isDevelopmentDefault: Bool
    ) {
        self.stateDirectory = stateDirectory
        self.listen = listen
        self.adminListen = adminListen
        self.http = http
        self.ledger = ledger
        self.tsa = tsa
        self.ocsp = ocsp
        self.clock = clock
        self.isDevelopmentDefault = isDevelopmentDefault
    }
}

/// `HOST:PORT`, with `[v6]:PORT` for IPv6 literals.
public struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT` or `[IPv6]:PORT`; port 0 asks the kernel for a free one.
    public init(parsing text: String, keyPath: String = "listen") throws(ConfigError) {
        var host: Substring
        var portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw .invalid(keyPath, "\"\(text)\" is not [IPv6]:PORT")
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw .invalid(keyPath, "\"\(text)\" is not HOST:PORT (e.g. 127.0.0.1:8080)")
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty else { throw .invalid(keyPath, "\"\(text)\" has no host") }
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw .invalid(keyPath, "\"\(text)\" has no valid port (0–65535)")
        }
        self.host = String(host)
        self.port = port
    }

    public var description: String {
        self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)"
    }
}

/// Limits of the HTTP front.
public struct HTTPSettings: Sendable, Hashable {
    /// Largest accepted request body in bytes (`/tsa`); larger ones get 413 before they are read whole.
    public var maxRequestBytes: Int
    /// Seconds an idle keep-alive connection is kept open.
    public var idleTimeoutSeconds: Int
    /// Seconds the requests in flight get to finish at shutdown (SIGTERM) and when a reload replaces the services
    /// they use; keep it below systemd's `TimeoutStopSec=`.
    public var drainSeconds: Int

    public init(maxRequestBytes: Int = 16 * 1024, idleTimeoutSeconds: Int = 30, drainSeconds: Int = 10) {
        self.maxRequestBytes = maxRequestBytes
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.drainSeconds = drainSeconds
    }
}

/// The durable store.
public struct LedgerSettings: Sendable, Hashable {
    /// Absolute path of the SQLite file.
    public var databasePath: String
    /// Most records committed in one transaction (group commit).
    public var maxBatchSize: Int
    /// The instance id inside every token serial; nil lets the ledger pick a random one once and keep it.
    public var instanceID: UInt32?

    public init(databasePath: String, maxBatchSize: Int = 512, instanceID: UInt32? = nil) {
        self.databasePath = databasePath
        self.maxBatchSize = maxBatchSize
        self.instanceID = instanceID
    }
}

/// Where a signer's key and certificate come from.
public struct SignerSettings: Sendable, Hashable {
    /// Where the key lives.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// A key file read into memory: PKCS#8, SEC1, PKCS#1, encrypted PKCS#8, PKCS#12.
        case software
        /// A key on a PKCS#11 token (an HSM, SoftHSM2, a smart card through OpenSC).
        case pkcs11
        /// A key on a PIV smart card reached through PC/SC (pcscd), without vendor middleware.
        case piv
    }

    /// The cards of a `piv` signer.
    public struct PIV: Sendable, Hashable {
        /// Reader names, each matched as a substring; empty: the first reader whose card has the PIV application.
        /// Several readers with cards of the same key and certificate profile form a pool.
        public var readers: [String]
        /// The key reference: 9a, 9c (default), 9d or 9e.
        public var slot: String
        /// The card PIN; nil for a key that needs none (9E).
        public var pin: Secret?
        /// How long a signature waits for a free card.
        public var queueWaitMilliseconds: Int

        public init(readers: [String], slot: String, pin: Secret?, queueWaitMilliseconds: Int = 2000) {
            self.readers = readers
            self.slot = slot
            self.pin = pin
            self.queueWaitMilliseconds = queueWaitMilliseconds
        }
    }

    /// RSA padding for RSA keys.
    public enum RSAPadding: String, Sendable, Hashable, CaseIterable {
        case pkcs1
        case pss
    }

    /// Where a secret (a passphrase, a PIN) comes from; never the configuration file itself.
    public enum Secret: Sendable, Hashable, CustomStringConvertible {
        case file(String)
        case environment(String)
        /// `$CREDENTIALS_DIRECTORY/NAME` (systemd `LoadCredential=`).
        case credential(String)

        public var description: String {
            switch self {
            case .file(let path): "file \(path)"
            case .environment(let name): "environment variable \(name)"
            case .credential(let name): "systemd credential \(name)"
            }
        }
    }

    /// The token and key of a `pkcs11` signer.
    public struct PKCS11: Sendable, Hashable {
        /// The module's shared library.
        public var module: String
        /// The token by label, or by serial number.
        public var tokenLabel: String?
        public var tokenSerial: String?
        /// The key by label, or by CKA_ID (hex).
        public var keyLabel: String?
        public var keyID: String?
        public var pin: Secret
        /// Sessions signing in parallel.
        public var sessions: Int

        public init(
            module: String, tokenLabel: String?, tokenSerial: String?, keyLabel: String?, keyID: String?,
            pin: Secret, sessions: Int = 4
        ) {
            self.module = module
            self.tokenLabel = tokenLabel
            self.tokenSerial = tokenSerial
            self.keyLabel = keyLabel
            self.keyID = keyID
            self.pin = pin
            self.sessions = sessions
        }
    }

    public var kind: Kind
    /// Absolute path of the private key file (`software`); empty for `pkcs11`.
    public var keyFile: String
    /// The key file's passphrase, for encrypted PKCS#8, encrypted PEM and PKCS#12.
    public var passphrase: Secret?
    /// Absolute path of the signer's certificate; nil to take it from a PKCS#12 file or from the token.
    public var certificateFile: String?
    /// Absolute path of a file with the issuing chain (nearest issuer first), if any.
    public var chainFile: String?
    public var rsaPadding: RSAPadding
    /// The token and key, for `pkcs11`.
    public var pkcs11: PKCS11?
    /// The cards, for `piv`.
    public var piv: PIV?

    public init(
        kind: Kind = .software, keyFile: String, certificateFile: String?, chainFile: String?,
        rsaPadding: RSAPadding = .pkcs1, passphrase: Secret? = nil, pkcs11: PKCS11? = nil, piv: PIV? = nil
    ) {
        self.kind = kind
        self.keyFile = keyFile
        self.certificateFile = certificateFile
        self.chainFile = chainFile
        self.rsaPadding = rsaPadding
        self.passphrase = passphrase
        self.pkcs11 = pkcs11
        self.piv = piv
    }

    /// What the signer is, for start-up messages: the key file, or the token and key.
    public var summary: String {
        switch self.kind {
        case .software:
            return self.keyFile
        case .piv:
            let readers = self.piv?.readers.joined(separator: ", ") ?? ""
            return "PIV slot \(self.piv?.slot ?? "9c") on \(readers.isEmpty ? "the first PIV card" : readers)"
        case .pkcs11:
            let token = self.pkcs11.map { $0.tokenLabel.map { "token \"\($0)\"" } ?? "token #\($0.tokenSerial ?? "?")" }
            let key = self.pkcs11.map { $0.keyLabel.map { "key \"\($0)\"" } ?? "key id \($0.keyID ?? "?")" }
            return "PKCS#11 \(token ?? "token"), \(key ?? "key") (\(self.pkcs11?.module ?? ""))"
        }
    }
}

/// One TSA policy (ETSI EN 319 421 §5.2).
public struct PolicySettings: Sendable, Hashable {
    public var oid: ASN1ObjectIdentifier
    /// Qualified policies put the EN 319 422 §9.1 qcStatements extension (esi4-qtstStatement-1) into each token.
    public var qualified: Bool

    public init(oid: ASN1ObjectIdentifier, qualified: Bool) {
        self.oid = oid
        self.qualified = qualified
    }
}

/// Hash algorithms a message imprint may use.
public enum ImprintHashAlgorithm: String, Sendable, Hashable, CaseIterable {
    case sha256, sha384, sha512
    // swift-format-ignore: AlwaysUseLowerCamelCase
    case sha3_256 = "sha3-256"
    // swift-format-ignore: AlwaysUseLowerCamelCase
    case sha3_384 = "sha3-384"
    // swift-format-ignore: AlwaysUseLowerCamelCase
    case sha3_512 = "sha3-512"
    /// Weak: only accepted when listed explicitly.
    case sha1
    /// Broken: only accepted when listed explicitly.
    case md5

    public static let defaults: [ImprintHashAlgorithm] = [.sha256, .sha384, .sha512, .sha3_256, .sha3_384, .sha3_512]
}

/// The time-stamping service.
public struct TSASettings: Sendable, Hashable {
    public var enabled: Bool
    public var signer: SignerSettings
    /// Accepted policies; the first with `default` (or the first) is used when a request names none.
    public var policies: [PolicySettings]
    public var defaultPolicy: ASN1ObjectIdentifier
    public var acceptedHashAlgorithms: [ImprintHashAlgorithm]
    /// The accuracy stated in tokens, in microseconds; 0 leaves the field out. Ignored with ``dynamicAccuracy``.
    public var accuracyMicroseconds: Int64
    /// `accuracy: dynamic`: each token states the clock's error bound at issue, rounded up to the millisecond.
    public var dynamicAccuracy: Bool
    /// How long a request may wait for the clock to pass the last issued genTime.
    public var orderingWaitMilliseconds: Int
    /// TSTInfo `ordering`.
    public var ordering: Bool
    /// Put the TSU certificate's subject into TSTInfo `tsa`.
    public var includeTSAName: Bool
    /// With certReq, include the issuing chain as well as the TSU certificate.
    public var includeChain: Bool

    public init(
        enabled: Bool = true,
        signer: SignerSettings,
        policies: [PolicySettings],
        defaultPolicy: ASN1ObjectIdentifier,
        acceptedHashAlgorithms: [ImprintHashAlgorithm] = ImprintHashAlgorithm.defaults,
        accuracyMicroseconds: Int64 = 1_000_000,
        ordering: Bool = false,
        includeTSAName: Bool = false,
        includeChain: Bool = false,
        dynamicAccuracy: Bool = false,
        orderingWaitMilliseconds: Int = 5
    ) {
        self.enabled = enabled
        self.signer = signer
        self.policies = policies
        self.defaultPolicy = defaultPolicy
        self.acceptedHashAlgorithms = acceptedHashAlgorithms
        self.accuracyMicroseconds = accuracyMicroseconds
        self.ordering = ordering
        self.includeTSAName = includeTSAName
        self.includeChain = includeChain
        self.dynamicAccuracy = dynamicAccuracy
        self.orderingWaitMilliseconds = orderingWaitMilliseconds
    }
}
