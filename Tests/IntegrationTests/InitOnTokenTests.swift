import Foundation
import PKIMessages
import Testing

/// `sigillum init --pkcs11-module`: the development TSU and OCSP keys made on a SoftHSM2 token, their certificates
/// issued by the development CA and stored next to them; the daemon then signs on the token with the certificates
/// it reads from there.
@Suite(.enabled(if: SoftHSMToken.available, "needs SoftHSM2 (scripts/install-deps.sh test)"))
struct InitOnTokenTests {
    @Test func initPutsTheDevelopmentKeysOnATokenAndTheDaemonSignsWithThem() async throws {
        try await withTemporaryDirectory("init-token") { directory in
            let token = try await SoftHSMToken.initialize(in: directory + "/hsm", label: "init-token")
            let state = directory + "/state"
            let initialised = try await Tool.run(
                try Environment.sigillum(),
                [
                    "init", "--state-dir", state, "--pkcs11-module", SoftHSMToken.module, "--token", token.label,
                    "--pin-file", token.pinFile,
                ],
                environment: token.environment)
            #expect(initialised.succeeded, "\(initialised)")
            #expect(initialised.output.contains("sigillum-dev-tsa") && initialised.output.contains("sigillum-dev-ocsp"))
            // Both keys and both certificates are on the token; the private keys never leave it.
            let objects = try await token.userCanLogIn()
            #expect(
                objects.output.contains("sigillum-dev-tsa") && objects.output.contains("Certificate Object"),
                "\(objects)")

            let pki = state + "/pki"
            let configuration = DaemonConfiguration(
                stateDirectory: state, keyFile: "unused", certificateFile: "unused", chainFile: nil)
            let ocsp = [
                "ocsp:",
                "  issuers:",
                "    - certificateFile: \(pki)/issuing-ca.pem",
                "      signer: " + token.signerYAML(keyLabel: "sigillum-dev-ocsp"),
                "      status: { index: \(pki)/index.txt }",
            ]
            let yaml = try configuration.yaml(
                tsaSigner: token.signerYAML(keyLabel: "sigillum-dev-tsa", chainFile: pki + "/issuing-ca.pem"),
                extra: ocsp)
            try await withDaemon(
                try configuration.write(yaml: yaml), logDirectory: directory, environment: token.environment
            ) {
                _, banner in
                let document = directory + "/document.txt"
                try writeFile(document, text: "signed on a token \(UUID())\n")
                let query = directory + "/q.tsq"
                let reply = directory + "/r.tsr"
                try await Requests.openssl(data: document, out: query)
                let response = try await TSAClient.post(file: query, to: banner, responsePath: reply)
                #expect(response.status == .granted)
                let verified = try await OpenSSLTS.verify(
                    response: reply, data: document, caFile: pki + "/root-ca.pem", untrusted: pki + "/issuing-ca.pem")
                #expect(verified.succeeded && verified.output.contains("Verification: OK"), "\(verified)")

                let status = try await Tool.openssl([
                    "ocsp", "-issuer", pki + "/issuing-ca.pem", "-cert", pki + "/ee-good.pem", "-url",
                    banner.publicBase + "/ocsp", "-CAfile", pki + "/root-ca.pem", "-verify_other",
                    pki + "/issuing-ca.pem",
                ])
                let text = status.output + status.errorOutput
                #expect(text.contains("Response verify OK") && text.contains("ee-good.pem: good"), "\(status)")
            }
        }
    }
}
