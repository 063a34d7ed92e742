import Dispatch
import Foundation
public import Ledger
public import Logging
package import Metrics
import PKIMessages
public import ServiceLifecycle
import Synchronization

/// Where ``LedgerStatusSource`` reads statuses: the ledger (``Ledger`` in the daemon, ``LedgerReader`` read-only).
public protocol OCSPStatusLedger: Sendable {
    func ocspStatusGeneration(issuer: String) throws -> Int64
    func ocspStatus(issuer: String) throws -> (generation: Int64, records: [OCSPStatusRecord])
}

extension Ledger: OCSPStatusLedger {}
extension LedgerReader: OCSPStatusLedger {}

/// Keeps one issuer's status snapshot in step with the ledger's `ocsp_status` rows, which
/// `sigillum ocsp revoke|unrevoke|import-index|import-crl` write (possibly while the daemon runs).
///
/// The first snapshot is read in `init`. ``run()`` then reads the issuer's generation counter every
/// ``StatusSourceWatcher/Configuration/pollInterval`` (one indexed lookup) and, when it changed, reads every row and
/// publishes a new snapshot. A row-level change always bumps the generation in the same transaction, so nothing is
/// missed.
///
/// The snapshot claims to know every issued serial (``StatusSnapshot/knowsAllIssued``): the ledger holds a row per
/// serial imported from `index.txt`, and `revoke`/`unrevoke` of a serial never imported adds it. A serial with no
/// row is answered unknown (or, with "non-issued is revoked", revoked per RFC 6960 §2.2). Importing only a CRL
/// therefore lists only revoked serials: every other serial is unknown until imported.
public final class LedgerStatusSource: Service, StatusLookup, Sendable {
    /// What one ``checkForChange()`` did.
    public enum CheckOutcome: Hashable, Sendable {
        /// The generation has not changed.
        case unchanged
        /// A new snapshot was published.
        case reloaded(generation: UInt64)
        /// The generation changed but the rows say the same as the published snapshot.
        case sameContent
        /// The ledger could not be read; the previous snapshot stays.
        case failed(String)
        /// Another check is running.
        case busy
    }

    private struct State {
        var ledgerGeneration: Int64
        var lastFailure: String?
        var isChecking = false
    }

    private let ledger: any OCSPStatusLedger
    private let issuer: String
    private let pollInterval: Duration
    private let logger: Logger
    private let metrics: StatusSourceMetrics
    private let published: Mutex<StatusSnapshot>
    private let state: Mutex<State>

    /// Reads the issuer's statuses once and prepares to poll them.
    ///
    /// - Parameters:
    ///   - ledger: The ledger to read.
    ///   - issuer: The issuer's key in the ledger: its subject as text (``OCSPIssuer/label``).
    ///   - configuration: Poll interval and the issuer's short label (logs, metrics).
    /// - Throws: ``OCSPResponderError`` (``OCSPResponderError/ErrorCode/sourceUnavailable``) when the ledger cannot
    ///   be read, ``OCSPResponderError/ErrorCode/invalidConfiguration`` for a poll interval that is not positive.
    public convenience init(
        ledger: any OCSPStatusLedger,
        issuer: String,
        configuration: StatusSourceWatcher.Configuration = .init(),
        logger: Logger
    ) throws(OCSPResponderError) {
        try self.init(
            ledger: ledger,
            issuer: issuer,
            configuration: configuration,
            logger: logger,
            metricsFactory: MetricsSystem.factory
        )
    }

    /// As the public `init`, creating the metrics with `metricsFactory`.
    package init(
        ledger: any OCSPStatusLedger,
        issuer: String,
        configuration: StatusSourceWatcher.Configuration,
        logger: Logger,
        metricsFactory: any MetricsFactory
    ) throws(OCSPResponderError) {
        guard configuration.pollInterval > .zero else {
            throw .invalidConfiguration(
                reason: "the status source poll interval must be positive, not \(configuration.pollInterval)"
            )
        }
        var logger = logger
        logger[metadataKey: "ocsp.issuer"] = "\(configuration.issuerLabel)"
        logger[metadataKey: "ocsp.source.kind"] = "\(StatusSourceKind.ledger)"
        self.ledger = ledger
        self.issuer = issuer
        self.pollInterval = configuration.pollInterval
        self.logger = logger
        self.metrics = StatusSourceMetrics(
            issuerLabel: configuration.issuerLabel, kind: .ledger, factory: metricsFactory)

        let loaded: (generation: Int64, records: [OCSPStatusRecord])
        do {
            loaded = try ledger.ocspStatus(issuer: issuer)
        } catch {
            throw .sourceUnavailable(path: Self.sourcePath(issuer), reason: "the ledger could not be read (\(error))")
        }
        let snapshot = StatusSnapshot(
            Self.parse(loaded.records),
            sourceKind: .ledger,
            sourcePath: Self.sourcePath(issuer),
            generation: 1,
            loadedAt: Date()
        )
        self.published = Mutex(snapshot)
        self.state = Mutex(State(ledgerGeneration: loaded.generation))
        self.metrics.reloads.increment()
        self.metrics.record(snapshot)
        logger.info(
            "OCSP status source loaded",
            metadata: [
                "ocsp.status.generation": "1",
                "ocsp.status.ledger_generation": "\(loaded.generation)",
                "ocsp.status.entries": "\(snapshot.count)",
                "ocsp.status.revoked": "\(snapshot.revokedCount)",
            ]
        )
    }

    /// The snapshot's `sourcePath`: the ledger and the issuer.
    static func sourcePath(_ issuer: String) -> String { "ledger:\(issuer)" }

    /// The status entries of the ledger's records (``ParsedStatus/knowsAllIssued`` true).
    public static func parse(_ records: [OCSPStatusRecord]) -> ParsedStatus {
        var entries: [SerialNumberKey: CertificateStatus.Entry] = [:]
        entries.reserveCapacity(records.count)
        for record in records {
            let key = SerialNumberKey(magnitude: record.serial)
            if record.isRevoked {
                entries[key] = .revoked(
                    CertificateStatus.Revocation(
                        time: Date(timeIntervalSince1970: TimeInterval(record.revocationTime ?? 0)),
                        reason: record.reason.map { CRLReason(rawValue: $0) },
                        invalidityDate: record.invalidityTime.map { Date(timeIntervalSince1970: TimeInterval($0)) }
                    )
                )
            } else {
                entries[key] = .good
            }
        }
        return ParsedStatus(entries: entries, knowsAllIssued: true)
    }

    /// The snapshot answers are taken from now.
    public var currentSnapshot: StatusSnapshot {
        self.published.withLock { $0 }
    }

    /// The poll loop: a ``checkForChange()`` every poll interval until cancelled or a graceful shutdown begins.
    public func run() async throws {
        self.logger.debug("OCSP ledger status poll started")
        await pollUntilShutdown(every: self.pollInterval) { _ = await self.checkForChange() }
        self.logger.debug("OCSP ledger status poll stopped")
    }

    /// Reads the generation once and, when it changed, reads the rows and publishes a new snapshot.
    public func checkForChange() async -> CheckOutcome {
        let known: Int64? = self.state.withLock { state in
            guard !state.isChecking else { return nil }
            state.isChecking = true
            return state.ledgerGeneration
        }
        guard let known else { return .busy }
        defer { self.state.withLock { $0.isChecking = false } }

        let ledger = self.ledger
        let issuer = self.issuer
        let previous = self.currentSnapshot
        // A generation read is one indexed lookup; a reload reads every row: keep both off the concurrency pool.
        let result: Result<(Int64, ParsedStatus, Bool)?, any Error> = await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .utility).async {
                continuation.resume(
                    returning: Result {
                        guard try ledger.ocspStatusGeneration(issuer: issuer) != known else { return nil }
                        let loaded = try ledger.ocspStatus(issuer: issuer)
                        let parsed = Self.parse(loaded.records)
                        return (loaded.generation, parsed, previous.hasSameContent(as: parsed))
                    }
                )
            }
        }
        switch result {
        case .failure(let error):
            return self.failed("\(error)")
        case .success(nil):
            return .unchanged
        case .success(let (generation, parsed, isSameContent)?):
            let hadFailure = self.state.withLock { state in
                state.ledgerGeneration = generation
                defer { state.lastFailure = nil }
                return state.lastFailure != nil
            }
            if hadFailure {
                self.logger.info("OCSP ledger status source is readable again")
            }
            if isSameContent {
                return .sameContent
            }
            let candidate = StatusSnapshot(
                parsed,
                sourceKind: .ledger,
                sourcePath: Self.sourcePath(issuer),
                generation: previous.generation + 1,
                loadedAt: Date()
            )
            self.published.withLock { $0 = candidate }
            self.metrics.reloads.increment()
            self.metrics.record(candidate)
            self.logger.info(
                "OCSP status source reloaded",
                metadata: [
                    "ocsp.status.generation": "\(candidate.generation)",
                    "ocsp.status.ledger_generation": "\(generation)",
                    "ocsp.status.entries": "\(candidate.count)",
                    "ocsp.status.revoked": "\(candidate.revokedCount)",
                ]
            )
            return .reloaded(generation: candidate.generation)
        }
    }

    private func failed(_ message: String) -> CheckOutcome {
        let isNew = self.state.withLock { state in
            defer { state.lastFailure = message }
            return state.lastFailure != message
        }
        self.metrics.failures.increment()
        if isNew {
            self.logger.error(
                "OCSP ledger status source could not be read; the previous status stays in force",
                metadata: ["error.message": "\(message)"]
            )
        }
        return .failed(message)
    }
}
