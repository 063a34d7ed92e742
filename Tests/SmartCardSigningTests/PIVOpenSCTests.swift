import Foundation
import Signing
import SmartCardSigning
import Testing
import X509

extension PIVCardTests {
    @Suite(
        "OpenSC's PIV driver against the emulated card",
        .enabled(if: FileManager.default.fileExists(atPath: openscModulePath), "OpenSC is not installed")
    )
    struct OpenSC {
        @Test("pkcs11-tool lists the emulator's objects and signs with 9A (RSA-2048) and 9C (P-256) after --pin")
        func pkcs11Tool() async throws {
            try await PCSCWorld.with { world in
                let ecKey = EmulatedKey.makeP256()
                let rsaKey = try EmulatedKey.makeRSA2048()
                let card = PIVCardEmulator(pin: testPIN)
                let ecCertificate = try world.ca.issue(for: ecKey.publicKey, commonName: "OpenSC 9C")
                let rsaCertificate = try world.ca.issue(for: rsaKey.publicKey, commonName: "OpenSC 9A")
                card.install(ecKey, at: .digitalSignature, certificate: try ecCertificate.derBytes)
                card.install(rsaKey, at: .authentication, certificate: try rsaCertificate.derBytes, compressed: true)
                let reader = VirtualCardReader(card: card)
                defer { reader.stop() }
                try await waitForCard(in: firstVirtualReader, present: true)

                let listing = try run("/usr/bin/pkcs11-tool", ["--module", openscModulePath, "--list-objects"])
                #expect(listing.status == 0, "\(listing.output)")
                #expect(listing.output.contains("Certificate Object"), "\(listing.output)")
                #expect(listing.output.contains("OpenSC 9C"), "\(listing.output)")
                #expect(listing.output.contains("OpenSC 9A"), "\(listing.output)")

                let message = Array("signed by OpenSC's PIV driver".utf8)
                let input = "\(world.directory)/message"
                try Data(message).write(to: URL(fileURLWithPath: input))
                for (id, mechanism, certificate) in [
                    ("02", "ECDSA-SHA256", ecCertificate), ("01", "SHA256-RSA-PKCS", rsaCertificate),
                ] {
                    let output = "\(world.directory)/signature-\(id)"
                    let signing = try run(
                        "/usr/bin/pkcs11-tool",
                        [
                            "--module", openscModulePath, "--sign", "--id", id, "--mechanism", mechanism,
                            "--pin", testPIN, "--input-file", input, "--output-file", output,
                            "--signature-format", "openssl",
                        ]
                    )
                    #expect(signing.status == 0, "\(signing.output)")
                    let signature = try Array(Data(contentsOf: URL(fileURLWithPath: output)))
                    #expect(
                        try opensslVerifies(
                            signature,
                            message: message,
                            publicKey: certificate.publicKey,
                            digest: "sha256",
                            in: world.directory
                        ),
                        "key \(id)"
                    )
                }
                #expect(card.authentications == 2)
                #expect(card.retriesLeft == 3)
            }
        }
    }
}
