import Foundation
import Signing
import SmartCardSigning
import Testing
import X509

/// `.build/debug/sigillum`, built by `swift build --build-tests` before the tests run.
let sigillumExecutable: String = {
    var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    for _ in 0..<4 {
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { break }
        url.deleteLastPathComponent()
    }
    return url.appendingPathComponent(".build/debug/sigillum").path
}()

extension PIVCardTests {
    @Suite("sigillum keys list --pcsc")
    struct KeysList {
        @Test("readers, the card, its PIV slots with algorithms and certificates, and the PIN tries left")
        func report() async throws {
            try FileManager.default.isExecutableFile(atPath: sigillumExecutable)
                ? () : { throw TestFailure("\(sigillumExecutable) is missing: run swift build --build-tests") }()
            try await PCSCWorld.with { world in
                let (reader, certificate) = try await world.insertCard(.makeP256(), commonName: "Listed 9C")
                defer { reader.stop() }
                let rsaKey = try EmulatedKey.makeRSA2048()
                let rsaCertificate = try world.ca.issue(for: rsaKey.publicKey, commonName: "Listed 9A")
                reader.card.install(
                    rsaKey, at: .authentication, certificate: try rsaCertificate.derBytes, compressed: true)

                let listing = try run(sigillumExecutable, ["keys", "list", "--pcsc"])
                #expect(listing.status == 0, "\(listing.output)")
                let lines = listing.output.split(separator: "\n").map(String.init)
                #expect(lines.contains("Reader \"\(firstVirtualReader)\""), "\(listing.output)")
                #expect(lines.contains("Reader \"\(secondVirtualReader)\""), "\(listing.output)")
                #expect(lines.contains("  no card"), "\(listing.output)")
                #expect(lines.contains("  PIV application; PIN: 3 tries left"), "\(listing.output)")
                #expect(
                    lines.contains {
                        $0.hasPrefix("    9C (digital-signature)  ECC P-256  subject") && $0.contains("Listed 9C")
                    },
                    "\(listing.output)"
                )
                #expect(
                    lines.contains {
                        $0.hasPrefix("    9A (authentication)  RSA-2048  subject") && $0.contains("Listed 9A")
                    },
                    "\(listing.output)"
                )
                #expect(lines.contains("    9D (key-management)  no certificate"), "\(listing.output)")
                #expect(listing.output.contains("\(certificate.serialNumber)"), "\(listing.output)")
                // Listing never presents the PIN.
                #expect(reader.card.pinVerifications == 0)

                // One wrong PIN later, the report shows the counter the card gives.
                try world.writePIN("999999")
                _ = try? await SmartCardSigner(configuration: world.configuration(), logger: quietLogger)
                let after = try run(sigillumExecutable, ["keys", "list", "--pcsc"])
                #expect(after.output.contains("PIN: 2 tries left"), "\(after.output)")

                let misuse = try run(sigillumExecutable, ["keys", "list", "--pcsc", "--module", openscModulePath])
                #expect(misuse.status == 2, "\(misuse.output)")
            }
        }

        @Test("without pcscd: a clear error, exit 1")
        func noService() throws {
            try FileManager.default.isExecutableFile(atPath: sigillumExecutable)
                ? () : { throw TestFailure("\(sigillumExecutable) is missing: run swift build --build-tests") }()
            _ = pcscEnvironment
            let listing = try run(sigillumExecutable, ["keys", "list", "--pcsc"])
            #expect(listing.status == 1, "\(listing.output)")
            #expect(listing.output.contains("pcscd"), "\(listing.output)")
            let error = #expect(throws: SmartCardError.self) { try SmartCardInventory.readers() }
            #expect(error?.code == .serviceUnavailable)
            #expect(error?.returnValueName == "SCARD_E_NO_SERVICE")
        }
    }
}
