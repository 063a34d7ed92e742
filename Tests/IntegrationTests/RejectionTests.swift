import Foundation
import PKIMessages
import SwiftASN1
import Testing
import X509

/// A request the TSA must refuse, and the PKIFailureInfo RFC 3161 §2.4.2 names for it.
enum RejectionCase: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case unknownHashOID = "unknown hash OID 1.2.3.4"
    case sha1 = "SHA-1 (openssl -sha1), not configured"
    case md5 = "MD5 (openssl -md5), not configured"
    case sha256WithParameters = "SHA-256 with parameters other than NULL"
    case truncated = "truncated DER"
    case trailingGarbage = "trailing bytes after a valid request"
    case emptyBody = "empty body"
    case imprintTooShort = "imprint length mismatch (31 octets for SHA-256)"
    case imprintTooLong = "imprint length mismatch (48 octets for SHA-256)"
    case version2 = "version 2"
    case unknownPolicy = "unknown policy (openssl -tspolicy 1.2.3.4.5)"
    case criticalExtension = "a critical request extension"
    case nonCriticalExtension = "a non-critical request extension"

    var testDescription: String { self.rawValue }

    /// The failInfo the TSA must answer with; `alternatives` also conform.
    var expected: PKIFailureInfo {
        switch self {
        case .unknownHashOID, .sha1, .md5, .sha256WithParameters: .badAlg
        case .truncated, .trailingGarbage, .emptyBody, .imprintTooShort, .imprintTooLong: .badDataFormat
        case .version2: .badRequest
        case .unknownPolicy: .unacceptedPolicy
        case .criticalExtension, .nonCriticalExtension: .unacceptedExtension
        }
    }

    /// RFC 3161 leaves room here: a version the TSA does not know may be read as a malformed request.
    var alternatives: [PKIFailureInfo] { self == .version2 ? [.badDataFormat] : [] }

    /// The request bytes; built with openssl where openssl can make them, by hand otherwise.
    func request(in directory: String) async throws -> [UInt8] {
        let document = directory + "/document.txt"
        try writeFile(document, text: "rejection \(self.rawValue) \(UUID())\n")
        let valid = try Requests.make()
        switch self {
        case .unknownHashOID:
            return try Requests.make(hashAlgorithm: try ASN1ObjectIdentifier(dotRepresentation: "1.2.3.4"))
        case .sha1:
            return try await Requests.openssl(data: document, digest: "sha1", out: directory + "/sha1.tsq")
        case .md5:
            return try await Requests.openssl(data: document, digest: "md5", out: directory + "/md5.tsq")
        case .sha256WithParameters:
            return try Requests.make(parameters: try ASN1Any(erasing: ASN1ObjectIdentifier(dotRepresentation: "1.2.3")))
        case .truncated:
            return Array(valid.dropLast(7))
        case .trailingGarbage:
            return valid + [0x00, 0x00, 0x01]
        case .emptyBody:
            return []
        case .imprintTooShort:
            return try Requests.make(digestLength: 31)
        case .imprintTooLong:
            return try Requests.make(digestLength: 48)
        case .version2:
            return try Requests.make(version: 2)
        case .unknownPolicy:
            return try await Requests.openssl(data: document, policy: "1.2.3.4.5", out: directory + "/policy.tsq")
        case .criticalExtension, .nonCriticalExtension:
            // An arbitrary private extension (under the documentation arc of RFC 5612) with an empty SEQUENCE.
            let unknown = Certificate.Extension(
                oid: try ASN1ObjectIdentifier(dotRepresentation: "1.3.6.1.4.1.32473.99.1"),
                critical: self == .criticalExtension,
                value: [0x30, 0x00]
            )
            return try Requests.make(extensions: [unknown])
        }
    }
}

@Suite("Rejections carry the right PKIFailureInfo and no token")
struct RejectionTests {
    @Test(arguments: RejectionCase.allCases)
    func rejected(_ rejection: RejectionCase) async throws {
        try await withDevelopmentDaemon("reject") { state, _, banner in
            let request = try await rejection.request(in: state)
            let responsePath = state + "/response.tsr"
            let exchange = try await HTTPClient.post(banner.tsaURL, body: request)
            // Once the body is read, the answer is always 200 application/timestamp-reply (RFC 3161 §3.4).
            #expect(exchange.status == 200, "\(exchange)")
            #expect(exchange.contentType == "application/timestamp-reply", "\(exchange)")
            try writeFile(responsePath, exchange.body)

            // Our parser: rejection, the failInfo, no token.
            let response = try ReceivedResponse(exchange.body)
            #expect(response.status == .rejection)
            let accepted = [rejection.expected] + rejection.alternatives
            #expect(
                response.failInfo.map { accepted.contains($0) } == true,
                "failInfo \(response.failInfo.map { "\($0)" } ?? "absent"), expected \(rejection.expected)"
            )
            #expect(response.parsed.timeStampToken == nil, "a rejection carries no token")

            // OpenSSL: the status, the failure text and no TST info.
            let text = try await OpenSSLTS.replyText(responsePath)
            #expect(text.contains("Status: Rejected."), "\(text)")
            let failureLines = accepted.map { "Failure info: \(OpenSSLTS.failureText($0))" }
            #expect(failureLines.contains { text.contains($0) }, "expected one of \(failureLines)\n\(text)")
            #expect(text.contains("TST info:\nNot included."), "\(text)")

            // Generic DER: the failInfo BIT STRING is minimal (X.690 §11.2.2), and nothing follows the status.
            let encoding = try #require(try DERWalk.failInfoEncoding(exchange.body), "no failInfo BIT STRING")
            let bit = try #require(response.failInfo?.bits.first)
            #expect(hex(encoding) == hex(DERWalk.expectedFailInfo(bit: bit)), "PKIFailureInfo encoding")
            #expect(try DERWalk.children(of: exchange.body).count == 1, "TimeStampResp holds only the status")
        }
    }

    /// SHA-1 and MD5 are refused by default (above) and granted when the configuration lists them.
    @Test func weakHashesGrantedWhenConfigured() async throws {
        let pki = try await SharedFixtures.shared.pki(.ecP256)
        try await withTemporaryDirectory("weak") { directory in
            var configuration = DaemonConfiguration(stateDirectory: directory + "/state", pki: pki)
            configuration.acceptedHashAlgorithms = ["sha256", "sha1", "md5"]
            try await withConfiguredDaemon(configuration) { _, banner in
                let document = directory + "/document.txt"
                try writeFile(document, text: "weak \(UUID())\n")
                for digest in ["sha1", "md5"] {
                    let query = "\(directory)/\(digest).tsq"
                    let responsePath = "\(directory)/\(digest).tsr"
                    try await Requests.openssl(data: document, digest: digest, out: query)
                    let response = try await TSAClient.post(file: query, to: banner, responsePath: responsePath)
                    #expect(response.status == .granted, "\(digest): \(response.parsed.status)")
                    let verify = try await OpenSSLTS.verify(
                        response: responsePath,
                        queryFile: query,
                        caFile: pki.rootCA,
                        untrusted: pki.issuingCA
                    )
                    #expect(verify.succeeded && verify.output.contains("Verification: OK"), "\(verify)")
                    let text = try await OpenSSLTS.replyText(responsePath)
                    #expect(text.contains("Hash Algorithm: \(digest)"), "\(text)")
                }
                // SHA-3 is not in this configuration's list: refused.
                let sha3 = try Requests.make(hashAlgorithm: .HashAlgorithm.sha3_256)
                let refused = try await TSAClient.post(sha3, to: banner)
                #expect(refused.failInfo == .badAlg)
            }
        }
    }

    /// SHA-3 and SHA-512 with NULL parameters are granted, and the token's MessageImprint is the request's, byte
    /// for byte (parameters absent or NULL as sent).
    @Test(arguments: [
        ("sha3-256", false), ("sha3-384", false), ("sha3-512", false), ("sha512", true), ("sha256", false),
        ("sha384", true),
    ])
    func imprintEchoedByteForByte(_ digest: String, nullParameters: Bool) async throws {
        try await withDevelopmentDaemon("imprint") { state, _, banner in
            let document = state + "/document.txt"
            try writeFile(document, text: "imprint \(digest) \(UUID())\n")
            let query = state + "/q.tsq"
            let responsePath = state + "/r.tsr"
            let digestValue = try checked(try await Tool.openssl(["dgst", "-\(digest)", "-binary", document])).stdout
            let request: [UInt8]
            if nullParameters {
                // By hand: OpenSSL decides itself whether it writes the NULL.
                let oid: ASN1ObjectIdentifier =
                    digest == "sha512"
                    ? .HashAlgorithm.sha512 : digest == "sha384" ? .HashAlgorithm.sha384 : .HashAlgorithm.sha256
                request = try Requests.make(
                    hashAlgorithm: oid,
                    parameters: AlgorithmIdentifier.nullParameters,
                    digest: Array(digestValue)
                )
                try writeFile(query, request)
            } else {
                request = try await Requests.openssl(data: document, digest: digest, out: query)
            }
            let response = try await TSAClient.post(file: query, to: banner, responsePath: responsePath)
            #expect(response.status == .granted, "\(response.parsed.status)")
            let token = try #require(response.token)
            let requestImprint = try DERWalk.requestImprint(request)
            #expect(hex(try DERWalk.tstInfoImprint(Array(token.tstInfoBytes))) == hex(requestImprint))

            // Independently: OpenSSL extracts the TSTInfo and checks the imprint against the data and the request.
            let tokenPath = state + "/t.der"
            let tstInfoPath = state + "/tst.der"
            try await OpenSSLTS.extractToken(responsePath, to: tokenPath)
            let tstInfo = try await OpenSSLTS.extractTSTInfo(token: tokenPath, to: tstInfoPath)
            #expect(hex(try DERWalk.tstInfoImprint(tstInfo)) == hex(requestImprint), "TSTInfo as OpenSSL extracted it")
            let asn1 = try await OpenSSLTS.asn1parse(tstInfoPath)
            let lines = asn1.split(separator: "\n").map(String.init)
            let oidLine = try #require(lines.firstIndex { $0.contains("d=3") && $0.contains("OBJECT") }, "\(asn1)")
            let hasNull = lines[oidLine + 1].contains("NULL")
            let requestAlgorithm = try #require(try DERWalk.children(of: requestImprint).first)
            let requestHasNull = DERWalk.children(requestAlgorithm).dropFirst().first?.identifier == .null
            #expect(
                hasNull == requestHasNull, "parameters in the token (NULL \(hasNull)) differ from the request\n\(asn1)")
            let pki = state + "/pki"
            let verify = try await OpenSSLTS.verify(
                response: responsePath,
                queryFile: query,
                caFile: pki + "/root-ca.pem",
                untrusted: pki + "/issuing-ca.pem"
            )
            #expect(verify.succeeded && verify.output.contains("Verification: OK"), "\(verify)")
            let byData = try await OpenSSLTS.verify(
                response: responsePath,
                data: document,
                caFile: pki + "/root-ca.pem",
                untrusted: pki + "/issuing-ca.pem"
            )
            #expect(byData.succeeded && byData.output.contains("Verification: OK"), "\(byData)")
        }
    }

    /// An enforced clock gate without NTP servers on a machine whose kernel clock is unsynchronised: nothing proves
    /// UTC, so timeNotAvailable, and /health says why.
    @Test(.enabled(if: Environment.kernelClockIsUnsynchronised, "needs a kernel clock that reports STA_UNSYNC"))
    func kernelClockGateRefuses() async throws {
        let pki = try await SharedFixtures.shared.pki(.ecP256)
        try await withTemporaryDirectory("clock") { directory in
            var configuration = DaemonConfiguration(stateDirectory: directory + "/state", pki: pki)
            configuration.clockEnforce = true
            try await withConfiguredDaemon(configuration) { _, banner in
                let document = directory + "/document.txt"
                try writeFile(document, text: "clock \(UUID())\n")
                let query = directory + "/q.tsq"
                let responsePath = directory + "/r.tsr"
                try await Requests.openssl(data: document, out: query)
                let response = try await TSAClient.post(file: query, to: banner, responsePath: responsePath)
                #expect(response.status == .rejection)
                #expect(response.failInfo == .timeNotAvailable)
                #expect(response.parsed.timeStampToken == nil)
                let text = try await OpenSSLTS.replyText(responsePath)
                #expect(text.contains("Failure info: \(OpenSSLTS.failureText(.timeNotAvailable))"), "\(text)")
                // Bit 14 alone: two content octets, one unused bit (X.690 §11.2.2).
                #expect(try DERWalk.failInfoEncoding(response.der).map(hex) == "0303010002")

                let health = try await HTTPClient.get(banner.healthURL)
                #expect(health.status == 503, "\(health)")
                #expect(health.contentType?.hasPrefix("application/json") == true, "\(health)")
                let body = try JSONSerialization.jsonObject(with: Data(health.body)) as? [String: Any]
                let problems = body?["problems"] as? [String] ?? []
                #expect(problems.contains { $0.contains("clock") && $0.contains("STA_UNSYNC") }, "\(health)")
                #expect(body?["status"] as? String == "unavailable", "\(health)")

                let metrics = try await HTTPClient.get(banner.metricsURL).text
                let refused = HTTPClient.metric(
                    metrics,
                    #"sigillum_tsa_requests_total{outcome="rejection",failinfo="timeNotAvailable"}"#
                )
                #expect(refused == 1, "metrics:\n\(metrics)")
                #expect(HTTPClient.metric(metrics, "sigillum_tsa_tokens_issued_total") ?? 0 == 0)
            }
        }
    }

    /// Every rejection is counted by failInfo in /metrics, and granted requests as tokens.
    @Test func rejectionsAreCountedInMetrics() async throws {
        try await withDevelopmentDaemon("metrics") { state, _, banner in
            _ = try await TSAClient.post(try Requests.make(digestLength: 31), to: banner)
            _ = try await TSAClient.post(try Requests.make(digestLength: 31), to: banner)
            _ = try await TSAClient.post(
                try Requests.make(hashAlgorithm: .HashAlgorithm.md5, digestLength: 16), to: banner)
            _ = try await TSAClient.post(try Requests.make(policy: [1, 2, 3, 4, 5]), to: banner)
            let granted = try await TSAClient.post(try Requests.make(), to: banner)
            #expect(granted.status == .granted)
            let metrics = try await HTTPClient.get(banner.metricsURL)
            #expect(metrics.status == 200)
            #expect(metrics.contentType?.hasPrefix("text/plain") == true, "\(metrics)")
            let text = metrics.text
            let sample = { (outcome: String, failInfo: String) in
                HTTPClient.metric(text, "sigillum_tsa_requests_total{outcome=\"\(outcome)\",failinfo=\"\(failInfo)\"}")
            }
            #expect(sample("rejection", "badDataFormat") == 2, "\(text)")
            #expect(sample("rejection", "badAlg") == 1, "\(text)")
            #expect(sample("rejection", "unacceptedPolicy") == 1, "\(text)")
            #expect(sample("granted", "none") == 1, "\(text)")
            #expect(HTTPClient.metric(text, "sigillum_tsa_tokens_issued_total") == 1, "\(text)")
            #expect(text.contains("sigillum_ledger_"), "ledger metrics\n\(text)")
        }
    }
}
