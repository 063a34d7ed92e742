import Foundation
import Signing
import Testing
import X509

@Suite("Key files: PKCS#12")
struct PKCS12Tests {
    /// A PKCS#12 file as `openssl pkcs12 -export` makes it.
    struct Export: Sendable, CustomTestStringConvertible {
        var key: String
        var legacy: Bool
        var testDescription: String {
            "\(self.key.uppercased()) \(self.legacy ? "legacy (RC2/3DES, SHA-1 MAC)" : "modern (AES-256, SHA-256 MAC)")"
        }

        static let all = [
            Export(key: "ec", legacy: false), Export(key: "ec", legacy: true),
            Export(key: "rsa", legacy: false), Export(key: "rsa", legacy: true),
        ]

        /// Exports `KEY.key` with `KEY.pem` and the chain (root first) into `name` in `directory`.
        func make(
            _ pki: TestPKI, passphrase: String = "correct horse", name: String = "signer.p12", in directory: String
        )
            throws -> String
        {
            var arguments = [
                "pkcs12", "-export", "-inkey", pki.path("\(self.key).key"), "-in", pki.path("\(self.key).pem"),
                "-certfile", pki.path("chain-root-first.pem"), "-passout", "pass:\(passphrase)",
                "-out", "\(directory)/\(name)",
            ]
            if self.legacy { arguments.append("-legacy") }
            try requireOpenSSL(arguments, in: directory)
            return "\(directory)/\(name)"
        }
    }

    @Test(
        "loads the key, picks the leaf by its key, orders the chain, and signs what openssl verifies",
        arguments: Export.all)
    func loads(_ export: Export) async throws {
        let pki = try await TestPKI.shared()
        try await withTemporaryDirectory { directory in
            let file = try export.make(pki, in: directory)
            try writeSecretFile("\(directory)/passphrase", "correct horse\n")
            let signer = try await SoftwareSigner.load(
                keyFile: file, passphrase: .file(path: "\(directory)/passphrase"))
            #expect(signer.certificate == (try pki.certificate("\(export.key).pem")))
            #expect(signer.chain == [try pki.intermediate, try pki.root])
            #expect(signer.scheme == (export.key == "ec" ? .ecdsaP256SHA256 : .rsaPKCS1v15SHA256))
            try expectOpenSSLVerifies(signer, in: directory)

            let keyFile = try KeyFile.read(atPath: file, passphrase: .file(path: "\(directory)/passphrase"))
            #expect(keyFile.format == .pkcs12)
            #expect(keyFile.key.description == (export.key == "ec" ? "EC P-256" : "RSA 2048"))
            #expect(keyFile.certificates.count == 3)
        }
    }

    @Test("the envelope is described without the passphrase, the key and certificates with it", arguments: Export.all)
    func inspects(_ export: Export) async throws {
        let pki = try await TestPKI.shared()
        try await withTemporaryDirectory { directory in
            let file = try export.make(pki, in: directory)
            let closed = try KeyFileInspection.inspect(atPath: file, passphrase: nil)
            #expect(closed.format == .pkcs12)
            #expect(closed.problem?.code == .passphraseRequired)
            #expect(closed.key == nil)
            #expect(closed.certificates.isEmpty)
            let text = closed.protections.map { "\($0.part): \($0.algorithm)" }.joined(separator: "\n")
            if export.legacy {
                #expect(text.contains("integrity: HMAC with SHA-1 (2048 iterations)"), "\(text)")
                #expect(text.contains("pbeWithSHA1And40BitRC2-CBC"), "\(text)")
                #expect(text.contains("key: pbeWithSHA1And3-KeyTripleDES-CBC"), "\(text)")
                #expect(closed.needsLegacyProvider)
                #expect(closed.legacyProviderLoaded)
            } else {
                #expect(text.contains("integrity: HMAC with SHA-256"), "\(text)")
                #expect(
                    text.contains("key: PBES2 with AES-256-CBC, key from PBKDF2 (hmacWithSHA256, 2048 iterations)"),
                    "\(text)"
                )
                #expect(!closed.needsLegacyProvider)
            }

            let open = try KeyFileInspection.inspect(
                atPath: file,
                passphrase: .environment(name: "P12_PASS"),
                environment: ["P12_PASS": "correct horse"]
            )
            #expect(open.problem == nil)
            #expect(open.key != nil)
            #expect(
                open.certificates.map(\.certificate) == [
                    try pki.certificate("\(export.key).pem"), try pki.intermediate, try pki.root,
                ])
            #expect(open.certificates.map(\.matchesKey) == [true, false, false])
            // The fingerprint is openssl's SHA-256 of the DER SubjectPublicKeyInfo.
            try requireOpenSSL(
                "pkey", "-in", pki.path("\(export.key).key"), "-pubout", "-outform", "DER", "-out", "pub.der",
                in: directory
            )
            let digest = try requireOpenSSL("dgst", "-sha256", "-c", "pub.der", in: directory)
            let expected = digest.split(separator: "=").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            #expect(open.publicKeyFingerprint?.lowercased() == expected)
        }
    }

    @Test("a wrong passphrase is wrongPassphrase naming the file", arguments: Export.all)
    func wrongPassphrase(_ export: Export) async throws {
        let pki = try await TestPKI.shared()
        try await withTemporaryDirectory { directory in
            let file = try export.make(pki, in: directory)
            let error = await #expect(throws: SignerError.self) {
                try await KeyFileSignerSource(keyFile: file, passphrase: .environment(name: "P"))
                    .load(environment: ["P": "battery staple"])
            }
            #expect(error?.code == .wrongPassphrase, "\(String(describing: error))")
            #expect(error?.reason.contains(file) == true)
            #expect(error?.reason.contains("mac verify failure") == true, "\(String(describing: error))")
        }
    }

    @Test("without a passphrase, an encrypted file is passphraseRequired naming the file")
    func passphraseRequired() async throws {
        let pki = try await TestPKI.shared()
        try await withTemporaryDirectory { directory in
            let file = try Export(key: "ec", legacy: false).make(pki, in: directory)
            let error = await #expect(throws: SignerError.self) { try await SoftwareSigner.load(keyFile: file) }
            #expect(error?.code == .passphraseRequired)
            #expect(error?.reason.contains(file) == true)
        }
    }

    @Test("a file with an empty password opens without a passphrase")
    func emptyPassword() async throws {
        let pki = try await TestPKI.shared()
        try await withTemporaryDirectory { directory in
            let file = try Export(key: "ec", legacy: false).make(pki, passphrase: "", in: directory)
            let signer = try await SoftwareSigner.load(keyFile: file)
            #expect(signer.certificate == (try pki.certificate("ec.pem")))
        }
    }

    @Test("a key-only file takes the certificate and chain from their files; without them it names what is missing")
    func keyOnly() async throws {
        let pki = try await TestPKI.shared()
        try await withTemporaryDirectory { directory in
            let file = "\(directory)/key-only.pfx"
            try requireOpenSSL(
                "pkcs12", "-export", "-nocerts", "-inkey", pki.path("ec.key"), "-passout", "pass:pw", "-out", file,
                in: directory
            )
            let passphrase = SecretSource.environment(name: "PW")
            let signer = try await KeyFileSignerSource(
                keyFile: file,
                passphrase: passphrase,
                certificateFile: pki.path("ec.pem"),
                chainFile: pki.path("chain-root-first.pem")
            ).load(environment: ["PW": "pw"])
            #expect(signer.chain == [try pki.intermediate, try pki.root])
            try expectOpenSSLVerifies(signer, in: directory)

            let error = await #expect(throws: SignerError.self) {
                try await KeyFileSignerSource(keyFile: file, passphrase: passphrase).load(environment: ["PW": "pw"])
            }
            #expect(error?.code == .notACertificate)
            #expect(error?.reason.contains(file) == true)
        }
    }

    @Test("a certificate file for another key is keyCertificateMismatch naming both files")
    func mismatch() async throws {
        let pki = try await TestPKI.shared()
        try await withTemporaryDirectory { directory in
            let file = try Export(key: "ec", legacy: true).make(pki, in: directory)
            let error = await #expect(throws: SignerError.self) {
                try await KeyFileSignerSource(
                    keyFile: file,
                    passphrase: .environment(name: "P"),
                    certificateFile: pki.path("other.pem")
                ).load(environment: ["P": "correct horse"])
            }
            #expect(error?.code == .keyCertificateMismatch)
            #expect(error?.reason.contains(file) == true, "\(String(describing: error))")
            #expect(error?.reason.contains(pki.path("other.pem")) == true, "\(String(describing: error))")
        }
    }
}
