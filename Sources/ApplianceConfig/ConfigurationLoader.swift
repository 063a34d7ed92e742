import Foundation
public import SwiftASN1
import Yams

/// Command-line values that override the file (`sigillumd --state-dir --listen --admin-listen`).
public struct ConfigurationOverrides: Sendable, Hashable {
    public var stateDirectory: String?
    public var listen: String?
    public var adminListen: String?
    /// `--ntp-server` (repeatable): replaces the file's servers and enforces the clock gate.
    public var ntpServers: [String]
    /// `--probe-interval SECONDS`.
    public var probeIntervalSeconds: Double?
    /// `--max-clock-error SECONDS`.
    public var maximumClockErrorSeconds: Double?

    public init(
        stateDirectory: String? = nil, listen: String? = nil, adminListen: String? = nil, ntpServers: [String] = [],
        probeIntervalSeconds: Double? = nil, maximumClockErrorSeconds: Double? = nil
    ) {
        self.stateDirectory = stateDirectory
        self.listen = listen
        self.adminListen = adminListen
        self.ntpServers = ntpServers
        self.probeIntervalSeconds = probeIntervalSeconds
        self.maximumClockErrorSeconds = maximumClockErrorSeconds
    }
}

/// Loads and validates configurations.
///
/// Precedence for the state directory: `--state-dir`, then the file's `stateDirectory`, then `$STATE_DIRECTORY`
/// (set by systemd's `StateDirectory=`), then `./.sigillum`. Relative paths inside the configuration (keys,
/// certificates, the ledger) resolve against the state directory.
public enum ConfigurationLoader {
    /// The public default address.
    public static let defaultListen = "127.0.0.1:8080"
    /// The admin default address.
    public static let defaultAdminListen = "127.0.0.1:9090"
    /// The state directory when nothing else names one.
    public static let defaultStateDirectory = "./.sigillum"

    /// The development policy: under IANA's enterprise number for documentation (RFC 5612), never for production.
    public static let developmentPolicy: ASN1ObjectIdentifier = [1, 3, 6, 1, 4, 1, 32473, 1, 1]

    /// Loads a YAML configuration file.
    public static func load(
        file path: String,
        overrides: ConfigurationOverrides = .init(),
        environment: [String: String]
    ) throws(ConfigError) -> ApplianceConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .make(.unreadableFile, "cannot read \(path): \(error.localizedDescription)")
        }
        return try self.load(yaml: text, source: path, overrides: overrides, environment: environment)
    }

    /// Loads a configuration from YAML text.
    public static func load(
        yaml text: String,
        source: String = "(inline)",
        overrides: ConfigurationOverrides = .init(),
        environment: [String: String] = [:]
    ) throws(ConfigError) -> ApplianceConfiguration {
        let file: ConfigurationFile
        do {
            if let node = try Yams.compose(yaml: text) {
                try ConfigurationFile.schema.check(node, path: "")
            }
            file = try YAMLDecoder().decode(ConfigurationFile.self, from: text.isEmpty ? "{}" : text)
        } catch let error as ConfigError {
            throw error
        } catch let error as DecodingError {
            throw .make(.syntax, "\(source): \(Self.describe(error))")
        } catch {
            throw .make(.syntax, "\(source) is not valid YAML: \(error)")
        }
        return try self.validate(file, overrides: overrides, environment: environment, isDevelopment: false)
    }

    /// The embedded development default: development PKI paths under the state directory, both policies of the
    /// development PKI (the ETSI best-practices policy marked qualified), and a clock gate that probes nothing and
    /// stays open (saying so in `/status` and at start-up) unless `--ntp-server` names servers.
    public static func embeddedDefault(
        overrides: ConfigurationOverrides = .init(),
        environment: [String: String]
    ) throws(ConfigError) -> ApplianceConfiguration {
        var file = ConfigurationFile()
        file.tsa = ConfigurationFile.TSA(
            enabled: true,
            signer: .init(
                type: "software",
                keyFile: "keys/tsa.key",
                certificateFile: "pki/tsa.pem",
                chainFile: "pki/issuing-ca.pem",
                rsaPadding: "pkcs1"
            ),
            policies: [
                .init(oid: Self.developmentPolicy.description, qualified: false, default: true),
                .init(oid: ASN1ObjectIdentifier.TimeStampingPolicies.bestPractices.description, qualified: true),
            ],
            acceptedHashAlgorithms: nil,
            accuracy: .init(seconds: nil, millis: 500, micros: nil),
            ordering: false,
            includeTSAName: true,
            includeChain: false,
            orderingWaitMillis: 5
        )
        file.clock = ConfigurationFile.Clock(enforce: false, servers: [], chrony: "off")
        file.ocsp = ConfigurationFile.OCSP(
            enabled: true,
            issuers: [
                .init(
                    certificateFile: "pki/issuing-ca.pem",
                    signer: .init(type: "software", keyFile: "keys/ocsp.key", certificateFile: "pki/ocsp.pem"),
                    responderID: OCSPSettings.ResponderIDForm.byKey.rawValue,
                    status: .init(index: "pki/index.txt"),
                    nonIssuedIsRevoked: false
                )
            ]
        )
        return try self.validate(file, overrides: overrides, environment: environment, isDevelopment: true)
    }

    static func validate(
        _ file: ConfigurationFile,
        overrides: ConfigurationOverrides,
        environment: [String: String],
        isDevelopment: Bool
    ) throws(ConfigError) -> ApplianceConfiguration {
        let stateText =
            overrides.stateDirectory ?? file.stateDirectory ?? environment["STATE_DIRECTORY"].flatMap {
                // systemd may list several directories separated by ':'; the first is ours.
                $0.split(separator: ":").first.map(String.init)
            } ?? Self.defaultStateDirectory
        let stateDirectory = Self.absolute(stateText, relativeTo: FileManager.default.currentDirectoryPath)

        let listen = try ListenAddress(
            parsing: overrides.listen ?? file.listen ?? Self.defaultListen, keyPath: "listen")
        let admin = try ListenAddress(
            parsing: overrides.adminListen ?? file.adminListen ?? Self.defaultAdminListen,
            keyPath: "adminListen"
        )
        if listen.port != 0 && listen == admin {
            throw .invalid("adminListen", "the admin listener must not share the public address \(listen)")
        }

        var http = HTTPSettings()
        if let value = file.http?.maxRequestBytes {
            guard (256...(1 << 20)).contains(value) else {
                throw .invalid("http.maxRequestBytes", "\(value) is outside 256…1048576")
            }
            http.maxRequestBytes = value
        }
        if let value = file.http?.idleTimeoutSeconds {
            guard (1...3600).contains(value) else {
                throw .invalid("http.idleTimeoutSeconds", "\(value) is outside 1…3600")
            }
            http.idleTimeoutSeconds = value
        }
        if let value = file.http?.drainSeconds {
            guard (1...300).contains(value) else {
                throw .invalid("http.drainSeconds", "\(value) is outside 1…300")
            }
            http.drainSeconds = value
        }

        var ledger = LedgerSettings(
            databasePath: Self.absolute(file.ledger?.path ?? "ledger.sqlite", relativeTo: stateDirectory))
        if let value = file.ledger?.maxBatchSize {
            guard (1...10_000).contains(value) else {
                throw .invalid("ledger.maxBatchSize", "\(value) is outside 1…10000")
            }
            ledger.maxBatchSize = value
        }
        ledger.instanceID = file.ledger?.instanceId

        let tsa = try self.validateTSA(file.tsa, stateDirectory: stateDirectory)
        let ocsp = try self.validateOCSP(file.ocsp, stateDirectory: stateDirectory)
        let clock = try self.validateClock(file.clock, overrides: overrides, isDevelopment: isDevelopment)
        return ApplianceConfiguration(
            stateDirectory: stateDirectory,
            listen: listen,
            adminListen: admin,
            http: http,
            ledger: ledger,
            tsa: tsa,
            ocsp: ocsp,
            clock: clock,
            isDevelopmentDefault: isDevelopment
        )
    }

    static func validateTSA(_ tsa: ConfigurationFile.TSA?, stateDirectory: String) throws(ConfigError) -> TSASettings {
        guard let tsa else {
            throw .invalid("tsa", "missing: the configuration needs a tsa section with a signer and policies")
        }
        let signer = try self.validateSigner(tsa.signer, keyPath: "tsa.signer", stateDirectory: stateDirectory)

        guard let policyEntries = tsa.policies, !policyEntries.isEmpty else {
            throw .invalid("tsa.policies", "missing: list at least one policy OID")
        }
        var policies: [PolicySettings] = []
        var defaultPolicy: ASN1ObjectIdentifier?
        for (index, entry) in policyEntries.enumerated() {
            let oid: ASN1ObjectIdentifier
            do {
                oid = try ASN1ObjectIdentifier(dotRepresentation: entry.oid)
            } catch {
                throw .invalid("tsa.policies[\(index)].oid", "\"\(entry.oid)\" is not a dotted object identifier")
            }
            guard oid.oidComponents.count >= 2 else {
                throw .invalid("tsa.policies[\(index)].oid", "\"\(entry.oid)\" needs at least two arcs")
            }
            if policies.contains(where: { $0.oid == oid }) {
                throw .invalid("tsa.policies[\(index)].oid", "\(oid) is listed twice")
            }
            policies.append(PolicySettings(oid: oid, qualified: entry.qualified ?? false))
            if entry.default == true {
                if defaultPolicy != nil {
                    throw .invalid("tsa.policies[\(index)].default", "only one policy can be the default")
                }
                defaultPolicy = oid
            }
        }

        var hashes = ImprintHashAlgorithm.defaults
        if let names = tsa.acceptedHashAlgorithms {
            hashes = []
            for (index, name) in names.enumerated() {
                guard let algorithm = ImprintHashAlgorithm(rawValue: name.lowercased()) else {
                    throw .invalid(
                        "tsa.acceptedHashAlgorithms[\(index)]",
                        "\"\(name)\" is not one of: \(ImprintHashAlgorithm.allCases.map(\.rawValue).joined(separator: ", "))"
                    )
                }
                if !hashes.contains(algorithm) { hashes.append(algorithm) }
            }
            guard !hashes.isEmpty else { throw .invalid("tsa.acceptedHashAlgorithms", "the list is empty") }
        }

        var accuracy: Int64 = 1_000_000
        if let word = tsa.accuracy?.word, word != "dynamic" {
            throw .invalid("tsa.accuracy", "\"\(word)\" is neither `dynamic` nor a mapping of seconds, millis, micros")
        }
        if let value = tsa.accuracy, !value.dynamic {
            let seconds = value.seconds ?? 0
            let millis = value.millis ?? 0
            let micros = value.micros ?? 0
            guard seconds >= 0, seconds <= 3600 else {
                throw .invalid("tsa.accuracy.seconds", "\(seconds) is outside 0…3600")
            }
            guard (0...999).contains(millis) else {
                throw .invalid("tsa.accuracy.millis", "\(millis) is outside 0…999")
            }
            guard (0...999).contains(micros) else {
                throw .invalid("tsa.accuracy.micros", "\(micros) is outside 0…999")
            }
            accuracy = Int64(seconds) * 1_000_000 + Int64(millis) * 1000 + Int64(micros)
        }

        let orderingWait = tsa.orderingWaitMillis ?? 5
        guard (0...1000).contains(orderingWait) else {
            throw .invalid("tsa.orderingWaitMillis", "\(orderingWait) is outside 0…1000")
        }

        return TSASettings(
            enabled: tsa.enabled ?? true,
            signer: signer,
            policies: policies,
            defaultPolicy: defaultPolicy ?? policies[0].oid,
            acceptedHashAlgorithms: hashes,
            accuracyMicroseconds: accuracy,
            ordering: tsa.ordering ?? false,
            includeTSAName: tsa.includeTSAName ?? false,
            includeChain: tsa.includeChain ?? false,
            dynamicAccuracy: tsa.accuracy?.dynamic ?? false,
            orderingWaitMilliseconds: orderingWait
        )
    }

    static func validateSigner(
        _ signerFile: ConfigurationFile.Signer?,
        keyPath: String,
        stateDirectory: String
    ) throws(ConfigError) -> SignerSettings {
        guard let signerFile else { throw .invalid(keyPath, "missing: name keyFile and certificateFile") }
        let kindText = signerFile.type ?? SignerSettings.Kind.software.rawValue
        guard let kind = SignerSettings.Kind(rawValue: kindText) else {
            throw .invalid("\(keyPath).type", "\"\(kindText)\" is not one of: software, pkcs11, piv")
        }
        let paddingText = signerFile.rsaPadding ?? SignerSettings.RSAPadding.pkcs1.rawValue
        guard let padding = SignerSettings.RSAPadding(rawValue: paddingText) else {
            throw .invalid("\(keyPath).rsaPadding", "\"\(paddingText)\" is not one of: pkcs1, pss")
        }
        let certificateFile = signerFile.certificateFile.flatMap { $0.isEmpty ? nil : $0 }
            .map { Self.absolute($0, relativeTo: stateDirectory) }
        let chainFile = signerFile.chainFile.map { Self.absolute($0, relativeTo: stateDirectory) }
        let passphrase = try Self.secret(
            file: signerFile.passphraseFile, environment: signerFile.passphraseEnv,
            credential: signerFile.passphraseCredential, keyPath: keyPath, name: "passphrase",
            stateDirectory: stateDirectory)
        switch kind {
        case .software:
            guard let keyFile = signerFile.keyFile, !keyFile.isEmpty else {
                throw .invalid("\(keyPath).keyFile", "missing: the path of the private key")
            }
            let absoluteKey = Self.absolute(keyFile, relativeTo: stateDirectory)
            let lowered = absoluteKey.lowercased()
            let isPKCS12 = lowered.hasSuffix(".p12") || lowered.hasSuffix(".pfx")
            guard certificateFile != nil || isPKCS12 else {
                throw .invalid(
                    "\(keyPath).certificateFile",
                    "missing: the path of the signer's certificate (only a PKCS#12 .p12/.pfx key file carries its own)")
            }
            let tokenKeys: [(String, String?)] = [
                ("module", signerFile.module), ("tokenLabel", signerFile.tokenLabel),
                ("tokenSerial", signerFile.tokenSerial), ("keyLabel", signerFile.keyLabel), ("keyId", signerFile.keyId),
                ("pinFile", signerFile.pinFile), ("pinEnv", signerFile.pinEnv),
                ("pinCredential", signerFile.pinCredential),
            ]
            if let (key, _) = tokenKeys.first(where: { $0.1 != nil }) {
                throw .invalid("\(keyPath).\(key)", "only a signer of type pkcs11 takes it")
            }
            return SignerSettings(
                kind: .software, keyFile: absoluteKey, certificateFile: certificateFile, chainFile: chainFile,
                rsaPadding: padding, passphrase: passphrase)
        case .piv:
            let slot = (signerFile.slot ?? "9c").lowercased()
            guard ["9a", "9c", "9d", "9e"].contains(slot) else {
                throw .invalid("\(keyPath).slot", "\"\(slot)\" is not one of the PIV key references 9a, 9c, 9d, 9e")
            }
            if signerFile.keyFile != nil {
                throw .invalid("\(keyPath).keyFile", "a piv signer's key stays on the card; drop keyFile")
            }
            let pin = try Self.secret(
                file: signerFile.pinFile, environment: signerFile.pinEnv, credential: signerFile.pinCredential,
                keyPath: keyPath, name: "pin", stateDirectory: stateDirectory)
            if pin == nil && slot != "9e" {
                throw .invalid(
                    "\(keyPath).pinFile", "missing: slot \(slot) needs the card PIN (pinFile, pinEnv or pinCredential)")
            }
            let wait = signerFile.queueWaitMillis ?? 2000
            guard (1...60_000).contains(wait) else {
                throw .invalid("\(keyPath).queueWaitMillis", "\(wait) is outside 1…60000")
            }
            let readers = signerFile.readers ?? []
            guard !readers.contains(where: \.isEmpty), Set(readers).count == readers.count else {
                throw .invalid("\(keyPath).readers", "reader names must be non-empty and distinct")
            }
            return SignerSettings(
                kind: .piv, keyFile: "", certificateFile: certificateFile, chainFile: chainFile, rsaPadding: padding,
                piv: .init(readers: readers, slot: slot, pin: pin, queueWaitMilliseconds: wait))
        case .pkcs11:
            guard let module = signerFile.module, !module.isEmpty else {
                throw .invalid("\(keyPath).module", "missing: the PKCS#11 module (shared library) to load")
            }
            guard (signerFile.tokenLabel == nil) != (signerFile.tokenSerial == nil) else {
                throw .invalid("\(keyPath).tokenLabel", "name the token by exactly one of tokenLabel and tokenSerial")
            }
            guard (signerFile.keyLabel == nil) != (signerFile.keyId == nil) else {
                throw .invalid("\(keyPath).keyLabel", "name the key by exactly one of keyLabel and keyId")
            }
            if let id = signerFile.keyId {
                let hex = id.filter { $0 != ":" }
                guard !hex.isEmpty, hex.count % 2 == 0, hex.allSatisfy(\.isHexDigit) else {
                    throw .invalid("\(keyPath).keyId", "\"\(id)\" is not hexadecimal (CKA_ID, e.g. 01 or a1:b2)")
                }
            }
            if signerFile.keyFile != nil {
                throw .invalid("\(keyPath).keyFile", "a pkcs11 signer's key stays on the token; drop keyFile")
            }
            guard
                let pin = try Self.secret(
                    file: signerFile.pinFile, environment: signerFile.pinEnv, credential: signerFile.pinCredential,
                    keyPath: keyPath, name: "pin", stateDirectory: stateDirectory)
            else {
                throw .invalid(
                    "\(keyPath).pinFile", "missing: the user PIN's source (pinFile, pinEnv or pinCredential)")
            }
            let sessions = signerFile.sessions ?? 4
            guard (1...64).contains(sessions) else {
                throw .invalid("\(keyPath).sessions", "\(sessions) is outside 1…64")
            }
            return SignerSettings(
                kind: .pkcs11, keyFile: "", certificateFile: certificateFile, chainFile: chainFile,
                rsaPadding: padding, passphrase: nil,
                pkcs11: .init(
                    module: module, tokenLabel: signerFile.tokenLabel, tokenSerial: signerFile.tokenSerial,
                    keyLabel: signerFile.keyLabel, keyID: signerFile.keyId, pin: pin, sessions: sessions))
        }
    }

    /// At most one of `NAMEFile`, `NAMEEnv`, `NAMECredential`.
    static func secret(
        file: String?, environment: String?, credential: String?, keyPath: String, name: String,
        stateDirectory: String
    ) throws(ConfigError) -> SignerSettings.Secret? {
        let given: [SignerSettings.Secret] = [
            file.map { .file(Self.absolute($0, relativeTo: stateDirectory)) }, environment.map { .environment($0) },
            credential.map { .credential($0) },
        ].compactMap { $0 }
        guard given.count <= 1 else {
            throw .invalid("\(keyPath).\(name)File", "give one of \(name)File, \(name)Env and \(name)Credential")
        }
        if case .credential(let value)? = given.first, value.isEmpty || value.contains("/") {
            throw .invalid("\(keyPath).\(name)Credential", "\"\(value)\" is not a credential name")
        }
        return given.first
    }

    static func validateOCSP(_ ocsp: ConfigurationFile.OCSP?, stateDirectory: String) throws(ConfigError)
        -> OCSPSettings
    {
        guard let ocsp else { return OCSPSettings(enabled: false) }
        var settings = OCSPSettings(enabled: ocsp.enabled ?? true)
        if let value = ocsp.maxCertIDs {
            guard (1...1000).contains(value) else { throw .invalid("ocsp.maxCertIDs", "\(value) is outside 1…1000") }
            settings.maxCertIDs = value
        }
        if let value = ocsp.validitySeconds {
            guard (60...(31 * 86_400)).contains(value) else {
                throw .invalid("ocsp.validitySeconds", "\(value) is outside 60…2678400 (one minute to 31 days)")
            }
            settings.validitySeconds = value
        }
        if let value = ocsp.refreshFraction {
            guard value > 0, value < 1 else {
                throw .invalid("ocsp.refreshFraction", "\(value) must lie strictly between 0 and 1")
            }
            settings.refreshFraction = value
        }
        if let text = ocsp.nonces {
            guard let policy = OCSPSettings.NoncePolicy(rawValue: text) else {
                throw .invalid("ocsp.nonces", "\"\(text)\" is not one of: sign, ignore")
            }
            settings.nonces = policy
        }
        settings.requireSignedRequests = ocsp.requireSignedRequests ?? false
        if let value = ocsp.sourcePollMilliseconds {
            guard (50...60_000).contains(value) else {
                throw .invalid("ocsp.sourcePollMilliseconds", "\(value) is outside 50…60000")
            }
            settings.sourcePollMilliseconds = value
        }
        let entries = ocsp.issuers ?? []
        if settings.enabled && entries.isEmpty {
            throw .invalid("ocsp.issuers", "missing: list the issuing CAs this responder answers for")
        }
        for (index, entry) in entries.enumerated() {
            let path = "ocsp.issuers[\(index)]"
            guard let certificate = entry.certificateFile, !certificate.isEmpty else {
                throw .invalid("\(path).certificateFile", "missing: the issuing CA's certificate")
            }
            let signer = try self.validateSigner(
                entry.signer, keyPath: "\(path).signer", stateDirectory: stateDirectory)
            let formText = entry.responderID ?? OCSPSettings.ResponderIDForm.byKey.rawValue
            guard let form = OCSPSettings.ResponderIDForm(rawValue: formText) else {
                throw .invalid("\(path).responderID", "\"\(formText)\" is not one of: byKey, byName")
            }
            let status: OCSPSettings.StatusSource
            switch (entry.status?.index, entry.status?.crl, entry.status?.ledger ?? false) {
            case (let index?, nil, false):
                status = .opensslIndex(path: Self.absolute(index, relativeTo: stateDirectory))
            case (nil, let crl?, false):
                status = .crl(path: Self.absolute(crl, relativeTo: stateDirectory))
            case (nil, nil, true):
                status = .ledger
            default:
                throw .invalid(
                    "\(path).status", "name exactly one source: index (OpenSSL index.txt), crl, or ledger: true")
            }
            let nonIssued = entry.nonIssuedIsRevoked ?? false
            if nonIssued, case .crl = status {
                throw .invalid(
                    "\(path).nonIssuedIsRevoked",
                    "a CRL lists only revoked certificates, so it cannot tell which serials were never issued (RFC 6960 §2.2)"
                )
            }
            let certificatePath = Self.absolute(certificate, relativeTo: stateDirectory)
            if settings.issuers.contains(where: { $0.certificateFile == certificatePath }) {
                throw .invalid("\(path).certificateFile", "\(certificatePath) is listed twice")
            }
            settings.issuers.append(
                OCSPSettings.Issuer(
                    certificateFile: certificatePath,
                    signer: signer,
                    responderID: form,
                    status: status,
                    nonIssuedIsRevoked: nonIssued
                )
            )
        }
        return settings
    }

    static func absolute(_ path: String, relativeTo base: String) -> String {
        let url =
            path.hasPrefix("/")
            ? URL(fileURLWithPath: path) : URL(fileURLWithPath: base, isDirectory: true).appendingPathComponent(path)
        return url.standardizedFileURL.path
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
                .trimmingCharacters(in: CharacterSet(charactersIn: "."))
        }
        switch error {
        case .typeMismatch(let type, let context):
            return "\(path(context)): expected a value of type \(type)"
        case .valueNotFound(let type, let context):
            return "\(path(context)): missing a value of type \(type)"
        case .keyNotFound(let key, let context):
            return "\(path(context)): missing the required key \(key.stringValue)"
        case .dataCorrupted(let context):
            return "\(path(context)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}

extension ASN1ObjectIdentifier {
    /// Time-stamp policies defined by ETSI.
    public enum TimeStampingPolicies {
        /// best-practices-ts-policy, ETSI EN 319 421 §5.2.
        public static let bestPractices: ASN1ObjectIdentifier = [0, 4, 0, 2023, 1, 1]
    }
}
