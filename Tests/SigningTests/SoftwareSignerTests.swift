import Crypto
import Foundation
import Signing
import Testing
import X509
import _CryptoExtras

/// One way of signing: a key type, and for RSA the padding and hash.
struct SchemeCase: Sendable, CustomTestStringConvertible {
    enum KeyKind: Sendable {
        case p256, p384, p521, rsa2048, ed25519
    }

    var keyKind: KeyKind
    var rsaPadding: SoftwareSigner.RSAPadding = .pkcs1v15
    var rsaDigest: DigestAlgorithm = .sha256
    var expected: SignatureScheme
    /// `openssl dgst` digest option, or nil for Ed25519 (`openssl pkeyutl -rawin`).
    var opensslDigest: String?

    var testDescription: String {
        self.expected.name
    }

    func makeKey() throws -> SoftwareKey {
        switch self.keyKind {
        case .p256: SoftwareKey(P256.Signing.PrivateKey())
        case .p384: SoftwareKey(P384.Signing.PrivateKey())
        case .p521: SoftwareKey(P521.Signing.PrivateKey())
        case .rsa2048: SoftwareKey(try _RSA.Signing.PrivateKey(keySize: .bits2048))
        case .ed25519: SoftwareKey(Curve25519.Signing.PrivateKey())
        }
    }

    var certificateSignatureAlgorithm: Certificate.SignatureAlgorithm {
        switch self.keyKind {
        case .p256: .ecdsaWithSHA256
        case .p384: .ecdsaWithSHA384
        case .p521: .ecdsaWithSHA512
        case .rsa2048: .sha256WithRSAEncryption
        case .ed25519: .ed25519
        }
    }

    func makeSigner() throws -> SoftwareSigner {
        let key = try self.makeKey()
        return SoftwareSigner(
            key: key,
            certificate: try selfSignedCertificate(for: key, signatureAlgorithm: self.certificateSignatureAlgorithm),
            rsaPadding: self.rsaPadding,
            rsaDigest: self.rsaDigest
        )
    }

    static let all: [SchemeCase] = [
        SchemeCase(keyKind: .p256, expected: .ecdsaP256SHA256, opensslDigest: "-sha256"),
        SchemeCase(keyKind: .p384, expected: .ecdsaP384SHA384, opensslDigest: "-sha384"),
        SchemeCase(keyKind: .p521, expected: .ecdsaP521SHA512, opensslDigest: "-sha512"),
        SchemeCase(keyKind: .rsa2048, expected: .rsaPKCS1v15SHA256, opensslDigest: "-sha256"),
        SchemeCase(keyKind: .rsa2048, rsaDigest: .sha384, expected: .rsaPKCS1v15SHA384, opensslDigest: "-sha384"),
        SchemeCase(keyKind: .rsa2048, rsaDigest: .sha512, expected: .rsaPKCS1v15SHA512, opensslDigest: "-sha512"),
        SchemeCase(keyKind: .rsa2048, rsaPadding: .pss, expected: .rsaPSSSHA256, opensslDigest: "-sha256"),
        SchemeCase(
            keyKind: .rsa2048,
            rsaPadding: .pss,
            rsaDigest: .sha384,
            expected: .rsaPSSSHA384,
            opensslDigest: "-sha384"
        ),
        SchemeCase(
            keyKind: .rsa2048,
            rsaPadding: .pss,
            rsaDigest: .sha512,
            expected: .rsaPSSSHA512,
            opensslDigest: "-sha512"
        ),
        SchemeCase(keyKind: .ed25519, expected: .ed25519, opensslDigest: nil),
    ]
}

@Suite("SoftwareSigner")
struct SoftwareSignerTests {
    @Test("signs, and the signature verifies with the certificate's public key", arguments: SchemeCase.all)
    func signsAndVerifies(_ testCase: SchemeCase) async throws {
        let signer = try testCase.makeSigner()
        #expect(signer.scheme == testCase.expected)
        #expect(signer.kind == "software")
        #expect(signer.health == .available)
        let message = Array("TSTInfo stand-in \(testCase.expected.name)".utf8)
        let signature = try signer.sign(message)
        #expect(signer.scheme.isValidSignature(signature, for: message, publicKey: signer.certificate.publicKey))
        // A changed message or signature does not verify.
        #expect(!signer.scheme.isValidSignature(signature, for: message + [0], publicKey: signer.certificate.publicKey))
        var flipped = signature
        flipped[flipped.count / 2] ^= 0x01
        #expect(!signer.scheme.isValidSignature(flipped, for: message, publicKey: signer.certificate.publicKey))
        // The probe agrees.
        try await signer.verifyKeyMatchesCertificate()
    }

    @Test("the signature verifies with the openssl CLI", arguments: SchemeCase.all)
    func opensslVerifies(_ testCase: SchemeCase) async throws {
        let signer = try testCase.makeSigner()
        let message = Array("openssl cross-check \(testCase.expected.name)".utf8)
        let signature = try signer.sign(message)
        try await withTemporaryDirectory { directory in
            try writeFile("\(directory)/msg.bin", message)
            try writeFile("\(directory)/sig.bin", signature)
            try writeFile("\(directory)/pub.pem", try publicKeyPEM(signer.certificate))
            var arguments: [String]
            if let digest = testCase.opensslDigest {
                arguments = ["dgst", digest, "-verify", "pub.pem", "-signature", "sig.bin"]
                if testCase.expected.family == .rsaPSS {
                    let md = String(digest.dropFirst())
                    arguments += [
                        "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest",
                        "-sigopt", "rsa_mgf1_md:\(md)",
                    ]
                }
                arguments.append("msg.bin")
            } else {
                arguments = [
                    "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin", "-in", "msg.bin", "-sigfile",
                    "sig.bin",
                ]
            }
            let result = try openssl(arguments, in: directory)
            #expect(result.status == 0, "openssl \(arguments.joined(separator: " ")): \(result.output)")
            #expect(result.output.contains("Verified"), "\(result.output)")
        }
    }

    @Test("PSS salt is as long as the hash: openssl refuses another salt length")
    func pssSaltLength() async throws {
        let signer = try SchemeCase.all.first { $0.expected == .rsaPSSSHA384 }.map { try $0.makeSigner() }
        let pssSigner = try #require(signer)
        let message = Array("salt".utf8)
        let signature = try pssSigner.sign(message)
        try await withTemporaryDirectory { directory in
            try writeFile("\(directory)/msg.bin", message)
            try writeFile("\(directory)/sig.bin", signature)
            try writeFile("\(directory)/pub.pem", try publicKeyPEM(pssSigner.certificate))
            let verify = { (saltLength: String) in
                try openssl(
                    "dgst", "-sha384", "-verify", "pub.pem", "-signature", "sig.bin",
                    "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:\(saltLength)",
                    "-sigopt", "rsa_mgf1_md:sha384", "msg.bin",
                    in: directory
                )
            }
            #expect(try verify("48").status == 0)
            #expect(try verify("32").status != 0)
        }
    }

    @Test("scheme digests and names")
    func schemeProperties() {
        #expect(SignatureScheme.ed25519.digest == .sha512)
        #expect(SignatureScheme.ed25519.family == .ed25519)
        #expect(SignatureScheme.ecdsaP384SHA384.digest == .sha384)
        #expect(SignatureScheme.ecdsaP521SHA512.family == .ecdsa)
        #expect(SignatureScheme.rsaPSSSHA512.digest == .sha512)
        #expect(SignatureScheme.rsaPSSSHA512.family == .rsaPSS)
        #expect(SignatureScheme.rsaPKCS1v15SHA384.family == .rsaPKCS1v15)
        #expect(SignatureScheme.rsaPSSSHA256 != SignatureScheme.rsaPKCS1v15SHA256)
        #expect(SignatureScheme.rsaPSSSHA384.name == "rsa-pss-sha384")
        #expect(DigestAlgorithm.sha256.name == "SHA-256")
        #expect(DigestAlgorithm.sha384.hash(Array("abc".utf8)).count == 48)
        #expect(
            DigestAlgorithm.sha256.hash(Array("abc".utf8))
                == Array(SHA256.hash(data: Array("abc".utf8)))
        )
    }

    @Test("a signer is usable through the protocol from many tasks at once")
    func concurrentSigning() async throws {
        let signer: any Signer = try SchemeCase.all[0].makeSigner()
        let message = Array("concurrent".utf8)
        let results = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<64 {
                group.addTask {
                    let signature = try await signer.sign(message)
                    return signer.scheme.isValidSignature(
                        signature, for: message, publicKey: signer.certificate.publicKey)
                }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.count == 64)
        #expect(results.allSatisfy { $0 })
    }
}

@Suite("Signer probe")
struct SignerProbeTests {
    @Test("a key paired with another key's certificate fails with keyCertificateMismatch", arguments: SchemeCase.all)
    func mismatch(_ testCase: SchemeCase) async throws {
        let key = try testCase.makeKey()
        let other = try testCase.makeKey()
        let otherCertificate = try selfSignedCertificate(
            for: other,
            commonName: "Somebody Else",
            signatureAlgorithm: testCase.certificateSignatureAlgorithm
        )
        let signer = SoftwareSigner(
            key: key,
            certificate: otherCertificate,
            rsaPadding: testCase.rsaPadding,
            rsaDigest: testCase.rsaDigest
        )
        let error = await #expect(throws: SignerError.self) {
            try await signer.verifyKeyMatchesCertificate()
        }
        #expect(error?.code == .keyCertificateMismatch)
        #expect(error?.reason.contains("Somebody Else") == true, "\(String(describing: error))")
    }

    @Test("a key of another type than the certificate's fails with keyCertificateMismatch")
    func typeMismatch() async throws {
        let ecKey = SoftwareKey(P256.Signing.PrivateKey())
        let edKey = SoftwareKey(Curve25519.Signing.PrivateKey())
        let edCertificate = try selfSignedCertificate(for: edKey, signatureAlgorithm: .ed25519)
        let signer = SoftwareSigner(key: ecKey, certificate: edCertificate)
        let error = await #expect(throws: SignerError.self) {
            try await signer.verifyKeyMatchesCertificate()
        }
        #expect(error?.code == .keyCertificateMismatch)
    }

    @Test("errors compare by code only")
    func errorEquality() throws {
        let first = #expect(throws: SignerError.self) { try KeyFileReader.parseKey("nonsense", source: "one") }
        let second = #expect(throws: SignerError.self) { try KeyFileReader.parseKey([0x01, 0x02], source: "two") }
        #expect(first == second)
        #expect(first?.code == .notAKey)
    }
}
