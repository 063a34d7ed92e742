import ClockDiscipline
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A throw-away chronyd on loopback that never touches the system clock (`-x`), in its own temporary folder.
///
/// Two roles:
/// - **server** (`upstreamPort` nil): `local stratum 1`, serving NTP on 127.0.0.1:`port` and answering at once;
/// - **client** (`upstreamPort` set): following `127.0.0.1:upstreamPort` with sub-second polling and serving nothing,
///   so chronyc reports what a synchronised appliance would.
///
/// chronyd is started as `chronyd -x -d -u USER -f CONF`, where USER is the user running the tests: as root this
/// keeps chronyd from dropping to `_chrony`, which could not use the test's 0700 folder (chronyd refuses a command
/// socket folder that is not owned by the user it runs as, or that others can read). As a normal user `-U` lets
/// chronyd start without root. `cmdport 0` and either `bindcmdaddress /` (no command socket) or a Unix socket in the
/// folder keep it clear of a system chronyd; pid file and drift file live in the folder too.
///
/// With `shift`, chronyd runs under libfaketime (`LD_PRELOAD`) reading its offset from a file in the folder
/// (`FAKETIME_TIMESTAMP_FILE`, re-read on every clock call with `FAKETIME_NO_CACHE=1`), so `setShift(_:)` moves the
/// clock of the running daemon.
final class ChronyServer: Sendable {
    let directory: String
    /// The NTP port on 127.0.0.1 (0 for a client, which serves nothing).
    let port: Int
    /// chronyd's Unix command socket, when one was asked for.
    let commandSocket: String?
    /// The libfaketime offset file, when the daemon runs shifted.
    let shiftFile: String?
    let process: SpawnedChild
    let pid: Int32
    private let logPath: String

    /// The daemon as an NTP server address.
    var address: NTPServerAddress { NTPServerAddress(host: "127.0.0.1", port: self.port) }
    /// chronyc for this daemon's command socket.
    var chronyc: ChronyClient { ChronyClient(socketPath: self.commandSocket, timeout: .seconds(3)) }
    var isRunning: Bool { self.process.isRunning }
    /// chronyd's own log (`-d` prints it on stderr).
    var logs: String { readText(self.logPath) }

    private init(
        directory: String,
        port: Int,
        commandSocket: String?,
        shiftFile: String?,
        process: SpawnedChild,
        logPath: String
    ) {
        self.directory = directory
        self.port = port
        self.commandSocket = commandSocket
        self.shiftFile = shiftFile
        self.process = process
        self.pid = process.pid
        self.logPath = logPath
    }

    /// Starts a chronyd and waits until it answers (a server: an SNTP reply; a client: chronyc reports it
    /// synchronised). A server whose port was taken in the meantime is retried on another port.
    static func start(
        shift: String? = nil,
        commandSocket: Bool = false,
        upstreamPort: Int? = nil
    ) async throws -> ChronyServer {
        var lastError: (any Error)?
        for _ in 0..<3 {
            let server = try Self.launch(shift: shift, commandSocket: commandSocket, upstreamPort: upstreamPort)
            do {
                if upstreamPort == nil {
                    try await server.waitUntilServing()
                    if commandSocket { try await server.waitUntilCommandSocketAnswers() }
                } else {
                    try await server.waitUntilSynchronised()
                }
                return server
            } catch {
                lastError = error
                let logs = server.logs
                await server.stop()
                // Only a lost race for the port is worth another try.
                guard logs.contains("Could not open") || logs.contains("Could not bind") else { throw error }
            }
        }
        throw lastError ?? IntegrationError("chronyd did not start")
    }

    private static func launch(shift: String?, commandSocket: Bool, upstreamPort: Int?) throws -> ChronyServer {
        let chronyd = try Self.chronydPath()
        let directory = try makeTemporaryDirectory("chronyd")
        let port = upstreamPort == nil ? try freeUDPPort() : 0
        let socket = commandSocket ? "\(directory)/chronyd.sock" : nil
        var lines: [String] = []
        if let upstreamPort {
            lines += [
                "server 127.0.0.1 port \(upstreamPort) iburst minpoll -2 maxpoll -2",
                "port 0",
            ]
        } else {
            lines += [
                "local stratum 1",
                "port \(port)",
                "bindaddress 127.0.0.1",
                "allow 127.0.0.1",
            ]
        }
        lines += [
            "cmdport 0",
            "bindcmdaddress \(socket ?? "/")",
            "pidfile \(directory)/chronyd.pid",
            "driftfile \(directory)/chronyd.drift",
        ]
        let configuration = "\(directory)/chronyd.conf"
        try writeFile(configuration, text: lines.joined(separator: "\n") + "\n")

        var environment = ProcessInfo.processInfo.environment
        var shiftFile: String?
        if let shift {
            let file = "\(directory)/faketime"
            try writeFile(file, text: shift + "\n")
            environment["LD_PRELOAD"] = try Self.libfaketimePath()
            environment["FAKETIME_TIMESTAMP_FILE"] = file
            environment["FAKETIME_NO_CACHE"] = "1"
            // chronyd's timers run on the monotonic clock; only wall-clock time is to be shifted.
            environment["FAKETIME_DONT_FAKE_MONOTONIC"] = "1"
            shiftFile = file
        }

        let logPath = "\(directory)/chronyd.log"
        // posix_spawn with no signal blocked (see SpawnedChild): chronyd must see stop()'s SIGTERM.
        let process: SpawnedChild
        do {
            process = try SpawnedChild.spawn(
                chronyd, ["-x", "-d"] + Self.userArguments() + ["-f", configuration], environment: environment,
                directory: directory, standardOutput: logPath, standardError: logPath)
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw IntegrationError("cannot start \(chronyd): \(error)")
        }
        return ChronyServer(
            directory: directory,
            port: port,
            commandSocket: socket,
            shiftFile: shiftFile,
            process: process,
            logPath: logPath
        )
    }

    /// Rewrites the libfaketime offset (`+3s`, `-1.5s`, `+0s`); the running daemon reads it on its next clock call.
    func setShift(_ shift: String) throws {
        guard let shiftFile = self.shiftFile else {
            throw IntegrationError("this chronyd was started without libfaketime")
        }
        // Write a sibling and rename it, so the daemon never reads a half-written file.
        let staging = shiftFile + ".new"
        try writeFile(staging, text: shift + "\n")
        guard rename(staging, shiftFile) == 0 else { throw IntegrationError("rename \(staging): errno \(errno)") }
    }

    /// SIGTERM by PID, up to 5 s, then SIGKILL; waits until the child is reaped and removes the folder.
    func stop() async {
        if self.process.isRunning {
            kill(self.pid, SIGTERM)
            if !(await self.waitForExit(timeout: .seconds(5))) {
                kill(self.pid, SIGKILL)
                _ = await self.waitForExit(timeout: .seconds(10))
            }
        }
        try? FileManager.default.removeItem(atPath: self.directory)
    }

    private func waitForExit(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while self.process.isRunning {
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    /// Probes the daemon until it answers (at most 60 s: a loaded machine starts it slowly); fails early when it
    /// exits.
    private func waitUntilServing() async throws {
        let client = SNTPClient(timeout: .milliseconds(250))
        let deadline = ContinuousClock.now + .seconds(60)
        var last = "no probe yet"
        while ContinuousClock.now < deadline {
            guard self.process.isRunning else { break }
            switch await client.probe(self.address) {
            case .success: return
            case .failure(let failure): last = failure.description
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw IntegrationError(
            "chronyd on 127.0.0.1:\(self.port) never answered (last probe: \(last)); "
                + "running: \(self.process.isRunning)\n\(self.logs)"
        )
    }

    /// Asks chronyc until the daemon answers on its command socket (at most 30 s: the socket comes up after the NTP
    /// port, and on a loaded machine a chronyc run can take longer than one query's timeout).
    private func waitUntilCommandSocketAnswers() async throws {
        try await self.askChronyc(for: .seconds(30), "chronyd's command socket never answered") { _ in nil }
    }

    /// Asks chronyc until the daemon has selected its upstream server (at most 15 s).
    private func waitUntilSynchronised() async throws {
        try await self.askChronyc(for: .seconds(15), "the chronyd client never synchronised") { tracking in
            tracking.isSynchronised ? nil : "stratum \(tracking.stratum), \(tracking.leapStatus.rawValue)"
        }
    }

    /// Runs `chronyc tracking` every 100 ms until `unmet` returns nil for its answer, or throws `failure` with the
    /// last answer or error once `limit` passed or chronyd exited.
    private func askChronyc(
        for limit: Duration, _ failure: String, unmet: (ChronyTracking) -> String?
    ) async throws {
        let deadline = ContinuousClock.now + limit
        var last = "no query yet"
        while ContinuousClock.now < deadline {
            guard self.process.isRunning else { break }
            do {
                guard let why = unmet(try await self.chronyc.tracking()) else { return }
                last = why
            } catch {
                last = error.description
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw IntegrationError("\(failure) (last: \(last)); running: \(self.process.isRunning)\n\(self.logs)")
    }

    // MARK: - Finding things

    static var isAvailable: Bool {
        (try? Self.chronydPath()) != nil && ChronyClient.isInstalled()
    }

    static var libfaketimeIsAvailable: Bool { (try? Self.libfaketimePath()) != nil }

    /// chronyd lives in /usr/sbin, which a normal user's PATH may lack.
    static func chronydPath() throws -> String {
        if let found = try? Environment.tool("chronyd") { return found }
        for candidate in ["/usr/sbin/chronyd", "/sbin/chronyd", "/usr/local/sbin/chronyd"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw IntegrationError("chronyd is not installed (scripts/install-deps.sh test installs chrony)")
    }

    /// Debian installs libfaketime in the multiarch folder (`/usr/lib/x86_64-linux-gnu/faketime/`); other layouts
    /// use `/usr/lib/faketime/` or `/usr/local/lib/faketime/`.
    static func libfaketimePath() throws -> String {
        var candidates: [String] = []
        for root in ["/usr/lib", "/usr/local/lib", "/lib"] {
            candidates.append("\(root)/faketime/libfaketime.so.1")
            let children = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
            for child in children.sorted() where child.hasSuffix("-linux-gnu") {
                candidates.append("\(root)/\(child)/faketime/libfaketime.so.1")
            }
        }
        if let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) { return found }
        throw IntegrationError("libfaketime.so.1 not found (scripts/install-deps.sh test installs libfaketime)")
    }

    /// `-u` with the current user (as root: root, so chronyd keeps access to the test folder); `-U` as well when
    /// not root, since chronyd otherwise insists on being started by root.
    private static func userArguments() -> [String] {
        let uid = geteuid()
        let name = getpwuid(uid).flatMap { String(validatingCString: $0.pointee.pw_name) } ?? "root"
        return uid == 0 ? ["-u", name] : ["-U", "-u", name]
    }
}

/// Starts a chronyd, runs `body`, and always stops it (also when `body` throws, whose error then carries the log).
func withChronyServer<R>(
    shift: String? = nil,
    commandSocket: Bool = false,
    upstreamPort: Int? = nil,
    _ body: (ChronyServer) async throws -> R
) async throws -> R {
    let server = try await ChronyServer.start(shift: shift, commandSocket: commandSocket, upstreamPort: upstreamPort)
    let result: R
    do {
        result = try await body(server)
    } catch {
        let logs = server.logs
        await server.stop()
        throw IntegrationError("\(error)\n--- chronyd log ---\n\(logs.suffix(3000))")
    }
    await server.stop()
    return result
}

/// A UDP port on 127.0.0.1 that was free a moment ago: bind port 0, read the number, close.
func freeUDPPort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    guard descriptor >= 0 else { throw IntegrationError("socket: errno \(errno)") }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
            guard bind(descriptor, generic, length) == 0 else { return false }
            return getsockname(descriptor, generic, &length) == 0
        }
    }
    guard bound else { throw IntegrationError("bind/getsockname on 127.0.0.1:0: errno \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}
