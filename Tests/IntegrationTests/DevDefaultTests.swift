import Foundation
import PKIMessages
import SwiftASN1
import Testing

/// The embedded development default: `sigillumd` without `--config`.
@Suite("Development default")
struct DevDefaultTests {
    static let certificateFiles = [
        "root-ca.pem", "issuing-ca.pem", "tsa.pem", "ocsp.pem", "ee-good.pem", "ee-revoked.pem",
    ]
    static let keyFiles = ["root-ca.key", "issuing-ca.key", "tsa.key", "ocsp.key", "ee-good.key", "ee-revoked.key"]

    /// From an empty state folder: the banner appears and its "Try it from another terminal" commands work as
    /// printed, the last one printing "Verification: OK". (Without `--dev`: no `--config` means the default too.)
    @Test func bannerCommandsRunAsPrinted() async throws {
        try await withTemporaryDirectory("banner") { directory in
            let state = directory + "/state"
            #expect(!FileManager.default.fileExists(atPath: state))
            try await withDaemon(developmentArguments(stateDirectory: state, dev: false), logDirectory: directory) {
                _,
                banner in
                #expect(banner.tryCommands.count >= 3, "no Try-it block in the banner")
                #expect(banner.tsaURL.hasPrefix("http://127.0.0.1:"))
                var last: ToolResult?
                for command in banner.tryCommands {
                    let result = try await Tool.shell(command, directory: directory)
                    #expect(result.succeeded, "a banner command failed as printed:\n\(result)")
                    last = result
                }
                let verification = try #require(last)
                #expect(verification.output.contains("Verification: OK"), "\(verification)")
            }
        }
    }

    @Test func developmentPKIFilesAndModes() async throws {
        try await withDevelopmentDaemon("dev-pki") { state, daemon, _ in
            for file in Self.certificateFiles + ["index.txt"] {
                #expect(FileManager.default.fileExists(atPath: "\(state)/pki/\(file)"), "missing pki/\(file)")
            }
            #expect(try permissions(state + "/keys") == 0o700, "keys/ must be 0700")
            for file in Self.keyFiles {
                #expect(try permissions("\(state)/keys/\(file)") == 0o600, "keys/\(file) must be 0600")
            }
            #expect(daemon.stderr.contains("created the development PKI"), "\(daemon.stderr)")

            // OpenSSL's view of the PKI: the TSU chains to the root and is fit for time-stamping (critical EKU
            // id-kp-timeStamping alone, RFC 3161 §2.3); ee-revoked is revoked in the index.
            let pki = state + "/pki"
            let chain = try await Tool.openssl([
                "verify", "-CAfile", pki + "/root-ca.pem", "-untrusted", pki + "/issuing-ca.pem", "-purpose",
                "timestampsign",
                pki + "/tsa.pem",
            ])
            #expect(chain.succeeded && chain.output.contains("tsa.pem: OK"), "\(chain)")
            let eku = try checked(
                try await Tool.openssl(["x509", "-in", pki + "/tsa.pem", "-noout", "-ext", "extendedKeyUsage"])
            ).output
            #expect(eku.contains("Extended Key Usage: critical"), "\(eku)")
            #expect(eku.split(separator: "\n").last?.trimmingCharacters(in: .whitespaces) == "Time Stamping", "\(eku)")
            // index.txt (OpenSSL `ca` format): exactly one revoked entry, and it is ee-revoked.pem's serial.
            let revoked = readText(pki + "/index.txt").split(separator: "\n").filter { $0.hasPrefix("R\t") }
            let revokedSerial = try checked(
                try await Tool.openssl(["x509", "-in", pki + "/ee-revoked.pem", "-noout", "-serial"])
            ).output.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "serial=", with: "")
            #expect(revoked.count == 1, "index.txt revoked entries: \(revoked)")
            #expect(revoked.first?.split(separator: "\t").contains { $0 == revokedSerial } == true, "\(revoked)")
            for file in Self.keyFiles {
                let key = try await Tool.openssl(["pkey", "-in", "\(state)/keys/\(file)", "-noout"])
                #expect(key.succeeded, "keys/\(file) does not read as a private key:\n\(key)")
            }
        }
    }

    @Test func restartReusesThePKI() async throws {
        try await withTemporaryDirectory("dev-restart") { directory in
            let state = directory + "/state"
            let arguments = developmentArguments(stateDirectory: state)
            let before = try await withDaemon(arguments, logDirectory: directory) { _, _ in
                (
                    try readFile(state + "/pki/tsa.pem"), try readFile(state + "/keys/tsa.key"),
                    try readFile(state + "/pki/root-ca.pem")
                )
            }
            try await withDaemon(arguments, logDirectory: directory) { daemon, banner in
                #expect(try readFile(state + "/pki/tsa.pem") == before.0, "tsa.pem changed on restart")
                #expect(try readFile(state + "/keys/tsa.key") == before.1, "tsa.key changed on restart")
                #expect(try readFile(state + "/pki/root-ca.pem") == before.2, "root-ca.pem changed on restart")
                #expect(daemon.stderr.contains("reusing the development PKI"), "\(daemon.stderr)")
                // And the reused PKI signs: a token verifies against the unchanged root.
                let document = directory + "/document.txt"
                try writeFile(document, text: "restart \(UUID())\n")
                try await Requests.openssl(data: document, out: directory + "/q.tsq")
                _ = try await TSAClient.post(file: directory + "/q.tsq", to: banner, responsePath: directory + "/r.tsr")
                let verify = try await OpenSSLTS.verify(
                    response: directory + "/r.tsr",
                    data: document,
                    caFile: state + "/pki/root-ca.pem",
                    untrusted: state + "/pki/issuing-ca.pem"
                )
                #expect(verify.succeeded && verify.output.contains("Verification: OK"), "\(verify)")
            }
        }
    }

    /// The default's token: policy 1.3.6.1.4.1.32473.1.1, accuracy 500 ms, the TSA name, no ordering.
    @Test func tokenCarriesTheDevelopmentDefaults() async throws {
        try await withDevelopmentDaemon("dev-token") { state, _, banner in
            let response = try await TSAClient.post(try Requests.make(), to: banner)
            let token = try #require(response.token)
            #expect(token.tstInfo.policy.description == DaemonConfiguration.developmentPolicy)
            #expect(token.tstInfo.accuracy == Accuracy(millis: 500))
            #expect(token.tstInfo.tsa != nil)
            #expect(token.tstInfo.ordering == false)
            let tokenPath = state + "/t.der"
            try writeFile(tokenPath, try #require(response.tokenDER))
            let text = try checked(try await Tool.openssl(["ts", "-reply", "-token_in", "-in", tokenPath, "-text"]))
                .output
            #expect(text.contains("Policy OID: \(DaemonConfiguration.developmentPolicy)"), "\(text)")
            #expect(text.contains("Accuracy: unspecified seconds, 0x01F4 millis, unspecified micros"), "\(text)")
            #expect(text.contains("TSA: DirName:"), "\(text)")
            #expect(text.contains("Ordering: no"), "\(text)")
        }
    }
}
