import Crypto
import Foundation
import PKCS11Signing
import Signing
import SwiftASN1
import Testing
import X509
import _CryptoExtras

/// The PKCS#11 tests against a real SoftHSM2 token, one at a time: SoftHSM2 reads `SOFTHSM2_CONF`, a
/// process-wide variable, at `C_Initialize`, and each test has its own token directory.
@Suite(
    "PKCS11 with SoftHSM2",
    .serialized,
    .enabled(if: softHSMAvailable, "SoftHSM2 is not installed (scripts/install-deps.sh test installs it)")
)
struct PKCS11TokenTests {}

extension PKCS11TokenTests {
    @Suite("PKCS11 signatures made on the token")
    struct Signatures {
        @Test("EC P-256: ECDSA on the token, certificate from the token, verified by swift-crypto and openssl")
        func ecdsaP256() async throws {
            try await SoftHSM.with { hsm in
                try hsm.initializeToken(label: "TSA")
                let module = try loadInterposedModule()
                defer { module.finalize() }
                let ca = try TestCA()
                let (key, certificate) = try provisionKey(
                    hsm,
                    module: module,
                    token: "TSA",
                    label: "tsa-ec",
                    type: .ecP256,
                    ca: ca
                )
                #expect(key.id.count == 20, "the default CKA_ID is the SHA-1 of the public key")
                let signer = try await PKCS11Signer(
                    configuration: hsm.configuration(token: "TSA", key: .label("tsa-ec")),
                    module: module,
                    logger: quietLogger
                )
                #expect(signer.scheme == .ecdsaP256SHA256)
                #expect(signer.certificate == certificate)
                #expect(signer.chain.isEmpty)
                #expect(signer.kind == "pkcs11")
                #expect(signer.health == .available)
                let publicKey = try #require(P256.Signing.PublicKey(certificate.publicKey))
                for index in 0..<4 {
                    let message = Array("time-stamp token \(index)".utf8)
                    let signature = try await signer.sign(message)
                    let parsed = try P256.Signing.ECDSASignature(derRepresentation: signature)
                    #expect(publicKey.isValidSignature(parsed, for: SHA256.hash(data: message)))
                    #expect(signer.scheme.isValidSignature(signature, for: message, publicKey: certificate.publicKey))
                    #expect(
                        try opensslVerifies(
                            signature,
                            message: message,
                            publicKey: certificate.publicKey,
                            digest: "sha256",
                            in: hsm.directory
                        )
                    )
                }
                await signer.close()
                #expect(signer.health != .available)
                let closed = try await #require(throws: PKCS11Error.self) {
                    _ = try await signer.sign([1, 2, 3])
                }
                #expect(closed.code == .shutDown)
            }
        }

        @Test("EC P-384 signs with SHA-384")
        func ecdsaP384() async throws {
            try await SoftHSM.with { hsm in
                try hsm.initializeToken(label: "OCSP")
                let module = try loadInterposedModule()
                defer { module.finalize() }
                let (_, certificate) = try provisionKey(
                    hsm,
                    module: module,
                    token: "OCSP",
                    label: "ocsp-ec384",
                    type: .ecP384,
                    ca: try TestCA()
                )
                let signer = try await PKCS11Signer(
                    configuration: hsm.configuration(token: "OCSP", key: .label("ocsp-ec384")),
                    module: module,
                    logger: quietLogger
                )
                #expect(signer.scheme == .ecdsaP384SHA384)
                let message = Array("OCSP BasicResponse tbsResponseData".utf8)
                let signature = try await signer.sign(message)
                #expect(
                    try opensslVerifies(
                        signature,
                        message: message,
                        publicKey: certificate.publicKey,
                        digest: "sha384",
                        in: hsm.directory
                    )
                )
                await signer.close()
            }
        }

        @Test("RSA-2048 PKCS#1 v1.5 and PSS on the token, certificate and chain from files, verified by both")
        func rsa2048() async throws {
            try await SoftHSM.with { hsm in
                try hsm.initializeToken(label: "TSA")
                let module = try loadInterposedModule()
                defer { module.finalize() }
                let ca = try TestCA()
                let (key, certificate) = try provisionKey(
                    hsm,
                    module: module,
                    token: "TSA",
                    label: "tsa-rsa",
                    type: .rsa2048,
                    ca: ca,
                    storeCertificate: false
                )
                let certificateFile = "\(hsm.directory)/tsa.pem"
                let chainFile = "\(hsm.directory)/chain.pem"
                try Data((try certificate.serializeAsPEM().pemString + "\n").utf8)
                    .write(to: URL(fileURLWithPath: certificateFile))
                let caCertificate = try ca.issue(for: Certificate.PublicKey(ca.key.publicKey), commonName: "CA copy")
                // The chain file starts with the signer's own certificate, which the signer skips.
                try Data(
                    (try certificate.serializeAsPEM().pemString + "\n" + caCertificate.serializeAsPEM().pemString + "\n")
                        .utf8
                ).write(to: URL(fileURLWithPath: chainFile))

                var configuration = hsm.configuration(
                    token: "TSA",
                    key: .id(key.id),
                    certificate: .file(path: certificateFile)
                )
                configuration.chainFile = chainFile
                let pkcs1 = try await PKCS11Signer(configuration: configuration, module: module, logger: quietLogger)
                #expect(pkcs1.scheme == .rsaPKCS1v15SHA256)
                #expect(pkcs1.certificate == certificate)
                #expect(pkcs1.chain == [caCertificate])
                let message = Array("SignedAttributes of a time-stamp token".utf8)
                let signature = try await pkcs1.sign(message)
                #expect(signature.count == 256)
                let rsaKey = try #require(_RSA.Signing.PublicKey(certificate.publicKey))
                #expect(
                    rsaKey.isValidSignature(
                        _RSA.Signing.RSASignature(rawRepresentation: signature),
                        for: SHA256.hash(data: message),
                        padding: .insecurePKCS1v1_5
                    )
                )
                #expect(
                    try opensslVerifies(
                        signature,
                        message: message,
                        publicKey: certificate.publicKey,
                        digest: "sha256",
                        in: hsm.directory
                    )
                )
                await pkcs1.close()

                configuration.rsaPadding = .rsaPSS
                let pss = try await PKCS11Signer(configuration: configuration, module: module, logger: quietLogger)
                #expect(pss.scheme == .rsaPSSSHA256)
                let pssSignature = try await pss.sign(message)
                #expect(
                    rsaKey.isValidSignature(
                        _RSA.Signing.RSASignature(rawRepresentation: pssSignature),
                        for: SHA256.hash(data: message),
                        padding: .PSS
                    )
                )
                #expect(
                    try opensslVerifies(
                        pssSignature,
                        message: message,
                        publicKey: certificate.publicKey,
                        digest: "sha256",
                        options: ["rsa_padding_mode:pss", "rsa_pss_saltlen:32", "rsa_mgf1_md:sha256"],
                        in: hsm.directory
                    )
                )
                // PSS is randomised: two signatures of one message differ, and both verify.
                #expect(try await pss.sign(message) != pssSignature)
                await pss.close()
            }
        }

        @Test("RSA without CKM_SHA256_RSA_PKCS falls back to CKM_RSA_PKCS over a DigestInfo made on the host")
        func rsaDigestInfoFallback() async throws {
            try await SoftHSM.with { hsm in
                try hsm.initializeToken(label: "TSA")
                let module = try loadInterposedModule()
                defer { module.finalize() }
                let (_, certificate) = try provisionKey(
                    hsm,
                    module: module,
                    token: "TSA",
                    label: "tsa-rsa",
                    type: .rsa2048,
                    ca: try TestCA()
                )
                Interposed.hide([0x40, 0x41, 0x42])  // CKM_SHA{256,384,512}_RSA_PKCS
                defer { Interposed.hide([]) }
                var configuration = hsm.configuration(token: "TSA", key: .label("tsa-rsa"))
                for digest in [DigestAlgorithm.sha256, .sha384, .sha512] {
                    configuration.rsaDigest = digest
                    let signer = try await PKCS11Signer(
                        configuration: configuration, module: module, logger: quietLogger)
                    let message = Array("DigestInfo \(digest)".utf8)
                    let signature = try await signer.sign(message)
                    #expect(signer.scheme.digest == digest)
                    #expect(signer.scheme.isValidSignature(signature, for: message, publicKey: certificate.publicKey))
                    #expect(
                        try opensslVerifies(
                            signature,
                            message: message,
                            publicKey: certificate.publicKey,
                            digest: digest.name.lowercased().replacingOccurrences(of: "-", with: ""),
                            in: hsm.directory
                        )
                    )
                    await signer.close()
                }
            }
        }

        @Test("Ed25519 (made by OpenSC's pkcs11-tool) signs with CKM_EDDSA")
        func ed25519() async throws {
            try await SoftHSM.with { hsm in
                try hsm.initializeToken(label: "TSA")
                let generated = try run(
                    "/usr/bin/pkcs11-tool",
                    [
                        "--module", softHSMModulePath, "--token-label", "TSA", "--login", "--pin", testPIN,
                        "--keypairgen", "--key-type", "EC:edwards25519", "--label", "tsa-ed", "--id", "ed01",
                    ],
                    environment: ["SOFTHSM2_CONF": hsm.configurationPath]
                )
                try #require(generated.status == 0, "pkcs11-tool: \(generated.output)")
                let spkiFile = "\(hsm.directory)/ed.spki"
                let read = try run(
                    "/usr/bin/pkcs11-tool",
                    [
                        "--module", softHSMModulePath, "--token-label", "TSA", "--read-object", "--type", "pubkey",
                        "--id", "ed01", "--output-file", spkiFile,
                    ],
                    environment: ["SOFTHSM2_CONF": hsm.configurationPath]
                )
                try #require(read.status == 0, "pkcs11-tool: \(read.output)")
                // OpenSC 0.23 writes the public key as PEM.
                let publicKey = try Certificate.PublicKey(
                    pemEncoded: String(decoding: try Data(contentsOf: URL(fileURLWithPath: spkiFile)), as: UTF8.self)
                )
                let module = try loadInterposedModule()
                defer { module.finalize() }
                let certificate = try TestCA().issue(for: publicKey, commonName: "Sigillum Ed25519")
                try PKCS11TokenAdministration.storeCertificate(
                    certificate,
                    module: module,
                    token: .label("TSA"),
                    pin: hsm.pin,
                    label: "tsa-ed",
                    id: [0xED, 0x01]
                )
                let signer = try await PKCS11Signer(
                    configuration: hsm.configuration(token: "TSA", key: .id(hex: "ed01")),
                    module: module,
                    logger: quietLogger
                )
                #expect(signer.scheme == .ed25519)
                let message = Array("pure EdDSA".utf8)
                let signature = try await signer.sign(message)
                #expect(signature.count == 64)
                let key = try #require(Curve25519.Signing.PublicKey(certificate.publicKey))
                #expect(key.isValidSignature(signature, for: message))
                let base = "\(hsm.directory)/ed"
                try Data(message).write(to: URL(fileURLWithPath: "\(base).msg"))
                try Data(signature).write(to: URL(fileURLWithPath: "\(base).sig"))
                let verified = try run(
                    "/usr/bin/openssl",
                    [
                        "pkeyutl", "-verify", "-pubin", "-inkey", spkiFile, "-rawin", "-in", "\(base).msg", "-sigfile",
                        "\(base).sig",
                    ]
                )
                #expect(verified.output.contains("Signature Verified Successfully"), "\(verified.output)")
                await signer.close()
            }
        }
    }
}
