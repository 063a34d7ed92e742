import Crypto
import Foundation
import Signing
import SwiftASN1
import Testing
import X509
import _CryptoExtras

@Suite("KeyFileReader")
struct KeyFileReaderTests {
    /// A key made by `openssl genpkey`, converted with further openssl commands.
    struct OpenSSLKey: Sendable, CustomTestStringConvertible {
        var name: String
        var genpkey: [String]
        /// Commands turning `gen.pem` into `key` (run in order), empty to use `gen.pem` as is.
        var conversions: [[String]] = []
        var file = "gen.pem"
        /// The PEM label the file must carry (nil for DER).
        var label: String?
        var expectedDescription: String

        var testDescription: String { self.name }

        static let ec256: [String] = [
            "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "gen.pem",
        ]
        static let rsa: [String] = [
            "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "gen.pem",
        ]

        static let all: [OpenSSLKey] = [
            OpenSSLKey(
                name: "EC P-256 PKCS#8 PEM", genpkey: ec256, label: "PRIVATE KEY", expectedDescription: "EC P-256"),
            OpenSSLKey(
                name: "EC P-384 PKCS#8 PEM",
                genpkey: ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", "gen.pem"],
                label: "PRIVATE KEY",
                expectedDescription: "EC P-384"
            ),
            OpenSSLKey(
                name: "EC P-521 PKCS#8 PEM",
                genpkey: ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521", "-out", "gen.pem"],
                label: "PRIVATE KEY",
                expectedDescription: "EC P-521"
            ),
            OpenSSLKey(
                name: "EC P-256 SEC1 PEM",
                genpkey: ec256,
                conversions: [["ec", "-in", "gen.pem", "-out", "sec1.pem"]],
                file: "sec1.pem",
                label: "EC PRIVATE KEY",
                expectedDescription: "EC P-256"
            ),
            OpenSSLKey(
                name: "EC P-256 SEC1 DER",
                genpkey: ec256,
                conversions: [["ec", "-in", "gen.pem", "-outform", "DER", "-out", "sec1.der"]],
                file: "sec1.der",
                expectedDescription: "EC P-256"
            ),
            OpenSSLKey(
                name: "EC P-256 PKCS#8 DER",
                genpkey: ec256,
                conversions: [["pkey", "-in", "gen.pem", "-outform", "DER", "-out", "p8.der"]],
                file: "p8.der",
                expectedDescription: "EC P-256"
            ),
            OpenSSLKey(
                name: "RSA 2048 PKCS#8 PEM", genpkey: rsa, label: "PRIVATE KEY", expectedDescription: "RSA 2048"),
            OpenSSLKey(
                name: "RSA 2048 PKCS#1 PEM",
                genpkey: rsa,
                conversions: [["rsa", "-in", "gen.pem", "-traditional", "-out", "pkcs1.pem"]],
                file: "pkcs1.pem",
                label: "RSA PRIVATE KEY",
                expectedDescription: "RSA 2048"
            ),
            OpenSSLKey(
                name: "RSA 2048 PKCS#1 DER",
                genpkey: rsa,
                conversions: [["rsa", "-in", "gen.pem", "-traditional", "-outform", "DER", "-out", "pkcs1.der"]],
                file: "pkcs1.der",
                expectedDescription: "RSA 2048"
            ),
            OpenSSLKey(
                name: "Ed25519 PKCS#8 PEM",
                genpkey: ["genpkey", "-algorithm", "ED25519", "-out", "gen.pem"],
                label: "PRIVATE KEY",
                expectedDescription: "Ed25519"
            ),
            OpenSSLKey(
                name: "Ed25519 PKCS#8 DER",
                genpkey: ["genpkey", "-algorithm", "ED25519", "-out", "gen.pem"],
                conversions: [["pkey", "-in", "gen.pem", "-outform", "DER", "-out", "p8.der"]],
                file: "p8.der",
                expectedDescription: "Ed25519"
            ),
        ]
    }

    @Test("reads keys that openssl made, and they sign for openssl's public key", arguments: OpenSSLKey.all)
    func readsOpenSSLKeys(_ testCase: OpenSSLKey) async throws {
        try await withTemporaryDirectory { directory in
            try #require(try openssl(testCase.genpkey, in: directory).status == 0)
            for conversion in testCase.conversions {
                let result = try openssl(conversion, in: directory)
                try #require(result.status == 0, "\(result.output)")
            }
            let path = "\(directory)/\(testCase.file)"
            if let label = testCase.label {
                let text = String(decoding: try readFile(path), as: UTF8.self)
                #expect(text.hasPrefix("-----BEGIN \(label)-----"), "\(text.prefix(40))")
            }
            let key = try KeyFileReader.readKey(atPath: path)
            #expect(key.description == testCase.expectedDescription)

            // The public key openssl derives is the one we derive.
            let pubout = try openssl("pkey", "-in", "gen.pem", "-pubout", "-out", "pub.pem", in: directory)
            try #require(pubout.status == 0)
            let opensslPublicKey = try Certificate.PublicKey(
                pemEncoded: String(decoding: try readFile("\(directory)/pub.pem"), as: UTF8.self)
            )
            #expect(key.publicKey == opensslPublicKey)

            // And it signs what openssl verifies.
            let certificate = try selfSignedCertificate(for: key, signatureAlgorithm: Self.algorithm(for: key))
            let signer = SoftwareSigner(key: key, certificate: certificate)
            try await signer.verifyKeyMatchesCertificate()
        }
    }

    static func algorithm(for key: SoftwareKey) -> Certificate.SignatureAlgorithm {
        switch key.description {
        case "EC P-256": .ecdsaWithSHA256
        case "EC P-384": .ecdsaWithSHA384
        case "EC P-521": .ecdsaWithSHA512
        case "Ed25519": .ed25519
        default: .sha256WithRSAEncryption
        }
    }

    /// Keys that must be refused, with the code.
    struct Refused: Sendable, CustomTestStringConvertible {
        var name: String
        var commands: [[String]]
        var file: String
        var code: SignerError.ErrorCode

        var testDescription: String { self.name }

        static let all: [Refused] = [
            Refused(
                name: "encrypted PKCS#8 PEM",
                commands: [
                    OpenSSLKey.ec256,
                    ["pkcs8", "-topk8", "-in", "gen.pem", "-passout", "pass:secret", "-out", "enc.pem"],
                ],
                file: "enc.pem",
                code: .encryptedKey
            ),
            Refused(
                name: "encrypted PKCS#8 DER",
                commands: [
                    OpenSSLKey.ec256,
                    [
                        "pkcs8", "-topk8", "-in", "gen.pem", "-passout", "pass:secret", "-outform", "DER", "-out",
                        "enc.der",
                    ],
                ],
                file: "enc.der",
                code: .encryptedKey
            ),
            Refused(
                name: "legacy encrypted SEC1 PEM",
                commands: [
                    OpenSSLKey.ec256,
                    ["ec", "-in", "gen.pem", "-aes256", "-passout", "pass:secret", "-out", "legacy.pem"],
                ],
                file: "legacy.pem",
                code: .encryptedKey
            ),
            Refused(
                name: "Ed448",
                commands: [["genpkey", "-algorithm", "ED448", "-out", "gen.pem"]],
                file: "gen.pem",
                code: .unsupportedAlgorithm
            ),
            Refused(
                name: "X25519",
                commands: [["genpkey", "-algorithm", "X25519", "-out", "gen.pem"]],
                file: "gen.pem",
                code: .unsupportedAlgorithm
            ),
            Refused(
                name: "EC secp256k1",
                commands: [
                    ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:secp256k1", "-out", "gen.pem"]
                ],
                file: "gen.pem",
                code: .unsupportedAlgorithm
            ),
            Refused(
                name: "RSA 1024",
                commands: [["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out", "gen.pem"]],
                file: "gen.pem",
                code: .unsupportedAlgorithm
            ),
            Refused(
                name: "RSA-PSS restricted key",
                commands: [
                    ["genpkey", "-algorithm", "RSA-PSS", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "gen.pem"]
                ],
                file: "gen.pem",
                code: .unsupportedAlgorithm
            ),
            Refused(
                name: "a public key",
                commands: [OpenSSLKey.ec256, ["pkey", "-in", "gen.pem", "-pubout", "-out", "pub.pem"]],
                file: "pub.pem",
                code: .notAKey
            ),
            Refused(
                name: "a certificate",
                commands: [
                    OpenSSLKey.ec256,
                    ["req", "-new", "-x509", "-key", "gen.pem", "-subj", "/CN=x", "-days", "1", "-out", "cert.pem"],
                ],
                file: "cert.pem",
                code: .notAKey
            ),
        ]
    }

    @Test("refuses keys it cannot use, with the right code, naming the file", arguments: Refused.all)
    func refuses(_ testCase: Refused) async throws {
        try await withTemporaryDirectory { directory in
            for command in testCase.commands {
                let result = try openssl(command, in: directory)
                try #require(result.status == 0, "\(command): \(result.output)")
            }
            let path = "\(directory)/\(testCase.file)"
            let error = #expect(throws: SignerError.self) { try KeyFileReader.readKey(atPath: path) }
            #expect(error?.code == testCase.code, "\(String(describing: error))")
            #expect(error?.reason.contains(path) == true, "\(String(describing: error))")
            if testCase.code == .encryptedKey {
                #expect(error?.reason.contains("passphrase") == true)
            }
        }
    }

    @Test("refuses garbage with notAKey")
    func garbage() async throws {
        #expect(throws: SignerError.self) { try KeyFileReader.parseKey("hello, world\n") }
        let random = (0..<300).map { _ in UInt8.random(in: 0...255) }
        let error = #expect(throws: SignerError.self) { try KeyFileReader.parseKey(random, source: "the random bytes") }
        #expect(error?.code == .notAKey)
        #expect(error?.reason.contains("the random bytes") == true)
        let empty = #expect(throws: SignerError.self) { try KeyFileReader.parseKey([UInt8]()) }
        #expect(empty?.code == .notAKey)
        let damaged = #expect(throws: SignerError.self) {
            try KeyFileReader.parseKey("-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n")
        }
        #expect(damaged?.code == .notAKey)
        let wrongContent = #expect(throws: SignerError.self) {
            try KeyFileReader.parseKey("-----BEGIN PRIVATE KEY-----\nMAMCAQA=\n-----END PRIVATE KEY-----\n")
        }
        #expect(wrongContent?.code == .invalidKey)
    }

    @Test("a missing file or a directory is unreadableFile, naming the path")
    func unreadable() async throws {
        try await withTemporaryDirectory { directory in
            let missing = "\(directory)/nope.key"
            let error = #expect(throws: SignerError.self) { try KeyFileReader.readKey(atPath: missing) }
            #expect(error?.code == .unreadableFile)
            #expect(error?.reason.contains(missing) == true)
            #expect(error?.cause != nil)
            let directoryError = #expect(throws: SignerError.self) { try KeyFileReader.readKey(atPath: directory) }
            #expect(directoryError?.code == .unreadableFile)
            let certificateError = #expect(throws: SignerError.self) {
                try CertificateFileReader.readCertificates(atPath: missing)
            }
            #expect(certificateError?.code == .unreadableFile)
        }
    }

    @Test("two keys in one file are refused")
    func twoKeys() throws {
        let pem =
            SoftwareKey(P256.Signing.PrivateKey()).pkcs8PEMRepresentation
            + SoftwareKey(P256.Signing.PrivateKey()).pkcs8PEMRepresentation
        let error = #expect(throws: SignerError.self) { try KeyFileReader.parseKey(pem) }
        #expect(error?.code == .invalidKey)
    }
}

@Suite("PKCS#8 writer")
struct PKCS8WriterTests {
    struct KeyCase: Sendable, CustomTestStringConvertible {
        var name: String
        var make: @Sendable () throws -> SoftwareKey
        var testDescription: String { self.name }

        static let all: [KeyCase] = [
            KeyCase(name: "EC P-256") { SoftwareKey(P256.Signing.PrivateKey()) },
            KeyCase(name: "EC P-384") { SoftwareKey(P384.Signing.PrivateKey()) },
            KeyCase(name: "EC P-521") { SoftwareKey(P521.Signing.PrivateKey()) },
            KeyCase(name: "RSA 2048") { SoftwareKey(try _RSA.Signing.PrivateKey(keySize: .bits2048)) },
            KeyCase(name: "Ed25519") { SoftwareKey(Curve25519.Signing.PrivateKey()) },
        ]
    }

    @Test("writes PKCS#8 PRIVATE KEY that openssl and KeyFileReader read back", arguments: KeyCase.all)
    func roundTrip(_ testCase: KeyCase) async throws {
        let key = try testCase.make()
        let pem = key.pkcs8PEMRepresentation
        #expect(pem.hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
        #expect(pem.hasSuffix("-----END PRIVATE KEY-----\n"))
        let document = try PEMDocument(pemString: pem)
        // PKCS#8: SEQUENCE { INTEGER 0, AlgorithmIdentifier, OCTET STRING ... }.
        guard case .constructed(let children) = try DER.parse(document.derBytes).content else {
            Issue.record("PKCS#8 is not a constructed SEQUENCE")
            return
        }
        var iterator = children.makeIterator()
        #expect(iterator.next()?.identifier == .integer)
        #expect(iterator.next()?.identifier == .sequence)
        #expect(iterator.next()?.identifier == .octetString)

        let reread = try KeyFileReader.parseKey(pem)
        #expect(reread.publicKey == key.publicKey)
        #expect(reread.description == testCase.name)

        try await withTemporaryDirectory { directory in
            try writeFile("\(directory)/key.pem", pem)
            let result = try openssl("pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem", in: directory)
            try #require(result.status == 0, "\(result.output)")
            let opensslPublicKey = try Certificate.PublicKey(
                pemEncoded: String(decoding: try readFile("\(directory)/pub.pem"), as: UTF8.self)
            )
            #expect(opensslPublicKey == key.publicKey)
        }
    }

    @Test("Ed25519 is the RFC 8410 §7 structure")
    func ed25519Layout() throws {
        let raw = Curve25519.Signing.PrivateKey()
        let document = try PEMDocument(pemString: SoftwareKey(raw).pkcs8PEMRepresentation)
        // 30 2e 02 01 00 30 05 06 03 2b 65 70 04 22 04 20 || 32 key octets (RFC 8410 §10.3).
        let prefix: [UInt8] = [
            0x30, 0x2E, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
        ]
        #expect(document.derBytes == prefix + Array(raw.rawRepresentation))
    }
}
