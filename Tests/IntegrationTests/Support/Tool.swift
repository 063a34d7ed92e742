import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// What a finished tool printed and how it ended.
struct ToolResult: Sendable, CustomStringConvertible {
    var command: [String]
    var status: Int32
    var stdout: Data
    var stderr: Data
    var timedOut: Bool

    var output: String { String(decoding: self.stdout, as: UTF8.self) }
    var errorOutput: String { String(decoding: self.stderr, as: UTF8.self) }
    /// stdout and stderr together, for `contains` checks on tools that print results on either.
    var allOutput: String { self.output + self.errorOutput }
    var succeeded: Bool { self.status == 0 && !self.timedOut }

    var description: String {
        let shown = self.command.map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ")
        return """
            $ \(shown)
            exit \(self.status)\(self.timedOut ? " (killed after the timeout)" : "")
            --- stdout ---
            \(self.output.prefix(4000))
            --- stderr ---
            \(self.errorOutput.prefix(4000))
            """
    }
}

/// Runs external programs (openssl, curl, sqlite3, sh, the sigillum CLI) with a timeout.
///
/// Output goes to temporary files, not pipes: a daemon started concurrently by another test may inherit a pipe's
/// write end, and a reader waiting for end-of-file would then wait for that daemon. Waiting is by polling
/// `isRunning`, so no thread of the cooperative pool blocks.
enum Tool {
    static let scratch: String = {
        let directory = NSTemporaryDirectory() + "sigillum-it-io-\(getpid())"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: Tool.scratch) }
        return directory
    }()

    static func run(
        _ executable: String,
        _ arguments: [String],
        stdin: [UInt8]? = nil,
        directory: String? = nil,
        environment: [String: String]? = nil,
        timeout: Duration = .seconds(60)
    ) async throws -> ToolResult {
        let id = UUID().uuidString
        let outPath = "\(Self.scratch)/\(id).out"
        let errPath = "\(Self.scratch)/\(id).err"
        let inPath = "\(Self.scratch)/\(id).in"
        defer {
            for path in [outPath, errPath, inPath] { try? FileManager.default.removeItem(atPath: path) }
        }
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let outHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let errHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        var inHandle: FileHandle?
        if let stdin {
            try writeFile(inPath, stdin)
            inHandle = try FileHandle(forReadingFrom: URL(fileURLWithPath: inPath))
        }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = outHandle
        process.standardError = errHandle
        process.standardInput = inHandle ?? FileHandle.nullDevice
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        do {
            try process.run()
        } catch {
            try? outHandle.close()
            try? errHandle.close()
            try? inHandle?.close()
            throw IntegrationError("cannot start \(executable): \(error)")
        }
        try? outHandle.close()
        try? errHandle.close()
        try? inHandle?.close()

        let timedOut = await waitForExit(process, timeout: timeout)
        return ToolResult(
            command: [executable] + arguments,
            status: process.terminationStatus,
            stdout: FileManager.default.contents(atPath: outPath) ?? Data(),
            stderr: FileManager.default.contents(atPath: errPath) ?? Data(),
            timedOut: timedOut
        )
    }

    /// Waits for `process` to end; kills it (SIGKILL) when `timeout` passes. Returns whether it had to be killed.
    static func waitForExit(_ process: Process, timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        var killed = false
        var pause = Duration.milliseconds(2)
        while process.isRunning {
            if !killed && (ContinuousClock.now >= deadline || Task.isCancelled) {
                kill(process.processIdentifier, SIGKILL)
                killed = true
            }
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(25))
        }
        return killed
    }

    /// Runs a tool found on `$PATH`.
    static func run(
        tool name: String,
        _ arguments: [String],
        stdin: [UInt8]? = nil,
        directory: String? = nil,
        timeout: Duration = .seconds(60)
    ) async throws -> ToolResult {
        try await self.run(try Environment.tool(name), arguments, stdin: stdin, directory: directory, timeout: timeout)
    }

    /// `openssl ARGS…`; does not check the exit status.
    static func openssl(_ arguments: [String], stdin: [UInt8]? = nil, directory: String? = nil) async throws
        -> ToolResult
    {
        try await self.run(tool: "openssl", arguments, stdin: stdin, directory: directory)
    }

    /// `/bin/sh -c SCRIPT`.
    static func shell(_ script: String, directory: String? = nil, timeout: Duration = .seconds(60)) async throws
        -> ToolResult
    {
        try await self.run("/bin/sh", ["-c", script], directory: directory, timeout: timeout)
    }

    /// `sigillum ARGS…` from the build folder.
    static func sigillum(_ arguments: [String], timeout: Duration = .seconds(60)) async throws -> ToolResult {
        try await self.run(try Environment.sigillum(), arguments, timeout: timeout)
    }

    /// `sqlite3 -readonly DB SQL` (or read-write), one row per line, columns separated by `|`.
    static func sqlite(_ database: String, _ sql: String, readOnly: Bool = true) async throws -> [String] {
        let result = try await self.run(tool: "sqlite3", (readOnly ? ["-readonly"] : []) + [database, sql])
        guard result.succeeded else { throw IntegrationError("sqlite3 failed:\n\(result)") }
        return result.output.split(separator: "\n").map(String.init)
    }
}

/// Runs the tool and throws, with its output, unless it exits 0.
@discardableResult
func checked(_ result: ToolResult) throws -> ToolResult {
    guard result.succeeded else { throw IntegrationError("command failed:\n\(result)") }
    return result
}
