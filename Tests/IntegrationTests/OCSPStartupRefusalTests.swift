import Foundation
import Testing

/// A delegated responder certificate that may not sign for its CA (RFC 6960 §4.2.2.2): the daemon refuses to start
/// and says why.
enum RefusedOCSPResponder: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case withoutOCSPSigning = "without id-kp-OCSPSigning"
    case withoutNoCheck = "without id-pkix-ocsp-nocheck"
    case fromAnotherCA = "issued by another CA with the same name"

    var testDescription: String { self.rawValue }

    func certificate(_ pki: OCSPPKI) -> String {
        switch self {
        case .withoutOCSPSigning: pki.responderWithoutOCSPSigning
        case .withoutNoCheck: pki.responderWithoutNoCheck
        case .fromAnotherCA: pki.responderFromImpostor
        }
    }

    /// Words stderr must contain (case-insensitive) to name the problem.
    var expectedWords: [String] {
        switch self {
        case .withoutOCSPSigning: ["OCSPSigning"]
        case .withoutNoCheck: ["nocheck"]
        case .fromAnotherCA: ["not issued", "OCSP Test CA A"]
        }
    }
}

@Suite("OCSP start-up refusals")
struct OCSPStartupRefusalTests {
    @Test(arguments: RefusedOCSPResponder.allCases)
    func refusesTheDelegatedResponder(_ variant: RefusedOCSPResponder) async throws {
        let pki = try await OCSPFixtures.shared.pki()
        try await Self.expectOpenSSLSees(variant, pki: pki)
        try await withTemporaryDirectory("ocsp-refuse") { directory in
            let state = directory + "/state"
            let configuration = try await OCSPDaemonConfiguration(
                stateDirectory: state,
                issuers: [
                    .delegated(pki.a, responder: variant.certificate(pki), key: pki.responder.key, index: pki.a.index)
                ])
            let stderr = try await StartupRefusalTests.expectRefusal(
                try configuration.write(), logDirectory: directory)
            for word in variant.expectedWords {
                #expect(stderr.lowercased().contains(word.lowercased()), "stderr does not say \"\(word)\":\n\(stderr)")
            }
            #expect(stderr.contains(pki.a.certificate), "stderr does not name the issuer being started:\n\(stderr)")
        }
    }

    /// OpenSSL confirms the flaw each certificate is about, and that the rest of its profile is right.
    static func expectOpenSSLSees(_ variant: RefusedOCSPResponder, pki: OCSPPKI) async throws {
        let certificate = variant.certificate(pki)
        let text = try checked(try await Tool.openssl(["x509", "-in", certificate, "-noout", "-text"])).output
        let chains = try await Tool.openssl(["verify", "-CAfile", pki.a.certificate, certificate])
        switch variant {
        case .withoutOCSPSigning:
            #expect(!text.contains("OCSP Signing") && text.contains("OCSP No Check"), "\(text)")
            #expect(chains.succeeded, "\(chains)")
        case .withoutNoCheck:
            #expect(text.contains("OCSP Signing") && !text.contains("OCSP No Check"), "\(text)")
            #expect(chains.succeeded, "\(chains)")
        case .fromAnotherCA:
            #expect(text.contains("OCSP Signing") && text.contains("OCSP No Check"), "\(text)")
            #expect(!chains.succeeded, "the impostor's certificate chains to A:\n\(chains)")
            let issuer = try checked(try await Tool.openssl(["x509", "-in", certificate, "-noout", "-issuer"])).output
            let subject = try checked(try await Tool.openssl(["x509", "-in", pki.a.certificate, "-noout", "-subject"]))
                .output
            #expect(
                issuer.replacingOccurrences(of: "issuer=", with: "")
                    == subject.replacingOccurrences(of: "subject=", with: ""), "\(issuer) vs \(subject)")
        }
    }
}
