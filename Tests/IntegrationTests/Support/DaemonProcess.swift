import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// What `sigillumd` printed on stdout once both listeners were up.
struct Banner: Sendable {
    /// `POST http://HOST:PORT/tsa`
    var tsaURL: String
    var tsaPort: Int
    /// `http://HOST:PORT/health`
    var healthURL: String
    var adminPort: Int
    var metricsURL: String
    /// The development default's "Try it from another terminal" commands, in order (empty otherwise).
    var tryCommands: [String]

    /// `http://HOST:PORT` of the public listener.
    var publicBase: String { String(self.tsaURL.dropLast("/tsa".count)) }
    /// `http://HOST:PORT` of the admin listener.
    var adminBase: String { String(self.healthURL.dropLast("/health".count)) }

    /// Parses the banner once it is complete: the TSA and health lines, the state line, and (when the
    /// development block started) its last command.
    static func parse(_ text: String) -> Banner? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard
            let publicLine = lines.first(where: { $0.hasPrefix("  public:") }),
            let healthLine = lines.first(where: { $0.hasPrefix("  health:") }),
            lines.contains(where: { $0.hasPrefix("  TSA (RFC 3161):") }),
            lines.contains(where: { $0.hasPrefix("  state:") }),
            let publicBase = publicLine.split(separator: " ").last.map(String.init), publicLine.contains("http://"),
            let healthURL = healthLine.split(separator: " ").last.map(String.init),
            let tsaPort = Self.port(of: publicBase + "/tsa"), let adminPort = Self.port(of: healthURL)
        else { return nil }
        let tsaURL = publicBase + "/tsa"
        let metricsURL =
            lines.first { $0.hasPrefix("  metrics:") }?.split(separator: " ").last.map(String.init)
            ?? healthURL.replacingOccurrences(of: "/health", with: "/metrics")
        var commands: [String] = []
        if let start = lines.firstIndex(where: { $0.hasPrefix("Try it from another terminal") }) {
            // The block is written in one go; wait until its last command (the verification) is there in full.
            // The block ends at the first empty line (an OCSP block may follow).
            commands = lines[(start + 1)...].prefix { !$0.isEmpty }.filter { $0.hasPrefix("  ") }
                .map { String($0.dropFirst(2)) }
            guard let last = commands.last, last.hasPrefix("openssl ts -verify"), text.hasSuffix("\n") else {
                return nil
            }
        }
        return Banner(
            tsaURL: tsaURL,
            tsaPort: tsaPort,
            healthURL: healthURL,
            adminPort: adminPort,
            metricsURL: metricsURL,
            tryCommands: commands
        )
    }

    /// The port of `http://HOST:PORT/path` (HOST may be `[v6]`).
    static func port(of url: String) -> Int? {
        guard url.hasPrefix("http://") else { return nil }
        let authority = url.dropFirst("http://".count).prefix { $0 != "/" }
        guard let colon = authority.lastIndex(of: ":") else { return nil }
        return Int(authority[authority.index(after: colon)...])
    }
}

/// One `sigillumd` child process, its stdout and stderr in files of a log folder.
final class DaemonProcess: Sendable {
    let process: SpawnedChild
    let pid: Int32
    let stdoutPath: String
    let stderrPath: String
    let arguments: [String]

    private init(process: SpawnedChild, stdoutPath: String, stderrPath: String, arguments: [String]) {
        self.process = process
        self.pid = process.pid
        self.stdoutPath = stdoutPath
        self.stderrPath = stderrPath
        self.arguments = arguments
    }

    /// Starts `sigillumd ARGUMENTS`; stdout and stderr go to `logDirectory/sigillumd-N.{out,err}`. With a
    /// `launcher` (e.g. `systemd-socket-activate -l …`), runs `LAUNCHER… sigillumd ARGUMENTS`; the launcher must exec
    /// sigillumd, so that the PID is the daemon's. `environment` values replace the test process's;
    /// `standardError` names an existing file to append stderr to (its device and inode stay known to the test).
    static func start(
        _ arguments: [String],
        logDirectory: String,
        environment: [String: String] = [:],
        launcher: [String] = [],
        standardError: String? = nil
    ) throws -> DaemonProcess {
        let daemon = try Environment.sigillumd()
        let executable = launcher.first ?? daemon
        let fullArguments = launcher.isEmpty ? arguments : Array(launcher.dropFirst()) + [daemon] + arguments
        let stamp = UUID().uuidString.prefix(8)
        let outPath = "\(logDirectory)/sigillumd-\(stamp).out"
        let errPath = standardError ?? "\(logDirectory)/sigillumd-\(stamp).err"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        if !FileManager.default.fileExists(atPath: errPath) {
            _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        }
        var variables = ProcessInfo.processInfo.environment
        variables.removeValue(forKey: "STATE_DIRECTORY")
        variables.merge(environment) { _, new in new }
        // posix_spawn, not Foundation's Process: see SpawnedChild (signal mask, launchers that exec).
        let process = try SpawnedChild.spawn(
            executable, fullArguments, environment: variables, directory: logDirectory, standardOutput: outPath,
            standardError: errPath)
        return DaemonProcess(process: process, stdoutPath: outPath, stderrPath: errPath, arguments: fullArguments)
    }

    var stdout: String { readText(self.stdoutPath) }
    var stderr: String { readText(self.stderrPath) }
    var isRunning: Bool { self.process.isRunning }

    /// Waits (60 s by default) for the banner; fails when the daemon exits first or the time runs out.
    func waitForBanner(timeout: Duration = .seconds(60)) async throws -> Banner {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let banner = Banner.parse(self.stdout) { return banner }
            if !self.process.isRunning {
                throw IntegrationError(
                    "sigillumd exited (status \(self.process.terminationStatus)) before printing its banner\n\(self.logs)"
                )
            }
            if ContinuousClock.now >= deadline {
                await self.kill9()
                throw IntegrationError("sigillumd printed no banner within \(timeout)\n\(self.logs)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Waits for the process to end by itself; nil when it still runs after `timeout`.
    func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while self.process.isRunning {
            if ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return self.process.terminationStatus
    }

    /// Graceful stop by PID: SIGTERM, up to 15 s, then SIGKILL. Returns the exit status.
    @discardableResult
    func stop() async -> Int32 {
        guard self.process.isRunning else { return self.process.terminationStatus }
        kill(self.pid, SIGTERM)
        if let status = await self.waitForExit(timeout: .seconds(15)) { return status }
        await self.kill9()
        return self.process.terminationStatus
    }

    /// `kill -9` by PID, then waits until the child is reaped.
    func kill9() async {
        guard self.process.isRunning else { return }
        kill(self.pid, SIGKILL)
        _ = await self.waitForExit(timeout: .seconds(30))
    }

    /// The command line, stdout and stderr, for failure messages.
    var logs: String {
        """
        sigillumd \(self.arguments.joined(separator: " "))
        --- stdout ---
        \(self.stdout.suffix(3000))
        --- stderr ---
        \(self.stderr.suffix(6000))
        """
    }
}

/// Starts `sigillumd ARGUMENTS`, waits for its banner, runs `body`, and always stops the daemon (SIGTERM, then
/// SIGKILL). When `body` throws, the daemon's logs are added to the error.
func withDaemon<R>(
    _ arguments: [String],
    logDirectory: String,
    environment: [String: String] = [:],
    _ body: (DaemonProcess, Banner) async throws -> R
) async throws -> R {
    let daemon = try DaemonProcess.start(arguments, logDirectory: logDirectory, environment: environment)
    let result: R
    do {
        let banner = try await daemon.waitForBanner()
        result = try await body(daemon, banner)
    } catch {
        await daemon.stop()
        if error is IntegrationError, "\(error)".contains("--- stderr ---") { throw error }
        throw IntegrationError("\(error)\n\(daemon.logs)")
    }
    await daemon.stop()
    return result
}

/// The development default in `stateDirectory`, on loopback ports the kernel picks.
func developmentArguments(stateDirectory: String, dev: Bool = true) -> [String] {
    (dev ? ["--dev"] : []) + [
        "--state-dir", stateDirectory, "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
    ]
}
