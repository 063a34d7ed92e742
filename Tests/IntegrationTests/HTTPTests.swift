import Foundation
import PKIMessages
import Testing

/// The HTTP front of RFC 3161 §3.4: media types, limits, methods; and the daemon serves on afterwards.
@Suite("HTTP front")
struct HTTPTests {
    /// After an HTTP-level refusal the daemon still answers a good request with a token.
    static func expectStillServing(_ banner: Banner, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let response = try await TSAClient.post(try Requests.make(), to: banner, sourceLocation: sourceLocation)
        #expect(response.status == .granted, "the daemon stopped serving", sourceLocation: sourceLocation)
        #expect(response.token != nil, sourceLocation: sourceLocation)
    }

    @Test func otherContentTypeIs415() async throws {
        try await withDevelopmentDaemon("http-415") { _, _, banner in
            for type in ["text/plain", "application/x-www-form-urlencoded", "application/ocsp-request"] {
                let exchange = try await HTTPClient.post(banner.tsaURL, body: try Requests.make(), contentType: type)
                #expect(exchange.status == 415, "\(type): \(exchange)")
                #expect(exchange.contentType != "application/timestamp-reply", "\(type): \(exchange)")
            }
            try await Self.expectStillServing(banner)
        }
    }

    @Test func timestampQueryTypeVariantsAndNoTypeAreServed() async throws {
        try await withDevelopmentDaemon("http-types") { _, _, banner in
            // No Content-Type at all (old clients send none): a token.
            let untyped = try await HTTPClient.post(banner.tsaURL, body: try Requests.make(), contentType: nil)
            #expect(untyped.status == 200, "\(untyped)")
            #expect(untyped.contentType == "application/timestamp-reply", "\(untyped)")
            #expect(try ReceivedResponse(untyped.body).status == .granted)
            // Media types compare case-insensitively and may carry parameters (RFC 9110 §8.3.1).
            for type in ["application/timestamp-query; charset=binary", "Application/TimeStamp-Query"] {
                let exchange = try await HTTPClient.post(banner.tsaURL, body: try Requests.make(), contentType: type)
                #expect(exchange.status == 200, "\(type): \(exchange)")
                #expect(try ReceivedResponse(exchange.body).status == .granted, "\(type)")
            }
        }
    }

    @Test func bodyOverTheLimitIs413() async throws {
        try await withDevelopmentDaemon("http-413") { _, _, banner in
            let body = randomBytes(20 * 1024)
            // With Content-Length (curl announces it; with and without `Expect: 100-continue`).
            let announced = try await HTTPClient.post(banner.tsaURL, body: body)
            #expect(announced.status == 413, "\(announced)")
            let sentWhole = try await HTTPClient.post(banner.tsaURL, body: body, extraArguments: ["-H", "Expect:"])
            #expect(sentWhole.status == 413, "\(sentWhole)")
            // Chunked (curl then sends no Content-Length): no length to check first; the body is cut at the limit.
            // `%{size_upload}` shows curl did send more than the limit, so the 413 is about the chunked body.
            let chunked = try await HTTPClient.post(
                banner.tsaURL,
                body: body,
                extraArguments: ["-H", "Transfer-Encoding: chunked", "-H", "Expect:", "-w", "%{size_upload}"]
            )
            #expect(chunked.status == 413, "\(chunked)")
            #expect(
                (Int(chunked.curl.output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) > 16384,
                "\(chunked.curl)")
            // The same chunked upload written by hand, in 4 KiB chunks.
            var raw = Array(
                "POST /tsa HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/timestamp-query\r\nTransfer-Encoding: chunked\r\n\r\n"
                    .utf8
            )
            for _ in 0..<5 { raw += Array("1000\r\n".utf8) + randomBytes(4096) + Array("\r\n".utf8) }
            raw += Array("0\r\n\r\n".utf8)
            let answer = try await RawHTTP.exchange(port: banner.tsaPort, request: raw) { $0.contains("\r\n\r\n") }
            #expect(answer.hasPrefix("HTTP/1.1 413"), "chunked 20 KiB by hand: \(answer.prefix(200))")
            try await Self.expectStillServing(banner)
        }
    }

    /// The Content-Length is judged before any of the body is read: headers alone announcing 20 KiB get 413.
    @Test func contentLengthCheckedBeforeTheBodyIsRead() async throws {
        try await withDevelopmentDaemon("http-413-early") { _, _, banner in
            let head =
                "POST /tsa HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/timestamp-query\r\n"
                + "Content-Length: 20480\r\n\r\n"
            let started = ContinuousClock.now
            let answer = try await RawHTTP.exchange(
                port: banner.tsaPort, request: Array(head.utf8), timeout: .seconds(10)
            ) {
                $0.contains("\r\n\r\n")
            }
            #expect(
                answer.hasPrefix("HTTP/1.1 413"),
                "no 413 without the body: \(answer.isEmpty ? "(nothing within 10 s)" : answer)")
            #expect(ContinuousClock.now - started < .seconds(5))
            try await Self.expectStillServing(banner)
        }
    }

    @Test func otherMethodsAre405WithAllow() async throws {
        try await withDevelopmentDaemon("http-405") { _, _, banner in
            for method in ["GET", "PUT", "DELETE"] {
                let exchange = try await HTTPClient.request(banner.tsaURL, ["-X", method])
                #expect(exchange.status == 405, "\(method): \(exchange)")
                #expect(exchange.headers["allow"] == "POST", "\(method): \(exchange)")
            }
            // The admin listener answers the same way for its read-only paths.
            let post = try await HTTPClient.request(banner.healthURL, ["-X", "POST"])
            #expect(post.status == 405, "\(post)")
            #expect(post.headers["allow"]?.contains("GET") == true, "\(post)")
            try await Self.expectStillServing(banner)
        }
    }

    @Test func unknownPathIs404() async throws {
        try await withDevelopmentDaemon("http-404") { _, _, banner in
            for path in ["/", "/nope", "/tsa/extra", "/health"] {
                let exchange = try await HTTPClient.post(banner.publicBase + path, body: try Requests.make())
                #expect(exchange.status == 404, "POST \(path) on the public listener: \(exchange)")
            }
            let adminUnknown = try await HTTPClient.get(banner.adminBase + "/nope")
            #expect(adminUnknown.status == 404, "\(adminUnknown)")
            // The TSA is not served on the admin listener.
            let tsaOnAdmin = try await HTTPClient.post(banner.adminBase + "/tsa", body: try Requests.make())
            #expect(tsaOnAdmin.status == 404, "\(tsaOnAdmin)")
            try await Self.expectStillServing(banner)
        }
    }

    @Test func healthAndMetricsWhenServing() async throws {
        try await withDevelopmentDaemon("http-admin") { _, _, banner in
            let health = try await HTTPClient.get(banner.healthURL)
            #expect(health.status == 200, "\(health)")
            #expect(health.contentType?.hasPrefix("application/json") == true, "\(health)")
            let body = try JSONSerialization.jsonObject(with: Data(health.body)) as? [String: Any]
            #expect(body?["status"] as? String == "ok", "\(health)")
            #expect((body?["problems"] as? [Any])?.isEmpty == true, "\(health)")

            let metrics = try await HTTPClient.get(banner.metricsURL)
            #expect(metrics.status == 200, "\(metrics)")
            #expect(metrics.text.contains("# TYPE sigillum_tsa_requests_total counter"), "\(metrics)")
            #expect(metrics.text.contains("# TYPE sigillum_tsa_tokens_issued_total counter"), "\(metrics)")
        }
    }

    /// A connection that closes without a request, and one that sends half a request line, cost nothing: the
    /// daemon keeps serving.
    @Test func abandonedConnectionsDoNotHurt() async throws {
        try await withDevelopmentDaemon("http-abandon") { _, daemon, banner in
            for _ in 0..<10 {
                _ = try await RawHTTP.exchange(port: banner.tsaPort, request: [], timeout: .milliseconds(50))
                _ = try await RawHTTP.exchange(
                    port: banner.tsaPort, request: Array("POST /ts".utf8), timeout: .milliseconds(50))
            }
            try await Self.expectStillServing(banner)
            #expect(daemon.isRunning)
            // And it does not spin: over one quiet second it uses well under half a second of CPU.
            let before = try Self.cpuSeconds(pid: daemon.pid)
            try await Task.sleep(for: .seconds(1))
            let used = try Self.cpuSeconds(pid: daemon.pid) - before
            #expect(used < 0.5, "sigillumd used \(used) s of CPU in one idle second after abandoned connections")
        }
    }

    /// utime + stime of a process, from /proc/PID/stat (fields 14 and 15, in clock ticks of 1/100 s on Linux).
    static func cpuSeconds(pid: Int32) throws -> Double {
        let stat = readText("/proc/\(pid)/stat")
        guard let close = stat.lastIndex(of: ")") else { throw IntegrationError("cannot read /proc/\(pid)/stat") }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After "pid (comm)": field 3 is at index 0, so utime (14) and stime (15) are at 11 and 12.
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else {
            throw IntegrationError("unexpected /proc/\(pid)/stat: \(stat)")
        }
        return (user + system) / 100
    }

    /// `http.maxRequestBytes` and `http.idleTimeoutSeconds` from the configuration: a 1 KiB limit answers 413 to
    /// 2000 bytes and serves a normal request; a connection idle (or stuck in a half-sent request) is closed.
    @Test func configuredLimitsAndIdleTimeout() async throws {
        let pki = try await SharedFixtures.shared.pki(.ecP256)
        try await withTemporaryDirectory("http-limits") { directory in
            var configuration = DaemonConfiguration(stateDirectory: directory + "/state", pki: pki)
            configuration.maxRequestBytes = 1024
            configuration.idleTimeoutSeconds = 2
            try await withConfiguredDaemon(configuration) { _, banner in
                let tooLarge = try await HTTPClient.post(banner.tsaURL, body: randomBytes(2000))
                #expect(tooLarge.status == 413, "\(tooLarge)")
                // The boundary: exactly the limit is read (and answered badDataFormat), one more octet is not.
                let atLimit = try await HTTPClient.post(banner.tsaURL, body: [UInt8](repeating: 0, count: 1024))
                #expect(atLimit.status == 200, "\(atLimit)")
                #expect(try ReceivedResponse(atLimit.body).failInfo == .badDataFormat)
                let overLimit = try await HTTPClient.post(banner.tsaURL, body: [UInt8](repeating: 0, count: 1025))
                #expect(overLimit.status == 413, "\(overLimit)")
                let chunkedOver = try await HTTPClient.post(
                    banner.tsaURL,
                    body: [UInt8](repeating: 0, count: 1025),
                    extraArguments: ["-H", "Transfer-Encoding: chunked", "-H", "Expect:", "-w", "%{size_upload}"]
                )
                #expect(chunkedOver.status == 413, "\(chunkedOver)")
                // size_upload counts the chunk framing too: at least the 1025 octets went out.
                #expect(
                    (Int(chunkedOver.curl.output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) >= 1025,
                    "\(chunkedOver.curl)"
                )
                let chunkedAt = try await HTTPClient.post(
                    banner.tsaURL,
                    body: [UInt8](repeating: 0, count: 1024),
                    extraArguments: ["-H", "Transfer-Encoding: chunked", "-H", "Expect:"]
                )
                #expect(chunkedAt.status == 200, "\(chunkedAt)")
                try await Self.expectStillServing(banner)

                for (label, partial) in [
                    ("idle", ""), ("half a header block", "POST /tsa HTTP/1.1\r\nHost: 127.0.0.1\r\n"),
                    ("half a body", "POST /tsa HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n0123"),
                ] {
                    let started = ContinuousClock.now
                    _ = try await RawHTTP.exchange(
                        port: banner.tsaPort, request: Array(partial.utf8), timeout: .seconds(15))
                    let waited = ContinuousClock.now - started
                    #expect(waited < .seconds(10), "\(label): the connection was not closed after the 2 s idle timeout")
                    #expect(waited >= .seconds(1), "\(label): closed at once (\(waited)), not by the idle timeout")
                }
            }
        }
    }

    /// `tsa.enabled: false` (Config/sigillumd.example.yaml) starts the daemon without a TSA: `/tsa` is not routed
    /// (404), the banner says the TSA is disabled, and no token is ever granted.
    @Test func disabledTSAGrantsNoTokens() async throws {
        let pki = try await SharedFixtures.shared.pki(.ecP256)
        try await withTemporaryDirectory("http-disabled") { directory in
            var configuration = DaemonConfiguration(stateDirectory: directory + "/state", pki: pki)
            configuration.enabled = false
            let daemon = try DaemonProcess.start(try configuration.write(), logDirectory: directory)
            let granted: Bool
            let evidence: String
            do {
                let deadline = ContinuousClock.now + .seconds(60)
                while daemon.isRunning, Banner.parse(daemon.stdout) == nil, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                }
                guard let banner = Banner.parse(daemon.stdout) else {
                    await daemon.stop()
                    Issue.record("the daemon with tsa.enabled: false did not start\n\(daemon.logs)")
                    return
                }
                #expect(daemon.stdout.contains("TSA (RFC 3161):  disabled"))
                let exchange = try await HTTPClient.post(banner.tsaURL, body: try Requests.make())
                granted = exchange.status == 200 && (try? ReceivedResponse(exchange.body))?.status == .granted
                evidence = "\(exchange)"
                // A disabled TSA is not routed at all.
                #expect(exchange.status == 404, "\(exchange)")
                #expect(banner.tryCommands.isEmpty)
            } catch {
                await daemon.stop()
                throw error
            }
            await daemon.stop()
            #expect(!granted, "tsa.enabled: false, yet /tsa granted a token\n\(evidence)")
        }
    }
}
