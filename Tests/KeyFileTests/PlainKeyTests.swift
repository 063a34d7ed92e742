import Foundation
import Signing
import Testing
import X509

@Suite("Key files: unencrypted keys and PEM bundles")
struct PlainKeyTests {
    struct Form: Sendable, CustomTestStringConvertible {
        var name: String
        var key: String
        /// openssl arguments turning `-in KEY` into `-out FILE`; empty to use the PKCS#8 PEM key as it is.
        var arguments: [String]
        var format: KeyFileFormat
        var testDescription: String { self.name }

        static let all: [Form] = [
            Form(name: "PKCS#8 PEM (EC)", key: "ec", arguments: [], format: .pkcs8),
            // Not `openssl pkey -outform DER`: OpenSSL 3.0 writes SEC1 for EC keys there.
            Form(
                name: "PKCS#8 DER (EC)",
                key: "ec",
                arguments: ["pkcs8", "-topk8", "-nocrypt", "-outform", "DER"],
                format: .pkcs8
            ),
            Form(name: "SEC1 PEM", key: "ec", arguments: ["ec"], format: .sec1),
            Form(name: "SEC1 DER", key: "ec", arguments: ["ec", "-outform", "DER"], format: .sec1),
            Form(name: "PKCS#8 PEM (RSA)", key: "rsa", arguments: [], format: .pkcs8),
            Form(name: "PKCS#1 PEM", key: "rsa", arguments: ["rsa", "-traditional"], format: .pkcs1),
            Form(
                name: "PKCS#1 DER", key: "rsa", arguments: ["rsa", "-traditional", "-outform", "DER"], format: .pkcs1),
        ]
    }

    @Test("loads, needs no passphrase, and signs what openssl verifies", arguments: Form.all)
    func loads(_ form: Form) async throws {
        let pki = try await TestPKI.shared()
        try await withTemporaryDirectory { directory in
            var file = pki.path("\(form.key).key")
            if !form.arguments.isEmpty {
                file = "\(directory)/key"
                try requireOpenSSL(form.arguments + ["-in", pki.path("\(form.key).key"), "-out", file], in: directory)
            }
            let keyFile = try KeyFile.read(atPath: file, passphrase: nil)
            #expect(keyFile.format == form.format)
            #expect(keyFile.certificates.isEmpty)
            // A configured passphrase does no harm to a plain key.
            let signer = try await SoftwareSigner.load(
                keyFile: file,
                passphrase: .environment(name: "UNUSED_AND_UNSET"),
                certificateFile: pki.path("\(form.key).pem")
            )
            try expectOpenSSLVerifies(signer, in: directory)

            let inspection = try KeyFileInspection.inspect(atPath: file, passphrase: nil)
            #expect(inspection.format == form.format)
            #expect(inspection.protections.isEmpty)
            #expect(inspection.problem == nil)
            #expect(inspection.key?.description == keyFile.key.description)
        }
    }

    @Test("a PEM key file with its certificates in any order yields the leaf and the ordered chain")
    func bundle() async throws {
        let pki = try await TestPKI.shared()
        try await withTemporaryDirectory { directory in
            let file = "\(directory)/bundle.pem"
            let parts = try ["root.pem", "ec.key", "ec.pem", "intermediate.pem"].map { try readText(pki.path($0)) }
            try writeFile(file, parts.joined())
            let signer = try await SoftwareSigner.load(keyFile: file)
            #expect(signer.certificate == (try pki.certificate("ec.pem")))
            #expect(signer.chain == [try pki.intermediate, try pki.root])
            try expectOpenSSLVerifies(signer, in: directory)
        }
    }

    @Test("a bundle whose certificates are all another key's is keyCertificateMismatch naming the file")
    func bundleMismatch() async throws {
        let pki = try await TestPKI.shared()
        try await withTemporaryDirectory { directory in
            let file = "\(directory)/bundle.pem"
            try writeFile(file, try readText(pki.path("ec.key")) + readText(pki.path("other.pem")))
            let error = await #expect(throws: SignerError.self) { try await SoftwareSigner.load(keyFile: file) }
            #expect(error?.code == .keyCertificateMismatch)
            #expect(error?.reason.contains(file) == true)
        }
    }

    @Test("a plain key of another certificate is keyCertificateMismatch naming both files")
    func mismatch() async throws {
        let pki = try await TestPKI.shared()
        let error = await #expect(throws: SignerError.self) {
            try await SoftwareSigner.load(keyFile: pki.path("rsa.key"), certificateFile: pki.path("ec.pem"))
        }
        #expect(error?.code == .keyCertificateMismatch)
        #expect(error?.reason.contains(pki.path("rsa.key")) == true)
        #expect(error?.reason.contains(pki.path("ec.pem")) == true)
    }

    @Test("unsupported keys and non-keys keep KeyFileReader's codes, naming the file")
    func refused() async throws {
        try await withTemporaryDirectory { directory in
            try requireOpenSSL("genpkey", "-algorithm", "ED448", "-out", "ed448.pem", in: directory)
            let ed448 = #expect(throws: SignerError.self) {
                try KeyFile.read(atPath: "\(directory)/ed448.pem", passphrase: nil)
            }
            #expect(ed448?.code == .unsupportedAlgorithm)
            #expect(ed448?.reason.contains("\(directory)/ed448.pem") == true)

            try writeFile("\(directory)/garbage.p12", "not a PKCS#12 file")
            let garbage = #expect(throws: SignerError.self) {
                try KeyFile.read(atPath: "\(directory)/garbage.p12", passphrase: nil)
            }
            #expect(garbage?.code == .invalidKey, "\(String(describing: garbage))")
            #expect(garbage?.reason.contains("\(directory)/garbage.p12") == true)

            let missing = #expect(throws: SignerError.self) {
                try KeyFile.read(atPath: "\(directory)/missing.key", passphrase: nil)
            }
            #expect(missing?.code == .unreadableFile)
        }
    }
}
