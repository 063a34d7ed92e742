import Foundation
import PKIMessages
import Testing

/// A configuration change made while the daemon was stopped.
enum OCSPConfigurationChange: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case responderIDByName = "responderID byKey → byName"
    case shorterValidity = "validitySeconds 86400 → 3600"

    var testDescription: String { self.rawValue }

    func apply(to configuration: inout OCSPDaemonConfiguration) {
        switch self {
        case .responderIDByName: configuration.issuers[0].responderID = "byName"
        case .shorterValidity: configuration.validitySeconds = 3600
        }
    }

    /// Whether `response` was signed under the changed configuration; a description of what it shows otherwise.
    func check(_ response: ReceivedOCSPResponse) -> String? {
        switch self {
        case .responderIDByName:
            switch response.basic?.tbsResponseData.responderID {
            case .byName?: return nil
            case .byKey(let hash)?: return "ResponderID is byKey \(hex(hash)), not byName"
            case nil: return "no BasicOCSPResponse"
            }
        case .shorterValidity:
            guard let single = response.singles.first, let next = single.nextUpdate else { return "no nextUpdate" }
            let validity = next.wholeSecondsSince1970 - single.thisUpdate.wholeSecondsSince1970
            return validity <= 3600 ? nil : "nextUpdate − thisUpdate is \(validity) s, configured 3600 s"
        }
    }
}

/// Pre-signed answers are kept in the ledger and reused after a restart "when their status still holds" (issue 4,
/// "Pre-signing and caching"): the reuse must never outlive the status, nor the configuration they were signed under.
@Suite("OCSP pre-signed answers across restarts")
struct OCSPRestartTests {
    /// `openssl ocsp -no_nonce` (the pre-signed answer) for one certificate; the query and the answer's bytes.
    static func ask(
        _ endpoint: OCSPEndpoint,
        ca: OCSPTestCA,
        _ certificate: String,
        nonce: Bool = false,
        path: String
    ) async throws -> (query: OCSPQuery, answer: [UInt8]) {
        let query = try await OpenSSLOCSP.query(
            url: endpoint.url, issuer: ca.certificate, certificates: [certificate], caFile: ca.certificate,
            nonce: nonce, responseOut: path)
        #expect(query.succeeded && query.verified, "\(query)")
        return (query, try readFile(path))
    }

    /// Same state folder, two runs. An answer whose status still holds is reused byte for byte; a certificate
    /// revoked while the daemon was stopped is answered revoked by the first request after the restart.
    @Test func storedAnswersAreReusedOnlyWhileTheirStatusHolds() async throws {
        let pki = try await OCSPFixtures.shared.pki()
        try await withTemporaryDirectory("ocsp-restart") { directory in
            let ca = try pki.a.copy(to: directory + "/ca")
            let configuration = try await OCSPDaemonConfiguration(
                stateDirectory: directory + "/state",
                issuers: [.delegated(ca, responder: pki.responder.certificate, key: pki.responder.key, index: ca.index)]
            )
            let before = try await withOCSPDaemon(configuration) { _, endpoint in
                let good = try await Self.ask(endpoint, ca: ca, ca.good.certificate, path: directory + "/good-1.der")
                #expect(good.query.status(ca.good.certificate) == "good", "\(good.query)")
                let revoked = try await Self.ask(
                    endpoint, ca: ca, ca.revoked.certificate, path: directory + "/revoked-1.der")
                #expect(revoked.query.reason(ca.revoked.certificate) == "keyCompromise", "\(revoked.query)")
                return revoked.answer
            }

            try await ca.revoke(ca.good.certificate, reason: "affiliationChanged")

            try await withOCSPDaemon(configuration) { daemon, endpoint in
                let good = try await Self.ask(endpoint, ca: ca, ca.good.certificate, path: directory + "/good-2.der")
                #expect(
                    good.query.status(ca.good.certificate) == "revoked",
                    "a stored answer outlived the revocation made while the daemon was stopped:\n\(good.query)")
                #expect(good.query.reason(ca.good.certificate) == "affiliationChanged", "\(good.query)")
                let revoked = try await Self.ask(
                    endpoint, ca: ca, ca.revoked.certificate, path: directory + "/revoked-2.der")
                let isReused = revoked.answer == before
                #expect(
                    isReused, "the unchanged answer was signed anew instead of reused:\n\(daemon.stderr.suffix(2000))")
            }
        }
    }

    /// The configuration changes between two runs on the same state folder: every answer after the restart must
    /// follow the new configuration. Answers signed live (with a nonce) do; stored pre-signed answers are reused as
    /// they were (defect reported: the store key and the reuse check ignore the responderID form and the validity).
    @Test(arguments: OCSPConfigurationChange.allCases)
    func configurationChangedWhileStoppedIsHonoured(_ change: OCSPConfigurationChange) async throws {
        let pki = try await OCSPFixtures.shared.pki()
        try await withTemporaryDirectory("ocsp-restart-config") { directory in
            let state = directory + "/state"
            try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
            let index = state + "/index.txt"
            try writeFile(index, text: readText(pki.a.index))
            var configuration = try await OCSPDaemonConfiguration(
                stateDirectory: state,
                issuers: [.delegated(pki.a, responder: pki.responder.certificate, key: pki.responder.key, index: index)]
            )
            try await withOCSPDaemon(configuration) { _, endpoint in
                let first = try await Self.ask(endpoint, ca: pki.a, pki.a.good.certificate, path: directory + "/1.der")
                #expect(first.query.status(pki.a.good.certificate) == "good", "\(first.query)")
                #expect(change.check(try ReceivedOCSPResponse(first.answer)) != nil, "the first run already has it")
            }

            change.apply(to: &configuration)
            try await withOCSPDaemon(configuration) { daemon, endpoint in
                let live = try await Self.ask(
                    endpoint, ca: pki.a, pki.a.good.certificate, nonce: true, path: directory + "/live.der")
                let liveProblem = change.check(try ReceivedOCSPResponse(live.answer))
                #expect(liveProblem == nil, "a live-signed answer ignores the new configuration: \(liveProblem ?? "")")

                let cached = try await Self.ask(endpoint, ca: pki.a, pki.a.good.certificate, path: directory + "/2.der")
                #expect(cached.query.status(pki.a.good.certificate) == "good", "\(cached.query)")
                let cachedProblem = change.check(try ReceivedOCSPResponse(cached.answer))
                do {
                    #expect(
                        cachedProblem == nil,
                        "the pre-signed answer after the restart: \(cachedProblem ?? "")\n\(daemon.stderr.suffix(1500))"
                    )
                }
            }
        }
    }
}
