import Foundation
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
    }
}
