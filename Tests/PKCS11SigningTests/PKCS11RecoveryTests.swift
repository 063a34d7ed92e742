import Foundation
import PKCS11Signing
import ServiceLifecycle
import Signing
import Testing
import X509

// What SoftHSM2 2.6.1 (Debian 12) does when a token's folder disappears under a running process,
// found with these tests and a C probe:
// - C_SignInit with a key handle of that token answers CKR_OBJECT_HANDLE_INVALID (not
//   CKR_DEVICE_REMOVED or CKR_TOKEN_NOT_PRESENT): the file-backed object notices its file is gone;
// - C_GetTokenInfo on its slot answers CKR_GENERAL_ERROR; C_GetSlotList still lists the slot;
//   C_GetSessionInfo on the old sessions still answers CKR_OK, but in state CKS_RO_PUBLIC_SESSION
//   (the login is gone); C_FindObjects finds nothing;
// - when the folder comes back, nothing changes until C_Finalize + C_Initialize: SoftHSM2 reads its
//   token directory only at C_Initialize. After that the token is in a slot again (SoftHSM2 derives
//   the slot id from the token, so here it is the same id), old session handles answer
//   CKR_SESSION_HANDLE_INVALID, and new sessions and objects get handle numbers that old ones had
//   (so a signer must never close a session handle from before the re-initialisation);
// - C_Login when the token is already logged in answers CKR_USER_ALREADY_LOGGED_IN, whatever the PIN;
//   a wrong PIN answers CKR_PIN_INCORRECT and sets CKF_USER_PIN_COUNT_LOW.
// The signer therefore treats CKR_OBJECT_HANDLE_INVALID, CKR_KEY_HANDLE_INVALID, CKR_GENERAL_ERROR and
// CKR_CRYPTOKI_NOT_INITIALIZED as token loss too, and re-initialises the module when it cannot find
// the token (PKCS11SignerConfiguration.reinitializeModuleToRescan).

extension PKCS11TokenTests {
    @Suite("PKCS11 recovery when the token goes away")
    struct Recovery {
        @Test("token taken away mid-run: the signature fails typed, health unavailable, recovery without a restart")
        func tokenRemovedAndRestored() async throws {
            try await SoftHSM.with { hsm in
                let folder = try hsm.initializeToken(label: "TSA")
                let module = try loadInterposedModule()
                defer { module.finalize() }
                let (_, certificate) = try provisionKey(
                    hsm,
                    module: module,
                    token: "TSA",
                    label: "tsa-key",
                    type: .ecP256,
                    ca: try TestCA()
                )
                var configuration = hsm.configuration(token: "TSA", key: .label("tsa-key"))
                // The signature, not the idle health check, is to notice here.
                configuration.healthCheckInterval = .seconds(60)
                Interposed.resetLogins()
                let signer = try await PKCS11Signer(configuration: configuration, module: module, logger: quietLogger)
                #expect(Interposed.loginCount == 1)
                let message = Array("stamp me".utf8)
                try await withRunningSigner(signer) {
                    let first = try await signer.sign(message)
                    #expect(signer.scheme.isValidSignature(first, for: message, publicKey: certificate.publicKey))

                    let away = "\(hsm.directory)/away"
                    try FileManager.default.moveItem(atPath: folder, toPath: away)
                    let lost = try await #require(throws: PKCS11Error.self) {
                        _ = try await signer.sign(message)
                    }
                    #expect(lost.code == .tokenUnavailable)
                    #expect(lost.function == "C_SignInit")
                    #expect(lost.returnValueName == "CKR_OBJECT_HANDLE_INVALID")
                    guard case .unavailable(let reason) = signer.health else {
                        Issue.record("health is \(signer.health) after the token went away")
                        return
                    }
                    #expect(reason.contains("\"TSA\""))
                    #expect(reason.contains("CKR_OBJECT_HANDLE_INVALID"))

                    // While the token is away, signatures fail without waiting for a session, and reconnecting
                    // keeps failing with a reason that says what it found.
                    let start = ContinuousClock.now
                    let meanwhile = try await #require(throws: PKCS11Error.self) {
                        _ = try await signer.sign(message)
                    }
                    #expect(meanwhile.code == .tokenUnavailable)
                    #expect(ContinuousClock.now - start < configuration.sessionWaitTimeout)
                    let attempted = await eventually(timeout: .seconds(30)) {
                        if case .unavailable(let reason) = signer.health { return reason.contains("last attempt") }
                        return false
                    }
                    #expect(attempted, "the reason tells what the reconnection found: \(signer.health)")
                    #expect(signer.health != .available, "the signer recovered without its token")

                    try FileManager.default.moveItem(atPath: away, toPath: folder)
                    let back = ContinuousClock.now
                    let recovered = await eventually(timeout: .seconds(60)) { signer.health == .available }
                    try #require(recovered, "still \(signer.health)")
                    print("PKCS11 timing: recovered \(ContinuousClock.now - back) after the token came back")
                    let after = try await signer.sign(message)
                    #expect(signer.scheme.isValidSignature(after, for: message, publicKey: certificate.publicKey))
                    #expect(Interposed.loginCount == 2, "one login at start, one after recovery")
                }
            }
        }

        @Test("an idle signer notices a vanished token through its health check and recovers")
        func idleTokenRemoved() async throws {
            try await SoftHSM.with { hsm in
                let folder = try hsm.initializeToken(label: "OCSP")
                let module = try loadInterposedModule()
                defer { module.finalize() }
                let (_, certificate) = try provisionKey(
                    hsm,
                    module: module,
                    token: "OCSP",
                    label: "ocsp-key",
                    type: .rsa2048,
                    ca: try TestCA()
                )
                let signer = try await PKCS11Signer(
                    configuration: hsm.configuration(token: "OCSP", key: .label("ocsp-key")),
                    module: module,
                    logger: quietLogger
                )
                try await withRunningSigner(signer) {
                    let away = "\(hsm.directory)/away"
                    try FileManager.default.moveItem(atPath: folder, toPath: away)
                    let noticed = await eventually(timeout: .seconds(30)) { signer.health != .available }
                    try #require(noticed, "the health check did not notice")
                    try FileManager.default.moveItem(atPath: away, toPath: folder)
                    let recovered = await eventually(timeout: .seconds(60)) { signer.health == .available }
                    try #require(recovered, "still \(signer.health)")
                    let message = Array("OCSP after recovery".utf8)
                    let signature = try await signer.sign(message)
                    #expect(signer.scheme.isValidSignature(signature, for: message, publicKey: certificate.publicKey))
                }
            }
        }

        @Test("a token that comes back with another PIN: one re-login, rejected, no more attempts")
        func reloginRejected() async throws {
            try await SoftHSM.with { hsm in
                let folder = try hsm.initializeToken(label: "TSA")
                let module = try loadInterposedModule()
                defer { module.finalize() }
                try provisionKey(hsm, module: module, token: "TSA", label: "tsa-key", type: .ecP256, ca: try TestCA())
                var configuration = hsm.configuration(token: "TSA", key: .label("tsa-key"))
                configuration.healthCheckInterval = .seconds(60)
                Interposed.resetLogins()
                let signer = try await PKCS11Signer(configuration: configuration, module: module, logger: quietLogger)
                try await withRunningSigner(signer) {
                    _ = try await signer.sign([1])
                    // The token is deleted and a new one with the same label but another PIN takes its place.
                    try FileManager.default.removeItem(atPath: folder)
                    try hsm.initializeToken(label: "TSA", pin: "987654")
                    let lost = try await #require(throws: PKCS11Error.self) {
                        _ = try await signer.sign([2])
                    }
                    #expect(lost.code == .tokenUnavailable)
                    let rejected = await eventually(timeout: .seconds(60)) {
                        if case .unavailable(let reason) = signer.health { return reason.contains("rejected the PIN") }
                        return false
                    }
                    try #require(rejected, "health is \(signer.health)")
                    guard case .unavailable(let reason) = signer.health else { return }
                    #expect(reason.contains("CKR_PIN_INCORRECT"))
                    #expect(Interposed.loginCount == 2, "one login at start, one rejected re-login")
                    try await Task.sleep(for: .seconds(2))
                    #expect(Interposed.loginCount == 2, "a rejected PIN is never tried again")
                    #expect(signer.health != .available)
                    let refused = try await #require(throws: PKCS11Error.self) {
                        _ = try await signer.sign([3])
                    }
                    #expect(refused.code == .tokenUnavailable)
                }
            }
        }
    }

    @Suite("PKCS11 signer lifecycle")
    struct Lifecycle {
        @Test("run() in a ServiceGroup stops on graceful shutdown and closes the signer")
        func gracefulShutdown() async throws {
            try await SoftHSM.with { hsm in
                try hsm.initializeToken(label: "TSA")
                let module = try loadInterposedModule()
                defer { module.finalize() }
                try provisionKey(hsm, module: module, token: "TSA", label: "tsa-key", type: .ecP256, ca: try TestCA())
                let signer = try await PKCS11Signer(
                    configuration: hsm.configuration(token: "TSA", key: .label("tsa-key")),
                    module: module,
                    logger: quietLogger
                )
                let group = ServiceGroup(services: [signer], logger: quietLogger)
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    tasks.addTask { try await group.run() }
                    _ = try await signer.sign(Array("before shutdown".utf8))
                    await group.triggerGracefulShutdown()
                    try await tasks.waitForAll()
                }
                guard case .unavailable(let reason) = signer.health else {
                    Issue.record("a closed signer reports \(signer.health)")
                    return
                }
                #expect(reason.contains("closed"))
                let closed = try await #require(throws: PKCS11Error.self) {
                    _ = try await signer.sign(Array("after shutdown".utf8))
                }
                #expect(closed.code == .shutDown)
            }
        }
    }

    @Suite("PKCS11 concurrency")
    struct Concurrency {
        @Test("64 concurrent signatures on a pool of 4 sessions all verify")
        func sixtyFourOnFour() async throws {
            try await SoftHSM.with { hsm in
                try hsm.initializeToken(label: "TSA")
                let module = try loadInterposedModule()
                defer { module.finalize() }
                let ca = try TestCA()
                let (_, ecCertificate) = try provisionKey(
                    hsm,
                    module: module,
                    token: "TSA",
                    label: "tsa-ec",
                    type: .ecP256,
                    ca: ca
                )
                try provisionKey(hsm, module: module, token: "TSA", label: "tsa-rsa", type: .rsa2048, ca: ca)
                Interposed.resetLogins()
                var configuration = hsm.configuration(token: "TSA", key: .label("tsa-ec"))
                configuration.sessionPoolSize = 4
                let signer = try await PKCS11Signer(configuration: configuration, module: module, logger: quietLogger)
                // A second signer on the same token and module: the login is shared, not repeated.
                let rsaSigner = try await PKCS11Signer(
                    configuration: hsm.configuration(token: "TSA", key: .label("tsa-rsa")),
                    module: module,
                    logger: quietLogger
                )
                #expect(Interposed.loginCount == 1, "one C_Login per token")

                let start = ContinuousClock.now
                let results = try await withThrowingTaskGroup(of: ([UInt8], [UInt8]).self) { group in
                    for index in 0..<64 {
                        group.addTask {
                            let message = Array("concurrent request \(index)".utf8)
                            return (message, try await signer.sign(message))
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                let concurrent = ContinuousClock.now - start
                #expect(results.count == 64)
                for (message, signature) in results {
                    #expect(signer.scheme.isValidSignature(signature, for: message, publicKey: ecCertificate.publicKey))
                }
                for (message, signature) in results.prefix(4) {
                    #expect(
                        try opensslVerifies(
                            signature,
                            message: message,
                            publicKey: ecCertificate.publicKey,
                            digest: "sha256",
                            in: hsm.directory
                        )
                    )
                }

                // Rough timings of one signature on SoftHSM2, one at a time.
                let message = Array(repeating: UInt8(0x5A), count: 200)
                var timings: [String] = []
                for (name, current) in [("EC P-256", signer), ("RSA-2048 PKCS#1 v1.5", rsaSigner)] {
                    let count = 50
                    let begin = ContinuousClock.now
                    for _ in 0..<count {
                        _ = try await current.sign(message)
                    }
                    timings.append("\(name) \((ContinuousClock.now - begin) / count) per signature")
                }
                print(
                    "PKCS11 timing: 64 concurrent EC P-256 signatures on 4 sessions in \(concurrent); "
                        + timings.joined(separator: "; ")
                )
                await signer.close()
                await rsaSigner.close()
            }
        }
    }
}
