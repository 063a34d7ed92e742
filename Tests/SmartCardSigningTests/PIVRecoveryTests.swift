import Foundation
import ServiceLifecycleTestKit
import Signing
import SmartCardSigning
import Testing
import X509

extension PIVCardTests {
    @Suite("PIV recovery when the card or pcscd goes away")
    struct Recovery {
        @Test("card removed mid-run: typed failure, health unavailable; card back: recovers without a new signer")
        func cardRemovedAndReturned() async throws {
            try await PCSCWorld.with { world in
                let (reader, certificate) = try await world.insertCard(.makeP256())
                defer { reader.stop() }
                var configuration = world.configuration()
                // The signature, not the idle check, is to notice here.
                configuration.healthCheckInterval = .seconds(60)
                let signer = try await SmartCardSigner(configuration: configuration, logger: quietLogger)
                let message = Array("stamp me".utf8)
                try await withRunningSigner(signer) {
                    let first = try await signer.sign(message)
                    #expect(signer.scheme.isValidSignature(first, for: message, publicKey: certificate.publicKey))

                    reader.remove()
                    let lost = try await #require(throws: SmartCardError.self) {
                        _ = try await signer.sign(message)
                    }
                    #expect(lost.code == .cardUnavailable)
                    #expect(lost.function != nil)
                    guard case .unavailable(let reason) = signer.health else {
                        Issue.record("health is \(signer.health) after the card was removed")
                        return
                    }
                    #expect(reason.contains(firstVirtualReader))

                    // While the card is away, signatures fail at once, without waiting for the queue.
                    let start = ContinuousClock.now
                    let meanwhile = try await #require(throws: SmartCardError.self) {
                        _ = try await signer.sign(message)
                    }
                    #expect(meanwhile.code == .cardUnavailable)
                    #expect(ContinuousClock.now - start < configuration.queueWaitTimeout)

                    reader.insert()
                    let back = await eventually(timeout: .seconds(20)) { signer.health == .available }
                    #expect(back, "health: \(signer.health)")
                    let again = try await signer.sign(message)
                    #expect(signer.scheme.isValidSignature(again, for: message, publicKey: certificate.publicKey))
                }
            }
        }

        @Test("idle card removed: the health check notices without a signature")
        func idleRemoval() async throws {
            try await PCSCWorld.with { world in
                let (reader, _) = try await world.insertCard(.makeP256())
                defer { reader.stop() }
                let signer = try await SmartCardSigner(configuration: world.configuration(), logger: quietLogger)
                try await withRunningSigner(signer) {
                    reader.remove()
                    let noticed = await eventually(timeout: .seconds(10)) { signer.health != .available }
                    #expect(noticed)
                    reader.insert()
                    let back = await eventually(timeout: .seconds(20)) { signer.health == .available }
                    #expect(back, "health: \(signer.health)")
                    _ = try await signer.sign(Array("after".utf8))
                }
            }
        }

        @Test("pcscd restarted: the signer makes a new context and recovers by itself")
        func pcscdRestarted() async throws {
            try await PCSCWorld.with { world in
                let (reader, certificate) = try await world.insertCard(.makeP256())
                defer { reader.stop() }
                let signer = try await SmartCardSigner(configuration: world.configuration(), logger: quietLogger)
                let message = Array("through a pcscd restart".utf8)
                try await withRunningSigner(signer) {
                    _ = try await signer.sign(message)
                    world.daemon.stop()
                    let noticed = await eventually(timeout: .seconds(10)) { signer.health != .available }
                    #expect(noticed)
                    let failed = try await #require(throws: SmartCardError.self) {
                        _ = try await signer.sign(message)
                    }
                    #expect(failed.code == .cardUnavailable)
                    try world.daemon.start()
                    let back = await eventually(timeout: .seconds(30)) { signer.health == .available }
                    #expect(back, "health: \(signer.health)")
                    let signature = try await signer.sign(message)
                    #expect(signer.scheme.isValidSignature(signature, for: message, publicKey: certificate.publicKey))
                }
            }
        }

        @Test("another program resets the card: SCARD_W_RESET_CARD, then the signer reconnects and signs again")
        func cardReset() async throws {
            try await PCSCWorld.with { world in
                let (reader, certificate) = try await world.insertCard(.makeP256())
                defer { reader.stop() }
                var configuration = world.configuration()
                configuration.healthCheckInterval = .seconds(60)
                let signer = try await SmartCardSigner(configuration: configuration, logger: quietLogger)
                let message = Array("after a reset".utf8)
                try await withRunningSigner(signer) {
                    _ = try await signer.sign(message)
                    let reset = try run("/usr/bin/opensc-tool", ["--reader", "0", "--reset", "warm"])
                    #expect(reset.status == 0, "\(reset.output)")
                    let lost = try await #require(throws: SmartCardError.self) {
                        _ = try await signer.sign(message)
                    }
                    #expect(lost.code == .cardUnavailable)
                    #expect(lost.returnValueName == "SCARD_W_RESET_CARD", "\(lost)")
                    let back = await eventually(timeout: .seconds(10)) { signer.health == .available }
                    #expect(back, "health: \(signer.health)")
                    let signature = try await signer.sign(message)
                    #expect(signer.scheme.isValidSignature(signature, for: message, publicKey: certificate.publicKey))
                }
            }
        }

        @Test("the signer as a Service: a graceful shutdown ends run() and closes it")
        func gracefulShutdown() async throws {
            try await PCSCWorld.with { world in
                let (reader, _) = try await world.insertCard(.makeP256())
                defer { reader.stop() }
                let signer = try await SmartCardSigner(configuration: world.configuration(), logger: quietLogger)
                try await testGracefulShutdown { trigger in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask { try await signer.run() }
                        _ = try await signer.sign(Array("before".utf8))
                        trigger.triggerGracefulShutdown()
                        try await group.waitForAll()
                    }
                }
                let closed = try await #require(throws: SmartCardError.self) {
                    _ = try await signer.sign(Array("after".utf8))
                }
                #expect(closed.code == .shutDown)
                #expect(signer.health != .available)
            }
        }
    }
}
