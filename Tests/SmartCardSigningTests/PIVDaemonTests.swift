import Foundation
import PKIMessages
import Signing
import SmartCardSigning
import SwiftASN1
import Testing
import X509

#if canImport(Glibc)
    import Glibc
#endif

extension PIVCardTests {
    /// `sigillumd` itself with `tsa.signer: { type: piv, … }` against the emulated card in vpcd: the key made for
    /// this run, its TSU certificate (from a CA the test makes) read from the card. The same checks as the PKCS#11
    /// daemon test (IntegrationTests/HSMSignerTests): stamps verified by `openssl ts -verify`, the card pulled →
    /// `systemFailure` and `/health` 503 naming the signer, the card back → 200 and stamps in the same process; then
    /// the same with pcscd stopped and started again.
    @Suite("sigillumd signing on the emulated card")
    struct Daemon {
        /// The card key of a run.
        enum KeyKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
            case p256 = "EC P-256"
            case rsa2048 = "RSA-2048"

            var testDescription: String { self.rawValue }

            func make() throws -> EmulatedKey {
                switch self {
                case .p256: .makeP256()
                case .rsa2048: try .makeRSA2048()
                }
            }

            /// The signer description `/health` shows: `piv SCHEME`.
            var schemeName: String {
                switch self {
                case .p256: "piv ecdsa"
                case .rsa2048: "piv rsa"
                }
            }
        }

        @Test(
            "stamps signed on the card verify with openssl; card pulled or pcscd stopped: systemFailure and 503; back: stamps again",
            .timeLimit(.minutes(3)),
            arguments: KeyKind.allCases
        )
        func cardPulledAndBack(_ kind: KeyKind) async throws {
            try await PCSCWorld.with { world in
                let directory = world.directory
                let key = try kind.make()
                let certificate = try world.ca.issue(
                    for: key.publicKey, commonName: "Sigillum PIV daemon TSU", timeStamping: true)
                let card = PIVCardEmulator(pin: testPIN)
                card.install(key, at: .digitalSignature, certificate: try certificate.derBytes)
                let reader = VirtualCardReader(card: card)
                defer { reader.stop() }
                try await waitForCard(in: firstVirtualReader, present: true)
                let caFile = "\(directory)/ca.pem"
                try Data((try world.ca.certificate.serializeAsPEM().pemString + "\n").utf8)
                    .write(to: URL(fileURLWithPath: caFile))

                // The certificate comes from the card (no certificateFile), the PIN from a file.
                let signer =
                    "{ type: piv, readers: [\"\(firstVirtualReader)\"], slot: 9c, pinFile: \(world.pinFile), "
                    + "queueWaitMillis: 2000 }"
                let configuration = try writeDaemonConfiguration(signer: signer, in: directory)
                try await withSigillumd(configuration: configuration, logPath: "\(directory)/sigillumd.log") {
                    daemon, endpoints in
                    #expect(daemon.log.contains("PIV smart-card signer ready"), "\(daemon.log)")

                    // Stamps signed on the card, each after its own VERIFY (slot 9C).
                    let verifiesBefore = card.pinVerifications
                    let signaturesBefore = card.authentications
                    for _ in 0..<2 {
                        let stamp = try StampExchange.make(endpoints, in: directory)
                        #expect(stamp.status == .granted, "\(stamp.response.status)")
                        let verify = try stamp.opensslVerify(caFile: caFile)
                        #expect(verify.status == 0 && verify.output.contains("Verification: OK"), "\(verify.output)")
                    }
                    #expect(card.authentications - signaturesBefore == 2)
                    #expect(card.pinVerifications - verifiesBefore == 2)
                    let healthy = try daemonHealth(endpoints, in: directory)
                    #expect(healthy.answer.status == 200, "\(healthy.answer)")
                    let signerName = (healthy.document["tsa"] as? [String: Any])?["signer"] as? String
                    #expect(signerName?.hasPrefix(kind.schemeName) == true, "\(healthy.answer)")

                    // The card pulled: the TSA refuses with systemFailure, /health is 503 naming the signer.
                    reader.remove()
                    let refused = try await poll(timeout: .seconds(30)) { () throws -> StampExchange? in
                        let stamp = try StampExchange.make(endpoints, in: directory)
                        return stamp.status == .rejection ? stamp : nil
                    }
                    let refusal = try #require(refused, "stamps still granted 30 s after the card was pulled")
                    #expect(refusal.failInfo == .systemFailure, "\(refusal.response.status)")
                    #expect(refusal.response.timeStampToken == nil)
                    let text = try refusal.opensslText()
                    #expect(text.contains("Status: Rejected."), "\(text)")
                    #expect(text.contains("the request cannot be handled due to system failure"), "\(text)")

                    let unhealthy = try await poll(timeout: .seconds(15)) {
                        () throws -> (answer: HTTPAnswer, document: [String: Any])? in
                        let health = try daemonHealth(endpoints, in: directory)
                        return health.answer.status == 503 ? health : nil
                    }
                    let down = try #require(unhealthy, "/health still 200 15 s after the card was pulled")
                    let problems = down.document["problems"] as? [String] ?? []
                    #expect(
                        problems.contains { $0.hasPrefix("signer: ") && $0.contains(firstVirtualReader) },
                        "the problem names the signer and its reader: \(down.answer)")
                    #expect((down.document["tsa"] as? [String: Any])?["serving"] as? Bool == false, "\(down.answer)")

                    // The card back: stamps again, in the same process.
                    reader.insert()
                    let granted = try await poll(timeout: .seconds(60), interval: .milliseconds(500)) {
                        () throws -> StampExchange? in
                        let stamp = try StampExchange.make(endpoints, in: directory)
                        return stamp.status == .granted ? stamp : nil
                    }
                    let again = try #require(granted, "no stamp granted 60 s after the card came back")
                    let verify = try again.opensslVerify(caFile: caFile)
                    #expect(verify.status == 0 && verify.output.contains("Verification: OK"), "\(verify.output)")
                    let back = try await poll(timeout: .seconds(30)) { () throws -> HTTPAnswer? in
                        let health = try daemonHealth(endpoints, in: directory)
                        return health.answer.status == 200 ? health.answer : nil
                    }
                    #expect(back != nil, "/health not 200 again 30 s after the card came back")
                    #expect(daemon.isRunning, "the daemon must recover without a restart")
                    #expect(reader.sessions >= 2, "the card reconnected to vpcd")
                    #expect(daemon.log.contains("PIV card reconnected"), "\(daemon.log)")

                    // A reload (SIGHUP): the new signer connects to the card (shared mode) while the old one still
                    // holds its connection, then the old one closes; stamps keep coming from the card.
                    kill(daemon.pid, SIGHUP)
                    let reloaded = try await poll(timeout: .seconds(60)) { () throws -> Bool? in
                        daemon.log.contains("configuration reloaded") ? true : nil
                    }
                    #expect(reloaded == true, "no reload logged: \(daemon.log)")
                    #expect(!daemon.log.contains("reload refused"), "\(daemon.log)")
                    let afterReload = try StampExchange.make(endpoints, in: directory)
                    #expect(afterReload.status == .granted, "\(afterReload.response.status)")
                    let verifyReload = try afterReload.opensslVerify(caFile: caFile)
                    #expect(verifyReload.status == 0, "\(verifyReload.output)")

                    // pcscd stopped: the same refusal; started again: the daemon makes a new PC/SC context.
                    world.daemon.stop()
                    let refusedAgain = try await poll(timeout: .seconds(30)) { () throws -> StampExchange? in
                        let stamp = try StampExchange.make(endpoints, in: directory)
                        return stamp.status == .rejection ? stamp : nil
                    }
                    #expect(refusedAgain?.failInfo == .systemFailure, "\(String(describing: refusedAgain?.response))")
                    let noService = try daemonHealth(endpoints, in: directory)
                    #expect(noService.answer.status == 503, "\(noService.answer)")
                    try world.daemon.start()
                    let grantedAgain = try await poll(timeout: .seconds(60), interval: .milliseconds(500)) {
                        () throws -> StampExchange? in
                        let stamp = try StampExchange.make(endpoints, in: directory)
                        return stamp.status == .granted ? stamp : nil
                    }
                    let afterRestart = try #require(grantedAgain, "no stamp granted 60 s after pcscd came back")
                    let verifyAfterRestart = try afterRestart.opensslVerify(caFile: caFile)
                    #expect(verifyAfterRestart.output.contains("Verification: OK"), "\(verifyAfterRestart.output)")
                    #expect(daemon.isRunning, "the daemon must recover without a restart")
                }
            }
        }
    }
}
