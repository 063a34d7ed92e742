import Foundation
import PKIMessages
import SwiftASN1
import Testing

/// Bad input costs a protocol answer and nothing more. Valid requests are mutated at random (octets replaced, flipped,
/// dropped, inserted or repeated; from a fixed seed, so that a failure can be replayed) and sent to the real daemon,
/// pipelined on keep-alive connections:
/// - every `/tsa` answer is `200 application/timestamp-reply` holding a TimeStampResp whose status agrees with its
///   token; a token is granted only for bytes that parse as a TimeStampReq, and stamps exactly that request's imprint
///   and nonce; the ledger then holds one record per token, and `sigillum ledger verify` finds the chain intact;
/// - every `/ocsp` answer, to POST and to GET, is `200 application/ocsp-response` holding an OCSPResponse; a successful
///   one answers bytes that parse as an OCSPRequest, one SingleResponse per CertID, each CertID echoed exactly;
/// - the daemon serves on.
@Suite("Mutated requests")
struct MutatedRequestTests {
    /// SplitMix64: a small generator with a seed.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64

        mutating func next() -> UInt64 {
            self.state &+= 0x9E37_79B9_7F4A_7C15
            var mixed = self.state
            mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
            mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
            return mixed ^ (mixed >> 31)
        }
    }

    /// One to six edits of `bytes`.
    static func mutate(_ bytes: [UInt8], using generator: inout SeededGenerator) -> [UInt8] {
        var result = bytes
        for _ in 0..<Int.random(in: 1...6, using: &generator) {
            let index = result.isEmpty ? 0 : Int.random(in: 0..<result.count, using: &generator)
            let length = Int.random(in: 1...8, using: &generator)
            switch Int.random(in: 0..<5, using: &generator) {
            case 0 where !result.isEmpty:
                result[index] = UInt8.random(in: 0...255, using: &generator)
            case 1 where !result.isEmpty:
                result[index] ^= 1 << UInt8.random(in: 0..<8, using: &generator)
            case 2 where !result.isEmpty:
                result.removeSubrange(index..<min(result.count, index + length))
            case 4 where !result.isEmpty:
                result.insert(contentsOf: result[index..<min(result.count, index + 5 * length)], at: index)
            default:
                result.insert(
                    contentsOf: (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }, at: index)
            }
        }
        return result
    }

    static func post(_ path: String, _ mediaType: String, _ body: [UInt8]) -> [UInt8] {
        let head =
            "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: \(mediaType)\r\nContent-Length: \(body.count)\r\n\r\n"
        return Array(head.utf8) + body
    }

    /// `GET /ocsp/{percent-encoded base64}` (RFC 6960 App. A.1).
    static func get(_ request: [UInt8]) -> [UInt8] {
        let encoded = Data(request).base64EncodedString()
            .replacingOccurrences(of: "+", with: "%2B").replacingOccurrences(of: "/", with: "%2F")
            .replacingOccurrences(of: "=", with: "%3D")
        return Array("GET /ocsp/\(encoded) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)
    }

    /// Sends `requests` on one connection, `window` at a time, and returns the answers in order.
    static func exchange(_ requests: [[UInt8]], port: Int, window: Int = 25) async throws -> [RawHTTP.Response] {
        try await RawHTTP.withConnection(port: port) { connection in
            var answers: [RawHTTP.Response] = []
            for start in stride(from: 0, to: requests.count, by: window) {
                let part = requests[start..<min(requests.count, start + window)]
                try await connection.send(part.flatMap { $0 })
                let received = try await connection.responses(part.count)
                try #require(
                    received.count == part.count, "\(answers.count + received.count) answers: \(connection.evidence)")
                answers += received
            }
            return answers
        }
    }

    /// The body of a `200` answer with `mediaType`, parsed by `parse`; an issue naming `what` when it is none.
    static func parsedBody<T>(
        of answer: RawHTTP.Response, _ mediaType: String, as what: String, _ label: String,
        _ parse: ([UInt8]) throws -> T
    ) -> T? {
        #expect(answer.status == 200, "\(label): \(answer)")
        #expect(answer.header("content-type") == mediaType, "\(label): \(answer)")
        guard let parsed = try? parse(answer.body) else {
            Issue.record("\(label): the answer is no \(what): \(hex(answer.body))")
            return nil
        }
        return parsed
    }

    static func der(_ value: some DERSerializable) throws -> [UInt8] {
        var coder = DER.Serializer()
        try coder.serialize(value)
        return coder.serializedBytes
    }

    @Test func mutatedRequestsGetProtocolAnswers() async throws {
        try await withDevelopmentDaemon("mutated") { state, daemon, banner in
            var generator = SeededGenerator(state: 0x5167_111A)

            // TSA: 600 mutations of a request with nonce and certReq.
            let stampRequest = try Requests.make(digest: randomBytes(32))
            let stampInputs = (0..<600).map { _ in Self.mutate(stampRequest, using: &generator) }
            let stampAnswers = try await Self.exchange(
                stampInputs.map { Self.post("/tsa", "application/timestamp-query", $0) }, port: banner.tsaPort)
            var grantedSerials: [String] = []
            for (index, (input, answer)) in zip(stampInputs, stampAnswers).enumerated() {
                let label = "TSA mutation \(index) (\(hex(input)))"
                guard
                    let received = Self.parsedBody(
                        of: answer, "application/timestamp-reply", as: "TimeStampResp", label, ReceivedResponse.init)
                else { continue }
                guard let token = received.token else {
                    #expect(received.status == .rejection && received.failInfo != nil, "\(label): \(received.status)")
                    continue
                }
                #expect(received.status == .granted, "\(label): a token with status \(received.status)")
                guard let request = try? TimeStampReq(derEncoded: input) else {
                    Issue.record("\(label): a token for bytes that are no TimeStampReq")
                    continue
                }
                #expect(
                    Array(token.tstInfo.messageImprint.hashedMessage)
                        == Array(request.messageImprint.hashedMessage), "\(label): the imprint")
                #expect(
                    token.tstInfo.nonce.map { Array($0.contentOctets) }
                        == request.nonce.map { Array($0.contentOctets) },
                    "\(label): the nonce")
                grantedSerials.append(hex(token.tstInfo.serialNumber.contentOctets))
            }
            #expect(Set(grantedSerials).count == grantedSerials.count, "a serial was issued twice")

            // OCSP: 400 mutations of an `openssl ocsp` request with nonce, each sent by POST and by GET.
            let statusRequest = try await OpenSSLOCSP.makeRequest(
                issuer: state + "/pki/issuing-ca.pem", certificates: [state + "/pki/ee-good.pem"], nonce: true,
                out: state + "/../ocsp-request.der")
            let statusInputs = (0..<400).map { _ in Self.mutate(statusRequest, using: &generator) }
            let posted = try await Self.exchange(
                statusInputs.map { Self.post("/ocsp", "application/ocsp-request", $0) }, port: banner.tsaPort)
            let fetched = try await Self.exchange(statusInputs.map { Self.get($0) }, port: banner.tsaPort)
            var successful = 0
            for (index, input) in statusInputs.enumerated() {
                for (method, answer) in [("POST", posted[index]), ("GET", fetched[index])] {
                    let label = "OCSP \(method) mutation \(index) (\(hex(input)))"
                    guard
                        let received = Self.parsedBody(
                            of: answer, "application/ocsp-response", as: "OCSPResponse", label,
                            ReceivedOCSPResponse.init)
                    else { continue }
                    guard received.status == .successful else {
                        #expect(received.basic == nil, "\(label): responseBytes with status \(received.status)")
                        continue
                    }
                    successful += 1
                    guard let request = try? OCSPRequest(derEncoded: input) else {
                        Issue.record("\(label): a successful answer to bytes that are no OCSPRequest")
                        continue
                    }
                    let asked = try request.tbsRequest.requestList.map { try Self.der($0.reqCert) }
                    let answered = try received.singles.map { try Self.der($0.certID) }
                    #expect(answered == asked, "\(label): the CertIDs answered differ from those asked")
                }
            }

            // One audit record per token, and the chain intact.
            let rows = try await auditRows(state + "/ledger.sqlite")
            #expect(rows.count == grantedSerials.count, "\(rows.count) records for \(grantedSerials.count) tokens")
            for serial in grantedSerials {
                #expect(rows[serial] != nil, "serial \(serial) has no audit record")
            }
            let verify = try await Tool.sigillum(["ledger", "verify", "--state-dir", state])
            #expect(
                verify.status == 0 && verify.output.contains("ledger intact: \(grantedSerials.count) records"),
                "\(verify)")
            // Mutations that keep the request valid are frequent enough for both paths to have been taken.
            #expect(grantedSerials.count > 10 && grantedSerials.count < 590, "\(grantedSerials.count) tokens")
            #expect(successful > 10, "\(successful) successful OCSP answers")
            try await HTTPTests.expectStillServing(banner)
            #expect(daemon.isRunning)
        }
    }
}
