import Foundation
import Testing

/// `sigillum keys inspect` on files openssl made: what the printout says about each envelope.
@Suite("sigillum keys inspect")
struct KeysInspectTests {
    /// An EC key, its self-signed certificate, a legacy PKCS#12 and an encrypted PKCS#8 of it, in `directory`.
    static func makeFiles(in directory: String) async throws {
        let openssl = try Environment.tool("openssl")
        let steps: [[String]] = [
            ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "key.pem"],
            [
                "req", "-new", "-x509", "-key", "key.pem", "-subj", "/CN=Inspect Test Signer", "-days", "2", "-out",
                "cert.pem",
            ],
            [
                "pkcs12", "-export", "-legacy", "-inkey", "key.pem", "-in", "cert.pem", "-passout", "pass:p12 secret",
                "-out", "legacy.p12",
            ],
            [
                "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", "key.pem", "-passout", "pass:p8 secret", "-out",
                "enc.pem",
            ],
        ]
        for step in steps {
            let result = try await Tool.run(openssl, step, directory: directory)
            try #require(result.succeeded, "\(result)")
        }
    }

    @Test(
        "a legacy PKCS#12: its MAC, its RC2 and 3DES encryption, the legacy provider; key and certificate with the passphrase"
    )
    func legacyPKCS12() async throws {
        let directory = try makeTemporaryDirectory("keys-inspect")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await Self.makeFiles(in: directory)
        let sigillum = try Environment.sigillum()

        let closed = try await Tool.run(sigillum, ["keys", "inspect", "\(directory)/legacy.p12"])
        #expect(closed.succeeded, "\(closed)")
        #expect(closed.output.contains("Format: PKCS#12 (DER)"), "\(closed)")
        #expect(closed.output.contains("integrity: HMAC with SHA-1 (2048 iterations)"), "\(closed)")
        #expect(closed.output.contains("pbeWithSHA1And40BitRC2-CBC (2048 iterations) [legacy provider]"), "\(closed)")
        #expect(closed.output.contains("key: pbeWithSHA1And3-KeyTripleDES-CBC"), "\(closed)")
        #expect(closed.output.contains("Legacy provider: needed"), "\(closed)")
        #expect(closed.output.contains("a passphrase is needed"), "\(closed)")

        try writeSecretFile("\(directory)/p12.pass", text: "p12 secret\n")
        let open = try await Tool.run(
            sigillum,
            ["keys", "inspect", "\(directory)/legacy.p12", "--passphrase-file", "\(directory)/p12.pass"]
        )
        #expect(open.succeeded, "\(open)")
        #expect(open.output.contains("Key: EC P-256"), "\(open)")
        #expect(open.output.contains("[1] (matches the key)"), "\(open)")
        #expect(open.output.contains("Subject: /CN=Inspect Test Signer"), "\(open)")

        // The key's fingerprint is openssl's SHA-256 of the SubjectPublicKeyInfo.
        let openssl = try Environment.tool("openssl")
        _ = try await Tool.run(
            openssl, ["pkey", "-in", "key.pem", "-pubout", "-outform", "DER", "-out", "pub.der"], directory: directory)
        let digest = try await Tool.run(openssl, ["dgst", "-sha256", "-c", "pub.der"], directory: directory)
        let fingerprint =
            digest.output.split(separator: "=").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
        #expect(open.output.contains("Public key SHA-256: \(fingerprint.uppercased())"), "\(open)\n\(digest)")
    }

    @Test("an encrypted PKCS#8: PBES2, AES-256-CBC, PBKDF2; a wrong passphrase exits 1 naming the file")
    func encryptedPKCS8() async throws {
        let directory = try makeTemporaryDirectory("keys-inspect")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await Self.makeFiles(in: directory)
        let sigillum = try Environment.sigillum()
        let file = "\(directory)/enc.pem"

        let closed = try await Tool.run(sigillum, ["keys", "inspect", file])
        #expect(closed.succeeded, "\(closed)")
        #expect(closed.output.contains("Format: encrypted PKCS#8 (PEM)"), "\(closed)")
        #expect(
            closed.output.contains("key: PBES2 with AES-256-CBC, key from PBKDF2 (hmacWithSHA256, 2048 iterations)"),
            "\(closed)"
        )
        #expect(closed.output.contains("a passphrase is needed"), "\(closed)")

        let open = try await Tool.run(
            sigillum,
            ["keys", "inspect", file, "--passphrase-env", "SIGILLUM_TEST_PASSPHRASE"],
            environment: ["SIGILLUM_TEST_PASSPHRASE": "p8 secret"]
        )
        #expect(open.succeeded, "\(open)")
        #expect(open.output.contains("Key: EC P-256"), "\(open)")

        let wrong = try await Tool.run(
            sigillum,
            ["keys", "inspect", file, "--passphrase-env", "SIGILLUM_TEST_PASSPHRASE"],
            environment: ["SIGILLUM_TEST_PASSPHRASE": "not it"]
        )
        #expect(wrong.status == 1, "\(wrong)")
        #expect(wrong.errorOutput.contains("\(file) does not open with the passphrase"), "\(wrong)")
        // Usually "bad decrypt"; about one wrong passphrase in 256 leaves valid CBC padding and fails as a decode
        // error instead: the verdict is the same.
        #expect(
            wrong.errorOutput.contains("bad decrypt") || wrong.errorOutput.contains("decode error"), "\(wrong)")
    }
}
