import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A TSU certificate (or key) the daemon must refuse to start with (RFC 3161 §2.3; a valid, matching key).
/// The certificates are issued by `Scripts/make-tsu-cert.sh` with openssl from the dev issuing CA.
enum RefusedSigner: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case ekuNotCritical = "eku-not-critical"
    case ekuExtra = "eku-extra"
    case noEKU = "no-eku"
    case expired = "expired"
    case keyMismatch = "key-mismatch"

    var testDescription: String { self.rawValue }

    /// Words stderr must contain (case-insensitive) to name the problem.
    var expectedWords: [String] {
        switch self {
        case .ekuNotCritical: ["extended key usage", "not critical"]
        case .ekuExtra: ["extended key usage", "serverAuth"]
        case .noEKU: ["no extended key usage"]
        case .expired: ["expired"]
        case .keyMismatch: ["belongs to none of the", "tsu.key", "tsu.pem"]
        }
    }
}

@Suite("Start-up refusals")
struct StartupRefusalTests {
    /// Issues a variant with the script; returns (certificate, key).
    static func issue(_ variant: String, pki: DevelopmentPKI, into directory: String) async throws -> (String, String) {
        let script = try Environment.script("make-tsu-cert.sh")
        try checked(try await Tool.run("/bin/sh", [script, pki.directory, variant, directory]))
        return (directory + "/tsu.pem", directory + "/tsu.key")
    }

    /// Starts the daemon and expects it to exit non-zero within 30 s, printing `sigillumd: error:`; returns stderr.
    static func expectRefusal(
        _ arguments: [String],
        logDirectory: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> String {
        let daemon = try DaemonProcess.start(arguments, logDirectory: logDirectory)
        let status = await daemon.waitForExit(timeout: .seconds(30))
        if status == nil { await daemon.stop() }
        #expect(status != nil, "still running after 30 s\n\(daemon.logs)", sourceLocation: sourceLocation)
        #expect(status != 0, "exit status 0\n\(daemon.logs)", sourceLocation: sourceLocation)
        #expect(daemon.stderr.contains("sigillumd: error: "), "\(daemon.logs)", sourceLocation: sourceLocation)
        #expect(
            !daemon.stdout.contains("is serving"), "printed a banner\n\(daemon.logs)", sourceLocation: sourceLocation)
        return daemon.stderr
    }

    @Test(arguments: RefusedSigner.allCases)
    func refusesTheSigner(_ variant: RefusedSigner) async throws {
        let pki = try await SharedFixtures.shared.pki(.ecP256)
        try await withTemporaryDirectory("refuse") { directory in
            let (certificate, key) = try await Self.issue(variant.rawValue, pki: pki, into: directory + "/tsu")
            try await Self.expectScriptMade(variant, certificate: certificate, key: key)
            let configuration = DaemonConfiguration(
                stateDirectory: directory + "/state",
                keyFile: key,
                certificateFile: certificate,
                chainFile: pki.issuingCA
            )
            let stderr = try await Self.expectRefusal(try configuration.write(), logDirectory: directory)
            for word in variant.expectedWords {
                #expect(stderr.lowercased().contains(word.lowercased()), "stderr does not say \"\(word)\":\n\(stderr)")
            }
        }
    }

    /// OpenSSL confirms that the script made the flaw the case is about (and nothing else is checked here).
    static func expectScriptMade(_ variant: RefusedSigner, certificate: String, key: String) async throws {
        let eku = try await Tool.openssl(["x509", "-in", certificate, "-noout", "-ext", "extendedKeyUsage"]).allOutput
        switch variant {
        case .ekuNotCritical:
            #expect(eku.contains("Time Stamping") && !eku.contains("critical"), "\(eku)")
        case .ekuExtra:
            #expect(eku.contains("critical") && eku.contains("TLS Web Server Authentication"), "\(eku)")
        case .noEKU:
            #expect(!eku.contains("Extended Key Usage"), "\(eku)")
        case .expired:
            let check = try await Tool.openssl(["x509", "-in", certificate, "-noout", "-checkend", "0"])
            #expect(check.status == 1 && check.output.contains("will expire"), "\(check)")
        case .keyMismatch:
            let fromCertificate = try checked(
                try await Tool.openssl(["x509", "-in", certificate, "-noout", "-pubkey"]))
            let fromKey = try checked(try await Tool.openssl(["pkey", "-in", key, "-pubout"]))
            #expect(fromCertificate.output != fromKey.output)
        }
    }

    /// The control case: the same script's good certificate is accepted, so the refusals above are about the
    /// profile and not about the script.
    @Test func acceptsAGoodCertificateFromTheSameScript() async throws {
        let pki = try await SharedFixtures.shared.pki(.ecP256)
        try await withTemporaryDirectory("accept") { directory in
            let (certificate, key) = try await Self.issue("good", pki: pki, into: directory + "/tsu")
            let configuration = DaemonConfiguration(
                stateDirectory: directory + "/state",
                keyFile: key,
                certificateFile: certificate,
                chainFile: pki.issuingCA
            )
            try await withConfiguredDaemon(configuration) { _, banner in
                let document = directory + "/document.txt"
                try writeFile(document, text: "good \(UUID())\n")
                try await Requests.openssl(data: document, out: directory + "/q.tsq")
                _ = try await TSAClient.post(file: directory + "/q.tsq", to: banner, responsePath: directory + "/r.tsr")
                let verify = try await OpenSSLTS.verify(
                    response: directory + "/r.tsr",
                    data: document,
                    caFile: pki.rootCA,
                    untrusted: pki.issuingCA
                )
                #expect(verify.succeeded && verify.output.contains("Verification: OK"), "\(verify)")
            }
        }
    }

    /// Other start-up mistakes an operator makes: each is named on stderr.
    @Test(arguments: BrokenConfiguration.allCases)
    func refusesBrokenConfigurations(_ broken: BrokenConfiguration) async throws {
        let pki = try await SharedFixtures.shared.pki(.ecP256)
        try await withTemporaryDirectory("refuse-config") { directory in
            let configuration = DaemonConfiguration(stateDirectory: directory + "/state", pki: pki)
            try FileManager.default.createDirectory(atPath: directory + "/state", withIntermediateDirectories: true)
            try writeFile(directory + "/bad.yaml", text: broken.yaml(from: configuration))
            let stderr = try await Self.expectRefusal(["--config", directory + "/bad.yaml"], logDirectory: directory)
            #expect(stderr.contains(broken.named), "stderr does not name \(broken.named):\n\(stderr)")
        }
    }

    /// The public port is taken by another process: the daemon says so and exits.
    @Test func portInUseIsRefused() async throws {
        let occupied = try RawHTTP.occupyLoopbackPort()
        defer { close(occupied.descriptor) }
        try await withTemporaryDirectory("refuse-port") { directory in
            let arguments = [
                "--dev", "--state-dir", directory + "/state", "--listen", "127.0.0.1:\(occupied.port)",
                "--admin-listen",
                "127.0.0.1:0",
            ]
            let stderr = try await Self.expectRefusal(arguments, logDirectory: directory)
            #expect(stderr.contains("already in use"), "\(stderr)")
            #expect(stderr.contains("\(occupied.port)"), "stderr does not name the port:\n\(stderr)")
        }
    }

    /// A ledger file that is not an SQLite database is not silently replaced.
    @Test func unreadableLedgerIsRefused() async throws {
        try await withTemporaryDirectory("refuse-ledger") { directory in
            let state = directory + "/state"
            try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
            try writeFile(state + "/ledger.sqlite", text: "this is not a database\n")
            let stderr = try await Self.expectRefusal(
                developmentArguments(stateDirectory: state), logDirectory: directory)
            #expect(stderr.contains("ledger"), "\(stderr)")
            #expect(readText(state + "/ledger.sqlite") == "this is not a database\n", "the ledger file was changed")
        }
    }

    @Test func devAndConfigTogetherAreRefused() async throws {
        try await withTemporaryDirectory("refuse-dev") { directory in
            try writeFile(directory + "/any.yaml", text: "listen: 127.0.0.1:0\n")
            let daemon = try DaemonProcess.start(
                ["--dev", "--config", directory + "/any.yaml"], logDirectory: directory)
            let status = await daemon.waitForExit(timeout: .seconds(30))
            if status == nil { await daemon.stop() }
            #expect(status != nil && status != 0, "\(daemon.logs)")
            #expect(daemon.stderr.contains("--dev"), "\(daemon.logs)")
        }
    }
}

/// A configuration mistake, and what stderr must name.
enum BrokenConfiguration: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case missingKeyFile = "missing key file"
    case unknownSetting = "unknown setting"
    case policyNotAnOID = "policy is not an OID"

    var testDescription: String { self.rawValue }

    var named: String {
        switch self {
        case .missingKeyFile: "/nonexistent/tsa.key"
        case .unknownSetting: "tsa.signerr"
        case .policyNotAnOID: "tsa.policies[0].oid"
        }
    }

    func yaml(from configuration: DaemonConfiguration) -> String {
        switch self {
        case .missingKeyFile:
            var changed = configuration
            changed.keyFile = "/nonexistent/tsa.key"
            return changed.yaml
        case .unknownSetting:
            return configuration.yaml.replacingOccurrences(of: "  signer:", with: "  signerr: {}\n  signer:")
        case .policyNotAnOID:
            return configuration.yaml.replacingOccurrences(
                of: "oid: \(DaemonConfiguration.developmentPolicy)",
                with: "oid: not-an-oid"
            )
        }
    }
}
