import Foundation
import Testing

/// The ledger as status source: `sigillum ocsp import-index|revoke|unrevoke` write STATE/ledger.sqlite while the
/// daemon runs, and the daemon answers from it.
@Suite("OCSP ledger status source")
struct OCSPLedgerSourceTests {
    /// Asks `openssl ocsp -no_nonce` (so the pre-signed answer is served) until `label` is `expected` or
    /// `deadline` passes; returns the last query.
    static func awaitStatus(
        _ expected: String,
        certificate: String,
        caFile: String,
        issuer: String,
        url: String,
        within deadline: Duration = .seconds(5)
    ) async throws -> (OCSPQuery, Duration) {
        let clock = ContinuousClock()
        let start = clock.now
        while true {
            let query = try await OpenSSLOCSP.query(
                url: url, issuer: issuer, certificates: [certificate], caFile: caFile, nonce: false)
            if query.status(certificate) == expected || clock.now - start > deadline {
                return (query, clock.now - start)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    @Test("import-index, revoke and unrevoke show up in cached answers within 5 s")
    func revokeAndUnrevokeWhileRunning() async throws {
        let pki = try await OCSPFixtures.shared.pki()
        try await withTemporaryDirectory("ocsp-ledger") { directory in
            let state = directory + "/state"
            try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
            // The test support writes index/crl sources; a placeholder index is swapped for the ledger.
            let marker = "LEDGER-SOURCE-MARKER"
            let configuration = try await OCSPDaemonConfiguration(
                stateDirectory: state,
                issuers: [
                    .delegated(pki.a, responder: pki.responder.certificate, key: pki.responder.key, index: marker)
                ]
            )
            let yaml = configuration.yaml.replacingOccurrences(
                of: "status: { index: \(marker) }", with: "status: { ledger: true }")
            #expect(yaml.contains("status: { ledger: true }"))
            let configPath = state + "/sigillumd.yaml"
            try writeFile(configPath, text: yaml)

            try await withDaemon(["--config", configPath], logDirectory: state) { daemon, banner in
                guard let endpoint = OCSPEndpoint.parse(daemon.stdout, banner: banner) else {
                    throw IntegrationError("the banner announces no OCSP URLs")
                }
                let ca = pki.a.certificate
                let good = pki.a.good.certificate
                func ask(_ certificate: String, _ expected: String) async throws -> OCSPQuery {
                    let (query, elapsed) = try await Self.awaitStatus(
                        expected, certificate: certificate, caFile: ca, issuer: ca, url: endpoint.url)
                    #expect(query.status(certificate) == expected, "after \(elapsed):\n\(query)")
                    #expect(query.verified, "\(query)")
                    return query
                }

                // Empty ledger: nothing is known to be issued.
                let before = try await OpenSSLOCSP.query(
                    url: endpoint.url, issuer: ca, certificates: [good], caFile: ca, nonce: false)
                #expect(before.status(good) == "unknown", "\(before)")

                let imported = try await Tool.sigillum([
                    "ocsp", "import-index", pki.a.index, "--issuer", ca, "--state-dir", state,
                ])
                #expect(imported.succeeded, "\(imported)")
                _ = try await ask(good, "good")
                let revokedByIndex = try await ask(pki.a.revoked.certificate, "revoked")
                #expect(revokedByIndex.reason(pki.a.revoked.certificate) == "keyCompromise")

                let revoke = try await Tool.sigillum([
                    "ocsp", "revoke", good, "--issuer", ca, "--reason", "superseded", "--state-dir", state,
                ])
                #expect(revoke.succeeded, "\(revoke)")
                let revoked = try await ask(good, "revoked")
                #expect(revoked.reason(good) == "superseded", "\(revoked)")

                let unrevoke = try await Tool.sigillum(["ocsp", "unrevoke", good, "--issuer", ca, "--state-dir", state])
                #expect(unrevoke.succeeded, "\(unrevoke)")
                _ = try await ask(good, "good")

                // The query subcommand is still the default.
                let client = try await Tool.sigillum([
                    "ocsp", good, "--issuer", ca, "--url", endpoint.url, "--no-nonce",
                ])
                #expect(client.succeeded, "exit 0 is good:\n\(client)")
            }
        }
    }
}
