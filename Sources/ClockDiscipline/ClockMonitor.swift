public import Logging
import Metrics
public import ServiceLifecycle
import Synchronization

/// The UTC clock-discipline monitor: checks every source each probe interval, keeps one status, and gates the TSA.
///
/// The gate (ETSI EN 319 421 §7.7.2: no time-stamps when the clock is outside the stated accuracy):
/// - A bad check closes it at once; so the gate closes within one probe interval (plus the probe timeout) of a
///   drift appearing, well inside two.
/// - A closed gate opens only after ``ClockMonitorConfiguration/reopenAfter`` consecutive good checks (also at
///   start-up), so a flapping source cannot flap the gate.
/// - Between checks the bound grows by 15 ppm of the elapsed time (RFC 5905 §11.1's PHI, the frequency
///   tolerance) and by any step of the wall clock, seen as a change of CLOCK_REALTIME − CLOCK_MONOTONIC. A step
///   larger than 100 µs, a check overdue by two intervals, or a bound grown past the maximum closes the gate as a
///   bad check would.
/// - Inside the leap-second window (the margin around an announced leap) the gate is closed.
/// `decision()` costs a lock and two clock reads, no I/O.
public final class ClockMonitor: ClockGate, Service {
    /// RFC 5905 §11.1: the frequency tolerance PHI, 15 ppm.
    static let frequencyTolerancePPM: Int64 = 15
    /// A change of REALTIME − MONOTONIC beyond this is a step of the wall clock.
    static let stepToleranceNanoseconds: Int64 = 100_000
    static let historyWindowNanoseconds: Int64 = 3_600_000_000_000
    static let historyLimit = 4096

    let logger: Logger
    let state: Mutex<State>
    private let settings: Mutex<Settings>

    /// What a reload may change.
    struct Settings {
        var configuration: ClockMonitorConfiguration
        var sources: any ClockSources
        var metrics: ClockMetrics
    }

    public var configuration: ClockMonitorConfiguration { self.settings.withLock { $0.configuration } }

    /// The settings, read once per operation: one lock on the TSA's hot path, and one configuration throughout a
    /// check even when a reload lands in the middle of it.
    var current: Settings { self.settings.withLock { $0 } }

    struct State {
        var check: ClockCheck?
        var open = false
        var reason: String? = "no check yet"
        var consecutiveGood = 0
        var since: Int64?
        var lastGood: Int64?
        var checks = 0
        var history: [ClockHistoryPoint] = []
        /// Set when a live check (in `decision()`) found a problem the next check must clear.
        var liveProblem: String?
    }

    /// A gate change to log outside the lock.
    struct GateEvent {
        var opened: Bool
        var reason: String?
        var bound: Int64?
        var offset: Int64?
        var agreeing: Int
    }

    public init(configuration: ClockMonitorConfiguration, sources: any ClockSources, logger: Logger) {
        self.logger = logger
        self.state = Mutex(State())
        let metrics = ClockMetrics(servers: configuration.servers)
        self.settings = Mutex(Settings(configuration: configuration, sources: sources, metrics: metrics))
        metrics.gateOpen.record(configuration.enforce ? 0 : 1)
    }

    /// Takes a new configuration and sources (a configuration reload) and checks the clock with them at once.
    ///
    /// The gate's state carries over: an open gate stays open only if that first check is good, a closed one still
    /// needs ``ClockMonitorConfiguration/reopenAfter`` good checks. Going from not enforcing to enforcing starts
    /// closed, as at start-up.
    @discardableResult
    public func reconfigure(_ configuration: ClockMonitorConfiguration, sources: any ClockSources) async -> ClockCheck {
        let wasEnforcing = self.settings.withLock { settings in
            let was = settings.configuration.enforce
            settings.configuration = configuration
            settings.sources = sources
            if settings.metrics.servers != configuration.servers {
                settings.metrics = ClockMetrics(servers: configuration.servers)
            }
            return was
        }
        if configuration.enforce && !wasEnforcing {
            self.state.withLock { state in
                state.open = false
                state.consecutiveGood = 0
                state.reason = "the clock gate was just switched on by a reload"
            }
        }
        self.current.metrics.gateOpen.record(configuration.enforce && !self.state.withLock({ $0.open }) ? 0 : 1)
        return await self.checkNow()
    }

    public var gateDescription: String {
        let configuration = self.configuration
        guard configuration.enforce else { return "disabled (development: tokens without clock proof)" }
        let servers = configuration.servers.count
        return "clock monitor (\(servers) NTP server\(servers == 1 ? "" : "s"), max bound "
            + "\(ClockEvaluation.seconds(configuration.maximumBoundNanoseconds)), reopen after "
            + "\(configuration.reopenAfter))"
    }

    // MARK: The gate

    public func decision() -> ClockGateDecision {
        let settings = self.current
        let configuration = settings.configuration
        let now = settings.sources.now()
        var event: GateEvent?
        let decision = self.state.withLock { state -> ClockGateDecision in
            let live = Self.liveBound(state: state, now: now, configuration: configuration)
            guard configuration.enforce else {
                return ClockGateDecision(isOpen: true, boundNanoseconds: live.bound, enforced: false)
            }
            guard state.open else {
                return ClockGateDecision(isOpen: false, reason: state.reason, boundNanoseconds: live.bound)
            }
            if let problem = live.problem {
                event = Self.close(
                    &state, reason: problem, at: now.realtime, sticky: live.sticky, metrics: settings.metrics)
                return ClockGateDecision(isOpen: false, reason: problem, boundNanoseconds: live.bound)
            }
            return ClockGateDecision(isOpen: true, boundNanoseconds: live.bound)
        }
        if let event { self.log(event, enforced: configuration.enforce) }
        return decision
    }

    /// The bound now, and a problem that closes the gate right now.
    static func liveBound(
        state: State, now: ClockInstant, configuration: ClockMonitorConfiguration
    ) -> (bound: Int64?, problem: String?, sticky: Bool) {
        guard let check = state.check else { return (nil, "no check yet", false) }
        let elapsed = max(0, now.monotonic - check.instant.monotonic)
        let step = abs((now.realtime - now.monotonic) - (check.instant.realtime - check.instant.monotonic))
        let grown = elapsed / 1_000_000 * Self.frequencyTolerancePPM + step
        let bound = check.boundNanoseconds.map { $0 + grown }
        if step > Self.stepToleranceNanoseconds {
            return (bound, "the wall clock stepped by \(ClockEvaluation.seconds(step)) since the last check", true)
        }
        let overdue =
            2 * Self.nanoseconds(configuration.probeInterval) + Self.nanoseconds(configuration.probeTimeout)
        if elapsed > overdue {
            return (bound, "no clock check for \(ClockEvaluation.seconds(elapsed)) (the monitor is stalled)", true)
        }
        if let bound, bound > configuration.maximumBoundNanoseconds {
            return (bound, "the error bound grew to \(ClockEvaluation.seconds(bound)) since the last check", true)
        }
        if ClockEvaluation.inLeapWindow(check, now: now.realtime, margin: configuration.leapMarginNanoseconds) {
            return (bound, "inside the leap-second window (\(check.leapSources.joined(separator: ", ")))", false)
        }
        return (bound, nil, false)
    }

    /// Closes the gate. A sticky problem needs K good checks to clear; a leap window clears by itself.
    static func close(
        _ state: inout State, reason: String, at now: Int64, sticky: Bool, metrics: ClockMetrics
    ) -> GateEvent? {
        if sticky {
            state.liveProblem = reason
            state.consecutiveGood = 0
        }
        guard state.open || state.reason != reason else { return nil }
        let wasOpen = state.open
        state.open = false
        state.reason = reason
        if wasOpen { state.since = now }
        metrics.gateOpen.record(0)
        return wasOpen
            ? GateEvent(
                opened: false, reason: reason, bound: state.check?.boundNanoseconds,
                offset: state.check?.offsetNanoseconds, agreeing: state.check?.agreeing.count ?? 0)
            : nil
    }

    // MARK: Checks

    /// Runs one check now and applies it; returns it (tests and the first start-up check call this directly).
    @discardableResult
    public func checkNow() async -> ClockCheck {
        let settings = self.current
        let configuration = settings.configuration
        let sources = settings.sources
        async let chrony = configuration.chrony == .off ? nil : sources.chrony()
        async let probes =
            configuration.servers.isEmpty
            ? [] : sources.probe(configuration.servers, timeout: configuration.probeTimeout)
        let readings = await (chrony, probes)
        let kernel = sources.kernel()
        let instant = sources.now()
        let check = ClockEvaluation.evaluate(
            configuration: configuration, instant: instant, kernel: kernel, chrony: readings.0, probes: readings.1)
        self.apply(check, settings: settings)
        return check
    }

    func apply(_ check: ClockCheck, settings: Settings) {
        let configuration = settings.configuration
        let metrics = settings.metrics
        let now = check.instant.realtime
        var event: GateEvent?
        self.state.withLock { state in
            state.check = check
            state.checks += 1
            let agreeing = check.agreeing.count
            if check.isGood {
                state.lastGood = now
                state.liveProblem = nil
                state.consecutiveGood += 1
                if !state.open && state.consecutiveGood >= configuration.reopenAfter {
                    state.open = true
                    state.reason = nil
                    state.since = now
                    metrics.gateOpen.record(1)
                    event = GateEvent(
                        opened: true, reason: nil, bound: check.boundNanoseconds, offset: check.offsetNanoseconds,
                        agreeing: agreeing)
                } else if !state.open {
                    state.reason =
                        "waiting for \(configuration.reopenAfter) consecutive good checks "
                        + "(\(state.consecutiveGood) so far)"
                }
            } else {
                state.consecutiveGood = 0
                let reason = check.problems.joined(separator: "; ")
                if state.open {
                    state.since = now
                    event = GateEvent(
                        opened: false, reason: reason, bound: check.boundNanoseconds,
                        offset: check.offsetNanoseconds, agreeing: agreeing)
                }
                state.open = false
                state.reason = reason
                metrics.gateOpen.record(0)
            }
            if !configuration.enforce { metrics.gateOpen.record(1) }
            state.history.append(
                ClockHistoryPoint(
                    t: now / 1_000_000,
                    offsetSeconds: check.offsetNanoseconds.map(Self.seconds),
                    boundSeconds: check.boundNanoseconds.map(Self.seconds),
                    open: state.open || !configuration.enforce,
                    agreeing: agreeing
                ))
            let horizon = now / 1_000_000 - Self.historyWindowNanoseconds / 1_000_000
            if state.history.count > Self.historyLimit || (state.history.first?.t ?? horizon) < horizon {
                state.history.removeAll { $0.t < horizon }
                if state.history.count > Self.historyLimit {
                    state.history.removeFirst(state.history.count - Self.historyLimit)
                }
            }
        }
        metrics.record(check)
        self.logger.debug(
            "clock check",
            metadata: [
                "clock.good": "\(check.isGood)", "clock.bound_ns": "\(check.boundNanoseconds.map(String.init) ?? "-")",
                "clock.offset_ns": "\(check.offsetNanoseconds.map(String.init) ?? "-")",
                "clock.agreeing": "\(check.agreeing.count)",
            ])
        if let event { self.log(event, enforced: configuration.enforce) }
    }

    func log(_ event: GateEvent, enforced: Bool) {
        guard enforced else { return }
        var metadata: Logger.Metadata = [
            "sigillum.event": .string(event.opened ? "clock.gate.opened" : "clock.gate.closed"),
            "clock.agreeing": "\(event.agreeing)",
        ]
        if let bound = event.bound { metadata["clock.bound_ns"] = "\(bound)" }
        if let offset = event.offset { metadata["clock.offset_ns"] = "\(offset)" }
        if let reason = event.reason { metadata["clock.reason"] = .string(reason) }
        if event.opened {
            self.logger.notice(
                "clock gate opened: UTC is proven within the bound; time-stamps resume", metadata: metadata)
        } else {
            self.logger.warning(
                "clock gate closed (drift event): time-stamps are refused with timeNotAvailable: \(event.reason ?? "")",
                metadata: metadata)
        }
    }

    public func run() async throws {
        // A graceful shutdown cancels the loop at once, also in the middle of the wait between checks.
        await cancelWhenGracefulShutdown {
            let clock = ContinuousClock()
            while !Task.isCancelled {
                let started = clock.now
                await self.checkNow()
                let next = started.advanced(by: self.current.configuration.probeInterval)
                try? await Task.sleep(until: next, clock: clock)
            }
        }
    }

    // MARK: Reports

    /// The status for `/status` and `sigillum clock`.
    public func report() -> ClockReport {
        let settings = self.current
        let configuration = settings.configuration
        let now = settings.sources.now()
        let snapshot = self.state.withLock { $0 }
        let live = Self.liveBound(state: snapshot, now: now, configuration: configuration)
        let check = snapshot.check
        return ClockReport(
            gate: .init(
                enforced: configuration.enforce,
                open: configuration.enforce ? (snapshot.open && live.problem == nil) : true,
                reason: configuration.enforce
                    ? (snapshot.open ? live.problem : snapshot.reason)
                    : "the gate is disabled (development default): tokens are issued without proof of UTC",
                consecutiveGood: snapshot.consecutiveGood,
                reopenAfter: configuration.reopenAfter,
                since: snapshot.since.map(ClockTimeText.iso8601)
            ),
            synchronized: check?.isGood ?? false,
            offsetSeconds: check?.offsetNanoseconds.map(Self.seconds),
            boundSeconds: live.bound.map(Self.seconds),
            maximumBoundSeconds: Self.seconds(configuration.maximumBoundNanoseconds),
            basis: check?.basis ?? "",
            problems: check?.problems ?? ["no check yet"],
            agreeing: check?.agreeing.count ?? 0,
            configuredServers: configuration.servers.count,
            requiredAgreement: configuration.servers.isEmpty ? 0 : configuration.requiredAgreement,
            probeIntervalSeconds: Self.seconds(Self.nanoseconds(configuration.probeInterval)),
            checks: snapshot.checks,
            lastCheck: check.map { ClockTimeText.iso8601($0.instant.realtime) },
            lastGood: snapshot.lastGood.map(ClockTimeText.iso8601),
            leap: .init(
                announced: check?.leap ?? .none,
                sources: check?.leapSources ?? [],
                at: check?.leapInstantNanoseconds.map(ClockTimeText.iso8601),
                marginSeconds: Self.seconds(configuration.leapMarginNanoseconds),
                inWindow: check.map {
                    ClockEvaluation.inLeapWindow($0, now: now.realtime, margin: configuration.leapMarginNanoseconds)
                } ?? false
            ),
            kernel: Self.kernelReport(check),
            chrony: Self.chronyReport(check),
            sources: Self.sourceReports(check, servers: configuration.servers)
        )
    }

    /// The drift chart's points over the last hour, oldest first.
    public func history() -> [ClockHistoryPoint] {
        self.state.withLock { $0.history }
    }

    static func kernelReport(_ check: ClockCheck?) -> ClockReport.Kernel {
        switch check?.kernel {
        case .success(let state)?:
            return .init(
                readable: true, synchronized: !state.isUnsynchronized, state: "\(state.leapState)",
                statusFlags: state.statusFlags,
                maxErrorSeconds: Double(state.maxErrorMicroseconds) / 1e6,
                estimatedErrorSeconds: Double(state.estimatedErrorMicroseconds) / 1e6,
                offsetSeconds: Double(state.offsetNanoseconds) / 1e9,
                counted: !state.isUnsynchronized, error: nil)
        case .failure(let error)?:
            return .init(
                readable: false, synchronized: false, state: "unknown", counted: false, error: error.reason)
        case nil:
            return .init(readable: false, synchronized: false, state: "not read yet", counted: false)
        }
    }

    static func chronyReport(_ check: ClockCheck?) -> ClockReport.Chrony? {
        switch check?.chrony {
        case .success(let reading)?:
            return .init(
                available: true, synchronized: reading.synchronized, reference: reading.reference,
                stratum: reading.stratum, offsetSeconds: Self.seconds(reading.offsetNanoseconds),
                rootDelaySeconds: Self.seconds(reading.rootDelayNanoseconds),
                rootDispersionSeconds: Self.seconds(reading.rootDispersionNanoseconds),
                boundSeconds: Self.seconds(reading.boundNanoseconds), leap: reading.leap,
                counted: reading.synchronized && (check?.kernelDisciplined ?? false), error: nil)
        case .failure(let error)?:
            return .init(available: false, counted: false, error: error.reason)
        case nil:
            return nil
        }
    }

    static func sourceReports(_ check: ClockCheck?, servers: [String]) -> [ClockReport.Source] {
        servers.map { server in
            let reading = check?.probes.first { $0.server == server }
            switch reading?.outcome {
            case .answered(let sample)?:
                return .init(
                    name: server, reachable: true, offsetSeconds: Self.seconds(sample.offsetNanoseconds),
                    delaySeconds: Self.seconds(sample.delayNanoseconds),
                    rootDelaySeconds: Self.seconds(sample.rootDelayNanoseconds),
                    rootDispersionSeconds: Self.seconds(sample.rootDispersionNanoseconds),
                    boundSeconds: Self.seconds(sample.boundNanoseconds), stratum: sample.stratum,
                    referenceID: sample.referenceID, leap: sample.leap,
                    agrees: check?.agreeing.contains(server) ?? false, error: nil,
                    lastAnswer: check.map { ClockTimeText.iso8601($0.instant.realtime) })
            case .failed(let reason)?:
                return .init(name: server, reachable: false, agrees: false, error: reason)
            case nil:
                return .init(name: server, reachable: false, agrees: false, error: "not probed yet")
            }
        }
    }

    static func seconds(_ nanoseconds: Int64) -> Double { Double(nanoseconds) / 1e9 }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// ISO 8601 text for report instants, without Foundation formatters.
enum ClockTimeText {
    static func iso8601(_ unixNanoseconds: Int64) -> String {
        let midnight = ClockEvaluation.lastMidnight(atOrBefore: unixNanoseconds)
        let (year, month, day) = ClockEvaluation.civil(fromDays: midnight / ClockEvaluation.nanosecondsPerDay)
        let ofDay = unixNanoseconds - midnight
        let milliseconds = ofDay / 1_000_000
        let hour = milliseconds / 3_600_000
        let minute = milliseconds / 60_000 % 60
        let second = milliseconds / 1000 % 60
        func pad(_ value: Int64, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))."
            + "\(pad(milliseconds % 1000, 3))Z"
    }
}
