import Foundation
import PKIMessages
import SwiftASN1
import Testing
import X509

/// A TSU key and signature scheme the daemon is run with.
enum TSUProfile: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case ecP256 = "ec-p256"
    case ecP384 = "ec-p384"
    case rsa2048PKCS1 = "rsa-2048 pkcs1"
    case rsa2048PSS = "rsa-2048 pss"
    case ed25519 = "ed25519"

    var keyType: TSUKeyType {
        switch self {
        case .ecP256: .ecP256
        case .ecP384: .ecP384
        case .rsa2048PKCS1, .rsa2048PSS: .rsa2048
        case .ed25519: .ed25519
        }
    }

    var rsaPadding: String { self == .rsa2048PSS ? "pss" : "pkcs1" }
    var testDescription: String { self.rawValue }
}

/// Which independent check established that a token's signature and chain hold.
enum IndependentCheck: String, Sendable {
    /// `openssl ts -verify` (signature, ESS signingCertificateV2, chain, EKU, imprint / request).
    case tsVerify = "openssl ts -verify"
    /// `openssl cms -verify -purpose timestampsign` (signature, chain, EKU) + imprint compared by hand.
    case cmsVerify = "openssl cms -verify"
    /// `openssl pkeyutl -verify -rawin` on the signed attributes + messageDigest + `openssl verify` of the chain.
    case rawSignature = "openssl pkeyutl -verify -rawin"
}

@Suite("Tokens verify with OpenSSL for every TSU key type")
struct TimeStampVerificationTests {
    /// For each TSU key: `openssl ts -query` with and without `-no_nonce` and `-cert`, POST with curl, verify.
    @Test(arguments: TSUProfile.allCases)
    func tokensVerifyWithOpenSSL(_ profile: TSUProfile) async throws {
        let pki = try await SharedFixtures.shared.pki(profile.keyType)
        try await withTemporaryDirectory("verify") { directory in
            var configuration = DaemonConfiguration(stateDirectory: directory + "/state", pki: pki)
            configuration.rsaPadding = profile.rsaPadding
            let document = directory + "/document.txt"
            try writeFile(document, text: "Sigillum end-to-end \(profile.rawValue) \(UUID())\n")

            try await withConfiguredDaemon(configuration) { _, banner in
                for nonce in [true, false] {
                    for cert in [true, false] {
                        let name = "\(nonce ? "nonce" : "no_nonce")-\(cert ? "cert" : "no_cert")"
                        let query = "\(directory)/\(name).tsq"
                        let responsePath = "\(directory)/\(name).tsr"
                        let tokenPath = "\(directory)/\(name).token.der"
                        try await Requests.openssl(data: document, nonce: nonce, cert: cert, out: query)
                        let response = try await TSAClient.post(file: query, to: banner, responsePath: responsePath)

                        // Our parser's view.
                        #expect(response.status == .granted, "\(name): \(response.parsed.status)")
                        let token = try #require(response.token, "\(name): granted without a token")
                        #expect(
                            (token.signedData.certificates ?? []).count == (cert ? 1 : 0),
                            "\(name): certReq \(cert) but the token carries \((token.signedData.certificates ?? []).count) certificates"
                        )
                        #expect((token.tstInfo.nonce != nil) == nonce, "\(name): nonce presence")

                        // OpenSSL's view.
                        let text = try await OpenSSLTS.replyText(responsePath)
                        #expect(text.contains("Status: Granted."), "\(name):\n\(text)")
                        #expect(text.contains(nonce ? "Nonce: 0x" : "Nonce: unspecified"), "\(name):\n\(text)")
                        try await OpenSSLTS.extractToken(responsePath, to: tokenPath)
                        let certificates = try checked(
                            try await Tool.openssl([
                                "pkcs7", "-inform", "DER", "-in", tokenPath, "-print_certs", "-noout",
                            ])
                        ).output
                        let subjects = certificates.split(separator: "\n").filter { $0.hasPrefix("subject=") }
                        #expect(
                            subjects.count == (cert ? 1 : 0), "\(name): openssl pkcs7 -print_certs:\n\(certificates)")

                        let check = try await Self.verifyIndependently(
                            profile: profile,
                            pki: pki,
                            responsePath: responsePath,
                            tokenPath: tokenPath,
                            query: query,
                            document: document,
                            certificateIncluded: cert,
                            directory: directory + "/\(name)"
                        )
                        // ec-p256, ec-p384 and RSA PKCS#1 v1.5 must pass `openssl ts -verify` itself.
                        if profile == .ecP256 || profile == .ecP384 || profile == .rsa2048PKCS1 {
                            #expect(check == .tsVerify, "\(profile) \(name)")
                        }
                        try await Self.expectAlgorithmIdentifiers(profile: profile, tokenPath: tokenPath)
                    }
                }
            }
        }
    }

    /// The SignerInfo's algorithm identifiers as OpenSSL prints them: ECDSA without parameters (RFC 5758 §3.2),
    /// RSA PKCS#1 v1.5 with NULL (RFC 8017), RSASSA-PSS with explicit parameters (RFC 4056), Ed25519 without
    /// parameters and with id-sha512 as the digest (RFC 8419 §3).
    static func expectAlgorithmIdentifiers(profile: TSUProfile, tokenPath: String) async throws {
        let printed = try checked(
            try await Tool.openssl(["cms", "-cmsout", "-print", "-inform", "DER", "-in", tokenPath])
        ).output
        let lines = printed.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        func algorithm(after label: String) -> (String, String)? {
            guard let index = lines.lastIndex(of: label), index + 2 < lines.count else { return nil }
            return (lines[index + 1], lines[index + 2])
        }
        let signature = algorithm(after: "signatureAlgorithm:")
        let digest = algorithm(after: "digestAlgorithm:")
        let expected: (signature: String, parameter: String, digest: String) =
            switch profile {
            case .ecP256: ("algorithm: ecdsa-with-SHA256 (1.2.840.10045.4.3.2)", "parameter: <ABSENT>", "sha256")
            case .ecP384: ("algorithm: ecdsa-with-SHA384 (1.2.840.10045.4.3.3)", "parameter: <ABSENT>", "sha384")
            case .rsa2048PKCS1:
                ("algorithm: sha256WithRSAEncryption (1.2.840.113549.1.1.11)", "parameter: NULL", "sha256")
            case .rsa2048PSS: ("algorithm: rsassaPss (1.2.840.113549.1.1.10)", "parameter: SEQUENCE:", "sha256")
            case .ed25519: ("algorithm: ED25519 (1.3.101.112)", "parameter: <ABSENT>", "sha512")
            }
        #expect(signature?.0 == expected.signature, "\(profile): signatureAlgorithm\n\(printed)")
        #expect(signature?.1 == expected.parameter, "\(profile): signatureAlgorithm parameters\n\(printed)")
        #expect(
            digest?.0.hasPrefix("algorithm: \(expected.digest) (") == true, "\(profile): digestAlgorithm\n\(printed)")
        #expect(digest?.1 == "parameter: <ABSENT>", "\(profile): digestAlgorithm parameters\n\(printed)")
        #expect(lines.contains("version: 1"), "SignerInfo version 1 with issuerAndSerialNumber (RFC 5652 §5.3)")
    }

    /// Verifies one token with OpenSSL and returns which check applied.
    ///
    /// `openssl ts -verify` is tried first. OpenSSL 3.0's TS code verifies through its PKCS#7 layer, which knows
    /// neither RSASSA-PSS (it checks PKCS#1 v1.5 padding: "PKCS7_signatureVerify: signature failure") nor Ed25519
    /// ("evp_pkey_signature_init: operation not supported for this keytype"). Then:
    /// - RSA-PSS: `openssl cms -verify -purpose timestampsign` (OpenSSL's CMS layer decodes RSASSA-PSS-params).
    /// - Ed25519: OpenSSL 3.0's CMS cannot verify Ed25519 with signed attributes either ("eddsa_digest_signverify_init:
    ///   invalid digest", openssl/openssl#11915, #32248), so the signature is checked as RFC 8419 defines it:
    ///   `openssl pkeyutl -verify -rawin` over the DER of the signed attributes (SET tag), the messageDigest
    ///   attribute against `openssl dgst -sha512` of the TSTInfo, and the chain with `openssl verify -purpose
    ///   timestampsign`.
    static func verifyIndependently(
        profile: TSUProfile,
        pki: DevelopmentPKI,
        responsePath: String,
        tokenPath: String,
        query: String,
        document: String,
        certificateIncluded: Bool,
        directory: String
    ) async throws -> IndependentCheck {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // Without -cert the token has no certificate: the TSU certificate must come from -untrusted.
        let untrusted = certificateIncluded ? pki.issuingCA : pki.issuingAndTSU
        let byData = try await OpenSSLTS.verify(
            response: responsePath,
            data: document,
            caFile: pki.rootCA,
            untrusted: untrusted
        )
        if byData.succeeded && byData.output.contains("Verification: OK") {
            // The same against the request: imprint (algorithm and value), nonce and policy echoed.
            let byQuery = try await OpenSSLTS.verify(
                response: responsePath,
                queryFile: query,
                caFile: pki.rootCA,
                untrusted: untrusted
            )
            #expect(byQuery.succeeded && byQuery.output.contains("Verification: OK"), "\(byQuery)")
            return .tsVerify
        }

        let tstInfoPath = directory + "/tstinfo.der"
        let documentDigest = try checked(
            try await Tool.openssl(["dgst", "-sha256", "-binary", document])
        ).stdout
        switch profile {
        case .rsa2048PSS:
            var arguments = [
                "cms", "-verify", "-inform", "DER", "-in", tokenPath, "-binary", "-CAfile", pki.rootAndIssuing,
                "-purpose", "timestampsign", "-out", tstInfoPath,
            ]
            if !certificateIncluded { arguments += ["-certfile", pki.tsa] }
            let cms = try await Tool.openssl(arguments)
            try #require(
                cms.succeeded && cms.errorOutput.contains("CMS Verification successful"),
                "ts -verify failed:\n\(byData)\nand cms -verify failed:\n\(cms)"
            )
            let imprint = try DERWalk.children(of: try DERWalk.tstInfoImprint(try readFile(tstInfoPath)))
            #expect(
                imprint.last.flatMap(DERWalk.primitive) == Array(documentDigest),
                "the imprint is not the document's SHA-256")
            let printed = try checked(
                try await Tool.openssl(["cms", "-cmsout", "-print", "-inform", "DER", "-in", tokenPath])
            ).output
            #expect(printed.contains("rsassaPss"), "signatureAlgorithm is not RSASSA-PSS:\n\(printed)")
            return .cmsVerify

        case .ed25519:
            let tstInfo = try await OpenSSLTS.extractTSTInfo(
                token: tokenPath, to: tstInfoPath, signerCertificate: pki.tsa)
            let parts = try DERWalk.signerInfoParts(token: try readFile(tokenPath))
            let attributesPath = directory + "/signed-attributes.der"
            let signaturePath = directory + "/signature.bin"
            let publicKeyPath = directory + "/tsu-public.pem"
            try writeFile(attributesPath, parts.signedAttributes)
            try writeFile(signaturePath, parts.signature)
            try checked(try await Tool.openssl(["x509", "-in", pki.tsa, "-pubkey", "-noout", "-out", publicKeyPath]))
            let signature = try await Tool.openssl([
                "pkeyutl", "-verify", "-pubin", "-inkey", publicKeyPath, "-rawin", "-in", attributesPath, "-sigfile",
                signaturePath,
            ])
            #expect(
                signature.succeeded && signature.output.contains("Signature Verified Successfully"),
                "ts -verify failed:\n\(byData)\nand the raw Ed25519 check failed:\n\(signature)"
            )
            let tstDigest = try checked(try await Tool.openssl(["dgst", "-sha512", "-binary", tstInfoPath])).stdout
            #expect(parts.messageDigest == Array(tstDigest), "messageDigest is not SHA-512(TSTInfo) (RFC 8419 §3)")
            let printed = try checked(
                try await Tool.openssl(["cms", "-cmsout", "-print", "-inform", "DER", "-in", tokenPath])
            ).output
            #expect(printed.contains("algorithm: ED25519"), "\(printed)")
            #expect(
                printed.contains("digestAlgorithm: \n          algorithm: sha512"),
                "RFC 8419: id-sha512 digest\n\(printed)")
            let chain = try await Tool.openssl([
                "verify", "-CAfile", pki.rootCA, "-untrusted", pki.issuingCA, "-purpose", "timestampsign", pki.tsa,
            ])
            #expect(chain.succeeded && chain.output.contains(": OK"), "\(chain)")
            let imprint = try DERWalk.children(of: try DERWalk.tstInfoImprint(tstInfo))
            #expect(
                imprint.last.flatMap(DERWalk.primitive) == Array(documentDigest),
                "the imprint is not the document's SHA-256")
            // The ESS signingCertificateV2 names the TSU certificate: its SHA-256, computed by OpenSSL.
            let tsaDER = try checked(try await Tool.openssl(["x509", "-in", pki.tsa, "-outform", "DER"])).stdout
            let tsaHash = try checked(try await Tool.openssl(["dgst", "-sha256", "-binary"], stdin: Array(tsaDER)))
                .stdout
            let token = try TimeStampToken(derEncoded: try readFile(tokenPath))
            #expect(try token.signingCertificateV2()?.certs.first?.certHash == Array(tsaHash)[...])
            return .rawSignature

        default:
            Issue.record("openssl ts -verify failed for \(profile):\n\(byData)")
            return .tsVerify
        }
    }

    /// The client CLI: `sigillum stamp` produces a response `openssl ts -verify` accepts; `sigillum inspect`
    /// prints it.
    @Test func sigillumStampAndInspect() async throws {
        try await withDevelopmentDaemon("stamp") { state, _, banner in
            let document = state + "/stamped.txt"
            try writeFile(document, text: "stamp me \(UUID())\n")
            let out = state + "/stamped.tsr"
            let stamp = try await Tool.sigillum([
                "stamp", document, "--url", banner.tsaURL, "--hash", "sha384", "--out", out,
            ])
            #expect(stamp.succeeded, "\(stamp)")
            let verify = try await OpenSSLTS.verify(
                response: out,
                data: document,
                caFile: state + "/pki/root-ca.pem",
                untrusted: state + "/pki/issuing-ca.pem"
            )
            #expect(verify.succeeded && verify.output.contains("Verification: OK"), "\(verify)")
            let text = try await OpenSSLTS.replyText(out)
            #expect(text.contains("Hash Algorithm: sha384"), "\(text)")

            let inspect = try await Tool.sigillum(["inspect", out])
            #expect(inspect.succeeded, "\(inspect)")
            #expect(inspect.output.contains("Status: Granted."), "\(inspect)")
            let serial = try #require(OpenSSLTS.serialHex(inReplyText: text))
            #expect(inspect.output.uppercased().contains(serial.uppercased()), "inspect does not show serial \(serial)")
        }
    }

    /// The token's CMS structure, read by OpenSSL: SignedData v3, id-ct-TSTInfo, the signed attributes RFC 3161 /
    /// RFC 5816 ask for, and a TSTInfo whose genTime, accuracy, ordering and tsa fields follow the configuration.
    @Test func tokenStructureAsOpenSSLReadsIt() async throws {
        try await withDevelopmentDaemon("structure") { state, _, banner in
            let document = state + "/document.txt"
            try writeFile(document, text: "structure \(UUID())\n")
            let query = state + "/q.tsq"
            let responsePath = state + "/r.tsr"
            let tokenPath = state + "/t.der"
            let tstInfoPath = state + "/tst.der"
            try await Requests.openssl(data: document, out: query)
            _ = try await TSAClient.post(file: query, to: banner, responsePath: responsePath)
            try await OpenSSLTS.extractToken(responsePath, to: tokenPath)
            let cms = try checked(
                try await Tool.openssl(["cms", "-cmsout", "-print", "-inform", "DER", "-in", tokenPath])
            ).output
            #expect(cms.contains("contentType: pkcs7-signedData"), "\(cms)")
            #expect(cms.contains("    version: 3"), "SignedData version 3 (RFC 5652 §5.1)\n\(cms)")
            #expect(cms.contains("eContentType: id-smime-ct-TSTInfo"), "\(cms)")
            #expect(cms.contains("object: contentType"), "\(cms)")
            #expect(cms.contains("object: messageDigest"), "\(cms)")
            #expect(cms.contains("object: id-smime-aa-signingCertificateV2"), "RFC 5816 signingCertificateV2\n\(cms)")
            #expect(cms.contains("algorithm: ecdsa-with-SHA256"), "\(cms)")

            // DER SET OF: the signed attributes sorted by their encodings (X.690 §11.6).
            let signedAttributes = try DERWalk.signerInfoParts(token: try readFile(tokenPath)).signedAttributes
            let encodings = try DERWalk.children(of: signedAttributes).map { Array($0.encodedBytes) }
            #expect(encodings.count >= 3)
            #expect(
                encodings == encodings.sorted { $0.lexicographicallyPrecedes($1) }, "signed attributes not in DER order"
            )

            try await OpenSSLTS.extractTSTInfo(token: tokenPath, to: tstInfoPath)
            let asn1 = try await OpenSSLTS.asn1parse(tstInfoPath)
            let genTime = try #require(asn1.split(separator: "\n").first { $0.contains("GENERALIZEDTIME") })
            let timeText = String(genTime.split(separator: ":").last ?? "")
            #expect(
                timeText.wholeMatch(of: /\d{14}(\.\d*[1-9])?Z/) != nil,
                "genTime \(timeText): UTC, Z, no trailing zero in the fraction (RFC 3161 §2.4.2)"
            )
            // genTime is now (the test machine's clock; the daemon reads the same one).
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "yyyyMMddHHmmss"
            let issuedAt = try #require(formatter.date(from: String(timeText.prefix(14))), "genTime \(timeText)")
            #expect(abs(issuedAt.timeIntervalSinceNow) < 30, "genTime \(timeText) is not now (\(Date()))")
            #expect(
                !asn1.contains("BOOLEAN"), "ordering FALSE is the DEFAULT and must be absent (X.690 §11.5)\n\(asn1)")
            let text = try await OpenSSLTS.replyText(responsePath)
            #expect(text.contains("Accuracy: unspecified seconds, 0x01F4 millis, unspecified micros"), "\(text)")
            #expect(text.contains("Ordering: no"), "\(text)")
            #expect(text.contains("TSA: DirName:"), "the TSA name is included\n\(text)")
            #expect(text.contains("Policy OID: \(DaemonConfiguration.developmentPolicy)"), "\(text)")
        }
    }

    /// The nonce is echoed as the client's INTEGER, byte for byte, whatever its length or sign (RFC 3161 §2.4.2).
    @Test(
        arguments: [
            ("negative", [0xFF, 0x01]), ("zero", [0x00]), ("leading 00 before a high bit", [0x00, 0x80]),
            ("160 bits", [0x7F] + [UInt8](repeating: 0xA5, count: 19)),
            ("40 octets", [UInt8](repeating: 0x01, count: 40)),
        ] as [(String, [UInt8])])
    func nonceEchoedExactly(_ label: String, _ content: [UInt8]) async throws {
        try await withDevelopmentDaemon("nonce") { state, _, banner in
            let digest = randomBytes(32)
            let request = TimeStampReq(
                messageImprint: MessageImprint(
                    hashAlgorithm: AlgorithmIdentifier(algorithm: .HashAlgorithm.sha256),
                    hashedMessage: digest[...]
                ),
                nonce: try DERInteger(derIntegerBytes: content[...]),
                certReq: true
            )
            var coder = DER.Serializer()
            try coder.serialize(request)
            let query = state + "/q.tsq"
            let responsePath = state + "/r.tsr"
            try writeFile(query, coder.serializedBytes)
            let response = try await TSAClient.post(file: query, to: banner, responsePath: responsePath)
            #expect(response.status == .granted, "\(label): \(response.parsed.status)")
            let token = try #require(response.token)

            // Generic DER: the request's nonce INTEGER and the TSTInfo's, as encoded.
            let requestNonce = try #require(
                try DERWalk.children(of: coder.serializedBytes).dropFirst(2).first { $0.identifier == .integer }
            )
            let tstNonce = try #require(
                try DERWalk.children(of: Array(token.tstInfoBytes)).dropFirst(4).first { $0.identifier == .integer },
                "\(label): the TSTInfo has no nonce"
            )
            #expect(hex(requestNonce.encodedBytes) == hex(tstNonce.encodedBytes), "\(label)")
            // OpenSSL compares the nonce (and imprint) with the request.
            let verify = try await OpenSSLTS.verify(
                response: responsePath,
                queryFile: query,
                caFile: state + "/pki/root-ca.pem",
                untrusted: state + "/pki/issuing-ca.pem"
            )
            #expect(verify.succeeded && verify.output.contains("Verification: OK"), "\(label): \(verify)")
        }
    }
}
