import Foundation
import Signing
import Testing
import X509

@Suite("Key files: encrypted PKCS#8 and traditional PEM")
struct EncryptedKeyTests {
    /// An encrypted form of `ec.key` or `rsa.key`, made by openssl with the passphrase `s3cret phrase`.
    struct Form: Sendable, CustomTestStringConvertible {
        var name: String
        var key: String
        var arguments: [String]
        var file: String
        var format: KeyFileFormat
        /// What the envelope description must say.
        var protection: String

        var testDescription: String { self.name }

        static let pbkdf2 = Form(
            name: "PKCS#8 PBES2 AES-256-CBC PBKDF2 (PEM)",
            key: "ec",
            arguments: ["pkcs8", "-topk8", "-v2", "aes-256-cbc"],
            file: "key.pem",
            format: .encryptedPKCS8,
            protection: "PBES2 with AES-256-CBC, key from PBKDF2 (hmacWithSHA256, 2048 iterations)"
        )
        static let scrypt = Form(
            name: "PKCS#8 PBES2 AES-256-CBC scrypt (PEM)",
            key: "ec",
            arguments: ["pkcs8", "-topk8", "-scrypt"],
            file: "key.pem",
            format: .encryptedPKCS8,
            protection: "PBES2 with AES-256-CBC, key from scrypt (N=16384, r=8, p=1)"
        )

        static let all: [Form] = [
            pbkdf2,
            scrypt,
            Form(
                name: "PKCS#8 PBES2 AES-128-CBC PBKDF2 hmacWithSHA512 (DER, RSA)",
                key: "rsa",
                arguments: [
                    "pkcs8", "-topk8", "-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA512", "-iter", "10000",
                    "-outform", "DER",
                ],
                file: "key.der",
                format: .encryptedPKCS8,
                protection: "PBES2 with AES-128-CBC, key from PBKDF2 (hmacWithSHA512, 10000 iterations)"
            ),
            Form(
                name: "PKCS#8 PKCS#12 PBE 3DES (PEM)",
                key: "ec",
                arguments: ["pkcs8", "-topk8", "-v1", "PBE-SHA1-3DES"],
                file: "key.pem",
                format: .encryptedPKCS8,
                protection: "pbeWithSHA1And3-KeyTripleDES-CBC (2048 iterations)"
            ),
            Form(
                name: "traditional encrypted SEC1 PEM",
                key: "ec",
                arguments: ["ec", "-aes256"],
                file: "key.pem",
                format: .traditionalEncryptedPEM,
                protection: "AES-256-CBC, key from the passphrase by OpenSSL's EVP_BytesToKey"
            ),
            Form(
                name: "traditional encrypted PKCS#1 PEM",
                key: "rsa",
                arguments: ["rsa", "-aes128", "-traditional"],
                file: "key.pem",
                format: .traditionalEncryptedPEM,
                protection: "AES-128-CBC, key from the passphrase by OpenSSL's EVP_BytesToKey"
            ),
        ]

        func make(_ pki: TestPKI, in directory: String) throws -> String {
            let path = "\(directory)/\(self.file)"
            try requireOpenSSL(
                self.arguments + ["-in", pki.path("\(self.key).key"), "-passout", "pass:s3cret phrase", "-out", path],
                in: directory
            )
            return path
        }
    }

    /// Where the passphrase comes from, with the environment that makes it resolvable.
    struct Source: Sendable, CustomTestStringConvertible {
        var name: String
        var make: @Sendable (String) throws -> (SecretSource, [String: String])
        var testDescription: String { self.name }

        static let all: [Source] = [
            Source(name: "a file") { directory in
                try writeSecretFile("\(directory)/passphrase.txt", "s3cret phrase\n")
                return (.file(path: "\(directory)/passphrase.txt"), [:])
            },
            Source(name: "an environment variable") { _ in
                (.environment(name: "SIGILLUM_KEY_PASSPHRASE"), ["SIGILLUM_KEY_PASSPHRASE": "s3cret phrase"])
            },
            Source(name: "a systemd credential") { directory in
                let credentials = "\(directory)/credentials"
                try FileManager.default.createDirectory(atPath: credentials, withIntermediateDirectories: true)
                try writeFile("\(credentials)/tsa-key-passphrase", "s3cret phrase")
                return (.credential(name: "tsa-key-passphrase"), ["CREDENTIALS_DIRECTORY": credentials])
            },
        ]
    }

    @Test(
        "PBKDF2 and scrypt keys load with a passphrase from a file, a variable or a credential",
        arguments: [Form.pbkdf2, Form.scrypt],
        Source.all
    )
    func passphraseSources(_ form: Form, _ source: Source) async throws {
        let pki = try await TestPKI.shared()
        try await withTemporaryDirectory { directory in
            let file = try form.make(pki, in: directory)
            let (passphrase, environment) = try source.make(directory)
            let signer = try await KeyFileSignerSource(
                keyFile: file,
                passphrase: passphrase,
                certificateFile: pki.path("\(form.key).pem"),
                chainFile: pki.path("chain-root-first.pem")
            ).load(environment: environment)
            #expect(signer.certificate == (try pki.certificate("\(form.key).pem")))
            #expect(signer.chain == [try pki.intermediate, try pki.root])
            try expectOpenSSLVerifies(signer, in: directory)
        }
    }

    @Test("each encrypted form loads, signs what openssl verifies, and describes its envelope", arguments: Form.all)
    func forms(_ form: Form) async throws {
        let pki = try await TestPKI.shared()
        try await withTemporaryDirectory { directory in
            let file = try form.make(pki, in: directory)
            let environment = ["PASS": "s3cret phrase"]
            let keyFile = try KeyFile.read(
                atPath: file, passphrase: .environment(name: "PASS"), environment: environment)
            #expect(keyFile.format == form.format)
            let signer = try await KeyFileSignerSource(
                keyFile: file,
                passphrase: .environment(name: "PASS"),
                certificateFile: pki.path("\(form.key).pem")
            ).load(environment: environment)
            try expectOpenSSLVerifies(signer, in: directory)

            let inspection = try KeyFileInspection.inspect(atPath: file, passphrase: nil)
            #expect(inspection.format == form.format)
            #expect(inspection.problem?.code == .passphraseRequired)
            #expect(inspection.protections.count == 1)
            #expect(inspection.protections.first?.part == "key")
            #expect(
                inspection.protections.first?.algorithm.hasPrefix(form.protection) == true, "\(inspection.protections)")
            #expect(!inspection.needsLegacyProvider)
        }
    }

    @Test("a wrong passphrase is wrongPassphrase naming the file", arguments: Form.all)
    func wrongPassphrase(_ form: Form) async throws {
        let pki = try await TestPKI.shared()
        try await withTemporaryDirectory { directory in
            let file = try form.make(pki, in: directory)
            // Several wrong passphrases: CBC padding checks out by chance for about one in 256, and the
            // answer must still be wrongPassphrase.
            for attempt in 0..<8 {
                let error = #expect(throws: SignerError.self) {
                    try KeyFile.read(
                        atPath: file,
                        passphrase: .environment(name: "PASS"),
                        environment: ["PASS": "wrong \(attempt)"]
                    )
                }
                #expect(error?.code == .wrongPassphrase, "\(String(describing: error))")
                #expect(error?.reason.contains(file) == true)
                #expect(error?.reason.contains("environment variable PASS") == true)
            }
        }
    }

    @Test("without a passphrase, the file is passphraseRequired naming it", arguments: Form.all)
    func passphraseRequired(_ form: Form) async throws {
        let pki = try await TestPKI.shared()
        try await withTemporaryDirectory { directory in
            let file = try form.make(pki, in: directory)
            let error = await #expect(throws: SignerError.self) {
                try await SoftwareSigner.load(keyFile: file, certificateFile: pki.path("\(form.key).pem"))
            }
            #expect(error?.code == .passphraseRequired)
            #expect(error?.reason.contains(file) == true)
        }
    }

    @Test("the key of another certificate is keyCertificateMismatch naming both files")
    func mismatch() async throws {
        let pki = try await TestPKI.shared()
        try await withTemporaryDirectory { directory in
            let file = try Form.pbkdf2.make(pki, in: directory)
            let error = await #expect(throws: SignerError.self) {
                try await KeyFileSignerSource(
                    keyFile: file,
                    passphrase: .environment(name: "PASS"),
                    certificateFile: pki.path("other.pem")
                ).load(environment: ["PASS": "s3cret phrase"])
            }
            #expect(error?.code == .keyCertificateMismatch)
            #expect(error?.reason.contains(file) == true, "\(String(describing: error))")
            #expect(error?.reason.contains(pki.path("other.pem")) == true, "\(String(describing: error))")
        }
    }

    @Test("a missing passphrase source is secretUnavailable, naming the source")
    func missingSource() async throws {
        let pki = try await TestPKI.shared()
        try await withTemporaryDirectory { directory in
            let file = try Form.pbkdf2.make(pki, in: directory)
            let error = #expect(throws: SignerError.self) {
                try KeyFile.read(atPath: file, passphrase: .credential(name: "tsa-key"), environment: [:])
            }
            #expect(error?.code == .secretUnavailable)
            #expect(error?.reason.contains("CREDENTIALS_DIRECTORY") == true)
        }
    }
}
