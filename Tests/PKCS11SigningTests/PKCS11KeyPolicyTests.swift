import CPKCS11
import Crypto
import Foundation
import Signing
import SwiftASN1
import Testing
import X509

@testable import PKCS11Signing

extension PKCS11TokenTests {
    @Suite("PKCS11 key generation, listing and start-up errors")
    struct KeyPolicy {
        @Test("a generated key is sensitive, never extractable, signs only; CKA_VALUE is CKR_ATTRIBUTE_SENSITIVE")
        func generatedKeyPolicy() async throws {
            try await SoftHSM.with { hsm in
                try hsm.initializeToken(label: "TSA")
                let module = try loadInterposedModule()
                defer { module.finalize() }
                let (key, certificate) = try provisionKey(
                    hsm,
                    module: module,
                    token: "TSA",
                    label: "tsa-key",
                    type: .ecP256,
                    ca: try TestCA()
                )
                let pem = try key.publicKeyPEM
                #expect(pem.hasPrefix("-----BEGIN PUBLIC KEY-----"))
                #expect(try Certificate.PublicKey(pemEncoded: pem) == certificate.publicKey)

                let slots = try PKCS11TokenAdministration.inventory(module: module, token: .label("TSA"), pin: hsm.pin)
                let slot = try #require(slots.first)
                #expect(slots.count == 1)
                #expect(slot.loggedIn)
                let token = try #require(slot.token)
                #expect(token.label == "TSA")
                #expect(token.flags.contains(.loginRequired))
                #expect(token.flags.contains(.tokenInitialized))
                let privateKey = try #require(slot.objects.first { $0.objectClass == "private key" })
                #expect(privateKey.label == "tsa-key")
                #expect(privateKey.id == key.id)
                #expect(privateKey.keyAlgorithm == "EC P-256")
                #expect(privateKey.sensitive == true)
                #expect(privateKey.extractable == false)
                #expect(privateKey.neverExtractable == true)
                #expect(privateKey.alwaysSensitive == true)
                #expect(privateKey.canSign == true)
                let publicKey = try #require(slot.objects.first { $0.objectClass == "public key" })
                #expect(publicKey.id == key.id)
                let stored = try #require(slot.objects.first { $0.objectClass == "certificate" })
                #expect(stored.id == key.id)
                #expect(stored.subject?.contains("CN=Sigillum tsa-key") == true)

                // Without a PIN only the public objects show.
                let publicOnly = try PKCS11TokenAdministration.inventory(module: module, token: .label("TSA"))
                #expect(publicOnly.first?.loggedIn == false)
                #expect(publicOnly.first?.objects.contains { $0.objectClass == "private key" } == false)

                // Reading the private value must fail with CKR_ATTRIBUTE_SENSITIVE.
                try PKCS11TokenAdministration.withLoggedInSession(module: module, token: .label("TSA"), pin: hsm.pin) {
                    session,
                    _ in
                    let handle = try #require(
                        try module.findObjects(
                            session,
                            matching: [.ulong(CKA_CLASS, CKO_PRIVATE_KEY), .bytes(CKA_ID, key.id)]
                        ).first
                    )
                    #expect(try module.attributes(session, of: handle, [CKA_VALUE])[CKA_VALUE] == nil)
                    let error = try #require(throws: PKCS11Error.self) {
                        try module.attributeValue(session, of: handle, CKA_VALUE)
                    }
                    #expect(error.returnValue == CKR_ATTRIBUTE_SENSITIVE)
                    #expect(error.returnValueName == "CKR_ATTRIBUTE_SENSITIVE")
                    let flags = try module.attributes(
                        session,
                        of: handle,
                        [CKA_TOKEN, CKA_PRIVATE, CKA_DECRYPT, CKA_UNWRAP, CKA_DERIVE, CKA_LOCAL]
                    )
                    #expect(flags[CKA_TOKEN]?.ckBool == true)
                    #expect(flags[CKA_PRIVATE]?.ckBool == true)
                    #expect(flags[CKA_DECRYPT]?.ckBool == false)
                    #expect(flags[CKA_UNWRAP]?.ckBool == false)
                    #expect(flags[CKA_DERIVE]?.ckBool == false)
                    #expect(flags[CKA_LOCAL]?.ckBool == true)
                }

                // A second key with the same label would make the selection ambiguous: refused.
                #expect(throws: PKCS11Error(code: .invalidConfiguration, reason: "")) {
                    try PKCS11TokenAdministration.generateKeyPair(
                        module: module,
                        token: .label("TSA"),
                        pin: hsm.pin,
                        label: "tsa-key",
                        type: .ecP256
                    )
                }
            }
        }

        /// A token "TSA" holding the EC P-256 key "qualified" with `CKA_ALWAYS_AUTHENTICATE`, and a signer for it
        /// (closed by `body`).
        func withAlwaysAuthenticateSigner(
            _ body: (SoftHSM, PKCS11Module, PKCS11Signer, Certificate) async throws -> Void
        ) async throws {
            try await SoftHSM.with { hsm in
                try hsm.initializeToken(label: "TSA")
                let module = try loadInterposedModule()
                defer { module.finalize() }
                let (_, certificate) = try provisionKey(
                    hsm, module: module, token: "TSA", label: "qualified", type: .ecP256, ca: try TestCA(),
                    alwaysAuthenticate: true)
                let signer = try await PKCS11Signer(
                    configuration: hsm.configuration(token: "TSA", key: .label("qualified")), module: module,
                    logger: quietLogger)
                try await body(hsm, module, signer, certificate)
            }
        }

        @Test("a key with CKA_ALWAYS_AUTHENTICATE signs with one context-specific C_Login per signature")
        func alwaysAuthenticate() async throws {
            try await self.withAlwaysAuthenticateSigner { hsm, module, signer, certificate in
                try provisionKey(hsm, module: module, token: "TSA", label: "plain", type: .ecP256, ca: try TestCA())
                let before = Interposed.loginCount
                for index in 0..<3 {
                    let message = Array("stamp \(index)".utf8)
                    let signature = try await signer.sign(message)
                    #expect(signer.scheme.isValidSignature(signature, for: message, publicKey: certificate.publicKey))
                }
                #expect(Interposed.loginCount - before == 3, "one C_Login(CKU_CONTEXT_SPECIFIC) per signature")
                #expect(signer.health == .available)
                await signer.close()

                // Without the attribute the session's login carries every signature.
                let plain = try await PKCS11Signer(
                    configuration: hsm.configuration(token: "TSA", key: .label("plain")), module: module,
                    logger: quietLogger)
                let plainBefore = Interposed.loginCount
                for index in 0..<3 {
                    _ = try await plain.sign(Array("stamp \(index)".utf8))
                }
                #expect(Interposed.loginCount == plainBefore)
                await plain.close()
            }
        }

        @Test("a PIN refused for one signature stops the signer: that signature fails, no C_Login follows")
        func contextLoginRefused() async throws {
            try await self.withAlwaysAuthenticateSigner { _, _, signer, _ in
                _ = try await signer.sign(Array("accepted".utf8))
                #expect(signer.health == .available)

                Interposed.refuseContextLogins(true)
                let before = Interposed.loginCount
                let refused = await #expect(throws: PKCS11Error.self) {
                    try await signer.sign(Array("refused".utf8))
                }
                #expect(refused?.code == .pinRejected, "\(String(describing: refused))")
                #expect(refused?.returnValueName == "CKR_PIN_INCORRECT", "\(String(describing: refused))")
                #expect(Interposed.loginCount - before == 1, "the refused PIN is not retried")
                guard case .unavailable(let reason) = signer.health else {
                    Issue.record("the signer is still \(signer.health) after the token refused the PIN")
                    return
                }
                #expect(reason.contains("PIN") && reason.contains("restarts"), "\(reason)")

                // Even once the token would take the PIN again, the signer makes no further attempt (each would
                // count towards locking the token) until it is restarted.
                Interposed.refuseContextLogins(false)
                let afterRefusal = Interposed.loginCount
                await #expect(throws: PKCS11Error.self) { try await signer.sign(Array("later".utf8)) }
                #expect(Interposed.loginCount == afterRefusal)
                #expect(signer.health != .available)
                await signer.close()
            }
        }

        @Test("a wrong PIN is a clear start-up error after exactly one C_Login, never retried")
        func wrongPIN() async throws {
            try await SoftHSM.with { hsm in
                try hsm.initializeToken(label: "TSA")
                let module = try loadInterposedModule()
                defer { module.finalize() }
                try provisionKey(hsm, module: module, token: "TSA", label: "tsa-key", type: .ecP256, ca: try TestCA())
                // The administration session above logged in once and closed; the token is logged out again.
                Interposed.resetLogins()
                let wrongPIN = "\(hsm.directory)/wrong.pin"
                try writeSecretFile(wrongPIN, "0000\n")
                var configuration = hsm.configuration(token: "TSA", key: .label("tsa-key"))
                configuration.pin = .file(path: wrongPIN)

                let error = try await #require(throws: PKCS11Error.self) {
                    _ = try await PKCS11Signer(configuration: configuration, module: module, logger: quietLogger)
                }
                #expect(error.code == .pinRejected)
                #expect(error.returnValueName == "CKR_PIN_INCORRECT")
                #expect(error.function == "C_Login")
                #expect(error.reason.contains("rejected the PIN"))
                #expect(error.reason.contains("\"TSA\""))
                #expect(Interposed.loginCount == 1)
                try await Task.sleep(for: .milliseconds(500))
                #expect(Interposed.loginCount == 1, "nothing retries the PIN behind our back")
                let token = try module.tokenInformation(try module.findToken(.label("TSA")).slot)
                #expect(token.flags.contains(.userPINCountLow), "the token counted one failed attempt")
            }
        }

        @Test("start-up errors name what to fix: token, key, certificate, PIN source, key-certificate mismatch")
        func startupErrors() async throws {
            try await SoftHSM.with { hsm in
                try hsm.initializeToken(label: "TSA")
                let module = try loadInterposedModule()
                defer { module.finalize() }
                let ca = try TestCA()
                let (key, _) = try provisionKey(
                    hsm,
                    module: module,
                    token: "TSA",
                    label: "tsa-key",
                    type: .ecP256,
                    ca: ca,
                    storeCertificate: false
                )

                let noToken = try await #require(throws: PKCS11Error.self) {
                    _ = try await PKCS11Signer(
                        configuration: hsm.configuration(token: "OCSP", key: .label("tsa-key")),
                        module: module,
                        logger: quietLogger
                    )
                }
                #expect(noToken.code == .tokenNotFound)
                #expect(noToken.reason.contains("\"TSA\""), "the message lists the tokens present")

                let noKey = try await #require(throws: PKCS11Error.self) {
                    _ = try await PKCS11Signer(
                        configuration: hsm.configuration(token: "TSA", key: .id(hex: "ab:cd")),
                        module: module,
                        logger: quietLogger
                    )
                }
                #expect(noKey.code == .keyNotFound)
                #expect(noKey.reason.contains("abcd"))

                let noCertificate = try await #require(throws: PKCS11Error.self) {
                    _ = try await PKCS11Signer(
                        configuration: hsm.configuration(token: "TSA", key: .label("tsa-key")),
                        module: module,
                        logger: quietLogger
                    )
                }
                #expect(noCertificate.code == .certificateNotFound)
                #expect(noCertificate.reason.contains(key.id.map { String(format: "%02x", $0) }.joined()))

                // A certificate for another key: the start-up probe does not verify.
                let otherFile = "\(hsm.directory)/other.pem"
                let other = try ca.issue(for: Certificate.PublicKey(ca.key.publicKey), commonName: "not the token key")
                try Data((try other.serializeAsPEM().pemString + "\n").utf8).write(to: URL(fileURLWithPath: otherFile))
                let mismatch = try await #require(throws: SignerError.self) {
                    _ = try await PKCS11Signer(
                        configuration: hsm.configuration(
                            token: "TSA",
                            key: .label("tsa-key"),
                            certificate: .file(path: otherFile)
                        ),
                        module: module,
                        logger: quietLogger
                    )
                }
                #expect(mismatch.code == .keyCertificateMismatch)

                var missingPIN = hsm.configuration(token: "TSA", key: .label("tsa-key"))
                missingPIN.pin = .environment(name: "SIGILLUM_TEST_PIN_THAT_IS_NOT_SET")
                let pinError = try await #require(throws: SignerError.self) {
                    _ = try await PKCS11Signer(configuration: missingPIN, module: module, logger: quietLogger)
                }
                #expect(pinError.code == .secretUnavailable)
                #expect(pinError.reason.contains("SIGILLUM_TEST_PIN_THAT_IS_NOT_SET"))

                var badPool = hsm.configuration(token: "TSA", key: .label("tsa-key"))
                badPool.sessionPoolSize = 0
                await #expect(throws: PKCS11Error(code: .invalidConfiguration, reason: "")) {
                    _ = try await PKCS11Signer(configuration: badPool, module: module, logger: quietLogger)
                }
                #expect(throws: PKCS11Error(code: .invalidConfiguration, reason: "")) {
                    _ = try PKCS11KeySelector.id(hex: "abc")
                }

                // The module is initialised once per process; a second instance is refused.
                let second = try #require(throws: PKCS11Error.self) {
                    _ = try PKCS11Module(path: softHSMModulePath)
                }
                #expect(second.code == .moduleUnavailable)
                #expect(second.returnValueName == "CKR_CRYPTOKI_ALREADY_INITIALIZED")
                #expect(throws: PKCS11Error(code: .moduleUnavailable, reason: "")) {
                    _ = try PKCS11Module(path: "/nonexistent/libpkcs11.so")
                }
            }
        }
    }
}
