import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The TSU key types `sigillum init --tsu-key` offers.
enum TSUKeyType: String, Sendable, CaseIterable {
    case ecP256 = "ec-p256"
    case ecP384 = "ec-p384"
    case rsa2048 = "rsa-2048"
    case rsa3072 = "rsa-3072"
    case ed25519 = "ed25519"
}

/// A development PKI made by `sigillum init` (read-only once made; shared by the tests that sign with it).
struct DevelopmentPKI: Sendable {
    var directory: String
    var rootCA: String { self.directory + "/pki/root-ca.pem" }
    var issuingCA: String { self.directory + "/pki/issuing-ca.pem" }
    var tsa: String { self.directory + "/pki/tsa.pem" }
    var tsaKey: String { self.directory + "/keys/tsa.key" }
    var issuingCAKey: String { self.directory + "/keys/issuing-ca.key" }
    /// issuing-ca.pem followed by tsa.pem: the `-untrusted` set when a token carries no certificate.
    var issuingAndTSU: String { self.directory + "/pki/issuing-and-tsu.pem" }
    /// root-ca.pem followed by issuing-ca.pem, for `openssl cms -verify -CAfile` (OpenSSL 3.0's `cms -verify`
    /// takes no `-untrusted`, and builds chains only from the certificates in the message).
    var rootAndIssuing: String { self.directory + "/pki/root-and-issuing.pem" }
}

/// Fixtures made once per test run and shared, created lazily and at most once even when tests ask concurrently.
actor SharedFixtures {
    static let shared = SharedFixtures()

    /// The run's folder for shared fixtures, removed when the test process exits.
    nonisolated static let root: String = {
        let directory =
            (try? makeTemporaryDirectory("shared")) ?? NSTemporaryDirectory() + "sigillum-it-shared-\(getpid())"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        atexit {
            try? FileManager.default.removeItem(atPath: SharedFixtures.root)
        }
        return directory
    }()

    private var pkis: [TSUKeyType: Task<DevelopmentPKI, any Error>] = [:]

    /// The development PKI with a TSU key of `keyType`, made by `sigillum init --tsu-key` on first use.
    func pki(_ keyType: TSUKeyType) async throws -> DevelopmentPKI {
        if let existing = self.pkis[keyType] { return try await existing.value }
        let task = Task { try await Self.makePKI(keyType, in: "\(Self.root)/pki-\(keyType.rawValue)") }
        self.pkis[keyType] = task
        return try await task.value
    }

    /// `sigillum init --state-dir DIRECTORY --tsu-key TYPE`, plus the two concatenated bundles.
    static func makePKI(_ keyType: TSUKeyType, in directory: String) async throws -> DevelopmentPKI {
        let result = try await Tool.sigillum(["init", "--state-dir", directory, "--tsu-key", keyType.rawValue])
        guard result.succeeded, result.output.contains("Created the development PKI") else {
            throw IntegrationError("sigillum init --tsu-key \(keyType.rawValue) failed:\n\(result)")
        }
        let pki = DevelopmentPKI(directory: directory)
        try writeFile(pki.issuingAndTSU, try readFile(pki.issuingCA) + readFile(pki.tsa))
        try writeFile(pki.rootAndIssuing, try readFile(pki.rootCA) + readFile(pki.issuingCA))
        return pki
    }
}

/// A `sigillumd --config` file. Every path is absolute, so the PKI can be shared while each test has its own
/// state folder (and ledger).
struct DaemonConfiguration: Sendable {
    struct Policy: Sendable {
        var oid: String
        var isDefault = false
        var qualified = false
    }

    static let developmentPolicy = "1.3.6.1.4.1.32473.1.1"
    static let qualifiedPolicy = "0.4.0.2023.1.1"

    var stateDirectory: String
    var keyFile: String
    var certificateFile: String
    var chainFile: String?
    var rsaPadding = "pkcs1"
    var policies: [Policy] = [
        Policy(oid: Self.developmentPolicy, isDefault: true),
        Policy(oid: Self.qualifiedPolicy, qualified: true),
    ]
    var acceptedHashAlgorithms: [String]? = nil
    var maxRequestBytes = 16384
    var idleTimeoutSeconds = 30
    /// `http.drainSeconds`.
    var drainSeconds = 10
    var accuracyMillis = 500
    var includeTSAName = true
    var includeChain = false
    /// `clock.enforce`; false keeps the gate open (no disciplined clock on build machines).
    var clockEnforce = false
    /// `clock.servers`.
    var clockServers: [String] = []
    /// `clock.probeInterval` in seconds.
    var probeInterval: Double = 1
    /// `clock.reopenAfter`.
    var reopenAfter = 2
    /// `tsa.accuracy: dynamic` instead of milliseconds.
    var dynamicAccuracy = false
    /// `tsa.enabled`; nil leaves the key out (the default, true).
    var enabled: Bool? = nil

    /// Signs with the TSU key and certificate of `pki`.
    init(stateDirectory: String, pki: DevelopmentPKI) {
        self.stateDirectory = stateDirectory
        self.keyFile = pki.tsaKey
        self.certificateFile = pki.tsa
        self.chainFile = pki.issuingCA
    }

    init(stateDirectory: String, keyFile: String, certificateFile: String, chainFile: String?) {
        self.stateDirectory = stateDirectory
        self.keyFile = keyFile
        self.certificateFile = certificateFile
        self.chainFile = chainFile
    }

    var yaml: String {
        var lines = [
            "stateDirectory: \(self.stateDirectory)",
            "listen: 127.0.0.1:0",
            "adminListen: 127.0.0.1:0",
            "http: { maxRequestBytes: \(self.maxRequestBytes), idleTimeoutSeconds: \(self.idleTimeoutSeconds), "
                + "drainSeconds: \(self.drainSeconds) }",
            "ledger: { path: ledger.sqlite }",
            "tsa:",
        ]
        if let enabled { lines.append("  enabled: \(enabled)") }
        lines += [
            "  signer:",
            "    type: software",
            "    keyFile: \(self.keyFile)",
            "    certificateFile: \(self.certificateFile)",
        ]
        if let chainFile { lines.append("    chainFile: \(chainFile)") }
        lines.append("    rsaPadding: \(self.rsaPadding)")
        lines.append("  policies:")
        for policy in self.policies {
            lines.append("    - { oid: \(policy.oid), default: \(policy.isDefault), qualified: \(policy.qualified) }")
        }
        if let acceptedHashAlgorithms {
            lines.append("  acceptedHashAlgorithms: [\(acceptedHashAlgorithms.joined(separator: ", "))]")
        }
        lines += [
            self.dynamicAccuracy
                ? "  accuracy: dynamic" : "  accuracy: { seconds: 0, millis: \(self.accuracyMillis), micros: 0 }",
            "  ordering: false",
            "  includeTSAName: \(self.includeTSAName)",
            "  includeChain: \(self.includeChain)",
            "clock:",
            "  enforce: \(self.clockEnforce)",
            "  servers: [\(self.clockServers.map { "\"\($0)\"" }.joined(separator: ", "))]",
            "  probeInterval: \(self.probeInterval)",
            "  reopenAfter: \(self.reopenAfter)",
            "  chrony: off",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes the file into the state folder and returns the `sigillumd` arguments that use it.
    func write() throws -> [String] {
        try FileManager.default.createDirectory(atPath: self.stateDirectory, withIntermediateDirectories: true)
        let path = self.stateDirectory + "/sigillumd.yaml"
        try writeFile(path, text: self.yaml)
        return ["--config", path]
    }
}

/// Runs `body` against a daemon started from `configuration` (written into its state folder).
func withConfiguredDaemon<R>(
    _ configuration: DaemonConfiguration,
    _ body: (DaemonProcess, Banner) async throws -> R
) async throws -> R {
    let arguments = try configuration.write()
    return try await withDaemon(arguments, logDirectory: configuration.stateDirectory, body)
}

/// A temporary state folder and the development default (`sigillumd --dev`) running in it.
func withDevelopmentDaemon<R>(
    _ label: String,
    _ body: (_ state: String, DaemonProcess, Banner) async throws -> R
) async throws -> R {
    try await withTemporaryDirectory(label) { directory in
        let state = directory + "/state"
        return try await withDaemon(developmentArguments(stateDirectory: state), logDirectory: directory) {
            daemon,
            banner in
            try await body(state, daemon, banner)
        }
    }
}
