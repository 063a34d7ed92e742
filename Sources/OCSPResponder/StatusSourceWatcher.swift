import Dispatch
import Foundation
public import Logging
package import Metrics
public import ServiceLifecycle
import Synchronization

/// Keeps one issuer's status snapshot in step with its status source file (`index.txt` or a CRL).
///
/// The first snapshot is read in `init`, so a missing or malformed file stops start-up. ``run()`` then polls the
/// file's `stat` every ``Configuration/pollInterval`` (500 ms by default): inode, size, modification and
/// status-change times with nanoseconds, so an atomic rename-replace (`openssl ca` renames `index.txt.new` over
/// `index.txt`) and a write in place are both seen. On a change it reads and parses the whole file away from the
/// concurrency pool, swaps the published snapshot in one step and then awaits the `onChange` hook; with the default
/// interval a revocation is answered within about a second of the file changing.
///
/// - A file that does not parse leaves the previous snapshot in force; the error is logged once per distinct failure
///   and the file is read again at its next change.
/// - A file that disappears leaves the last snapshot in force and is logged; it is read again when it returns.
/// - A file written while it is being read (identity before and after the read differ) is read once more at once;
///   if it is still changing, the next poll tries again. Writers should still replace the file atomically (write a
///   temporary file, then `rename`): a writer that truncates and rewrites in several steps can be caught between
///   steps, and a partial `index.txt` that happens to parse would be served until its next change.
/// - A re-written file with the same content (entries, and for a CRL its dates and number) only updates the watched
///   identity: no new generation, no `onChange`.
///
/// Lookups (``status(of:)``, ``currentSnapshot``) take a lock for the length of one reference copy.
public final class StatusSourceWatcher: Service, StatusLookup, Sendable {
    /// How the watcher polls.
    public struct Configuration: Sendable, Hashable {
        /// Time between two `stat` calls; default 500 ms. Must be positive.
        public var pollInterval: Duration
        /// The issuer's name in log metadata and as the `issuer` metrics dimension: a short configured name, since
        /// every distinct value is a new time series.
        public var issuerLabel: String

        public init(pollInterval: Duration = .milliseconds(500), issuerLabel: String = "default") {
            self.pollInterval = pollInterval
            self.issuerLabel = issuerLabel
        }
    }

    /// What one ``checkForChange()`` did.
    public enum CheckOutcome: Hashable, Sendable {
        /// The file's identity has not changed.
        case unchanged
        /// A new snapshot was published and `onChange` has returned.
        case reloaded(generation: UInt64)
        /// The file changed but says the same as the published snapshot.
        case sameContent
        /// The file does not parse (or cannot be read); the previous snapshot stays.
        case failed(OCSPResponderError)
        /// The file does not exist; the last snapshot stays.
        case missing
        /// The file changed while being read, twice; the next check reads it again.
        case inFlux
        /// Another check is running.
        case busy
    }

    private struct WatchState {
        /// The identity of the file last read whole and consistent (parsed or refused); `nil` forces a read.
        var identity: FileIdentity?
        /// The message of the last failure logged, so that a failure is logged once until something else happens.
        var lastFailure: String?
        var isMissing = false
        var isChecking = false
    }

    private enum LoadResult: Sendable {
        case parsed(ParsedStatus, FileIdentity, isConsistent: Bool)
        case failed(OCSPResponderError, FileIdentity?)
        case missing
        case inFlux
    }

    private let source: any StatusFileSource
    private let pollInterval: Duration
    private let logger: Logger
    private let metrics: StatusSourceMetrics
    private let onChange: @Sendable (StatusSnapshot) async -> Void
    private let published: Mutex<StatusSnapshot>
    private let state: Mutex<WatchState>

    /// Reads the source once and prepares to watch it.
    ///
    /// - Parameters:
    ///   - source: The file source: ``OpenSSLIndexFile`` or ``CRLFile``.
    ///   - configuration: Poll interval and issuer label.
    ///   - logger: Gets `ocsp.issuer`, `ocsp.source.kind` and `ocsp.source.path` metadata.
    ///   - onChange: Awaited after each new snapshot is published (not for the first one, read here), from the
    ///     ``run()`` loop: the pre-signed cache drops its stale answers in it.
    /// - Throws: ``OCSPResponderError``: ``OCSPResponderError/ErrorCode/sourceUnavailable`` when the file is
    ///   missing or unreadable, the source's parse error when it is malformed,
    ///   ``OCSPResponderError/ErrorCode/invalidConfiguration`` for a poll interval that is not positive.
    public convenience init(
        source: any StatusFileSource,
        configuration: Configuration = Configuration(),
        logger: Logger,
        onChange: @escaping @Sendable (StatusSnapshot) async -> Void = { _ in }
    ) throws(OCSPResponderError) {
        try self.init(
            source: source,
            configuration: configuration,
            logger: logger,
            metricsFactory: MetricsSystem.factory,
            onChange: onChange
        )
    }

    /// As the public `init`, creating the metrics with `metricsFactory` (tests pass their own).
    package init(
        source: any StatusFileSource,
        configuration: Configuration,
        logger: Logger,
        metricsFactory: any MetricsFactory,
        onChange: @escaping @Sendable (StatusSnapshot) async -> Void
    ) throws(OCSPResponderError) {
        guard configuration.pollInterval > .zero else {
            throw .invalidConfiguration(
                reason: "the status source poll interval must be positive, not \(configuration.pollInterval)"
            )
        }
        var logger = logger
        logger[metadataKey: "ocsp.issuer"] = "\(configuration.issuerLabel)"
        logger[metadataKey: "ocsp.source.kind"] = "\(source.kind)"
        logger[metadataKey: "ocsp.source.path"] = "\(source.path)"
        self.source = source
        self.pollInterval = configuration.pollInterval
        self.logger = logger
        self.onChange = onChange
        self.metrics = StatusSourceMetrics(
            issuerLabel: configuration.issuerLabel,
            kind: source.kind,
            factory: metricsFactory
        )

        let parsed: ParsedStatus
        let identity: FileIdentity?
        switch Self.load(source, acceptInconsistent: true) {
        case .parsed(let status, let readIdentity, let isConsistent):
            parsed = status
            // A file caught changing is read again at the first poll.
            identity = isConsistent ? readIdentity : nil
        case .failed(let error, _):
            self.metrics.failures.increment()
            throw error
        case .missing:
            throw .sourceUnavailable(path: source.path, reason: "the file does not exist")
        case .inFlux:
            throw .sourceUnavailable(path: source.path, reason: "the file kept changing while it was read")
        }
        let snapshot = StatusSnapshot(
            parsed,
            sourceKind: source.kind,
            sourcePath: source.path,
            generation: 1,
            loadedAt: Date()
        )
        self.published = Mutex(snapshot)
        self.state = Mutex(WatchState(identity: identity))
        self.metrics.reloads.increment()
        self.metrics.record(snapshot)
        self.logStaleCRL(snapshot)
        logger.info(
            "OCSP status source loaded",
            metadata: [
                "ocsp.status.generation": "1",
                "ocsp.status.entries": "\(snapshot.count)",
                "ocsp.status.revoked": "\(snapshot.revokedCount)",
            ]
        )
    }

    /// The snapshot answers are taken from now.
    public var currentSnapshot: StatusSnapshot {
        self.published.withLock { $0 }
    }

    /// The watch loop: a ``checkForChange()`` every poll interval until cancelled or a graceful shutdown begins.
    public func run() async throws {
        self.logger.debug("OCSP status source watch started")
        await pollUntilShutdown(every: self.pollInterval) { _ = await self.checkForChange() }
        self.logger.debug("OCSP status source watch stopped")
    }

    /// Checks the file once and, when it changed, reads it and publishes a new snapshot.
    ///
    /// ``run()`` calls this every poll interval; calling it elsewhere (an admin "reload now") is safe: a call made
    /// while another runs returns ``CheckOutcome/busy``.
    public func checkForChange() async -> CheckOutcome {
        let known: FileIdentity?? = self.state.withLock { state in
            guard !state.isChecking else { return .none }
            state.isChecking = true
            return .some(state.identity)
        }
        guard case .some(let knownIdentity) = known else { return .busy }
        defer { self.state.withLock { $0.isChecking = false } }

        let current: FileIdentity?
        do {
            current = try StatusFileReader.identity(path: self.source.path)
        } catch {
            return self.failed(error, identity: nil)
        }
        guard let current else {
            return self.missing()
        }
        self.returned()
        if current == knownIdentity {
            return .unchanged
        }

        // Reading, parsing and comparing a large file take milliseconds: keep them off the concurrency pool.
        let source = self.source
        let previous = self.currentSnapshot
        let (result, isSameContent) = await withCheckedContinuation {
            (continuation: CheckedContinuation<(LoadResult, Bool), Never>) in
            DispatchQueue.global(qos: .utility).async {
                let result = Self.load(source, acceptInconsistent: false)
                var isSameContent = false
                if case .parsed(let parsed, _, _) = result {
                    isSameContent = previous.hasSameContent(as: parsed)
                }
                continuation.resume(returning: (result, isSameContent))
            }
        }
        switch result {
        case .missing:
            return self.missing()
        case .inFlux:
            self.logger.debug("OCSP status source changed while being read; reading it at the next poll")
            return .inFlux
        case .failed(let error, let identity):
            return self.failed(error, identity: identity)
        case .parsed(let parsed, let identity, _):
            return await self.publish(parsed, identity: identity, after: previous, isSameContent: isSameContent)
        }
    }

    // MARK: - Outcomes

    private func publish(
        _ parsed: ParsedStatus,
        identity: FileIdentity,
        after previous: StatusSnapshot,
        isSameContent: Bool
    ) async -> CheckOutcome {
        let hadFailure = self.state.withLock { state in
            state.identity = identity
            defer { state.lastFailure = nil }
            return state.lastFailure != nil
        }
        if isSameContent {
            if hadFailure {
                self.logger.info("OCSP status source is readable again; its content is unchanged")
            } else {
                self.logger.debug("OCSP status source was rewritten with the same content")
            }
            return .sameContent
        }
        let candidate = StatusSnapshot(
            parsed,
            sourceKind: self.source.kind,
            sourcePath: self.source.path,
            generation: previous.generation + 1,
            loadedAt: Date()
        )
        self.published.withLock { $0 = candidate }
        self.metrics.reloads.increment()
        self.metrics.record(candidate)
        self.logStaleCRL(candidate)
        self.logger.info(
            "OCSP status source reloaded",
            metadata: [
                "ocsp.status.generation": "\(candidate.generation)",
                "ocsp.status.entries": "\(candidate.count)",
                "ocsp.status.revoked": "\(candidate.revokedCount)",
            ]
        )
        await self.onChange(candidate)
        return .reloaded(generation: candidate.generation)
    }

    private func failed(_ error: OCSPResponderError, identity: FileIdentity?) -> CheckOutcome {
        let message = error.reason
        let isNew = self.state.withLock { state in
            // Remember what was refused, so that the same bytes are not parsed again every poll.
            if let identity { state.identity = identity }
            defer { state.lastFailure = message }
            return state.lastFailure != message
        }
        self.metrics.failures.increment()
        let generation = self.currentSnapshot.generation
        if isNew {
            self.logger.error(
                "OCSP status source refused; the previous status stays in force",
                metadata: ["error.message": "\(error)", "ocsp.status.generation": "\(generation)"]
            )
        } else {
            self.logger.debug("OCSP status source still refused", metadata: ["error.message": "\(message)"])
        }
        return .failed(error)
    }

    private func missing() -> CheckOutcome {
        let isNew = self.state.withLock { state in
            defer { state.isMissing = true }
            return !state.isMissing
        }
        if isNew {
            self.logger.warning(
                "OCSP status source file disappeared; the last status stays in force",
                metadata: ["ocsp.status.generation": "\(self.currentSnapshot.generation)"]
            )
        }
        return .missing
    }

    private func returned() {
        let wasMissing = self.state.withLock { state in
            defer { state.isMissing = false }
            return state.isMissing
        }
        if wasMissing {
            self.logger.info("OCSP status source file is back")
        }
    }

    private func logStaleCRL(_ snapshot: StatusSnapshot) {
        guard let nextUpdate = snapshot.crl?.nextUpdate, nextUpdate < snapshot.loadedAt else { return }
        self.logger.warning(
            "OCSP status source is a CRL past its nextUpdate",
            metadata: ["ocsp.crl.next_update": "\(nextUpdate)"]
        )
    }

    // MARK: - Loading

    /// Reads and parses the file; a read that overlapped a write is repeated once.
    ///
    /// - Parameter acceptInconsistent: At start-up, parse the second read even if it overlapped a write too (the
    ///   result is marked inconsistent, so the first poll reads again); later, report ``LoadResult/inFlux``.
    private static func load(_ source: any StatusFileSource, acceptInconsistent: Bool) -> LoadResult {
        var attempt = 1
        while true {
            let contents: StatusFileReader.Contents
            do {
                guard let read = try StatusFileReader.read(path: source.path) else { return .missing }
                contents = read
            } catch {
                return .failed(error, nil)
            }
            if !contents.isConsistent {
                if attempt < 2 {
                    attempt += 1
                    continue
                }
                if !acceptInconsistent {
                    return .inFlux
                }
            }
            do {
                let parsed = try source.parse(contents.bytes)
                return .parsed(parsed, contents.identity, isConsistent: contents.isConsistent)
            } catch {
                return .failed(error, contents.isConsistent ? contents.identity : nil)
            }
        }
    }
}
