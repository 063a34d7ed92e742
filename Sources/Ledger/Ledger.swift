import Foundation
import GRDB
public import Logging
package import Metrics
public import ServiceLifecycle
import Synchronization

/// The durable store of the appliance: the timestamp audit log and the epoch counter behind
/// token serials, in one SQLite database (WAL, `synchronous=FULL`).
///
/// The ledger stores the records it is given; it knows no ASN.1 and no policy.
///
/// Records are written by **group commit**: ``append(_:)`` suspends its caller, the
/// ``run()`` loop writes everything queued (up to ``LedgerConfiguration/maxBatchSize``
/// records) in one transaction, and resumes the callers once that transaction is committed.
/// Records appended while a batch is being committed form the next batch, so there is no
/// artificial delay and the number of `fsync`s grows with load far slower than the number of
/// records.
///
/// Records form a hash chain (see the `AuditChain` documentation in the source, or
/// `Docs/architecture.md`); ``verifyChain()`` walks it and names the first break.
///
/// Run the ledger in a `ServiceGroup` before the services that append to it, so that it
/// starts first and drains last: on graceful shutdown it stops accepting records, commits
/// those already queued, and returns.
public final class Ledger: Service, Sendable {
    private let path: String
    private let dbPool: DatabasePool
    /// The pool, for the other tables of the ledger (extensions in this module).
    var pool: DatabasePool { self.dbPool }
    private let logger: Logger
    private let maxBatchSize: Int
    /// Seconds between probes while unhealthy and idle (at most a day).
    private let healthProbeSeconds: Double
    private let instanceID: UInt32
    private let state: Mutex<CommitState>
    /// Wakes the writer thread (see ``CommitState/writerSleeping``).
    private let writerSignal = DispatchSemaphore(value: 0)

    private let commitTimer: Metrics.Timer
    private let batchSizeRecorder: Recorder
    private let recordsCounter: Counter
    private let commitFailuresCounter: Counter

    /// Opens the ledger at ``LedgerConfiguration/databasePath``, creating the file (and its
    /// directory, mode 0700) when missing, and migrates it to the current schema.
    ///
    /// - Throws: ``LedgerError`` with code ``LedgerError/ErrorCode/openFailed`` naming the path
    ///   and the reason, or ``LedgerError/ErrorCode/incompatibleDatabase`` when the file
    ///   belongs to another application or a newer Sigillum.
    public convenience init(configuration: LedgerConfiguration, logger: Logger) throws {
        try self.init(configuration: configuration, logger: logger, metricsFactory: MetricsSystem.factory)
    }

    /// Opens the ledger, creating its metrics with `metricsFactory` (tests pass their own).
    package init(configuration: LedgerConfiguration, logger: Logger, metricsFactory: any MetricsFactory) throws {
        let path = configuration.databasePath
        var logger = logger
        logger[metadataKey: "ledger.path"] = "\(path)"
        self.path = path
        self.logger = logger
        self.maxBatchSize = max(1, configuration.maxBatchSize)
        self.healthProbeSeconds = min(86_400, max(0.001, configuration.healthProbeIntervalSeconds))

        guard !path.isEmpty else {
            throw LedgerError.openFailed(path: "\"\"", reason: "the database path is empty")
        }
        try Self.prepareDirectory(for: path)
        try Self.createPrivately(path)

        var databaseConfiguration = Configuration()
        databaseConfiguration.label = "sigillum.ledger"
        databaseConfiguration.busyMode = .timeout(configuration.lockTimeoutSeconds)
        databaseConfiguration.maximumReaderCount = 4
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: databaseConfiguration)
        } catch {
            throw LedgerError.openFailed(path: path, reason: "SQLite could not open it (\(error))", cause: error)
        }
        self.dbPool = pool

        let opened: (instanceID: UInt32, head: ChainHead, last: ChainHead)
        do {
            // DatabasePool switches the writer to synchronous=NORMAL after WAL set-up; a
            // timestamp must never be handed out for a record a power cut can undo.
            let synchronous = try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
                return try Int.fetchOne(db, sql: "PRAGMA synchronous")
            }
            guard synchronous == 2 else {
                throw LedgerError.openFailed(path: path, reason: "SQLite refused PRAGMA synchronous = FULL")
            }
            try pool.read { db in
                try Self.checkOwnership(db, path: path)
            }
            try LedgerStore.migrator.migrate(pool)
            opened = try pool.write { db in
                try LedgerStore.checkCompatible(db, path: path)
                let instanceID = try LedgerStore.establishInstanceID(db, configured: configuration.configuredInstanceID)
                return (instanceID, try LedgerStore.loadHead(db), try LedgerStore.lastStoredRecord(db))
            }
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError.openFailed(
                path: path, reason: "it could not be read or migrated (\(error))", cause: error)
        }
        self.instanceID = opened.instanceID
        self.state = Mutex(CommitState(head: opened.head))

        if opened.last != opened.head {
            // One-time start-up warning: the next records would extend a damaged chain.
            logger.warning(
                "Ledger head does not match the last stored record; run `sigillum ledger verify`",
                metadata: [
                    "ledger.head_count": "\(opened.head.count)",
                    "ledger.last_seq": "\(opened.last.count)",
                ]
            )
        }

        self.commitTimer = Metrics.Timer(
            label: "sigillum_ledger_commit_seconds",
            preferredDisplayUnit: .seconds,
            factory: metricsFactory
        )
        self.batchSizeRecorder = Recorder(label: "sigillum_ledger_batch_size", aggregate: true, factory: metricsFactory)
        self.recordsCounter = Counter(label: "sigillum_ledger_records_total", factory: metricsFactory)
        self.commitFailuresCounter = Counter(label: "sigillum_ledger_commit_failures_total", factory: metricsFactory)

        logger.debug(
            "Ledger opened",
            metadata: ["ledger.instance_id": "\(opened.instanceID)", "ledger.records": "\(opened.head.count)"]
        )
    }

    /// Opens an existing ledger read-only, for inspection and verification while the daemon may
    /// be running (SQLite's WAL lets readers see a consistent snapshot next to the writer).
    ///
    /// - Throws: ``LedgerError`` with code ``LedgerError/ErrorCode/databaseNotFound`` when no
    ///   file exists at `path`, ``LedgerError/ErrorCode/incompatibleDatabase`` when the file is
    ///   not a ledger, or ``LedgerError/ErrorCode/openFailed``.
    public static func openReadOnly(path: String) throws -> LedgerReader {
        try LedgerReader(path: path)
    }

    // MARK: Epochs

    /// Starts a new epoch: returns the instance id and a new epoch number, durably committed
    /// before it returns.
    ///
    /// Call it once per process start. The epoch is the previous one plus 1, starting at 1.
    /// The TSA builds token serials as instance id ‖ epoch ‖ in-memory counter, so serials stay
    /// unique across restarts (`kill -9` included) without a database write per token.
    ///
    /// - Throws: ``LedgerError`` (``LedgerError/ErrorCode/commitFailed`` or
    ///   ``LedgerError/ErrorCode/epochExhausted``).
    public func beginEpoch() throws -> (instanceID: UInt32, epoch: UInt32) {
        do {
            let result = try self.dbPool.write { db in try LedgerStore.beginEpoch(db) }
            self.logger.debug("Ledger epoch started", metadata: ["ledger.epoch": "\(result.epoch)"])
            return result
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError.commitFailed(reason: "the new epoch could not be committed", cause: error)
        }
    }

    // MARK: Group commit

    /// Appends a record and returns once it is durably committed.
    ///
    /// Records appended before ``run()`` starts wait for it. When this method throws, the
    /// record was not committed and the caller must not hand out the token it describes.
    /// Cancelling the calling task does not withdraw a queued record.
    ///
    /// - Throws: ``LedgerError`` with code ``LedgerError/ErrorCode/commitFailed`` when the
    ///   transaction failed, ``LedgerError/ErrorCode/shutDown`` (at once) when the ledger is
    ///   shutting down or stopped, ``LedgerError/ErrorCode/invalidArgument`` when the record
    ///   has an empty serial, a `tokenSHA256` that is not 32 bytes, or a text field with a NUL.
    public func append(_ record: TimeStampAuditRecord) async throws -> TimeStampAuditReceipt {
        // Unsafe: resumed exactly once, by the writer or `enqueue` (the checked variant allocates a canary per record).
        try await withUnsafeThrowingContinuation { continuation in
            self.enqueue(record, waiter: .continuation(continuation))
        }
    }

    /// Appends a record and calls `completion` once it is durably committed, or with the error that kept it out.
    ///
    /// The same group commit as ``append(_:)``, for callers that are not in a task (an event loop that answers
    /// a request without leaving its thread). `completion` is called exactly once, on the ledger's writer thread or,
    /// for a record refused at once, on the caller's thread before this returns; it must not block.
    public func append(
        _ record: TimeStampAuditRecord,
        completion: @escaping @Sendable (Result<TimeStampAuditReceipt, any Error>) -> Void
    ) {
        self.enqueue(record, waiter: .callback(completion))
    }

    private func enqueue(_ record: TimeStampAuditRecord, waiter: AppendWaiter) {
        if let problem = AuditChain.problem(with: record) {
            waiter.resume(
                with: .failure(LedgerError.invalidArgument(reason: "the audit record cannot be stored: \(problem)")))
            return
        }
        let outcome = self.state.withLock { state -> AppendOutcome in
            switch state.phase {
            case .idle, .running:
                state.queue.append(PendingAppend(record: record, waiter: waiter))
                return .queued(wakeWriter: state.takeWriterWakeup())
            case .draining, .finished:
                return .rejected
            }
        }
        switch outcome {
        case .queued(let wakeWriter):
            if wakeWriter { self.writerSignal.signal() }
        case .rejected:
            waiter.resume(
                with: .failure(
                    LedgerError.shutDown(reason: "the ledger is shutting down and accepts no more records")))
        }
    }

    /// The group commit (the ledger's `Service` body).
    ///
    /// A thread of the ledger's own writes queued records in batches, one transaction each (`synchronous = FULL`:
    /// SQLite syncs the write-ahead log inside the commit), and resumes their callers once it is committed. Records
    /// appended meanwhile form the next batch. The writer is a plain thread, not a task, so that a request's path
    /// holds no hop through a task executor or a dispatch queue (on two busy cores each hop waits for a time slice).
    /// On graceful shutdown the ledger stops
    /// accepting records, commits those already queued, and returns. On cancellation it fails the queued records with
    /// ``LedgerError/ErrorCode/shutDown`` and returns.
    ///
    /// - Throws: ``LedgerError`` with code ``LedgerError/ErrorCode/alreadyRunning`` when the
    ///   loop already runs, ``LedgerError/ErrorCode/shutDown`` when it already ran.
    public func run() async throws {
        try self.state.withLock { state throws(LedgerError) in
            switch state.phase {
            case .idle:
                state.phase = .running
            case .running, .draining:
                throw LedgerError.alreadyRunning()
            case .finished:
                throw LedgerError.shutDown(reason: "the ledger has stopped and cannot run again")
            }
        }
        self.logger.debug("Ledger group commit started")
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withCheckedContinuation { (stopped: CheckedContinuation<Void, Never>) in
                    let thread = Thread {
                        // Named from inside: on Linux a thread can only name itself (seen in `ps -L`, `perf`).
                        Thread.current.name = "sigillum-ledger"
                        self.writerLoop()
                        self.state.withLock { $0.phase = .finished }
                        stopped.resume()
                    }
                    thread.start()
                }
            } onGracefulShutdown: {
                self.stopAccepting(cancelled: false)
            }
        } onCancel: {
            self.stopAccepting(cancelled: true)
        }
        self.logger.debug("Ledger group commit stopped")
    }

    /// Whether the ledger can commit records: its loop runs, is not shutting down, and the last
    /// commit (if any) succeeded.
    ///
    /// A failed commit makes it unhealthy until a later commit succeeds; while unhealthy and idle,
    /// the writer tries an empty write transaction every second, so the ledger becomes healthy
    /// again without waiting for records.
    public var isHealthy: Bool {
        self.state.withLock { $0.phase == .running && $0.lastCommitSucceeded }
    }

    private func stopAccepting(cancelled: Bool) {
        let wakeWriter = self.state.withLock { state -> Bool in
            if state.phase == .running || state.phase == .idle {
                state.phase = .draining
            }
            if cancelled {
                state.cancelled = true
            }
            return state.takeWriterWakeup()
        }
        if wakeWriter { self.writerSignal.signal() }
    }

    // MARK: The writer thread

    private func writerLoop() {
        while let batch = self.nextBatch() {
            self.commit(batch)
        }
    }

    /// Waits for queued records; `nil` once the ledger is draining and the queue is empty.
    private func nextBatch() -> [PendingAppend]? {
        while true {
            let step = self.state.withLock { state -> NextStep in
                if !state.queue.isEmpty {
                    if state.cancelled {
                        return .refuse(state.takeBatch(maximum: .max))
                    }
                    return .batch(state.takeBatch(maximum: self.maxBatchSize))
                }
                if state.phase == .draining {
                    return .stop
                }
                state.writerSleeping = true
                return .wait(unhealthy: !state.lastCommitSucceeded)
            }
            switch step {
            case .batch(let batch):
                return batch
            case .refuse(let batch):
                let error = LedgerError.shutDown(reason: "the ledger was stopped before the record was committed")
                for pending in batch {
                    pending.waiter.resume(with: .failure(error))
                }
            case .stop:
                return nil
            case .wait(let unhealthy):
                guard unhealthy else {
                    self.writerSignal.wait()
                    continue
                }
                // After a failed commit, do not wait for traffic to find out that the disk is
                // writable again: a health check may keep traffic away until it is.
                guard self.writerSignal.wait(timeout: .now() + self.healthProbeSeconds) == .timedOut else { continue }
                let probe = self.state.withLock { state in
                    // An `append` that found the writer asleep has signalled (or will): the next wait returns at once.
                    state.writerSleeping = false
                    return state.queue.isEmpty && state.phase == .running && !state.lastCommitSucceeded
                }
                if probe {
                    self.probeWrite()
                }
            }
        }
    }

    /// A write transaction without records, committed with `synchronous = FULL`, to learn whether commits work again.
    private func probeWrite() {
        do {
            try self.dbPool.write { db in try LedgerStore.probe(db) }
            self.state.withLock { $0.lastCommitSucceeded = true }
            self.logger.debug("Ledger commits succeed again")
        } catch {
            self.logger.debug("Ledger is still unable to commit", metadata: ["error.message": "\(error)"])
        }
    }

    /// Writes one batch in one transaction and resumes its callers.
    private func commit(_ batch: [PendingAppend]) {
        let (head, reloadHead) = self.state.withLock { state in
            state.committingRecordCount = batch.count
            return (state.head, state.headNeedsReload)
        }
        defer { self.state.withLock { $0.committingRecordCount = 0 } }
        let records = batch.map(\.record)
        let committedAt = Self.timestamp()
        let instanceID = self.instanceID
        let start = ContinuousClock.now
        do {
            // The synchronous write runs on this thread (GRDB's writer queue is entered with `sync`).
            let result = try self.dbPool.write { db in
                let base = reloadHead ? try LedgerStore.loadHead(db) : head
                return try LedgerStore.appendBatch(
                    db,
                    records: records,
                    head: base,
                    instanceID: instanceID,
                    committedAt: committedAt
                )
            }
            let elapsed = ContinuousClock.now - start
            self.state.withLock { state in
                state.head = result.head
                state.headNeedsReload = false
                state.lastCommitSucceeded = true
                state.statistics.transactions += 1
                state.statistics.records += batch.count
                state.statistics.largestBatch = max(state.statistics.largestBatch, batch.count)
            }
            self.commitTimer.record(duration: elapsed)
            self.batchSizeRecorder.record(batch.count)
            self.recordsCounter.increment(by: batch.count)
            for (pending, receipt) in zip(batch, result.receipts) {
                pending.waiter.resume(with: .success(receipt))
            }
        } catch {
            self.state.withLock { state in
                state.lastCommitSucceeded = false
                // The outcome of a failed COMMIT is not always known: read the head again.
                state.headNeedsReload = true
                state.statistics.failedTransactions += 1
            }
            self.commitFailuresCounter.increment()
            self.logger.info(
                "Ledger commit failed",
                metadata: ["ledger.batch_size": "\(batch.count)", "error.message": "\(error)"]
            )
            let ledgerError: LedgerError
            if let error = error as? LedgerError {
                ledgerError = error
            } else {
                ledgerError = LedgerError.commitFailed(
                    reason: "the audit records could not be committed to \(self.path)",
                    cause: error
                )
            }
            for pending in batch {
                pending.waiter.resume(with: .failure(ledgerError))
            }
        }
    }

    // MARK: Reading

    /// Walks the audit chain in sequence order and reports the first break, if any.
    ///
    /// Reads one consistent snapshot; appends may continue meanwhile.
    public func verifyChain() throws -> ChainVerificationReport {
        try LedgerStore.read(self.dbPool, "verify the audit chain") { try LedgerStore.verifyChain($0) }
    }

    /// The latest genTime this instance issued, in microseconds since 1970, or nil before its first token.
    ///
    /// The TSA starts its genTime sequence after it, so that genTime strictly increases across restarts and
    /// backward clock steps (EN 319 422 ordering).
    public func lastGenTimeMicroseconds() throws -> Int64? {
        let instanceID = self.instanceID
        return try LedgerStore.read(self.dbPool, "read the last genTime") {
            try LedgerStore.lastGenTimeMicroseconds($0, instanceID: instanceID)
        }
    }

    /// The number of stored audit records.
    public func auditRecordCount() throws -> Int {
        try LedgerStore.read(self.dbPool, "count the audit records") { try LedgerStore.auditRecordCount($0) }
    }

    /// The records of the token with this serial number.
    ///
    /// - Parameter serialHex: The serial in hexadecimal (an optional `0x`, any case); leading
    ///   zero octets do not matter.
    public func auditRecords(serialHex: String) throws -> [StoredAuditRecord] {
        let serial = try LedgerStore.parseSerial(serialHex)
        return try LedgerStore.read(self.dbPool, "look up the audit records") {
            try LedgerStore.auditRecords($0, serial: serial)
        }
    }

    /// Up to `limit` records with a sequence number above `sequence`, in sequence order.
    public func auditRecords(after sequence: Int64 = 0, limit: Int = 1000) throws -> [StoredAuditRecord] {
        try LedgerStore.read(self.dbPool, "list the audit records") {
            try LedgerStore.auditRecords($0, after: sequence, limit: limit)
        }
    }

    // MARK: Helpers

    private static let timestampStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    /// The commit time stored with each record: UTC, ISO 8601 with milliseconds.
    private static func timestamp() -> String {
        Date.now.formatted(timestampStyle)
    }

    /// Creates the database's directory (mode 0700) when missing.
    private static func prepareDirectory(for path: String) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw LedgerError.openFailed(path: path, reason: "\(directory) is not a directory")
            }
            return
        }
        do {
            try FileManager.default.createDirectory(
                atPath: directory,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
        } catch {
            throw LedgerError.openFailed(
                path: path,
                reason: "its directory \(directory) could not be created",
                cause: error
            )
        }
    }

    /// Creates a missing database file with mode 0600 before SQLite opens it (SQLite would create it 0644 less the
    /// umask); SQLite gives its `-wal` and `-shm` files the database file's mode, so the audit log, with its client
    /// addresses, is private to the daemon's user even outside its 0700 directory. An existing file is left as it is.
    private static func createPrivately(_ path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if descriptor >= 0 {
            close(descriptor)
            return
        }
        let code = errno
        guard code == EEXIST else {
            throw LedgerError.openFailed(
                path: path,
                reason: "it could not be created (\(String(cString: strerror(code))))",
                cause: POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO)
            )
        }
    }

    /// Refuses an SQLite file that another application created (tables, but no GRDB migrations).
    private static func checkOwnership(_ db: Database, path: String) throws {
        if try db.tableExists("grdb_migrations") {
            if try LedgerStore.migrator.hasBeenSuperseded(db) {
                throw LedgerError.incompatibleDatabase(
                    path: path, reason: "it was written by a newer version of Sigillum")
            }
            return
        }
        let objects = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sqlite_master") ?? 0
        if objects > 0 {
            throw LedgerError.incompatibleDatabase(
                path: path, reason: "it is an SQLite database of another application")
        }
    }
}

// MARK: - Test hooks

extension Ledger {
    /// Counters of the group-commit loop, for tests.
    package struct GroupCommitStatistics: Sendable, Equatable {
        /// Committed transactions.
        package var transactions = 0
        /// Records in committed transactions.
        package var records = 0
        /// The largest committed batch.
        package var largestBatch = 0
        /// Transactions that failed.
        package var failedTransactions = 0
    }

    /// Counters of the group-commit loop.
    package var groupCommitStatistics: GroupCommitStatistics {
        self.state.withLock { $0.statistics }
    }

    /// Records waiting for the writer.
    package var queuedRecordCount: Int {
        self.state.withLock { $0.queue.count }
    }

    /// Records in the transaction being written (0 between transactions).
    package var committingRecordCount: Int {
        self.state.withLock { $0.committingRecordCount }
    }

    /// The writer connection's `PRAGMA synchronous` (2 = FULL).
    package func writerSynchronousMode() throws -> Int? {
        try self.dbPool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
    }

    /// The instance id this ledger writes into records.
    package var currentInstanceID: UInt32 { self.instanceID }
}

// MARK: - Commit state

/// A record waiting for its transaction, with the caller to resume.
private struct PendingAppend: Sendable {
    var record: TimeStampAuditRecord
    var waiter: AppendWaiter
}

/// Who is told when a record's transaction ends: a suspended task, or a callback.
private enum AppendWaiter: Sendable {
    case continuation(UnsafeContinuation<TimeStampAuditReceipt, any Error>)
    case callback(@Sendable (Result<TimeStampAuditReceipt, any Error>) -> Void)

    func resume(with result: Result<TimeStampAuditReceipt, any Error>) {
        switch self {
        case .continuation(let continuation): continuation.resume(with: result)
        case .callback(let completion): completion(result)
        }
    }
}

private enum AppendOutcome {
    case queued(wakeWriter: Bool)
    case rejected
}

/// What the writer does next.
private enum NextStep: Sendable {
    case batch([PendingAppend])
    /// Cancelled: fail these without writing them.
    case refuse([PendingAppend])
    case stop
    case wait(unhealthy: Bool)
}

/// Everything the writer thread and `append` share, behind one lock.
private struct CommitState: Sendable {
    enum Phase: Sendable {
        /// `run()` has not started; appends wait.
        case idle
        /// Accepting and committing.
        case running
        /// Graceful shutdown or cancellation: no new appends; the queue is being committed (or refused).
        case draining
        /// The writer thread returned.
        case finished
    }

    var phase = Phase.idle
    var cancelled = false
    var queue: [PendingAppend] = []
    /// The writer waits (or is about to wait) on its semaphore; whoever clears this signals it.
    var writerSleeping = false
    var lastCommitSucceeded = true
    /// The chain head as of the last successful commit (the writer's copy of `ledger_meta`).
    var head: ChainHead
    var headNeedsReload = false
    /// The size of the batch being written (0 between transactions).
    var committingRecordCount = 0
    var statistics = Ledger.GroupCommitStatistics()

    init(head: ChainHead) {
        self.head = head
    }

    /// Removes and returns up to `maximum` queued records, oldest first.
    mutating func takeBatch(maximum: Int) -> [PendingAppend] {
        if self.queue.count <= maximum {
            defer { self.queue = [] }
            return self.queue
        }
        let batch = Array(self.queue.prefix(maximum))
        self.queue.removeFirst(maximum)
        return batch
    }

    /// Whether the caller must signal the writer (it was asleep); clears the flag so that only one caller does.
    mutating func takeWriterWakeup() -> Bool {
        defer { self.writerSleeping = false }
        return self.writerSleeping
    }
}
