import Crypto
import Foundation
import GRDB
import Ledger
import Logging
import Metrics
import ServiceLifecycle
import Synchronization
import Testing

/// A logger that drops everything (tests never bootstrap the logging system).
let testLogger = Logger(label: "LedgerTests", factory: { _ in SwiftLogNoOpLogHandler() })

/// A fresh directory under the system's temporary directory.
struct TemporaryDirectory: Sendable {
    let url: URL

    init() throws {
        self.url = FileManager.default.temporaryDirectory
            .appendingPathComponent("sigillum-ledger-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: self.url, withIntermediateDirectories: true)
    }

    /// A path inside the directory.
    func path(_ name: String) -> String {
        self.url.appendingPathComponent(name).path
    }

    /// The default ledger path inside the directory.
    var ledgerPath: String { self.path("ledger.sqlite") }

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

/// Opens a ledger with test defaults.
func openLedger(
    _ path: String,
    maxBatchSize: Int = 512,
    instanceID: UInt32? = nil,
    lockTimeoutSeconds: Double = 5,
    healthProbeIntervalSeconds: Double = 1,
    metrics: RecordingMetrics = RecordingMetrics()
) throws -> Ledger {
    var configuration = LedgerConfiguration(
        databasePath: path,
        maxBatchSize: maxBatchSize,
        configuredInstanceID: instanceID
    )
    configuration.lockTimeoutSeconds = lockTimeoutSeconds
    configuration.healthProbeIntervalSeconds = healthProbeIntervalSeconds
    return try Ledger(configuration: configuration, logger: testLogger, metricsFactory: metrics)
}

/// A metrics factory that keeps every value per label (no global bootstrap).
final class RecordingMetrics: MetricsFactory, Sendable {
    final class Handler: CounterHandler, RecorderHandler, TimerHandler, Sendable {
        let values = Mutex<[Int64]>([])

        func increment(by amount: Int64) { self.values.withLock { $0.append(amount) } }
        func reset() { self.values.withLock { $0.removeAll() } }
        func record(_ value: Int64) { self.values.withLock { $0.append(value) } }
        func record(_ value: Double) { self.values.withLock { $0.append(Int64(value)) } }
        func recordNanoseconds(_ duration: Int64) { self.values.withLock { $0.append(duration) } }
    }

    private let handlers = Mutex<[String: Handler]>([:])

    /// The values recorded under `label` (increments for counters).
    func values(_ label: String) -> [Int64] {
        self.handlers.withLock { $0[label] }?.values.withLock { $0 } ?? []
    }

    /// Whether a metric with `label` was created.
    func hasMetric(_ label: String) -> Bool {
        self.handlers.withLock { $0[label] != nil }
    }

    private func handler(_ label: String) -> Handler {
        self.handlers.withLock { handlers in
            if let handler = handlers[label] {
                return handler
            }
            let handler = Handler()
            handlers[label] = handler
            return handler
        }
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler { self.handler(label) }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        self.handler(label)
    }
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler { self.handler(label) }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
}

/// Runs `body` while the ledger's `run()` is active in a `ServiceGroup`, then shuts the group
/// down gracefully and waits for the ledger to drain.
func withRunningLedger<T>(
    _ ledger: Ledger,
    _ body: (ServiceGroup) async throws -> T
) async throws -> T {
    let group = ServiceGroup(services: [ledger], logger: testLogger)
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        let result: T
        do {
            try await waitUntil("the ledger runs") { ledger.isHealthy }
            result = try await body(group)
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
        return result
    }
}

struct TimedOut: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting until \(self.what)" }
}

/// Polls `condition` until it holds; throws after `timeout`.
func waitUntil(
    _ what: String,
    timeout: Duration = .seconds(120),  // generous: the whole suite shares 2 cores, and openssl runs block test threads
    _ condition: () throws -> Bool
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while try !condition() {
        if clock.now > deadline {
            throw TimedOut(what: what)
        }
        try await Task.sleep(for: .milliseconds(2))
    }
}

/// The 8-byte big-endian form of `value`.
func bigEndian(_ value: UInt64) -> [UInt8] {
    (0..<8).reversed().map { UInt8(truncatingIfNeeded: value >> (UInt64($0) * 8)) }
}

/// A distinct, plausible audit record; optional fields vary with `index`.
func makeRecord(_ index: Int) -> TimeStampAuditRecord {
    TimeStampAuditRecord(
        serialNumber: [0x01] + bigEndian(UInt64(index)),
        genTime: "20261125014500.\(String(format: "%03d", index % 1000))Z",
        policy: "1.3.6.1.4.1.99999.1.1",
        hashAlgorithm: "2.16.840.1.101.3.4.2.1",
        imprint: Array(SHA256.hash(data: Array("document \(index)".utf8))),
        nonce: index % 3 == 0 ? nil : bigEndian(UInt64(index) &* 2_654_435_761),
        clientAddress: index % 2 == 0 ? "192.0.2.\(index % 250)" : nil,
        tokenSHA256: Array(SHA256.hash(data: Array("token \(index)".utf8))),
        accuracyMicros: index % 4 == 0 ? nil : 500_000
    )
}

/// The hex form used by `auditRecords(serialHex:)`.
func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}

/// A second, raw SQLite connection to the ledger file, as an attacker or operator would use.
func rawConnection(_ path: String) throws -> DatabaseQueue {
    var configuration = Configuration()
    configuration.allowsUnsafeTransactions = true
    return try DatabaseQueue(path: path, configuration: configuration)
}

/// Creates a ledger with `count` records (1…count), then releases it.
func makeLedgerFile(_ path: String, count: Int) async throws {
    let ledger = try openLedger(path)
    try await withRunningLedger(ledger) { _ in
        for index in 1...count {
            _ = try await ledger.append(makeRecord(index))
        }
    }
}

/// Expects `body` to throw a `LedgerError` with `code`, and returns it.
@discardableResult
func expectLedgerError<T>(
    _ code: LedgerError.ErrorCode,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> T
) async -> LedgerError? {
    do {
        _ = try await body()
        Issue.record("expected LedgerError.\(code), but nothing was thrown", sourceLocation: sourceLocation)
        return nil
    } catch let error as LedgerError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected LedgerError.\(code), got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// Runs `updates` in a transaction of a raw connection (synchronously).
func rawWrite(_ path: String, _ updates: (Database) throws -> Void) throws {
    try rawConnection(path).write(updates)
}
