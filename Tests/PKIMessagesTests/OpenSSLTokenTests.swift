import Foundation
import PKIMessages
import SwiftASN1
import Testing
import X509

/// A request made by `openssl ts -query` and answered by OpenSSL's own TSA (`OpenSSLTSA`).
struct TokenScenario: Sendable, CustomTestStringConvertible {
    var name: String
    var digest = "sha256"
    var nonce = true
    var certReq = true
    var policy: String? = OpenSSLTSA.otherPolicy
    var options = OpenSSLTSA.Options()
    /// The serial's INTEGER content octets: OpenSSL increments the serial file before use.
    var tokenSerial: [UInt8] = [0x00, 0x80]

    var testDescription: String { self.name }

    var queryArguments: [String] {
        var arguments = ["ts", "-query", "-data", "data.bin", "-\(self.digest)"]
        if !self.nonce { arguments.append("-no_nonce") }
        if self.certReq { arguments.append("-cert") }
        if let policy { arguments += ["-tspolicy", policy] }
        return arguments + ["-out", "req.tsq"]
    }

    static let all: [TokenScenario] = [
        TokenScenario(
            name: "sha256 imprint, nonce, certReq, policy 1.2.3.4; ESSCertIDv2 sha256, accuracy, ordering, tsa name"),
        TokenScenario(
            name:
                "sha384 imprint, no nonce, no certReq, default policy; ESSCertIDv2 sha384, 6 digits, no optional fields",
            digest: "sha384",
            nonce: false,
            certReq: false,
            policy: nil,
            options: OpenSSLTSA.Options(
                essCertIDAlgorithm: "sha384",
                clockPrecisionDigits: 6,
                ordering: false,
                tsaName: false,
                accuracy: nil
            )
        ),
        TokenScenario(
            name: "sha512 imprint; signingCertificate (v1, ESSCertID sha1), whole seconds, seconds-only accuracy",
            digest: "sha512",
            options: OpenSSLTSA.Options(essCertIDAlgorithm: "sha1", clockPrecisionDigits: 0, accuracy: "secs:2")
        ),
        TokenScenario(
            name: "sha3-256 imprint, serial file FFFF",
            digest: "sha3-256",
            options: OpenSSLTSA.Options(serial: "FFFF"),
            tokenSerial: [0x01, 0x00, 0x00]
        ),
    ]
}

@Suite("Tokens and responses from OpenSSL's TSA")
struct OpenSSLTokenTests {
    /// How OpenSSL prints GeneralizedTime (`%s %2d %02d:%02d:%02d%.*s %d GMT`, the fraction as written).
    static func opensslTime(_ time: GeneralizedTimeText) -> String {
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let c = time.components
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let day = c.day < 10 ? " \(c.day)" : "\(c.day)"
        let text = time.text
        let fraction = text.firstIndex(of: ".").map { String(text[$0..<text.index(before: text.endIndex)]) } ?? ""
        return "\(months[c.month - 1]) \(day) \(two(c.hour)):\(two(c.minute)):\(two(c.second))\(fraction) \(c.year) GMT"
    }

    /// How OpenSSL prints a non-negative INTEGER (`0x` and BN_bn2hex).
    static func opensslInteger(_ octets: some Collection<UInt8>) -> String {
        "0x" + hex(minimalMagnitude(octets), separator: "")
    }

    static func opensslInteger(_ value: Int?) -> String {
        guard let value else { return "unspecified" }
        var octets: [UInt8] = []
        var rest = value
        repeat {
            octets.insert(UInt8(rest & 0xFF), at: 0)
            rest >>= 8
        } while rest > 0
        return opensslInteger(octets)
    }

    @Test(
        "a granted response from openssl ts -reply parses field by field and re-encodes identically",
        arguments: TokenScenario.all)
    func grantedResponse(_ scenario: TokenScenario) throws {
        try withTemporaryDirectory { directory in
            let tsa = try OpenSSLTSA(in: directory, options: scenario.options)
            try writeFile("Sigillum token \(scenario.name)\n", named: "data.bin", in: directory)
            try openssl(scenario.queryArguments, in: directory)
            try tsa.reply(queryFile: "req.tsq", responseFile: "resp.tsr")
            let request = try TimeStampReq(derEncoded: try readFile(named: "req.tsq", in: directory))
            let encoded = try readFile(named: "resp.tsr", in: directory)
            let text = opensslTextFields(try openssl(["ts", "-reply", "-in", "resp.tsr", "-text"], in: directory))

            // The fixture itself is a valid token by OpenSSL's verifier.
            let verification = try openssl(
                [
                    "ts", "-verify", "-in", "resp.tsr", "-queryfile", "req.tsq", "-CAfile", "ca.pem", "-untrusted",
                    "tsu.pem",
                ],
                in: directory
            )
            #expect(verification.contains("Verification: OK"))

            // TimeStampResp and PKIStatusInfo.
            let response = try assertReencodes(TimeStampResp.self, encoded)
            #expect(response.status == PKIStatusInfo(status: .granted))
            #expect(text["Status"] == "Granted.")
            #expect(text["Failure info"] == "unspecified")
            let token = try #require(try response.parsedToken())

            // TSTInfo against openssl's reading of it and against the request.
            let info = token.tstInfo
            #expect(hex(try derBytes(info)) == hex(token.tstInfoBytes))
            #expect(info.version == 1)
            #expect(text["Version"] == "1")
            #expect(
                info.policy
                    == (try ASN1ObjectIdentifier(dotRepresentation: scenario.policy ?? OpenSSLTSA.defaultPolicy)))
            #expect(text["Policy OID"] == info.policy.description)
            #expect(info.messageImprint == request.messageImprint)
            #expect(
                Array(info.messageImprint.hashedMessage)
                    == (try opensslDigest(scenario.digest, ofFile: "data.bin", in: directory)))
            #expect(text["Hash Algorithm"] == scenario.digest)
            #expect(text["Serial number"] == Self.opensslInteger(info.serialNumber.contentOctets))
            #expect(!info.serialNumber.isNegative)
            #expect(Array(info.serialNumber.contentOctets) == scenario.tokenSerial)
            #expect(text["Time stamp"] == Self.opensslTime(info.genTime))
            let fractionDigits = info.genTime.text.split(separator: ".").dropFirst().first.map { $0.count - 1 } ?? 0
            #expect(fractionDigits <= scenario.options.clockPrecisionDigits)
            switch scenario.options.accuracy {
            case "secs:1, millisecs:500, microsecs:100":
                #expect(info.accuracy == Accuracy(seconds: 1, millis: 500, micros: 100))
                #expect(try info.accuracy.map { hex(try derBytes($0)) } == "30 0A 02 01 01 80 02 01 F4 81 01 64")
            case "secs:2":
                #expect(info.accuracy == Accuracy(seconds: 2))
            default:
                #expect(info.accuracy == nil)
            }
            if let accuracy = info.accuracy {
                let printed = [
                    "\(Self.opensslInteger(accuracy.seconds)) seconds",
                    "\(Self.opensslInteger(accuracy.millis)) millis",
                    "\(Self.opensslInteger(accuracy.micros)) micros",
                ]
                #expect(text["Accuracy"] == printed.joined(separator: ", "))
            } else {
                #expect(text["Accuracy"] == "unspecified")
            }
            #expect(info.ordering == scenario.options.ordering)
            #expect(text["Ordering"] == (scenario.options.ordering ? "yes" : "no"))
            #expect(info.nonce == request.nonce)
            #expect(text["Nonce"] == (info.nonce.map { Self.opensslInteger($0.contentOctets) } ?? "unspecified"))
            let tsuCertificateDER = try tsa.tsuCertificate()
            let tsuCertificate = try Certificate(derEncoded: tsuCertificateDER)
            if scenario.options.tsaName {
                #expect(info.tsa == .directoryName(tsuCertificate.subject))
                #expect(text["TSA"] == "DirName:\(OpenSSLTSA.tsuSubject)")
            } else {
                #expect(info.tsa == nil)
                #expect(text["TSA"] == "unspecified")
            }
            #expect(info.extensions == nil)

            // ContentInfo and SignedData.
            #expect(token.contentInfo.contentType == .CMSContentType.signedData)
            try assertReencodes(ContentInfo.self, Array(try #require(response.timeStampToken).bytes))
            let signedData = try assertReencodes(SignedData.self, Array(token.contentInfo.content.bytes))
            #expect(signedData.version == 3)
            #expect(signedData.digestAlgorithms.map(\.algorithm) == [.HashAlgorithm.sha256])
            #expect(signedData.encapContentInfo.eContentType == .CMSContentType.tstInfo)
            #expect(signedData.crls == nil)
            if scenario.certReq {
                #expect(signedData.certificates?.map { Array($0.bytes) } == [tsuCertificateDER])
                #expect(try token.certificates() == [tsuCertificate])
            } else {
                #expect(signedData.certificates == nil)
            }

            // SignerInfo.
            let signerInfo = try #require(token.signerInfo)
            #expect(signerInfo.version == 1)
            #expect(signerInfo.sid == .issuerAndSerialNumber(IssuerAndSerialNumber(certificate: tsuCertificate)))
            guard case .issuerAndSerialNumber(let sid) = signerInfo.sid else { return }
            #expect(sid.serialNumber.contentOctets == [0x00] + OpenSSLTSA.tsuSerial[...])
            #expect(signerInfo.digestAlgorithm.algorithm == .HashAlgorithm.sha256)
            #expect(
                signerInfo.signatureAlgorithm == AlgorithmIdentifier(algorithm: .SignatureAlgorithm.ecdsaWithSHA256))
            #expect(signerInfo.unsignedAttrs == nil)
            let contentType = try #require(signerInfo.signedAttribute(.CMSAttributeType.contentType)?.attrValues.first)
            #expect(try ASN1ObjectIdentifier(asn1Any: contentType) == .CMSContentType.tstInfo)
            let messageDigest = try #require(
                signerInfo.signedAttribute(.CMSAttributeType.messageDigest)?.attrValues.first)
            #expect(
                Array(try ASN1OctetString(asn1Any: messageDigest).bytes)
                    == (try opensslDigest("sha256", of: token.tstInfoBytes, in: directory)))

            // The signing-certificate attribute: v1 with ess_cert_id_alg sha1, v2 otherwise.
            let algorithm = scenario.options.essCertIDAlgorithm
            let certificateHash = try opensslDigest(algorithm, of: tsuCertificateDER, in: directory)
            if algorithm == "sha1" {
                #expect(try token.signingCertificateV2() == nil)
                let v1 = try #require(
                    signerInfo.signedAttribute(.CMSAttributeType.signingCertificate)?.attrValues.first)
                // SigningCertificate { certs SEQUENCE OF ESSCertID { certHash } } (RFC 2634 §5.4).
                #expect(hex(try derBytes(v1)) == hex(tlv(0x30, tlv(0x30, tlv(0x30, tlv(0x04, certificateHash))))))
            } else {
                #expect(signerInfo.signedAttribute(.CMSAttributeType.signingCertificate) == nil)
                let v2 = try #require(try token.signingCertificateV2())
                let value = try #require(
                    signerInfo.signedAttribute(.CMSAttributeType.signingCertificateV2)?.attrValues.first)
                #expect(hex(try derBytes(v2)) == hex(try derBytes(value)))
                #expect(v2.certs.count == 1)
                #expect(v2.policies == nil)
                let id = try #require(v2.certs.first)
                #expect(Array(id.certHash) == certificateHash)
                #expect(id.issuerSerial == nil)  // OpenSSL's TSA writes no issuerSerial
                if algorithm == "sha256" {
                    #expect(id.hashAlgorithm == ESSCertIDv2.defaultHashAlgorithm)
                    #expect(!hex(try derBytes(id)).contains(hex(Vector.sha256OID)))
                } else {
                    #expect(id.hashAlgorithm == AlgorithmIdentifier(algorithm: .HashAlgorithm.sha384))
                }
            }

            // The signature covers the signed attributes with the SET tag.
            try CMSTests.expectSignatureVerifies(signerInfo, in: directory)
        }
    }

    @Test(
        "a token with the CA certificate too (-chain) re-encodes its SignedData identically"
    )
    func chainOrder() throws {
        try withTemporaryDirectory { directory in
            let tsa = try OpenSSLTSA(in: directory, options: OpenSSLTSA.Options(includeChain: true))
            try writeFile("chain\n", named: "data.bin", in: directory)
            try openssl(["ts", "-query", "-data", "data.bin", "-sha256", "-cert", "-out", "req.tsq"], in: directory)
            try tsa.reply(queryFile: "req.tsq", responseFile: "resp.tsr")
            let encoded = try readFile(named: "resp.tsr", in: directory)
            // The response keeps the token as received, so it always re-encodes identically.
            let response = try assertReencodes(TimeStampResp.self, encoded)
            let token = try #require(try response.parsedToken())
            let tsuCertificate = try tsa.tsuCertificate()
            let caCertificate = try tsa.caCertificate()
            // OpenSSL writes the signer's certificate first, which here is not the DER SET OF order (the TSU
            // certificate is the longer one, so its length octets sort after the CA's).
            #expect(token.signedData.certificates?.map { Array($0.bytes) } == [tsuCertificate, caCertificate])
            #expect(hex(tsuCertificate.prefix(4)) > hex(caCertificate.prefix(4)))
            let received = Array(token.contentInfo.content.bytes)
            // Certificates are kept in the order received, so SignedData re-encodes byte for byte.
            let reencoded = try derBytes(token.signedData)
            let reparsed = try SignedData(derEncoded: reencoded)
            do {
                expectSameBytes(reencoded, received, "SignedData re-encoded")
                #expect(
                    reparsed.certificates?.map { $0.bytes == tsuCertificate[...] ? "TSU" : "CA" } == ["TSU", "CA"]
                )
            }
        }
    }

    static let rejections: [([String], PKIFailureInfo, String)] = [
        (["-sha256", "-tspolicy", "1.2.3.5"], .unacceptedPolicy, "Requested policy is not supported."),
        (["-md5"], .badAlg, "Message digest algorithm is not supported."),
    ]

    @Test("rejections from openssl ts -reply parse and re-encode identically", arguments: rejections)
    func rejection(queryArguments: [String], failInfo: PKIFailureInfo, statusString: String) throws {
        try withTemporaryDirectory { directory in
            let tsa = try OpenSSLTSA(in: directory)
            try writeFile("rejected\n", named: "data.bin", in: directory)
            try openssl(["ts", "-query", "-data", "data.bin"] + queryArguments + ["-out", "req.tsq"], in: directory)
            try tsa.reply(queryFile: "req.tsq", responseFile: "resp.tsr")
            let encoded = try readFile(named: "resp.tsr", in: directory)
            let response = try assertReencodes(TimeStampResp.self, encoded)
            #expect(
                response.status == PKIStatusInfo(status: .rejection, statusString: [statusString], failInfo: failInfo))
            #expect(response.timeStampToken == nil)
            #expect(try response.parsedToken() == nil)
            #expect(hex(encoded).hasSuffix(hex(try derBytes(failInfo))))
        }
    }
}
