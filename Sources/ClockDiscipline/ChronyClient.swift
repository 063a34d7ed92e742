import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Asks a running chronyd for its state through `chronyc -c -n` (CSV output, no name lookups).
///
/// chronyc talks to chronyd over its command socket: by default the Unix socket `/run/chrony/chronyd.sock` (root
/// or the chrony user), else UDP 127.0.0.1:323; `socketPath` points it at another Unix socket (`chronyc -h PATH`).
/// Each call starts one chronyc process, waits for it without blocking a thread (its termination handler resumes
/// the caller), and kills it with SIGKILL when `timeout` passes or the calling task is cancelled.
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
/// Output goes to pipes and is read after the child has exited, without blocking (O_NONBLOCK): whatever the child
/// wrote is in the pipe by then, and another process that happened to inherit a write end cannot stall the read.
/// A child that writes more than a pipe holds (64 KiB on Linux) blocks and runs into the timeout; chronyc's reports
/// are a few hundred bytes.
enum ChildProcess {
    static func run(_ path: String, _ arguments: [String], timeout: Duration) async throws -> ChildOutcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        let exit = ExitWatch()
        process.terminationHandler = { _ in exit.markExited() }
        try process.run()
        let pid = process.processIdentifier

        let killer = Task {
            try? await Task.sleep(for: timeout)
            if !Task.isCancelled { exit.terminate(pid, because: .timedOut) }
        }
        await withTaskCancellationHandler {
            await exit.wait()
        } onCancel: {
            exit.terminate(pid, because: .cancelled)
        }
        killer.cancel()

        let standardOutput = Self.drain(output.fileHandleForReading)
        let standardError = Self.drain(errors.fileHandleForReading)
        return ChildOutcome(
            ending: exit.killReason ?? .exited(process.terminationStatus),
            standardOutput: standardOutput,
            standardError: standardError
        )
    }

    /// Reads what is buffered in a pipe without waiting for more, then closes the read end.
    private static func drain(_ handle: FileHandle) -> String {
        let descriptor = handle.fileDescriptor
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
        try? handle.close()
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Tracks one child's exit: the termination handler marks it, an awaiting task resumes, and a kill is sent only
/// while the child has not been reaped (so a recycled PID is never signalled).
private final class ExitWatch: Sendable {
    private struct State {
        var exited = false
        var waiter: CheckedContinuation<Void, Never>?
        var killReason: ChildOutcome.Ending?
    }

    private let state = Mutex(State())

    func markExited() {
        let waiter = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.exited = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let alreadyExited = self.state.withLock { state -> Bool in
                if state.exited { return true }
                state.waiter = continuation
                return false
            }
            if alreadyExited { continuation.resume() }
        }
    }

    func terminate(_ pid: Int32, because reason: ChildOutcome.Ending) {
        self.state.withLock { state in
            guard !state.exited, state.killReason == nil else { return }
            state.killReason = reason
            _ = kill(pid, SIGKILL)
        }
    }

    var killReason: ChildOutcome.Ending? { self.state.withLock { $0.killReason } }
}

extension String {
    fileprivate var trimmed: String {
        let isSpace: (Character) -> Bool = { $0.isWhitespace }
        guard let first = self.firstIndex(where: { !isSpace($0) }), let last = self.lastIndex(where: { !isSpace($0) })
        else { return "" }
        return self[first...last].split(whereSeparator: \.isNewline).joined(separator: " / ")
    }
}
