import Foundation
import Logging
import Synchronization
import Testing

@testable import OCSPResponder

/// A fresh directory under the system's temporary directory.
struct TemporaryDirectory: Sendable {
    let url: URL

    init() throws {
        self.url = FileManager.default.temporaryDirectory
            .appendingPathComponent("sigillum-ocsp-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: self.url, withIntermediateDirectories: true)
    }

    /// A path inside the directory.
    func path(_ name: String) -> String {
        self.url.appendingPathComponent(name).path
    }

    func remove() {
        try? FileManager.default.removeItem(at: self.url)
    }
}

/// Runs `body` with a fresh temporary directory and removes the directory afterwards.
func withTemporaryDirectory<T>(_ body: (TemporaryDirectory) async throws -> T) async throws -> T {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    return try await body(directory)
}

/// Writes `text` to `path` in place (truncate and write, same inode); creates the file when missing.
func writeInPlace(_ text: String, to path: String) throws {
    if !FileManager.default.fileExists(atPath: path) {
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else {
            throw TestFailure("cannot create \(path)")
        }
        return
    }
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    try handle.truncate(atOffset: 0)
    try handle.write(contentsOf: Data(text.utf8))
}

/// Appends `text` to the file at `path` (same inode).
func append(_ text: String, to path: String) throws {
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    try handle.seekToEnd()
    try handle.write(contentsOf: Data(text.utf8))
}

/// Replaces the file at `path` atomically: writes a temporary file beside it, then renames it over (new inode).
func replaceAtomically(_ bytes: [UInt8], at path: String) throws {
    let temporary = path + ".tmp-\(UUID().uuidString)"
    try Data(bytes).write(to: URL(fileURLWithPath: temporary))
    guard rename(temporary, path) == 0 else {
        throw TestFailure("rename \(temporary) → \(path) failed: errno \(errno)")
    }
}

func readBytes(_ path: String) throws -> [UInt8] {
    Array(try Data(contentsOf: URL(fileURLWithPath: path)))
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` every 10 ms until it holds or `timeout` passes; returns whether it held.
///
/// The watchers poll every 100 ms in these tests, so a change shows within a few hundred milliseconds; the
/// generous default only keeps a loaded CI machine (the whole suite runs in parallel on 2 cores) from failing a
/// correct build. Latency is a benchmark matter, not a unit-test assertion.
func eventually(within timeout: Duration = .seconds(10), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// A UTC date from its parts.
func utc(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0, _ second: Int = 0) -> Date {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    return calendar.date(
        from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    )!
}

// MARK: - Logging

/// A log handler that keeps every record (tests never bootstrap the logging system).
final class CapturingLogHandler: LogHandler, Sendable {
    struct Record: Sendable {
        var level: Logger.Level
        var message: String
    }

    private let storage = Mutex<[Record]>([])

    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }

    var logLevel: Logger.Level {
        get { .trace }
        set {}
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }

    func log(event: LogEvent) {
        self.storage.withLock { $0.append(Record(level: event.level, message: event.message.description)) }
    }

    var records: [Record] { self.storage.withLock { $0 } }

    func messages(at level: Logger.Level) -> [String] {
        self.records.filter { $0.level == level }.map(\.message)
    }

    var logger: Logger {
        Logger(label: "OCSPResponderTests", factory: { _ in self })
    }
}

let silentLogger = Logger(label: "OCSPResponderTests", factory: { _ in SwiftLogNoOpLogHandler() })

// MARK: - Index lines

/// One `index.txt` line as `openssl ca` writes it.
func indexLine(
    _ status: String,
    serial: String,
    expiry: String = "271125000000Z",
    revocation: String = "",
    subject: String = "/CN=test"
) -> String {
    [status, expiry, revocation, serial, "unknown", subject].joined(separator: "\t") + "\n"
}

// MARK: - Processes

/// Runs `openssl` with `arguments` in `directory`; throws with its stderr when it fails.
@discardableResult
func openssl(_ arguments: [String], in directory: URL) throws -> (stdout: String, stderr: String) {
    let result = try run(["openssl"] + arguments, in: directory)
    guard result.status == 0 else {
        throw TestFailure("openssl \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.stderr)")
    }
    return (result.stdout, result.stderr)
}

func run(_ command: [String], in directory: URL) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = command
    process.currentDirectoryURL = directory
    let output = Pipe()
    let error = Pipe()
    process.standardOutput = output
    process.standardError = error
    try process.run()
    // Read before waiting, so that a full pipe cannot block the child.
    let stdout = output.fileHandleForReading.readDataToEndOfFile()
    let stderr = error.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}
