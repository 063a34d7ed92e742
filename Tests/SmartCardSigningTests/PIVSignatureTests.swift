import Crypto
import Foundation
import Signing
import SmartCardSigning
import SwiftASN1
import Testing
import X509
import _CryptoExtras

/// The PC/SC suites: one pcscd on the machine at a time, so one test at a time.
@Suite("PIV smart cards over PC/SC", .serialized, .enabled(if: pcscStackAvailable, "pcscd or vpcd is not installed"))
struct PIVCardTests {}

extension PIVCardTests {
    @Suite("PIV signatures on the emulated card")
    struct Signatures {
        @Test("EC P-256 in 9C: signatures verify with swift-crypto and openssl; the PIN goes before each one")
        func ecP256() async throws {
            try await PCSCWorld.with { world in
                let (reader, certificate) = try await world.insertCard(.makeP256())
                defer { reader.stop() }
                let signer = try await SmartCardSigner(configuration: world.configuration(), logger: quietLogger)
                #expect(signer.scheme == .ecdsaP256SHA256)
                #expect(signer.algorithm == .eccP256)
                #expect(signer.certificate == certificate)
                #expect(signer.kind == "piv")
                #expect(signer.health == .available)
                let before = reader.card.pinVerifications
                let message = Array("a time-stamp token's signed attributes".utf8)
                let signature = try await signer.sign(message)
                #expect(reader.card.pinVerifications == before + 1)
                #expect(signer.scheme.isValidSignature(signature, for: message, publicKey: certificate.publicKey))
                let key = try #require(P256.Signing.PublicKey(certificate.publicKey))
                let parsed = try P256.Signing.ECDSASignature(derRepresentation: signature)
                #expect(key.isValidSignature(parsed, for: SHA256.hash(data: message)))
                #expect(
                    try opensslVerifies(
                        signature, message: message, publicKey: certificate.publicKey, digest: "sha256",
                        in: world.directory)
                )
                #expect(
                    try pkeyutlVerifies(
                        signature,
                        digest: Array(SHA256.hash(data: message)),
                        publicKey: certificate.publicKey,
                        in: world.directory
                    )
                )
                // The next signature needs the PIN again (9C): one more VERIFY, no status query.
                let queries = reader.card.pinStatusQueries
                _ = try await signer.sign(message)
                #expect(reader.card.pinVerifications == before + 2)
                #expect(reader.card.pinStatusQueries == queries)
                await signer.close()
            }
        }

        @Test("RSA-2048 in 9C: host-built PKCS#1 v1.5, command chaining and GET RESPONSE; openssl verifies")
        func rsa2048() async throws {
            try await PCSCWorld.with { world in
                let (reader, certificate) = try await world.insertCard(try .makeRSA2048(), compressed: true)
                defer { reader.stop() }
                let signer = try await SmartCardSigner(configuration: world.configuration(), logger: quietLogger)
                #expect(signer.scheme == .rsaPKCS1v15SHA256)
                #expect(signer.certificate == certificate)
                let message = Array("an OCSP response's tbsResponseData".utf8)
                let signature = try await signer.sign(message)
                #expect(signature.count == 256)
                let key = try #require(_RSA.Signing.PublicKey(certificate.publicKey))
                #expect(
                    key.isValidSignature(
                        _RSA.Signing.RSASignature(rawRepresentation: signature),
                        for: SHA256.hash(data: message),
                        padding: .insecurePKCS1v1_5
                    )
                )
                #expect(
                    try opensslVerifies(
                        signature, message: message, publicKey: certificate.publicKey, digest: "sha256",
                        in: world.directory)
                )
                #expect(
                    try pkeyutlVerifies(
                        signature,
                        digest: Array(SHA256.hash(data: message)),
                        publicKey: certificate.publicKey,
                        in: world.directory
                    )
                )
                // A 256-octet input does not fit one short APDU: chained (CLA 10) GENERAL AUTHENTICATE, and
                // the 264-octet answer came by GET RESPONSE.
                let instructions = reader.card.instructions
                #expect(instructions.filter { $0 == 0x87 }.count >= 2)
                #expect(instructions.contains(0xC0))
                await signer.close()
            }
        }

        @Test("EC P-384 in 9E (card authentication): SHA-384, no PIN at all; the certificate from a file")
        func ecP384WithoutPIN() async throws {
            try await PCSCWorld.with { world in
                let key = EmulatedKey.makeP384()
                let (reader, certificate) = try await world.insertCard(key, at: .cardAuthentication)
                defer { reader.stop() }
                let file = "\(world.directory)/card-auth.pem"
                try Data((try certificate.serializeAsPEM().pemString + "\n").utf8).write(to: URL(fileURLWithPath: file))
                var configuration = SmartCardSignerConfiguration(
                    readers: [.nameContaining("PCD 00 00")],
                    keyReference: .cardAuthentication,
                    pin: nil,
                    certificate: .file(path: file)
                )
                configuration.healthCheckInterval = .seconds(1)
                let signer = try await SmartCardSigner(configuration: configuration, logger: quietLogger)
                #expect(signer.scheme == .ecdsaP384SHA384)
                #expect(signer.algorithm == .eccP384)
                let message = Array("P-384".utf8)
                let signature = try await signer.sign(message)
                #expect(signer.scheme.isValidSignature(signature, for: message, publicKey: certificate.publicKey))
                #expect(
                    try opensslVerifies(
                        signature, message: message, publicKey: certificate.publicKey, digest: "sha384",
                        in: world.directory)
                )
                #expect(reader.card.pinVerifications == 0)
                #expect(reader.card.pinStatusQueries == 0)
                await signer.close()
            }
        }

        @Test("a certificate that is not the card's key: start-up fails with keyCertificateMismatch")
        func wrongCertificate() async throws {
            try await PCSCWorld.with { world in
                let (reader, _) = try await world.insertCard(.makeP256())
                defer { reader.stop() }
                let other = try world.ca.issue(for: EmulatedKey.makeP256().publicKey, commonName: "someone else")
                let file = "\(world.directory)/other.pem"
                try Data((try other.serializeAsPEM().pemString + "\n").utf8).write(to: URL(fileURLWithPath: file))
                var configuration = world.configuration()
                configuration.certificate = .file(path: file)
                let error = try await #require(throws: SignerError.self) {
                    _ = try await SmartCardSigner(configuration: configuration, logger: quietLogger)
                }
                #expect(error.code == .keyCertificateMismatch)
                #expect(error.reason.contains("someone else"))
            }
        }

        @Test("an empty certificate slot and a reader that is not there: errors that say what to fix")
        func startupErrors() async throws {
            try await PCSCWorld.with { world in
                let (reader, _) = try await world.insertCard(.makeP256())
                defer { reader.stop() }
                let missing = try await #require(throws: SmartCardError.self) {
                    _ = try await SmartCardSigner(
                        configuration: world.configuration(key: .keyManagement), logger: quietLogger)
                }
                #expect(missing.code == .certificateNotFound)
                #expect(missing.reason.contains("9D"))
                let noReader = try await #require(throws: SmartCardError.self) {
                    _ = try await SmartCardSigner(
                        configuration: world.configuration(readers: [.name("Nonexistent Reader")]), logger: quietLogger)
                }
                #expect(noReader.code == .readerNotFound)
                #expect(noReader.reason.contains(firstVirtualReader))
                let empty = try await #require(throws: SmartCardError.self) {
                    _ = try await SmartCardSigner(
                        configuration: world.configuration(readers: [.name(secondVirtualReader)]), logger: quietLogger)
                }
                #expect(empty.code == .cardNotFound)
            }
        }
    }
}
