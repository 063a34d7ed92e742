import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Asks a running chronyd for its state through `chronyc -c -n` (CSV output, no name lookups).
///
/// chronyc talks to chronyd over its command socket: by default the Unix socket `/run/chrony/chronyd.sock` (root
/// or the chrony user), else UDP 127.0.0.1:323; `socketPath` points it at another Unix socket (`chronyc -h PATH`).
/// Each call starts one chronyc process, waits for it without blocking a thread (``ChildProcess`` polls its exit),
/// and kills it with SIGKILL when `timeout` passes or the calling task is cancelled.
public struct ChronyClient: Sendable {
    /// The chronyc program: a name looked up on `PATH`, or a path.
    public var executable: String
    /// chronyd's Unix command socket (absolute path); nil for chronyc's default.
    public var socketPath: String?
    /// How long one chronyc call may take.
    public var timeout: Duration

    public init(executable: String = "chronyc", socketPath: String? = nil, timeout: Duration = .seconds(2)) {
        self.executable = executable
        self.socketPath = socketPath
        self.timeout = timeout
    }

    /// True when `executable` names a runnable program (on `PATH` unless it contains a slash).
    public static func isInstalled(executable: String = "chronyc") -> Bool {
        Self.locate(executable) != nil
    }

    /// chronyd's clock state (`chronyc -c -n tracking`).
    public func tracking() async throws(ClockError) -> ChronyTracking {
        try ChronyTracking.parse(csv: try await self.run("tracking"))
    }

    /// chronyd's sources (`chronyc -c -n sources`); empty when none is configured.
    public func sources() async throws(ClockError) -> [ChronySourceEntry] {
        try ChronySourceEntry.parse(csv: try await self.run("sources"))
    }

    /// Runs `chronyc -c -n [-h SOCKET] COMMAND` and returns its standard output.
    ///
    /// chronyc exits 1 and says why ("506 Cannot talk to daemon", "Could not open connection to daemon") when
    /// chronyd is not there; that, a missing program and a timeout are `chronyUnavailable`.
    private func run(_ command: String) async throws(ClockError) -> String {
        guard let path = Self.locate(self.executable) else {
            throw ClockError.chronyUnavailable(
                reason: "\(self.executable) is not installed (not found on PATH); install chrony to read chronyd"
            )
        }
        var arguments = ["-c", "-n"]
        if let socketPath = self.socketPath {
            guard socketPath.hasPrefix("/") else {
                throw ClockError.chronyUnavailable(
                    reason: "the chronyd command socket '\(socketPath)' must be an absolute path"
                )
            }
            arguments += ["-h", socketPath]
        }
        arguments.append(command)
        let shown = ([path] + arguments).joined(separator: " ")

        let outcome: ChildOutcome
        do {
            outcome = try await ChildProcess.run(path, arguments, timeout: self.timeout)
        } catch {
            throw ClockError.chronyUnavailable(reason: "cannot start \(shown): \(error)")
        }
        switch outcome.ending {
        case .timedOut:
            throw ClockError.chronyUnavailable(
                reason: "\(shown) did not finish within \(self.timeout); chronyd does not answer"
            )
        case .cancelled:
            throw ClockError.chronyUnavailable(reason: "\(shown) was cancelled")
        case .exited(let status) where status != 0:
            let said = (outcome.standardError + " " + outcome.standardOutput).trimmed
            throw ClockError.chronyUnavailable(
                reason:
                    "\(shown) exited with status \(status): \(said.isEmpty ? "no message" : String(said.prefix(300)))"
            )
        case .exited:
            return outcome.standardOutput
        }
    }

    /// The executable's path: `name` itself when it contains a slash, else the first match on `PATH`.
    static func locate(_ name: String) -> String? {
        if name.contains("/") {
            return FileManager.default.isExecutableFile(atPath: name) ? name : nil
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

/// How a child process ended and what it printed.
struct ChildOutcome: Sendable {
    enum Ending: Sendable, Equatable {
        case exited(Int32)
        case timedOut
        case cancelled
    }

    var ending: Ending
    var standardOutput: String
    var standardError: String
}

/// A short-lived child process with a deadline, awaited without blocking a thread of the cooperative pool.
///
/// Started with `posix_spawn` (no signal blocked, default dispositions, standard input from /dev/null) and reaped by
/// its PID with `waitpid(WNOHANG)`, polled every few milliseconds, rather than through Foundation's `Process`, whose
/// SIGCHLD monitoring on Linux can fall seconds behind, or stop, when other children of the process come and go: a
/// chronyc that had long exited then counted as timed out. A kill is sent only before the child is reaped, so a
/// recycled PID is never signalled.
///
/// Output goes to pipes and is read after the child has exited, without blocking (O_NONBLOCK): whatever the child
/// wrote is in the pipe by then, and another process that happened to inherit a write end cannot stall the read.
/// A child that writes more than a pipe holds (64 KiB on Linux) blocks and runs into the timeout; chronyc's reports
/// are a few hundred bytes.
enum ChildProcess {
    struct SpawnFailed: Error, CustomStringConvertible {
        var description: String
    }

    static func run(_ path: String, _ arguments: [String], timeout: Duration) async throws -> ChildOutcome {
        let output = try Self.pipeDescriptors()
        let errors: [Int32]
        do {
            errors = try Self.pipeDescriptors()
        } catch {
            for descriptor in output { close(descriptor) }
            throw error
        }
        let pid: pid_t
        do {
            pid = try Self.spawn(path, arguments, standardOutput: output[1], standardError: errors[1])
        } catch {
            for descriptor in output + errors { close(descriptor) }
            throw error
        }
        close(output[1])
        close(errors[1])

        let deadline = ContinuousClock.now + timeout
        var ending: ChildOutcome.Ending?
        var killedFor: ChildOutcome.Ending?
        var pause = Duration.milliseconds(1)
        while ending == nil {
            var status: Int32 = 0
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid || (reaped < 0 && errno != EINTR) {
                // WIFSIGNALED / WEXITSTATUS by hand: the macros are not imported. A signal is reported as its number.
                let signal = status & 0x7F
                ending = killedFor ?? .exited(reaped == pid ? (signal == 0 ? (status >> 8) & 0xFF : signal) : -1)
                break
            }
            if killedFor == nil {
                if Task.isCancelled {
                    killedFor = .cancelled
                } else if ContinuousClock.now >= deadline {
                    killedFor = .timedOut
                }
                if killedFor != nil {
                    _ = kill(pid, SIGKILL)  // not yet reaped: the PID is still this child's
                    continue
                }
            }
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(10))
        }
        let standardOutput = Self.drain(output[0])
        let standardError = Self.drain(errors[0])
        return ChildOutcome(
            ending: ending ?? .exited(-1), standardOutput: standardOutput, standardError: standardError)
    }

    /// A pipe whose ends are closed on exec (the child gets its own copies through `dup2`).
    private static func pipeDescriptors() throws -> [Int32] {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { throw SpawnFailed(description: "pipe: errno \(errno)") }
        for descriptor in ends { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        return ends
    }

    /// Starts `path ARGUMENTS` with standard output and error on the given descriptors.
    private static func spawn(_ path: String, _ arguments: [String], standardOutput: Int32, standardError: Int32)
        throws -> pid_t
    {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, standardOutput, 1)
        posix_spawn_file_actions_adddup2(&actions, standardError, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        guard result == 0 else { throw SpawnFailed(description: String(cString: strerror(result))) }
        return pid
    }

    /// Reads what is buffered in a pipe without waiting for more, then closes the read end.
    private static func drain(_ descriptor: Int32) -> String {
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                bytes.append(contentsOf: chunk[0..<count])
            } else if count < 0 && errno == EINTR {
                continue
            } else {
                break  // 0: end of file; -1 with EAGAIN: nothing more buffered.
            }
        }
        close(descriptor)
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension String {
    fileprivate var trimmed: String {
        let isSpace: (Character) -> Bool = { $0.isWhitespace }
        guard let first = self.firstIndex(where: { !isSpace($0) }), let last = self.lastIndex(where: { !isSpace($0) })
        else { return "" }
        return self[first...last].split(whereSeparator: \.isNewline).joined(separator: " / ")
    }
}
