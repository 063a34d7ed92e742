import ClockDiscipline
import NIOCore
import NIOPosix
import Testing

/// The SNTP client against an in-process fake server on 127.0.0.1 that answers with crafted replies.
@Suite struct SNTPClientTests {
    /// Short enough to keep the failure cases quick, long enough for a loaded 2-core machine.
    /// For the cases that must wait the timeout out; short to keep them quick.
    static let timeout = Duration.milliseconds(400)
    /// For the cases that end with a reply: generous, so a loaded machine cannot turn a reply into a timeout.
    let client = SNTPClient(timeout: .seconds(3))
    let quick = SNTPClient(timeout: SNTPClientTests.timeout)

    @Test func measuresTheOffsetOfAServerTwoAndAHalfSecondsAhead() async throws {
        let result = try await self.probe { request, now in
            [Replies.good(to: request, now: now, shift: 2_500_000_000).encoded]
        }
        let sample = try result.get()
        #expect(abs(sample.offsetNanoseconds - 2_500_000_000) < 50_000_000, "offset \(sample.offsetNanoseconds) ns")
        #expect(sample.delayNanoseconds >= 0)
        #expect(sample.delayNanoseconds < 200_000_000)
        #expect(sample.stratum == 2)
        #expect(sample.leap == .noWarning)
        #expect(sample.referenceID == "192.0.2.1")
        #expect(sample.precision == -20)
        #expect(sample.version == 4)
        #expect(abs(sample.rootDelayNanoseconds - 12_000_000) < 20_000)
        #expect(abs(sample.rootDispersionNanoseconds - 3_000_000) < 20_000)
        #expect(sample.localReceiveNanoseconds >= sample.localTransmitNanoseconds)
    }

    @Test func theRequestIsMinimalAndTheCookieIsNotTheClock() async throws {
        let server = try await FakeNTPServer.start { request, now in [Replies.good(to: request, now: now).encoded] }
        let result = await self.client.probe(server.address)
        await server.stop()
        let sample = try result.get()
        let raw = try #require(server.requests.first)
        #expect(raw.count == 48)
        #expect(raw[0] == 0x23)
        #expect(raw[1..<40].allSatisfy { $0 == 0 })
        // The transmit field is random: read as a time, it is nowhere near T1 (2^-32 chance of a false alarm
        // per second of window; a whole day is allowed for here).
        let field = try #require(NTPPacket(decoding: raw)).transmitTimestamp
        let asTime = field.unixNanoseconds(near: sample.localTransmitNanoseconds)
        #expect(abs(asTime - sample.localTransmitNanoseconds) > 86_400_000_000_000)
    }

    @Test func exactArithmeticOfOffsetAndDelay() throws {
        // T1 = base, T2 = base + 2.51 s, T3 = base + 2.511 s, T4 = base + 21 ms:
        // θ = (2.51 + 2.49) / 2 = 2.5 s, δ = 21 ms − 1 ms = 20 ms.
        let base: Int64 = 1_795_564_800_000_000_000
        let cookie = NTPTimestamp(rawValue: 0x1234_5678_9ABC_DEF0)
        let reply = NTPPacket(
            mode: .server,
            stratum: 1,
            referenceID: 0x5050_5300,
            originTimestamp: cookie,
            receiveTimestamp: NTPTimestamp(unixNanoseconds: base + 2_510_000_000),
            transmitTimestamp: NTPTimestamp(unixNanoseconds: base + 2_511_000_000)
        )
        let verdict = SNTPClient.evaluate(
            datagram: reply.encoded,
            cookie: cookie,
            transmitted: base,
            received: base + 21_000_000,
            from: NTPServerAddress(host: "192.0.2.9")
        )
        guard case .accepted(let sample) = verdict else {
            Issue.record("expected a sample, got \(verdict)")
            return
        }
        #expect(sample.offsetNanoseconds == 2_500_000_000)
        #expect(sample.delayNanoseconds == 20_000_000)
        #expect(sample.referenceID == "PPS")
        #expect(sample.localTransmitNanoseconds == base)
        #expect(sample.localReceiveNanoseconds == base + 21_000_000)
    }

    @Test func aNegativeRoundTripIsClampedToZeroDelay() {
        let base: Int64 = 1_795_564_800_000_000_000
        let cookie = NTPTimestamp(rawValue: 42)
        let reply = NTPPacket(
            mode: .server,
            stratum: 3,
            originTimestamp: cookie,
            receiveTimestamp: NTPTimestamp(unixNanoseconds: base - 5_000_000_000),
            transmitTimestamp: NTPTimestamp(unixNanoseconds: base - 4_990_000_000)
        )
        // The server held the request 10 ms, yet the round trip took 2 ms: δ would be −8 ms.
        let verdict = SNTPClient.evaluate(
            datagram: reply.encoded,
            cookie: cookie,
            transmitted: base,
            received: base + 2_000_000,
            from: NTPServerAddress(host: "192.0.2.9")
        )
        guard case .accepted(let sample) = verdict else {
            Issue.record("expected a sample, got \(verdict)")
            return
        }
        #expect(sample.delayNanoseconds == 0)
        #expect(sample.offsetNanoseconds == -4_996_000_000)
    }

    @Test func aServerInAnotherModeIsRejected() async throws {
        let result = try await self.probe { request, now in Replies.edited(request, now: now) { $0.mode = .broadcast } }
        #expect(result.failure == .badMode(5))
    }

    @Test func versionTwoIsRejectedAndVersionThreeAccepted() async throws {
        let two = try await self.probe { request, now in Replies.edited(request, now: now) { $0.version = 2 } }
        #expect(two.failure == .badVersion(2))
        let three = try await self.probe { request, now in Replies.edited(request, now: now) { $0.version = 3 } }
        #expect((try? three.get())?.version == 3)
    }

    @Test func aRateKissOfDeathIsReportedWithItsCode() async throws {
        let result = try await self.probe { request, now in
            Replies.edited(request, now: now) {
                $0.stratum = 0
                $0.leap = .unsynchronized
                $0.referenceID = 0x5241_5445  // "RATE"
            }
        }
        #expect(result.failure == .kissOfDeath(code: "RATE"))
        #expect(result.failure?.description.contains("RATE") == true)
    }

    @Test func stratumSixteenIsRejected() async throws {
        let result = try await self.probe { request, now in Replies.edited(request, now: now) { $0.stratum = 16 } }
        #expect(result.failure == .badStratum(16))
    }

    @Test func anUnsynchronisedServerIsRejected() async throws {
        let result = try await self.probe { request, now in
            Replies.edited(request, now: now) { $0.leap = .unsynchronized }
        }
        #expect(result.failure == .unsynchronized)
    }

    @Test func aZeroTransmitTimestampIsRejected() async throws {
        let result = try await self.probe { request, now in
            Replies.edited(request, now: now) { $0.transmitTimestamp = .zero }
        }
        #expect(result.failure == .zeroTransmit)
    }

    @Test func aReplySentBeforeItsRequestArrivedIsBogus() async throws {
        let result = try await self.probe { request, now in
            Replies.edited(request, now: now) {
                $0.transmitTimestamp = NTPTimestamp(unixNanoseconds: now - 1_000_000_000)
            }
        }
        guard case .bogusTimestamps = result.failure else {
            Issue.record("expected bogusTimestamps, got \(result)")
            return
        }
    }

    @Test func aReplyWithAnotherOriginIsIgnoredUntilTheTimeout() async throws {
        let clock = ContinuousClock()
        let start = clock.now
        let result = try await self.probe(using: self.quick) { request, now in
            Replies.edited(request, now: now) { $0.originTimestamp = NTPTimestamp(rawValue: 0x0BAD_0BAD_0BAD_0BAD) }
        }
        #expect(result.failure == .originMismatch)
        #expect(clock.now - start >= Self.timeout - .milliseconds(20))
    }

    @Test func aShortPacketIsIgnoredAndReported() async throws {
        let result = try await self.probe(using: self.quick) { request, now in
            [Array(Replies.good(to: request, now: now).encoded.prefix(20))]
        }
        #expect(result.failure == .shortPacket(20))
    }

    @Test func silenceIsATimeoutWithinTheTimeoutAndSlack() async throws {
        let clock = ContinuousClock()
        let start = clock.now
        let result = try await self.probe(using: self.quick) { _, _ in [] }
        let elapsed = clock.now - start
        #expect(result.failure == .timeout)
        #expect(elapsed >= Self.timeout - .milliseconds(20))
        #expect(elapsed < Self.timeout + .seconds(1))
    }

    @Test func aStrayPacketBeforeTheGoodReplyDoesNotSpoilTheProbe() async throws {
        let result = try await self.probe { request, now in
            var stray = Replies.good(to: request, now: now, shift: 30_000_000_000)
            stray.originTimestamp = NTPTimestamp(rawValue: request.transmitTimestamp.rawValue &+ 1)
            return [stray.encoded, Array(stray.encoded.prefix(7)), Replies.good(to: request, now: now).encoded]
        }
        let sample = try result.get()
        #expect(abs(sample.offsetNanoseconds) < 50_000_000)
    }

    @Test func aClosedPortFailsFastWithANetworkError() async throws {
        // Bind a port, learn its number, close it: nothing listens there any more, and the kernel answers the probe
        // with ICMP port unreachable. Two things outside the client can swallow that answer when the clock suites run
        // together: the kernel rate-limits ICMP errors (other tests probe closed ports too), and a parallel test may
        // be handed the same port. So up to three attempts, a second apart; one must fail fast with a network error.
        var results: [String] = []
        for attempt in 0..<3 {
            if attempt > 0 { try await Task.sleep(for: .milliseconds(1100)) }
            let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .bind(host: "127.0.0.1", port: 0).get()
            let port = try #require(channel.localAddress?.port)
            try await channel.close().get()
            let clock = ContinuousClock()
            let start = clock.now
            let result = await SNTPClient(timeout: .seconds(3)).probe(NTPServerAddress(host: "127.0.0.1", port: port))
            if case .network = result.failure, clock.now - start < .seconds(2) { return }
            results.append("\(result) after \(clock.now - start)")
        }
        Issue.record("expected a fast network failure from a closed port; got \(results)")
    }

    @Test func cancellingTheTaskEndsTheProbeAtOnce() async throws {
        let server = try await FakeNTPServer.start { _, _ in [] }
        let patient = SNTPClient(timeout: .seconds(10))
        let clock = ContinuousClock()
        let start = clock.now
        let probe = Task { await patient.probe(server.address) }
        try await Task.sleep(for: .milliseconds(100))
        probe.cancel()
        let result = await probe.value
        await server.stop()
        #expect(result.failure == .cancelled)
        #expect(clock.now - start < .seconds(3))
    }

    @Test func portZeroIsRefusedBeforeAnythingIsSent() async {
        let result = await self.client.probe(NTPServerAddress(host: "127.0.0.1", port: 0))
        guard case .network = result.failure else {
            Issue.record("expected a network failure, got \(result)")
            return
        }
    }

    @Test func anUnresolvableNameIsAResolutionFailure() async {
        let result = await self.client.probe(NTPServerAddress(host: "no-such-host.invalid", port: 123))
        guard case .resolution = result.failure else {
            Issue.record("expected a resolution failure, got \(result)")
            return
        }
    }

    @Test func probingSeveralServersKeepsTheirOrder() async throws {
        let ahead = try await FakeNTPServer.start { request, now in
            [Replies.good(to: request, now: now, shift: 1_000_000_000).encoded]
        }
        let silent = try await FakeNTPServer.start { _, _ in [] }
        let behind = try await FakeNTPServer.start { request, now in
            [Replies.good(to: request, now: now, shift: -1_000_000_000).encoded]
        }
        let servers = [ahead.address, silent.address, behind.address]
        let results = await SNTPClient(timeout: .seconds(1)).probe(servers)
        for server in [ahead, silent, behind] { await server.stop() }

        #expect(results.map(\.0) == servers)
        let first = try results[0].1.get()
        #expect(abs(first.offsetNanoseconds - 1_000_000_000) < 50_000_000)
        #expect(results[1].1.failure == .timeout)
        let third = try results[2].1.get()
        #expect(abs(third.offsetNanoseconds + 1_000_000_000) < 50_000_000)
    }

    @Test func anInjectedClockShiftsTheOffset() async throws {
        // A local clock 10 s fast sees an honest server 10 s behind.
        let fast = SNTPClient(timeout: .seconds(3)) { SNTPClient.systemRealtimeNanoseconds() + 10_000_000_000 }
        let result = try await self.probe(using: fast) { request, now in [Replies.good(to: request, now: now).encoded] }
        let sample = try result.get()
        #expect(abs(sample.offsetNanoseconds + 10_000_000_000) < 50_000_000)
    }

    /// One probe against a fake server answering with `respond`.
    private func probe(
        using client: SNTPClient? = nil,
        _ respond: @escaping @Sendable (NTPPacket, Int64) -> [[UInt8]]
    ) async throws -> Result<NTPSample, NTPProbeFailure> {
        let server = try await FakeNTPServer.start { request, now in respond(request, now) }
        let result = await (client ?? self.client).probe(server.address)
        await server.stop()
        return result
    }
}

extension Result {
    fileprivate var failure: Failure? {
        if case .failure(let failure) = self { return failure }
        return nil
    }
}
