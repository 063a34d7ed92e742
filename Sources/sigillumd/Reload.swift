import ApplianceConfig
import ClockDiscipline
import Foundation
import HTTPFront
import Logging
import OCSPResponder
import ServiceLifecycle
import Synchronization
import SystemdIntegration
import TimeStampAuthority
import UnixSignals

/// Reloads the configuration on SIGHUP (`systemctl reload sigillumd`), without dropping a request.
///
/// The file is read and checked, every signer is loaded and probed, certificates and OCSP status sources are read
/// anew and OCSP answers pre-signed, all before anything changes; then the new services replace the old ones for new
/// requests while the old ones finish theirs (``GenerationRunner``). Anything that fails leaves the running
/// configuration in force, with the reason logged and in the unit's status line. Settings that only a restart can
/// change (listeners, state directory, ledger, switching a service on or off) make the reload refuse, naming them.
final class ReloadService: Service {
    let hangups: UnixSignalsSequence
    let environment: Daemon.Environment
    let builder: GenerationBuilder
    let runner: GenerationRunner
    let notifier: ServiceManagerNotifier
    let status: DaemonStatus
    let logger: Logger
    private let running: Mutex<ApplianceConfiguration>

    init(
        hangups: UnixSignalsSequence,
        environment: Daemon.Environment,
        running: ApplianceConfiguration,
        builder: GenerationBuilder,
        runner: GenerationRunner,
        notifier: ServiceManagerNotifier,
        status: DaemonStatus,
        logger: Logger
    ) {
        self.hangups = hangups
        self.environment = environment
        self.running = Mutex(running)
        self.builder = builder
        self.runner = runner
        self.notifier = notifier
        self.status = status
        self.logger = logger
    }

    func run() async throws {
        for await _ in self.hangups.cancelOnGracefulShutdown() {
            await self.reload()
        }
    }

    /// One reload.
    /// - Returns: whether the new configuration took effect.
    @discardableResult
    func reload() async -> Bool {
        self.notifier.reloading(status: "reloading the configuration")
        self.logger.notice(
            "reloading the configuration (SIGHUP)",
            metadata: [
                "sigillum.event": "reload.started",
                "config.file": .string(self.environment.configurationFile ?? "embedded default"),
            ])
        let started = ContinuousClock.now
        do {
            let next = try await self.load()
            let current = self.running.withLock { $0 }
            let fixed = Self.restartOnlyChanges(from: current, to: next)
            guard fixed.isEmpty else {
                throw SimpleError(
                    "\(fixed.joined(separator: ", ")) changed, which takes effect only at a restart "
                        + "(systemctl restart sigillumd)")
            }
            let generation = try await self.builder.build(next, previous: self.runner.current)
            if next.clock != current.clock {
                let check = await self.builder.clock.reconfigure(
                    Daemon.clockConfiguration(next.clock), sources: Daemon.clockSources(next.clock))
                Daemon.logClockAtStartup(self.builder.clock, check, logger: self.logger)
            }
            let stillRunning = await self.runner.replace(with: generation)
            self.running.withLock { $0 = next }
            self.status.lastReload = nil
            self.logger.notice(
                "configuration reloaded",
                metadata: [
                    "sigillum.event": "reload.done",
                    "reload.generation": "\(self.runner.slot.generation)",
                    "reload.seconds": "\((ContinuousClock.now - started).formatted(.units(allowed: [.seconds])))",
                    "reload.abandoned_requests": "\(stillRunning)",
                ])
            self.notifier.ready(status: self.status.summary())
            return true
        } catch {
            let reason = "\(error)"
            self.status.lastReload = "last reload refused: \(reason)"
            self.logger.error(
                "reload refused; the running configuration stays in force",
                metadata: ["sigillum.event": "reload.refused", "error.message": .string(reason)])
            self.notifier.ready(status: self.status.summary())
            return false
        }
    }

    private func load() async throws -> ApplianceConfiguration {
        if let file = self.environment.configurationFile {
            return try ConfigurationLoader.load(
                file: file, overrides: self.environment.overrides, environment: self.environment.variables)
        }
        return try ConfigurationLoader.embeddedDefault(
            overrides: self.environment.overrides, environment: self.environment.variables)
    }

    /// The settings a reload cannot change, named as in the file.
    static func restartOnlyChanges(from old: ApplianceConfiguration, to new: ApplianceConfiguration) -> [String] {
        var changed: [String] = []
        if old.listen != new.listen { changed.append("listen") }
        if old.adminListen != new.adminListen { changed.append("adminListen") }
        if old.stateDirectory != new.stateDirectory { changed.append("stateDirectory") }
        if old.ledger != new.ledger { changed.append("ledger") }
        if old.tsa.enabled != new.tsa.enabled { changed.append("tsa.enabled") }
        if old.ocsp.enabled != new.ocsp.enabled { changed.append("ocsp.enabled") }
        if old.http.maxRequestBytes != new.http.maxRequestBytes { changed.append("http.maxRequestBytes") }
        if old.http.idleTimeoutSeconds != new.http.idleTimeoutSeconds { changed.append("http.idleTimeoutSeconds") }
        return changed
    }
}

/// The one-line status for `systemctl status` (`STATUS=`), kept current, and `STOPPING=1` when shutdown begins.
final class DaemonStatus: Service {
    let slot: ServingSlot
    let notifier: ServiceManagerNotifier
    private let reloadNote = Mutex<String?>(nil)

    init(slot: ServingSlot, notifier: ServiceManagerNotifier) {
        self.slot = slot
        self.notifier = notifier
    }

    /// A refused reload's reason, shown until the next reload that passes.
    var lastReload: String? {
        get { self.reloadNote.withLock { $0 } }
        set { self.reloadNote.withLock { $0 = newValue } }
    }

    /// e.g. "serving; 12034 stamps; clock bound 0.8 ms, gate open; 2 OCSP answers cached".
    func summary() -> String {
        let serving = self.slot.set
        var problems: [String] = []
        var parts: [String] = []
        if let tsa = serving.tsa {
            let health = tsa.health()
            problems += health.problems
            parts.append("\(tsa.counts.granted) stamps")
        }
        if let clock = serving.clock {
            let report = clock.report()
            let bound = report.boundSeconds.map { String(format: "%.1f ms", $0 * 1000) } ?? "unknown"
            let gate =
                !report.gate.enforced ? "gate not enforced" : report.gate.open ? "gate open" : "gate closed"
            parts.append("clock bound \(bound), \(gate)")
        }
        if let ocsp = serving.ocsp {
            problems += ocsp.problems()
            parts.append("\(ocsp.cachedAnswerCount) OCSP answers cached")
        }
        var line = (problems.isEmpty ? "serving" : "degraded (\(problems.joined(separator: "; ")))")
        if !parts.isEmpty { line += "; " + parts.joined(separator: "; ") }
        if let note = self.lastReload { line += "; " + note }
        return line
    }

    func run() async throws {
        // This service is listed last, so it is the first to hear of a graceful shutdown.
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: .seconds(5))
                self.notifier.status(self.summary())
            }
        }
        self.notifier.stopping(status: "stopping: finishing the requests in flight")
    }
}
