import Foundation
import PKIMessages
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// sigillumd under systemd, with the test playing systemd's part: the notification socket, the watchdog variable,
/// socket activation (`systemd-socket-activate`), SIGHUP reloads, SIGTERM, and the journal's native socket.
@Suite("systemd integration", .serialized)
struct SystemdTests {
    /// A TSA configuration signing with the shared P-256 development PKI, in `directory/state`.
    static func configuration(in directory: String) async throws -> DaemonConfiguration {
        let pki = try await SharedFixtures.shared.pki(.ecP256)
        return DaemonConfiguration(stateDirectory: directory + "/state", pki: pki)
    }

    /// One stamp over HTTP; returns the response.
    static func stamp(_ banner: Banner) async throws -> ReceivedResponse {
        try await TSAClient.post(try Requests.make(), to: banner)
    }

    static func status(_ banner: Banner) async throws -> [String: Any] {
        let exchange = try await HTTPClient.get(banner.adminBase + "/status")
        return try JSONSerialization.jsonObject(with: Data(exchange.body)) as? [String: Any] ?? [:]
    }

    // MARK: - sd_notify and the watchdog

    @Test("READY after the listeners, STATUS, WATCHDOG pings, RELOADING…READY on SIGHUP, STOPPING on SIGTERM")
    func notificationSequence() async throws {
        try await withTemporaryDirectory("notify") { directory in
            let configuration = try await Self.configuration(in: directory)
            let arguments = try configuration.write()
            let notify = try NotifySocket(path: directory + "/notify.sock")
            // WatchdogSec=2s: a keep-alive about every second.
            let daemon = try DaemonProcess.start(
                arguments, logDirectory: directory,
                environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "2000000"])
            do {
                let banner = try await daemon.waitForBanner()
                let ready = try await notify.waitFor("READY=1")
                // READY comes once the listeners are bound: a stamp works at once.
                #expect(try await Self.stamp(banner).status == .granted)
                let readyMessage = notify.messages[ready]
                let status = try #require(NotifySocket.value("STATUS", in: readyMessage), "\(readyMessage)")
                #expect(status.hasPrefix("serving"), "\(status)")
                #expect(status.contains("gate not enforced"), "\(status)")
                #expect(NotifySocket.value("MAINPID", in: readyMessage) == "\(daemon.pid)")
                // Nothing before READY but (possibly) nothing at all: no WATCHDOG before the daemon is up.
                #expect(notify.messages[..<ready].allSatisfy { !$0.contains("WATCHDOG=1") })

                // Keep-alives at about half of WATCHDOG_USEC.
                let first = try await notify.waitFor("WATCHDOG=1", after: ready, timeout: .seconds(10))
                let second = try await notify.waitFor("WATCHDOG=1", after: first, timeout: .seconds(10))
                try await notify.waitFor("WATCHDOG=1", after: second, timeout: .seconds(10))
                // STATUS is refreshed: after a stamp, the count in it changes (every 5 s at most).
                #expect(status.contains("; 0 stamps;"), "\(status)")
                try await notify.waitFor(after: ready, timeout: .seconds(15), description: "with 1 stamp") {
                    NotifySocket.value("STATUS", in: $0)?.contains("; 1 stamps;") == true
                }

                // SIGHUP: RELOADING=1, then READY=1 again (with the same configuration, the reload passes).
                let before = notify.messages.count - 1
                kill(daemon.pid, SIGHUP)
                let reloading = try await notify.waitFor("RELOADING=1", after: before, timeout: .seconds(30))
                let reloadMessage = notify.messages[reloading]
                #expect(NotifySocket.value("MONOTONIC_USEC", in: reloadMessage).flatMap(UInt64.init) != nil)
                let readyAgain = try await notify.waitFor("READY=1", after: reloading, timeout: .seconds(30))
                #expect(readyAgain > reloading)
                #expect(try await Self.status(banner)["configurationGeneration"] as? Int == 2)
                #expect(try await Self.stamp(banner).status == .granted)
                // Keep-alives continue after the reload.
                try await notify.waitFor("WATCHDOG=1", after: readyAgain, timeout: .seconds(10))

                // SIGTERM: STOPPING=1, then a clean exit.
                let beforeStop = notify.messages.count - 1
                let exit = await daemon.stop()
                #expect(exit == 0, "\(daemon.logs)")
                try await notify.waitFor("STOPPING=1", after: beforeStop, timeout: .seconds(5))
            } catch {
                await daemon.stop()
                throw IntegrationError("\(error)\n\(daemon.logs)")
            }
        }
    }

    @Test("Without WATCHDOG_USEC no keep-alive is sent; without NOTIFY_SOCKET the daemon runs as before")
    func noWatchdogWithoutTheVariable() async throws {
        try await withTemporaryDirectory("nowatchdog") { directory in
            let configuration = try await Self.configuration(in: directory)
            let notify = try NotifySocket(path: directory + "/notify.sock")
            var environment = ["NOTIFY_SOCKET": notify.path]
            // The test runner itself might run under a watchdog; the daemon must only see what we give it.
            environment["WATCHDOG_USEC"] = ""
            let daemon = try DaemonProcess.start(
                try configuration.write(), logDirectory: directory, environment: environment)
            do {
                _ = try await daemon.waitForBanner()
                try await notify.waitFor("READY=1")
                try await Task.sleep(for: .seconds(2))
                #expect(!notify.messages.contains { $0.contains("WATCHDOG=1") })
                #expect(await daemon.stop() == 0)
            } catch {
                await daemon.stop()
                throw IntegrationError("\(error)\n\(daemon.logs)")
            }
        }
    }

    // MARK: - Socket activation

    @Test("systemd-socket-activate passes 'public' and 'admin'; a timestamp is served through the passed socket")
    func socketActivation() async throws {
        let activate = try Environment.tool("systemd-socket-activate")
        try await withTemporaryDirectory("activate") { directory in
            let configuration = try await Self.configuration(in: directory)
            let publicPort = try freeTCPPort()
            let adminPort = try freeTCPPort()
            let daemon = try DaemonProcess.start(
                try configuration.write(),
                logDirectory: directory,
                launcher: [
                    activate, "-l", "127.0.0.1:\(publicPort)", "-l", "127.0.0.1:\(adminPort)",
                    "--fdname=public:admin",
                ])
            do {
                // systemd-socket-activate binds first, then starts the service at the first connection, as a socket
                // unit does; that connection waits in the backlog until sigillumd accepts it.
                try await Self.waitForLog(daemon, "Listening on 127.0.0.1:\(adminPort)", count: 1)
                let early = Task {
                    try await RawHTTP.exchange(
                        port: adminPort,
                        request: Array("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8),
                        timeout: .seconds(60))
                }
                let banner = try await daemon.waitForBanner()
                let answer = try await early.value
                #expect(answer.hasPrefix("HTTP/1.1 200"), "the connection that started the daemon: \(answer)")
                // The configuration says port 0 (any); the banner shows the passed sockets' ports.
                #expect(banner.tsaPort == publicPort, "\(banner)")
                #expect(banner.adminPort == adminPort, "\(banner)")
                #expect(daemon.stderr.contains("public listener on 1 socket(s) passed by systemd"), "\(daemon.logs)")

                let document = directory + "/document.txt"
                try writeFile(document, text: "socket activation \(UUID())\n")
                let query = directory + "/request.tsq"
                let reply = directory + "/reply.tsr"
                try await Requests.openssl(data: document, out: query)
                let response = try await TSAClient.post(file: query, to: banner, responsePath: reply)
                #expect(response.status == .granted)
                let pki = try await SharedFixtures.shared.pki(.ecP256)
                let verify = try await OpenSSLTS.verify(
                    response: reply, queryFile: query, caFile: pki.rootCA, untrusted: pki.issuingCA)
                #expect(verify.succeeded && verify.output.contains("Verification: OK"), "\(verify)")
                let health = try await HTTPClient.get("http://127.0.0.1:\(adminPort)/health")
                #expect(health.status == 200)
                #expect(await daemon.stop() == 0, "\(daemon.logs)")
            } catch {
                await daemon.stop()
                throw IntegrationError("\(error)\n\(daemon.logs)")
            }
        }
    }

    @Test("A datagram socket passed as 'public' is refused with a reason")
    func datagramSocketIsRefused() async throws {
        let activate = try Environment.tool("systemd-socket-activate")
        try await withTemporaryDirectory("activate-dgram") { directory in
            let configuration = try await Self.configuration(in: directory)
            let port = try freeTCPPort()
            let daemon = try DaemonProcess.start(
                try configuration.write(),
                logDirectory: directory,
                launcher: [activate, "--datagram", "-l", "127.0.0.1:\(port)", "--fdname=public"])
            // The first datagram starts the service.
            try await Self.waitForLog(daemon, "Listening on 127.0.0.1:\(port)", count: 1)
            try Self.sendDatagram(to: port)
            let status = await daemon.waitForExit(timeout: .seconds(30))
            if status == nil { await daemon.kill9() }
            #expect(status == 1, "\(daemon.logs)")
            #expect(
                daemon.stderr.contains("the socket systemd passed as 'public'")
                    && daemon.stderr.contains("ListenStream="), "\(daemon.logs)")
        }
    }

    static func sendDatagram(to port: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw IntegrationError("socket(AF_INET, SOCK_DGRAM): errno \(errno)") }
        defer { close(fd) }
        var address = loopbackAddress(port: port)
        let payload: [UInt8] = Array("start".utf8)
        let sent = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, payload, payload.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard sent == payload.count else { throw IntegrationError("sendto 127.0.0.1:\(port): errno \(errno)") }
    }

    // MARK: - Reload

    @Test("SIGHUP: a good change takes effect, a broken file or a restart-only change keeps the old one serving")
    func reload() async throws {
        try await withTemporaryDirectory("reload") { directory in
            var configuration = try await Self.configuration(in: directory)
            configuration.accuracyMillis = 500
            let arguments = try configuration.write()
            let path = configuration.stateDirectory + "/sigillumd.yaml"
            try await withDaemon(arguments, logDirectory: directory) { daemon, banner in
                let before = try await Self.stamp(banner)
                #expect(before.token?.tstInfo.accuracy?.millis == 500)

                // A good change: accuracy 250 ms.
                configuration.accuracyMillis = 250
                try writeFile(path, text: configuration.yaml)
                kill(daemon.pid, SIGHUP)
                try await Self.waitForGeneration(2, banner)
                let after = try await Self.stamp(banner)
                #expect(after.token?.tstInfo.accuracy?.millis == 250)
                #expect(daemon.stderr.contains("configuration reloaded"), "\(daemon.logs)")

                // A broken file: refused, the 250 ms configuration stays.
                try writeFile(path, text: configuration.yaml + "tsa: [this is not a mapping\n")
                kill(daemon.pid, SIGHUP)
                try await Self.waitForLog(daemon, "reload refused", count: 1)
                #expect(try await Self.status(banner)["configurationGeneration"] as? Int == 2)
                #expect(try await Self.stamp(banner).token?.tstInfo.accuracy?.millis == 250)

                // A signer that cannot load (key file missing): refused with the step named.
                var missingKey = configuration
                missingKey.keyFile = directory + "/no-such.key"
                try writeFile(path, text: missingKey.yaml)
                kill(daemon.pid, SIGHUP)
                try await Self.waitForLog(daemon, "reload refused", count: 2)
                #expect(daemon.stderr.contains("loading the TSA signer"), "\(daemon.logs)")
                #expect(try await Self.stamp(banner).status == .granted)

                // A restart-only change (the listener): refused, naming the setting.
                let moved = configuration.yaml.replacingOccurrences(
                    of: "listen: 127.0.0.1:0", with: "listen: 127.0.0.1:1")
                try writeFile(path, text: moved)
                kill(daemon.pid, SIGHUP)
                try await Self.waitForLog(daemon, "reload refused", count: 3)
                #expect(daemon.stderr.contains("listen changed"), "\(daemon.logs)")
                #expect(try await Self.status(banner)["configurationGeneration"] as? Int == 2)

                // Back to a good file: the next reload passes.
                configuration.accuracyMillis = 100
                try writeFile(path, text: configuration.yaml)
                kill(daemon.pid, SIGHUP)
                try await Self.waitForGeneration(3, banner)
                #expect(try await Self.stamp(banner).token?.tstInfo.accuracy?.millis == 100)
            }
        }
    }

    @Test("Requests in flight during reloads all get tokens, with unique serials in genTime order")
    func reloadDropsNothing() async throws {
        try await withTemporaryDirectory("reload-load") { directory in
            let configuration = try await Self.configuration(in: directory)
            try await withDaemon(try configuration.write(), logDirectory: directory) { daemon, banner in
                let (all, failures) = try await withThrowingTaskGroup(
                    of: ([ReceivedResponse], [String]).self
                ) { group in
                    for _ in 0..<4 {
                        group.addTask {
                            var responses: [ReceivedResponse] = []
                            var failures: [String] = []
                            for _ in 0..<40 {
                                do {
                                    responses.append(try await Self.stamp(banner))
                                } catch {
                                    failures.append("\(error)")
                                }
                            }
                            return (responses, failures)
                        }
                    }
                    group.addTask {
                        for generation in 2...4 {
                            try await Task.sleep(for: .milliseconds(300))
                            kill(daemon.pid, SIGHUP)
                            try await Self.waitForGeneration(generation, banner)
                        }
                        return ([], [])
                    }
                    var all: [ReceivedResponse] = []
                    var failures: [String] = []
                    for try await (responses, failed) in group {
                        all += responses
                        failures += failed
                    }
                    return (all, failures)
                }
                #expect(failures.isEmpty, "\(failures)")
                #expect(all.count == 160)
                #expect(all.allSatisfy { $0.status == .granted })
                let serials = Set(all.compactMap(\.serial))
                #expect(serials.count == 160, "serial numbers repeat across the reloads")
                // One genTime sequence across generations: no two tokens share a genTime (microseconds).
                let genTimes = Set(all.compactMap { $0.token?.tstInfo.genTime.text })
                #expect(genTimes.count == 160, "genTime repeats across the reloads")
                #expect(try await Self.status(banner)["configurationGeneration"] as? Int == 4)
            }
        }
    }

    static func waitForGeneration(_ generation: Int, _ banner: Banner) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while try await Self.status(banner)["configurationGeneration"] as? Int != generation {
            guard ContinuousClock.now < deadline else {
                throw IntegrationError("configuration generation \(generation) not reached within 60 s")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    static func waitForLog(_ daemon: DaemonProcess, _ text: String, count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while daemon.stderr.components(separatedBy: text).count - 1 < count {
            guard ContinuousClock.now < deadline else {
                throw IntegrationError("'\(text)' not logged \(count) time(s) within 60 s")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    // MARK: - SIGTERM

    @Test("SIGTERM lets a request in flight finish (and commit its token), and the drain is bounded")
    func sigtermDrains() async throws {
        try await withTemporaryDirectory("drain") { directory in
            var configuration = try await Self.configuration(in: directory)
            configuration.drainSeconds = 2
            let daemon = try DaemonProcess.start(try configuration.write(), logDirectory: directory)
            do {
                let banner = try await daemon.waitForBanner()
                let body = try Requests.make()
                let head = Array(
                    ("POST /tsa HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/timestamp-query\r\n"
                        + "Content-Length: \(body.count)\r\n\r\n").utf8)
                // A request whose body is still on its way when SIGTERM arrives.
                let inFlight = try LoopbackConnection(port: banner.tsaPort)
                try inFlight.send(head + body.prefix(10))
                // A connection that never completes its request: the drain must not wait for it forever.
                let stalled = try LoopbackConnection(port: banner.tsaPort)
                try stalled.send(head)
                try await Task.sleep(for: .milliseconds(300))
                let stopped = ContinuousClock.now
                kill(daemon.pid, SIGTERM)
                try await Task.sleep(for: .milliseconds(500))
                #expect(daemon.isRunning, "the daemon must wait for the request in flight")
                try inFlight.send(Array(body.dropFirst(10)))
                let answer = try inFlight.receiveAll()
                #expect(answer.starts(with: Array("HTTP/1.1 200".utf8)), "\(String(decoding: answer, as: UTF8.self))")
                let response = try ReceivedResponse(Array(answer[(Self.bodyOffset(answer) ?? answer.count)...]))
                #expect(response.status == .granted)

                let status = await daemon.waitForExit(timeout: .seconds(30))
                let took = ContinuousClock.now - stopped
                #expect(status == 0, "\(daemon.logs)")
                // drainSeconds 2, then the stalled connection is closed and the rest shuts down in order (the ledger
                // last); slack for a loaded machine.
                #expect(took < .seconds(10), "shutdown took \(took)")
                #expect(
                    daemon.stderr.contains("closing 1 connection(s) still open after the drain time"), "\(daemon.logs)")
                _ = stalled
                // The token answered during the drain is in the ledger.
                let serial = try #require(response.serial).map { String(format: "%02x", $0) }.joined()
                let rows = try await Tool.run(
                    tool: "sqlite3",
                    [configuration.stateDirectory + "/ledger.sqlite", "SELECT count(*) FROM tsa_audit"])
                #expect(Int(rows.output.trimmingCharacters(in: .whitespacesAndNewlines)) == 1, "\(rows) \(serial)")
            } catch {
                await daemon.stop()
                throw IntegrationError("\(error)\n\(daemon.logs)")
            }
        }
    }

    /// Where the body of an HTTP/1.1 response starts.
    static func bodyOffset(_ bytes: [UInt8]) -> Int? {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4) where Array(bytes[index..<(index + 4)]) == separator {
            return index + 4
        }
        return nil
    }

    // MARK: - The journal

    @Test("Under systemd (JOURNAL_STREAM names stderr) entries go to the journal with SIGILLUM_* fields")
    func journalFields() async throws {
        let unshare = try Environment.tool("unshare")
        try await withTemporaryDirectory("journal") { directory in
            let configuration = try await Self.configuration(in: directory)
            let arguments = try configuration.write()
            // A private /run for the daemon, holding only the journal socket the test listens on.
            let run = directory + "/run"
            let journal = try JournalSocket(run: run)
            let stderrPath = directory + "/stderr.log"
            _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
            let attributes = try FileManager.default.attributesOfItem(atPath: stderrPath)
            guard let device = attributes[.systemNumber] as? Int, let inode = attributes[.systemFileNumber] as? Int
            else { throw IntegrationError("no device and inode for \(stderrPath)") }
            let launcher = [
                unshare, "--mount", "--propagation", "private", "--", "/bin/sh", "-c",
                "mount --bind \"$0\" /run && exec \"$@\"", run,
            ]
            let daemon = try DaemonProcess.start(
                arguments,
                logDirectory: directory,
                environment: ["JOURNAL_STREAM": "\(device):\(inode)", "LOG_LEVEL": "debug"],
                launcher: launcher,
                standardError: stderrPath
            )
            do {
                let banner = try await daemon.waitForBanner()
                let response = try await Self.stamp(banner)
                let serial = try #require(response.serial).map { String(format: "%02x", $0) }.joined()
                let deadline = ContinuousClock.now + .seconds(30)
                var granted: [String: String]?
                while granted == nil, ContinuousClock.now < deadline {
                    granted = journal.entries.first { $0["SIGILLUM_EVENT"] == "tsa.granted" }
                    if granted == nil { try await Task.sleep(for: .milliseconds(50)) }
                }
                let entry = try #require(granted, "no tsa.granted entry; got \(journal.entries.count) entries")
                #expect(entry["PRIORITY"] == "7")
                #expect(entry["SYSLOG_IDENTIFIER"] == "sigillumd")
                #expect(entry["SIGILLUM_CLIENT"] == "127.0.0.1")
                #expect(entry["SIGILLUM_SERIAL"]?.lowercased().hasSuffix(serial.lowercased()) == true, "\(entry)")
                #expect(entry["MESSAGE"] == "token granted")
                #expect(entry["CODE_FILE"]?.hasSuffix("TimeStampAuthority.swift") == true)
                // The start-up notice about the clock gate, at PRIORITY 5 (notice).
                #expect(
                    journal.entries.contains {
                        $0["SIGILLUM_EVENT"] == "clock.gate.disabled" && $0["PRIORITY"] == "5"
                    })
                // Nothing went to stderr as text: the journal got it all.
                #expect(!readText(stderrPath).contains("token granted"))
                #expect(await daemon.stop() == 0)
            } catch {
                await daemon.stop()
                throw IntegrationError("\(error)\n\(daemon.logs)")
            }
        }
    }
}
