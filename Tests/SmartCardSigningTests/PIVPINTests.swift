import Foundation
import Signing
import SmartCardSigning
import Testing
import X509

extension PIVCardTests {
    @Suite("PIV PIN handling")
    struct PIN {
        @Test("a wrong PIN: one VERIFY with the PIN, a typed error naming the tries left, no second try")
        func wrongPIN() async throws {
            try await PCSCWorld.with { world in
                let (reader, _) = try await world.insertCard(.makeP256())
                defer { reader.stop() }
                try world.writePIN("654321")
                let error = try await #require(throws: SmartCardError.self) {
                    _ = try await SmartCardSigner(configuration: world.configuration(), logger: quietLogger)
                }
                #expect(error.code == .pinRejected)
                #expect(error.retriesLeft == 2)
                #expect(error.statusWord == 0x63C2)
                #expect(error.reason.contains("2 tries left"))
                #expect(error.reason.contains(firstVirtualReader))
                // Exactly one VERIFY carried the PIN; the other VERIFY was the status query (no data) that
                // read the retry counter before it.
                #expect(reader.card.pinVerifications == 1)
                #expect(reader.card.pinStatusQueries == 1)
                #expect(reader.card.retriesLeft == 2)
                #expect(reader.card.authentications == 0)
            }
        }

        @Test("a blocked PIN is not tried at all")
        func blockedPIN() async throws {
            try await PCSCWorld.with { world in
                let (reader, _) = try await world.insertCard(.makeP256())
                defer { reader.stop() }
                try world.writePIN("000000")
                for _ in 0..<3 {
                    _ = try? await SmartCardSigner(configuration: world.configuration(), logger: quietLogger)
                }
                #expect(reader.card.retriesLeft == 0)
                #expect(reader.card.pinVerifications == 3)
                try world.writePIN(testPIN)
                let error = try await #require(throws: SmartCardError.self) {
                    _ = try await SmartCardSigner(configuration: world.configuration(), logger: quietLogger)
                }
                #expect(error.code == .pinBlocked)
                #expect(error.retriesLeft == 0)
                #expect(error.reason.contains("PUK"))
                #expect(reader.card.pinVerifications == 3)
            }
        }

        @Test("9A verifies the PIN once per connection; a PIN longer than 8 is refused before the card sees it")
        func oncePerConnection() async throws {
            try await PCSCWorld.with { world in
                let (reader, certificate) = try await world.insertCard(.makeP256(), at: .authentication)
                defer { reader.stop() }
                let signer = try await SmartCardSigner(
                    configuration: world.configuration(key: .authentication),
                    logger: quietLogger
                )
                let verifications = reader.card.pinVerifications
                for index in 0..<3 {
                    let message = Array("message \(index)".utf8)
                    let signature = try await signer.sign(message)
                    #expect(signer.scheme.isValidSignature(signature, for: message, publicKey: certificate.publicKey))
                }
                #expect(reader.card.pinVerifications == verifications)
                #expect(verifications == 1)
                await signer.close()

                try world.writePIN("123456789")
                let error = try await #require(throws: SmartCardError.self) {
                    _ = try await SmartCardSigner(configuration: world.configuration(), logger: quietLogger)
                }
                #expect(error.code == .invalidConfiguration)
                #expect(reader.card.pinVerifications == verifications)
            }
        }

        @Test("a card without the PIN status query still signs; the retry counter is then unknown")
        func noStatusQuery() async throws {
            try await PCSCWorld.with { world in
                let (reader, certificate) = try await world.insertCard(.makeP256())
                defer { reader.stop() }
                reader.card.refuseStatusQuery()
                let signer = try await SmartCardSigner(configuration: world.configuration(), logger: quietLogger)
                let message = Array("no status query".utf8)
                let signature = try await signer.sign(message)
                #expect(signer.scheme.isValidSignature(signature, for: message, publicKey: certificate.publicKey))
                #expect(signer.cards.first?.pinRetriesLeft == nil)
                await signer.close()
            }
        }
    }
}
