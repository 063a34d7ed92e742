import ClockDiscipline
import Foundation
import PKIMessages
import Testing

/// The clock monitor against real NTP servers: chronyd instances on loopback, some shifted with libfaketime.
@Suite(
    "Clock gate: a majority of real NTP servers decides",
    .serialized,
    .enabled(if: ChronyServer.isAvailable && ChronyServer.libfaketimeIsAvailable, "needs chronyd and libfaketime")
)
struct ClockGateTests {
    /// One of three servers shifted by +3 s leaves the gate open; two close it and stamps get timeNotAvailable;
    /// when the shift goes away the gate reopens after K good checks.
    @Test func theGateFollowsAMajorityOfServers() async throws {
        let servers = try await ChronyServers.start(shifts: ["+0s", "+3s", "+0s"])
        do {
            try await self.runMajorityScenario(servers)
        } catch {
            await servers.stop()
            throw error
        }
        await servers.stop()
    }

    func runMajorityScenario(_ servers: ChronyServers) async throws {
        let pki = try await SharedFixtures.shared.pki(.ecP256)
        try await withTemporaryDirectory("clock-gate") { directory in
            var configuration = DaemonConfiguration(stateDirectory: directory + "/state", pki: pki)
            configuration.clockEnforce = true
            configuration.clockServers = servers.addresses
            configuration.probeInterval = 1
            configuration.reopenAfter = 3
            configuration.dynamicAccuracy = true
            try await withConfiguredDaemon(configuration) { daemon, banner in
                // One shifted server of three: the other two agree, the gate opens after three good checks.
                let open = try await ClockStatus.wait(banner, "the gate to open", timeout: .seconds(30)) {
                    $0.gate.open
                }
                let shifted = try #require(open.sources.first { $0.name == servers.addresses[1] })
                let offset = try #require(shifted.offsetSeconds)
                #expect(abs(offset - 3) < 0.1, "the shifted server's offset: \(offset) s")
                #expect(!shifted.agrees)
                #expect(open.sources.filter(\.agrees).count == 2)
                #expect((open.boundSeconds ?? 1) < 0.1)
                // The administrator's view: `sigillum clock`, as a table and as JSON.
                let table = try await Tool.run(try Environment.sigillum(), ["clock", "--admin", banner.adminBase])
                #expect(table.succeeded, "\(table)")
                #expect(table.output.contains("Clock gate:   OPEN"), "\(table.output)")
                #expect(table.output.contains("2 of 3 servers agree"), "\(table.output)")
                for address in servers.addresses { #expect(table.output.contains(address), "\(table.output)") }
                let json = try await Tool.run(
                    try Environment.sigillum(), ["clock", "--admin", banner.adminBase, "--json"])
                let decoded = try JSONDecoder().decode(ClockReport.self, from: json.stdout)
                #expect(decoded.sources.count == 3 && decoded.gate.open)

                let granted = try await TSAClient.post(try Requests.make(), to: banner)
                #expect(granted.status == .granted)
                // accuracy: dynamic → the bound rounded up to the millisecond: a few ms on loopback.
                let accuracy = try #require(granted.token?.tstInfo.accuracy)
                #expect(accuracy.totalMicroseconds >= 1000 && accuracy.totalMicroseconds < 100_000, "\(accuracy)")

                // A second server shifted: the two shifted ones are a majority whose bound is over 3 s.
                try servers.servers[2].setShift("+3s")
                let shiftedAt = ContinuousClock.now
                let closed = try await ClockStatus.wait(banner, "the gate to close", timeout: .seconds(15)) {
                    !$0.gate.open
                }
                let closing = ContinuousClock.now - shiftedAt
                // Two probe intervals (1 s each) plus the probe timeout and polling slack on a loaded machine.
                #expect(closing < .seconds(6), "the gate closed \(closing) after the drift appeared")
                #expect(closed.gate.reason?.contains("exceeds the maximum") == true, "\(closed.gate)")
                let refused = try await TSAClient.post(try Requests.make(), to: banner)
                #expect(refused.status == .rejection)
                #expect(refused.failInfo == .timeNotAvailable)
                let health = try await HTTPClient.get(banner.healthURL)
                #expect(health.status == 503, "\(health)")
                #expect(health.text.contains("clock"), "\(health)")
                let metrics = try await HTTPClient.get(banner.metricsURL).text
                #expect((HTTPClient.metric(metrics, "sigillum_tsa_refused_for_time_total") ?? 0) >= 1, "\(metrics)")
                #expect(HTTPClient.metric(metrics, "sigillum_clock_gate_open") == 0, "\(metrics)")
                #expect(daemon.stderr.contains("clock.gate.closed"), "the drift event is logged")
                let closedTable = try await Tool.run(
                    try Environment.sigillum(), ["clock", "--admin", banner.adminBase])
                #expect(closedTable.status == 1, "exit status 1 while the gate is closed: \(closedTable)")
                #expect(closedTable.output.contains("Clock gate:   CLOSED"), "\(closedTable.output)")

                // The shift goes away: the gate reopens, but only after K = 3 consecutive good checks.
                try servers.servers[1].setShift("+0s")
                try servers.servers[2].setShift("+0s")
                let healedAt = ContinuousClock.now
                let reopened = try await ClockStatus.wait(banner, "the gate to reopen", timeout: .seconds(30)) {
                    $0.gate.open
                }
                let reopening = ContinuousClock.now - healedAt
                #expect(reopened.gate.consecutiveGood >= 3)
                #expect(reopening > .milliseconds(1500), "reopened \(reopening) after healing: K checks must pass")
                #expect(try await TSAClient.post(try Requests.make(), to: banner).status == .granted)
            }
        }
    }
}

/// genTime ordering across a restart of the real daemon: the last genTime is read back from the ledger.
@Suite("Clock: genTime survives a restart behind the last token")
struct RestartGenTimeTests {
    /// The first run issues a token; the ledger then says (as after a run whose clock was 5 minutes ahead) that the
    /// last genTime lies in the future. The restarted daemon refuses tokens rather than issue one out of order, and
    /// /health says why. (The genTime is moved in the SQLite file directly, a fault injection: the hash chain then
    /// reports the tampered record, which `sigillum ledger verify` is also checked for.)
    @Test func aRestartedDaemonRefusesUntilTheClockPassesThePersistedGenTime() async throws {
        let pki = try await SharedFixtures.shared.pki(.ecP256)
        try await withTemporaryDirectory("clock-restart") { directory in
            let configuration = DaemonConfiguration(stateDirectory: directory + "/state", pki: pki)
            let arguments = try configuration.write()
            let first = try await withDaemon(arguments, logDirectory: directory) { _, banner in
                try await TSAClient.post(try Requests.make(), to: banner)
            }
            #expect(first.status == .granted)
            let ledger = configuration.stateDirectory + "/ledger.sqlite"
            let moved = try await Tool.run(
                tool: "sqlite3", [ledger, "UPDATE tsa_audit SET gen_time_us = gen_time_us + 300000000"])
            #expect(moved.succeeded, "\(moved)")
            try await withDaemon(arguments, logDirectory: directory) { _, banner in
                let refused = try await TSAClient.post(try Requests.make(), to: banner)
                #expect(refused.failInfo == .timeNotAvailable)
                #expect(refused.parsed.status.statusString?.first?.contains("last issued genTime") == true)
                let health = try await HTTPClient.get(banner.healthURL)
                #expect(health.status == 503 && health.text.contains("behind the last issued genTime"), "\(health)")
            }
            let verify = try await Tool.run(
                try Environment.sigillum(), ["ledger", "verify", "--state-dir", configuration.stateDirectory])
            #expect(!verify.succeeded, "the chain notices the moved genTime: \(verify)")
        }
    }
}

/// Three chronyd servers started together and stopped together.
struct ChronyServers {
    let servers: [ChronyServer]
    var addresses: [String] { self.servers.map { "127.0.0.1:\($0.port)" } }

    static func start(shifts: [String]) async throws -> ChronyServers {
        var started: [ChronyServer] = []
        do {
            for shift in shifts { started.append(try await ChronyServer.start(shift: shift)) }
        } catch {
            for server in started { await server.stop() }
            throw error
        }
        return ChronyServers(servers: started)
    }

    func stop() async {
        for server in self.servers { await server.stop() }
    }
}

/// The clock part of the admin listener's `/status`.
enum ClockStatus {
    struct Body: Decodable { var clock: ClockReport }

    static func read(_ banner: Banner) async throws -> ClockReport {
        let exchange = try await HTTPClient.get(banner.adminBase + "/status")
        guard exchange.status == 200 else { throw IntegrationError("GET /status: \(exchange)") }
        return try JSONDecoder().decode(Body.self, from: Data(exchange.body)).clock
    }

    /// Polls `/status` every 200 ms until `condition` holds.
    static func wait(
        _ banner: Banner, _ what: String, timeout: Duration, until condition: (ClockReport) -> Bool
    ) async throws -> ClockReport {
        let deadline = ContinuousClock.now + timeout
        var last: ClockReport?
        while ContinuousClock.now < deadline {
            let report = try await Self.read(banner)
            if condition(report) { return report }
            last = report
            try await Task.sleep(for: .milliseconds(200))
        }
        throw IntegrationError("waited \(timeout) for \(what); last clock status: \(String(describing: last))")
    }
}
