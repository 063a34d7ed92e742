public import Logging
public import NIOCore
public import ServiceLifecycle
import Synchronization

/// One thing the watchdog asks before each keep-alive: `nil` when it answers, else what is wrong.
public struct LivenessCheck: Sendable {
    public let name: String
    /// Called with the time it has to answer; must return within it.
    public let probe: @Sendable (Duration) async -> String?

    public init(name: String, probe: @escaping @Sendable (Duration) async -> String?) {
        self.name = name
        self.probe = probe
    }

    /// Every event loop of `group` runs a no-op task within the time given. A loop blocked by a stuck handler
    /// or a synchronous call that never returns fails this check, and the watchdog then lets systemd restart us.
    public static func eventLoops(_ group: any EventLoopGroup) -> LivenessCheck {
        LivenessCheck(name: "event loops") { timeout in
            let loops = Array(group.makeIterator())
            let answered = Mutex<Set<Int>>([])
            for (index, loop) in loops.enumerated() {
                loop.execute { answered.withLock { _ = $0.insert(index) } }
            }
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                if answered.withLock({ $0.count }) == loops.count { return nil }
                try? await Task.sleep(for: .milliseconds(5))
            }
            let silent = answered.withLock { done in loops.indices.filter { !done.contains($0) } }
            guard !silent.isEmpty else { return nil }
            return "event loop(s) \(silent.map(String.init).joined(separator: ", ")) of \(loops.count) did not "
                + "run a task within \(timeout)"
        }
    }
}

/// Sends `WATCHDOG=1` at half the interval systemd set (`WatchdogSec=`), but only while every ``LivenessCheck``
/// answers: a stuck event loop or a signer call that never returns withholds the keep-alive, and systemd kills and
/// restarts the daemon (`Restart=on-failure`) once the interval passes without one (systemd.service(5)).
///
/// The loop itself runs on Swift's cooperative pool; if that pool is starved, no keep-alive is sent either.
public final class WatchdogService: Service {
    let notifier: ServiceManagerNotifier
    let interval: Duration
    let checks: [LivenessCheck]
    let logger: Logger
    private let withheld = Mutex<[String]>([])

    public init(notifier: ServiceManagerNotifier, interval: Duration, checks: [LivenessCheck], logger: Logger) {
        self.notifier = notifier
        self.interval = interval
        self.checks = checks
        self.logger = logger
    }

    /// The problems that withheld the last keep-alive; empty when it was sent.
    public var problems: [String] { self.withheld.withLock { $0 } }

    public func run() async throws {
        let period = self.interval / 2
        // Stops when its turn in the graceful shutdown comes: the daemon lists it first, so it pings until the
        // listeners and the ledger have finished.
        try? await cancelWhenGracefulShutdown {
            // Keep-alives follow READY=1 (sd_notify(3)'s order); start-up itself is bounded by TimeoutStartSec=.
            while !self.notifier.isReady {
                try await Task.sleep(for: .milliseconds(10))
            }
            while !Task.isCancelled {
                let started = ContinuousClock.now
                await self.tick()
                try await Task.sleep(until: started + period, clock: .continuous)
            }
        }
    }

    /// One round: asks every check (in parallel, each within a quarter of the interval) and pings when all answer.
    /// - Returns: whether the keep-alive was sent.
    @discardableResult
    public func tick() async -> Bool {
        let timeout = self.interval / 4
        let problems = await withTaskGroup(of: String?.self) { group in
            for check in self.checks {
                group.addTask {
                    await check.probe(timeout).map { "\(check.name): \($0)" }
                }
            }
            var problems: [String] = []
            for await problem in group {
                if let problem { problems.append(problem) }
            }
            return problems.sorted()
        }
        let previous = self.withheld.withLock { withheld in
            defer { withheld = problems }
            return withheld
        }
        if problems.isEmpty {
            if !previous.isEmpty {
                self.logger.notice(
                    "watchdog keep-alives resumed", metadata: ["sigillum.event": "watchdog.resumed"])
            }
            self.notifier.watchdog()
            return true
        }
        if problems != previous {
            self.logger.critical(
                "withholding the watchdog keep-alive; systemd will restart the daemon if this persists",
                metadata: [
                    "sigillum.event": "watchdog.withheld",
                    "watchdog.problems": .array(problems.map { .string($0) }),
                ])
        }
        return false
    }
}
