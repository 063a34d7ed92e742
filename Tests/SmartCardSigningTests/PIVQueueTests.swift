import Foundation
import Signing
import SmartCardSigning
import Synchronization
import Testing
import X509

extension PIVCardTests {
    @Suite("PIV card queue and pool")
    struct Queue {
        @Test("a slow card: requests beyond the wait limit or the queue length fail quickly with cardBusy")
        func boundedQueue() async throws {
            try await PCSCWorld.with { world in
                let (reader, certificate) = try await world.insertCard(.makeP256())
                defer { reader.stop() }
                var configuration = world.configuration()
                configuration.queueWaitTimeout = .milliseconds(300)
                configuration.maximumQueueLength = 1
                let signer = try await SmartCardSigner(configuration: configuration, logger: quietLogger)
                reader.card.setAuthenticateDelay(.seconds(3))
                let message = Array("slow".utf8)
                let start = ContinuousClock.now
                let outcomes = try await withThrowingTaskGroup(of: (Result<[UInt8], SmartCardError>, Duration).self) {
                    group in
                    for _ in 0..<3 {
                        group.addTask {
                            do {
                                return (.success(try await signer.sign(message)), ContinuousClock.now - start)
                            } catch let error as SmartCardError {
                                return (.failure(error), ContinuousClock.now - start)
                            }
                        }
                    }
                    var outcomes: [(Result<[UInt8], SmartCardError>, Duration)] = []
                    for try await outcome in group {
                        outcomes.append(outcome)
                    }
                    return outcomes
                }
                let signatures = outcomes.compactMap { try? $0.0.get() }
                let failures = outcomes.compactMap { outcome -> (SmartCardError, Duration)? in
                    guard case .failure(let error) = outcome.0 else { return nil }
                    return (error, outcome.1)
                }
                #expect(signatures.count == 1)
                #expect(failures.count == 2)
                for (error, elapsed) in failures {
                    #expect(error.code == .cardBusy)
                    // Well before the slow signature (3 s) ends.
                    #expect(elapsed < .milliseconds(2500), "failed after \(elapsed)")
                }
                for signature in signatures {
                    #expect(signer.scheme.isValidSignature(signature, for: message, publicKey: certificate.publicKey))
                }
                #expect(signer.health == .available)
                await signer.close()
            }
        }

        @Test("two cards with the same key make a pool: both sign, and one removed leaves the signer available")
        func pool() async throws {
            try await PCSCWorld.with { world in
                let key = EmulatedKey.makeP256()
                let (first, certificate) = try await world.insertCard(key)
                defer { first.stop() }
                let second = PIVCardEmulator(pin: testPIN)
                second.install(key, at: .digitalSignature, certificate: try certificate.derBytes)
                let secondReader = VirtualCardReader(card: second, port: pcscEnvironment.secondPort)
                defer { secondReader.stop() }
                try await waitForCard(in: secondVirtualReader, present: true)

                var configuration = world.configuration(readers: [.firstWithPIV, .firstWithPIV])
                configuration.queueWaitTimeout = .seconds(5)
                let signer = try await SmartCardSigner(configuration: configuration, logger: quietLogger)
                #expect(Set(signer.connectedReaders) == [firstVirtualReader, secondVirtualReader])
                first.card.setAuthenticateDelay(.milliseconds(300))
                second.setAuthenticateDelay(.milliseconds(300))
                let message = Array("pooled".utf8)
                try await withRunningSigner(signer) {
                    try await withThrowingTaskGroup(of: [UInt8].self) { group in
                        for _ in 0..<6 {
                            group.addTask { try await signer.sign(message) }
                        }
                        for try await signature in group {
                            #expect(
                                signer.scheme.isValidSignature(
                                    signature, for: message, publicKey: certificate.publicKey))
                        }
                    }
                    #expect(first.card.authentications >= 2)
                    #expect(second.authentications >= 2)

                    first.remove()
                    let noticed = await eventually(timeout: .seconds(10)) {
                        signer.connectedReaders == [secondVirtualReader]
                    }
                    #expect(noticed, "connected: \(signer.connectedReaders)")
                    #expect(signer.health == .available)
                    let cards = signer.cards
                    #expect(cards.count == 2)
                    #expect(cards.filter { $0.unavailableReason == nil }.map(\.reader) == [secondVirtualReader])
                    #expect(cards.contains { $0.unavailableReason?.contains(firstVirtualReader) == true })
                    let signature = try await signer.sign(message)
                    #expect(signer.scheme.isValidSignature(signature, for: message, publicKey: certificate.publicKey))
                }
            }
        }
    }
}
