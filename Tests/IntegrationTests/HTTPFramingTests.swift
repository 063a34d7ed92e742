import Foundation
import PKIMessages
import Testing

/// The HTTP/1.1 framing of the public listener over raw TCP (RFC 9112): pipelined requests answered in order, a
/// malformed request answered 400 and closed, `Expect: 100-continue`, HTTP/1.0 persistence, the framing of 304 and
/// HEAD answers to OCSP GET, and POST to a responder URL below `/ocsp/`. Every answer carries Date and Server.
@Suite("HTTP/1.1 framing of the public listener")
struct HTTPFramingTests {
    /// The header block of a `POST /tsa` announcing `length` octets, with `fields` added.
    static func tsaHead(length: Int, version: String = "1.1", fields: [String] = []) -> [UInt8] {
        let lines =
            [
                "POST /tsa HTTP/\(version)", "Host: 127.0.0.1", "Content-Type: application/timestamp-query",
                "Content-Length: \(length)",
            ] + fields
        return Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8)
    }

    /// A whole `POST /tsa` with a Content-Length.
    static func tsaPost(_ body: [UInt8], version: String = "1.1", fields: [String] = []) -> [UInt8] {
        self.tsaHead(length: body.count, version: version, fields: fields) + body
    }

    /// Date (an IMF-fixdate, RFC 9110 §6.6.1) and Server, once each.
    static func expectDateAndServer(
        _ response: RawHTTP.Response, _ label: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(
            response.header("date").flatMap(OCSPHTTP.parseDate) != nil && response.count(of: "date") == 1,
            "\(label): no single IMF-fixdate Date field: \(response)", sourceLocation: sourceLocation)
        #expect(
            response.header("server")?.isEmpty == false && response.count(of: "server") == 1,
            "\(label): no single Server field: \(response)", sourceLocation: sourceLocation)
    }

    /// `200 application/timestamp-reply` holding a granted token for `digest` (so that an answer cannot pass for
    /// another request's); returns the token's serial.
    @discardableResult
    static func expectGranted(
        _ response: RawHTTP.Response?, digest: [UInt8], _ label: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> [UInt8]? {
        guard let response else {
            Issue.record("\(label): no complete response", sourceLocation: sourceLocation)
            return nil
        }
        #expect(response.status == 200, "\(label): \(response)", sourceLocation: sourceLocation)
        #expect(
            response.header("content-type") == "application/timestamp-reply", "\(label): \(response)",
            sourceLocation: sourceLocation)
        Self.expectDateAndServer(response, label, sourceLocation: sourceLocation)
        guard let received = try? ReceivedResponse(response.body) else {
            Issue.record("\(label): the body is no TimeStampResp: \(response)", sourceLocation: sourceLocation)
            return nil
        }
        #expect(received.status == .granted, "\(label): \(received.status)", sourceLocation: sourceLocation)
        let stamped = received.token.map { Array($0.tstInfo.messageImprint.hashedMessage) }
        #expect(
            stamped == digest,
            "\(label): the token stamps \(stamped.map(hex) ?? "nothing"), the request asked for \(hex(digest))",
            sourceLocation: sourceLocation)
        return received.serial
    }

    /// A final answer that ends the connection: `connection: close`, Date and Server, then the server closes within
    /// 10 s with nothing after the answer.
    static func expectClosingAnswer(
        _ response: RawHTTP.Response?, _ label: String, on connection: RawHTTP.Connection,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        if let response {
            #expect(response.header("connection") == "close", "\(response)", sourceLocation: sourceLocation)
            Self.expectDateAndServer(response, label, sourceLocation: sourceLocation)
        }
        let closed = try await connection.waitForClose(timeout: .seconds(10))
        #expect(
            closed, "the connection stayed open 10 s after the \(label): \(connection.evidence)",
            sourceLocation: sourceLocation)
        #expect(
            try await connection.unread(after: .zero).isEmpty, "after the \(label): \(connection.evidence)",
            sourceLocation: sourceLocation)
    }

    /// RFC 9112 §9.3.2: `POST /tsa`, `GET /nope` and another `POST /tsa` written in one send are answered in
    /// request order on the one connection (200 granted for the first digest, 404, 200 granted for the second,
    /// two serials), and the connection stays open. A malformed request line is answered 400 with
    /// `connection: close` and the server closes (RFC 9112 §2.2); the daemon serves on. Bytes that fail to parse
    /// behind a complete request (GARBAGE, or anything after `Connection: close`) never cost that request its
    /// answer. A header block over the decoder's limit is answered 431 and closed (RFC 6585 §5). A request target in
    /// absolute-form (`http://host/tsa`, RFC 9112 §3.2.2) is routed by its path; `OPTIONS *` is answered 200 with
    /// the server's methods and `GET *` 400 (RFC 9112 §3.2.4).
    @Test func pipelinedRequestsInOrderAndMalformedRequestLine() async throws {
        try await withDevelopmentDaemon("http-pipelining") { _, daemon, banner in
            let digests = [randomBytes(32), randomBytes(32)]
            let requests = try digests.map { try Requests.make(digest: $0) }
            try await RawHTTP.withConnection(port: banner.tsaPort) { connection in
                try await connection.send(
                    Self.tsaPost(requests[0]) + Array("GET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)
                        + Self.tsaPost(requests[1]))
                let responses = try await connection.responses(3)
                #expect(
                    responses.map(\.status) == [200, 404, 200],
                    "three pipelined requests: \(responses)\n\(connection.evidence)")
                guard responses.count == 3 else { return }
                let first = Self.expectGranted(responses[0], digest: digests[0], "first POST /tsa")
                #expect(responses[1].status == 404, "GET /nope: \(responses[1])")
                Self.expectDateAndServer(responses[1], "GET /nope")
                let second = Self.expectGranted(responses[2], digest: digests[1], "second POST /tsa")
                #expect(
                    first != nil && second != nil && first != second,
                    "serials \(first.map(hex) ?? "none") and \(second.map(hex) ?? "none")")
                // Keep-alive: nothing follows the three answers, and the connection stays open.
                let extra = try await connection.unread(after: .milliseconds(300))
                #expect(extra.isEmpty && connection.ending == nil, "after three answers: \(connection.evidence)")
            }

            // A request the server cannot parse behind a complete one: the complete one is answered (its token
            // is issued and logged either way), then the 400, then the close; NIO's HTTPServerPipelineHandler holds
            // a parse error back until the answer in progress is written.
            do {
                try await RawHTTP.withConnection(port: banner.tsaPort) { connection in
                    let digest = randomBytes(32)
                    try await connection.send(
                        Self.tsaPost(try Requests.make(digest: digest)) + Array("GARBAGE\r\n\r\n".utf8))
                    let responses = try await connection.responses(2)
                    #expect(
                        responses.map(\.status) == [200, 400],
                        "POST /tsa then GARBAGE in one send: \(responses) \(connection.evidence)")
                    if let first = responses.first {
                        Self.expectGranted(first, digest: digest, "POST /tsa before GARBAGE")
                    }
                }
            }
            // The same with a request behind one that says `Connection: close`: that one is answered, with
            // `connection: close`, and the rest ignored.
            do {
                try await RawHTTP.withConnection(port: banner.tsaPort) { connection in
                    let digest = randomBytes(32)
                    try await connection.send(
                        Self.tsaPost(try Requests.make(digest: digest), fields: ["Connection: close"])
                            + Array("GET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
                    let response = try await connection.next()
                    Self.expectGranted(response, digest: digest, "POST /tsa with Connection: close, then GET /nope")
                    #expect(response?.header("connection") == "close", "\(connection.evidence)")
                }
            }

            try await RawHTTP.withConnection(port: banner.tsaPort) { connection in
                try await connection.send("GARBAGE\r\n\r\n")
                let response = try await connection.next()
                #expect(
                    response?.statusLine.hasPrefix("HTTP/1.1 400 ") == true,
                    "GARBAGE: \(response.map { "\($0)" } ?? "no response") \(connection.evidence)")
                try await Self.expectClosingAnswer(response, "400 to GARBAGE", on: connection)
            }
            // RFC 9112 §3.2: an HTTP/1.1 request without a Host field, or with two, is answered 400.
            for (label, head) in [
                ("no Host", "POST /tsa HTTP/1.1\r\nContent-Length: 0\r\n\r\n"),
                ("two Host fields", "POST /tsa HTTP/1.1\r\nHost: a\r\nHost: b\r\nContent-Length: 0\r\n\r\n"),
            ] {
                try await RawHTTP.withConnection(port: banner.tsaPort) { connection in
                    try await connection.send(head)
                    let response = try await connection.next()
                    #expect(response?.status == 400, "\(label): \(connection.evidence)")
                    let closed = try await connection.waitForClose(timeout: .seconds(10))
                    #expect(closed, "\(label): still open 10 s after the 400: \(connection.evidence)")
                }
            }
            // RFC 6585 §5: a header block over the decoder's limit (80 KiB) is 431, and the connection ends.
            try await RawHTTP.withConnection(port: banner.tsaPort) { connection in
                let padding = String(repeating: "a", count: 100_000)
                try await connection.send("POST /tsa HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: \(padding)\r\n\r\n")
                let response = try await connection.next()
                #expect(response?.status == 431, "a 100 kB header field: \(connection.evidence)")
                try await Self.expectClosingAnswer(response, "431 to a 100 kB header field", on: connection)
            }
            // RFC 9112 §3.2.2: the absolute-form of the request target is accepted; the resource is its path.
            try await RawHTTP.withConnection(port: banner.tsaPort) { connection in
                let digest = randomBytes(32)
                let body = try Requests.make(digest: digest)
                let head = [
                    "POST HTTP://127.0.0.1:\(banner.tsaPort)/tsa HTTP/1.1", "Host: 127.0.0.1",
                    "Content-Type: application/timestamp-query", "Content-Length: \(body.count)",
                ]
                try await connection.send(
                    Array((head.joined(separator: "\r\n") + "\r\n\r\n").utf8) + body
                        + Array("GET http://127.0.0.1/nope HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
                let responses = try await connection.responses(2)
                #expect(responses.map(\.status) == [200, 404], "absolute-form: \(connection.evidence)")
                if let first = responses.first {
                    Self.expectGranted(first, digest: digest, "POST in absolute-form")
                }
                // RFC 9112 §3.2.4, RFC 9110 §9.3.7: `OPTIONS *` asks about the server: 200, what it allows, a length
                // of 0; the connection stays open. Another method with `*` is malformed.
                try await connection.send("OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                let options = try await connection.next()
                #expect(options?.status == 200, "OPTIONS *: \(connection.evidence)")
                #expect(options?.header("allow") == "GET, HEAD, POST", "OPTIONS *: \(connection.evidence)")
                #expect(options?.header("content-length") == "0", "OPTIONS *: \(connection.evidence)")
                try await connection.send("GET * HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                let asterisk = try await connection.next()
                #expect(asterisk?.status == 400, "GET *: \(connection.evidence)")
                try await Self.expectClosingAnswer(asterisk, "400 to GET *", on: connection)
            }
            try await HTTPTests.expectStillServing(banner)
            #expect(daemon.isRunning)
        }
    }

    /// RFC 9110 §10.1.1: a `POST /tsa` head with `Expect: 100-continue` gets `HTTP/1.1 100 Continue` before any of
    /// the body is sent, then the token once it is; with a Content-Length over the 16 KiB limit the only answer
    /// is 413 (no 100) and the server closes. RFC 9112 §9.3: an HTTP/1.0 request without keep-alive is answered
    /// with `connection: close` and the server closes; with `Connection: keep-alive` the answer says
    /// `connection: keep-alive` and a second request on the connection is answered. An HTTP/1.0 request with
    /// `Expect: 100-continue` gets no 100 (RFC 9110 §15.2); a 415 given before the body ends the connection.
    @Test func expectContinueAndHTTP10Persistence() async throws {
        try await withDevelopmentDaemon("http-continue") { _, _, banner in
            try await RawHTTP.withConnection(port: banner.tsaPort) { connection in
                let digest = randomBytes(32)
                let request = try Requests.make(digest: digest)
                try await connection.send(Self.tsaHead(length: request.count, fields: ["Expect: 100-continue"]))
                let interim = try await connection.next(timeout: .seconds(10))
                #expect(
                    interim?.statusLine == "HTTP/1.1 100 Continue",
                    "within 10 s of the head: \(interim.map { "\($0)" } ?? "no response") \(connection.evidence)")
                guard interim?.status == 100 else { return }
                try await connection.send(request)
                Self.expectGranted(try await connection.next(), digest: digest, "POST /tsa after 100 Continue")
                #expect(connection.ending == nil, "closed after the answer: \(connection.evidence)")
            }

            try await RawHTTP.withConnection(port: banner.tsaPort) { connection in
                try await connection.send(Self.tsaHead(length: 20 * 1024, fields: ["Expect: 100-continue"]))
                let response = try await connection.next(timeout: .seconds(10))
                let seen = response.map { "\($0)" } ?? "no response"
                #expect(
                    response?.status == 413,
                    "20 KiB announced with Expect: 100-continue: \(seen) \(connection.evidence)")
                try await Self.expectClosingAnswer(response, "413", on: connection)
            }

            // RFC 9110 §10.1.1: a server MUST ignore a 100-continue expectation in an HTTP/1.0 request (§15.2: no
            // 1xx to an HTTP/1.0 client).
            do {
                try await RawHTTP.withConnection(port: banner.tsaPort) { connection in
                    let digest = randomBytes(32)
                    let request = try Requests.make(digest: digest)
                    try await connection.send(
                        Self.tsaHead(length: request.count, version: "1.0", fields: ["Expect: 100-continue"]))
                    let early = try await connection.unread(after: .seconds(2))
                    #expect(early.isEmpty, "HTTP/1.0 head with Expect: 100-continue: \(connection.evidence)")
                    try await connection.send(request)
                    let response = try await connection.next()
                    #expect(response?.status == 200, "first answer: \(response.map { "\($0)" } ?? "none")")
                }
            }

            // An answer before the body (here 415) to a client waiting for 100 Continue ends the connection, or
            // both sides would wait for each other until the idle timeout (RFC 9110 §10.1.1).
            try await RawHTTP.withConnection(port: banner.tsaPort) { connection in
                try await connection.send(
                    "POST /tsa HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n"
                        + "Expect: 100-continue\r\n\r\n")
                let response = try await connection.next()
                #expect(response?.status == 415, "\(connection.evidence)")
                #expect(response?.header("connection") == "close", "\(connection.evidence)")
                let closed = try await connection.waitForClose(timeout: .seconds(10))
                #expect(closed, "415 before the body, still open 10 s later: \(connection.evidence)")
            }

            try await RawHTTP.withConnection(port: banner.tsaPort) { connection in
                let digest = randomBytes(32)
                try await connection.send(Self.tsaPost(try Requests.make(digest: digest), version: "1.0"))
                let response = try await connection.next()
                Self.expectGranted(response, digest: digest, "HTTP/1.0 POST /tsa")
                #expect(response?.header("connection")?.lowercased() == "close", "\(response.map { "\($0)" } ?? "")")
                let closed = try await connection.waitForClose(timeout: .seconds(10))
                #expect(closed, "HTTP/1.0 without keep-alive, still open 10 s later: \(connection.evidence)")
            }

            try await RawHTTP.withConnection(port: banner.tsaPort) { connection in
                for round in 1...2 {
                    let digest = randomBytes(32)
                    let request = try Requests.make(digest: digest)
                    try await connection.send(
                        Self.tsaPost(request, version: "1.0", fields: ["Connection: keep-alive"]))
                    let response = try await connection.next()
                    Self.expectGranted(response, digest: digest, "HTTP/1.0 keep-alive request \(round)")
                    #expect(
                        response?.header("connection")?.lowercased() == "keep-alive",
                        "request \(round): \(response.map { "\($0)" } ?? "none") \(connection.evidence)")
                    #expect(connection.ending == nil, "request \(round): \(connection.evidence)")
                }
            }
        }
    }

    /// OCSP GET framing: `If-None-Match` with the current ETag is answered 304 with ETag and Cache-Control and
    /// without Content-Length (RFC 9110 §8.6, §15.4.5) or body; `HEAD /ocsp/{request}` has GET's header fields
    /// (Content-Length the GET body's) and no body (RFC 9110 §9.3.2), and the connection stays in step. `POST` to a
    /// responder URL below `/ocsp/` is answered as `POST /ocsp`, with the same answer.
    @Test func ocspNotModifiedHeadAndPathsBelowOCSP() async throws {
        try await OCSPStatusTests.withCA("http-framing-ocsp") { directory, pki, endpoint in
            let request = try await OpenSSLOCSP.makeRequest(
                issuer: pki.a.certificate, certificates: [pki.a.good.certificate], out: directory + "/request.der")
            let path = "/ocsp/" + OCSPHTTP.percentEncoded(OCSPHTTP.base64(request))
            let get = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            let port = endpoint.banner.tsaPort
            try await RawHTTP.withConnection(port: port) { connection in
                try await connection.send(get + "\r\n")
                let fullAnswer = try await connection.next()
                let full = try #require(fullAnswer, "no answer to GET: \(connection.evidence)")
                #expect(full.status == 200 && full.header("content-type") == OCSPMessages.responseType, "\(full)")
                #expect(full.header("content-length") == String(full.body.count), "\(full)")
                #expect((try? ReceivedOCSPResponse(full.body))?.status == .successful, "\(full)")
                Self.expectDateAndServer(full, "GET")
                let etag = try #require(full.header("etag"), "no ETag on the GET answer: \(full)")

                try await connection.send(get + "If-None-Match: \(etag)\r\n\r\n")
                let notModifiedAnswer = try await connection.next()
                let notModified = try #require(notModifiedAnswer, "no answer to If-None-Match: \(connection.evidence)")
                #expect(notModified.status == 304, "If-None-Match: \(etag): \(notModified)")
                #expect(notModified.header("content-length") == nil, "a 304 with Content-Length: \(notModified)")
                #expect(notModified.header("etag") == etag, "\(notModified)")
                #expect(notModified.header("cache-control")?.contains("max-age=") == true, "\(notModified)")
                Self.expectDateAndServer(notModified, "304")
                let after304 = try await connection.unread(after: .milliseconds(500))
                #expect(after304.isEmpty, "octets after the 304's header fields: \(connection.evidence)")

                try await connection.send("HEAD \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                let headAnswer = try await connection.next(afterHEAD: true)
                let head = try #require(headAnswer, "no answer to HEAD: \(connection.evidence)")
                #expect(head.status == 200, "HEAD: \(head)")
                #expect(
                    head.header("content-length") == String(full.body.count),
                    "HEAD states another length than GET's \(full.body.count) octets: \(head)")
                for name in ["content-type", "etag", "last-modified", "expires"] {
                    #expect(head.header(name) == full.header(name), "\(name): HEAD \(head)\nGET \(full)")
                }
                #expect(
                    Set(head.fields.map(\.name)) == Set(full.fields.map(\.name)),
                    "HEAD and GET differ in their fields:\nHEAD \(head)\nGET \(full)")
                Self.expectDateAndServer(head, "HEAD")
                let afterHead = try await connection.unread(after: .milliseconds(500))
                #expect(afterHead.isEmpty, "octets after the HEAD answer's header fields: \(connection.evidence)")

                // In step: the next GET on the connection is answered with the same answer.
                try await connection.send(get + "\r\n")
                let again = try await connection.next()
                #expect(again?.status == 200 && again?.body == full.body, "\(again.map { "\($0)" } ?? "none")")
                #expect(connection.ending == nil, "\(connection.evidence)")
            }

            try await RawHTTP.withConnection(port: port) { connection in
                var answers: [String: [UInt8]] = [:]
                for path in ["/ocsp", "/ocsp/some/path"] {
                    let head =
                        "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: \(OCSPMessages.requestType)\r\n"
                        + "Content-Length: \(request.count)\r\n\r\n"
                    try await connection.send(Array(head.utf8) + request)
                    let answer = try await connection.next()
                    let response = try #require(answer, "no answer to POST \(path): \(connection.evidence)")
                    #expect(response.status == 200, "POST \(path): \(response)")
                    #expect(response.header("content-type") == OCSPMessages.responseType, "POST \(path): \(response)")
                    #expect(
                        (try? ReceivedOCSPResponse(response.body))?.status == .successful, "POST \(path): \(response)")
                    Self.expectDateAndServer(response, "POST \(path)")
                    answers[path] = response.body
                }
                #expect(
                    answers["/ocsp/some/path"] == answers["/ocsp"],
                    "POST /ocsp/some/path is answered otherwise than POST /ocsp: \(answers.mapValues { hex($0) })")
            }
        }
    }

    /// Sends `request` `count` times in one go on one connection and reads nothing until the counter `sample` stops
    /// moving (the same twice, half a second apart; at most 30 s), which must happen before half the requests are
    /// answered; then reads every answer and returns them.
    static func pipelineWithoutReading(
        _ request: [UInt8], count: Int, counter sample: String, port: Int, metricsURL: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> [RawHTTP.Response] {
        let all = Array([[UInt8]](repeating: request, count: count).joined())
        return try await RawHTTP.withConnection(port: port) { connection in
            // The send may block until the answers are read: it runs beside the reads.
            let sender = Task { try await connection.send(all) }
            var value = -1.0
            var previous = -2.0
            let deadline = ContinuousClock.now + .seconds(30)
            while value != previous, value < Double(count), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(500))
                previous = value
                value = HTTPClient.metric(try await HTTPClient.get(metricsURL).text, sample) ?? -1
            }
            // What the kernel's buffers hold (about 4 MiB of answers on Linux's default tcp_wmem) bounds it.
            #expect(
                value > 0 && value < Double(count / 2),
                "\(sample) while the client read nothing: \(value) of \(count)", sourceLocation: sourceLocation)
            let responses = try await connection.responses(count, timeout: .seconds(30))
            try await sender.value
            #expect(
                responses.count == count, "answers read: \(responses.count)\n\(connection.evidence)",
                sourceLocation: sourceLocation)
            return responses
        }
    }

    /// Backpressure: a client that pipelines requests and reads none of the answers makes the daemon stop reading
    /// once the answers fill the socket buffers, so it neither issues tokens for it nor buffers answers without
    /// bound. (Before, 10 000 requests sent in one go were all stamped and buffered within seconds.) When the
    /// client reads, every request is answered, in order, and every token is logged.
    @Test func aClientThatReadsNoAnswersStopsTheServerReading() async throws {
        try await withDevelopmentDaemon("http-backpressure") { _, _, banner in
            let count = 10_000
            let responses = try await Self.pipelineWithoutReading(
                Self.tsaPost(try Requests.make(digest: randomBytes(32))), count: count,
                counter: "sigillum_tsa_tokens_issued_total", port: banner.tsaPort, metricsURL: banner.metricsURL)
            #expect(responses.allSatisfy { $0.status == 200 }, "every pipelined request is answered 200")
            // Granted tokens with their own serials (a sample: parsing all would take longer than the rest).
            let sample = responses.prefix(50) + responses.suffix(50)
            let serials = Set(sample.compactMap { (try? ReceivedResponse($0.body))?.serial })
            #expect(serials.count == sample.count, "distinct serials in the sample: \(serials.count)")
            let metrics = try await HTTPClient.get(banner.metricsURL).text
            #expect(HTTPClient.metric(metrics, "sigillum_tsa_tokens_issued_total") == Double(count))
        }
    }

    /// The same for answers given while their request is read, whose flush waits for the end of the event loop's
    /// round: 20 000 pipelined `GET /ocsp/{request}` (served from the pre-signed cache) with no answer read stop
    /// the daemon reading well before half of them are answered; read, every one is answered 200 with the same
    /// bytes, in order, and the daemon serves on.
    @Test func aClientThatReadsNoOCSPAnswersStopsTheServerReading() async throws {
        try await withDevelopmentDaemon("http-backpressure-ocsp") { state, daemon, banner in
            let request = try await OpenSSLOCSP.makeRequest(
                issuer: state + "/pki/issuing-ca.pem", certificates: [state + "/pki/ee-good.pem"],
                out: state + "/../request.der")
            let get =
                "GET /ocsp/\(OCSPHTTP.percentEncoded(OCSPHTTP.base64(request))) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            let responses = try await Self.pipelineWithoutReading(
                Array(get.utf8), count: 20_000,
                counter: "sigillum_ocsp_responses_total{status=\"successful\",source=\"cache\"}", port: banner.tsaPort,
                metricsURL: banner.metricsURL)
            let first = responses.first?.body ?? []
            #expect(
                responses.allSatisfy { $0.status == 200 && $0.body == first },
                "every pipelined GET is answered 200 with the cached answer")
            #expect((try? ReceivedOCSPResponse(first))?.status == .successful)
            try await HTTPTests.expectStillServing(banner)
            #expect(daemon.isRunning)
        }
    }
}
