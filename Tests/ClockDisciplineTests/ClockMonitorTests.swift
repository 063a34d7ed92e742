import Logging
import Synchronization
import Testing

@testable import ClockDiscipline

/// Sources whose readings and clocks a test sets.
final class ScriptedSources: ClockSources {
    struct Script {
        var probes: [ProbeReading] = []
        var kernel = Readings.unsyncedKernel
        var realtime: Int64 = Readings.noon
        var monotonic: Int64 = 1_000_000_000
    }
    let script = Mutex(Script())

    func kernel() -> Result<KernelClockState, ClockError> { .success(self.script.withLock { $0.kernel }) }
    func chrony() async -> Result<ChronyReading, ClockError>? { nil }
    func probe(_ servers: [String], timeout: Duration) async -> [ProbeReading] { self.script.withLock { $0.probes } }
    func now() -> ClockInstant {
        self.script.withLock { ClockInstant(realtime: $0.realtime, monotonic: $0.monotonic) }
    }

    /// Advances both clocks (a step moves only the wall clock).
    func advance(seconds: Int64, step: Int64 = 0) {
        self.script.withLock {
            $0.realtime += seconds * 1_000_000_000 + step
            $0.monotonic += seconds * 1_000_000_000
        }
    }

    func setOffsets(_ offsets: [Int64]) {
        let servers = ["a:1", "b:1", "c:1"]
        self.script.withLock {
            $0.probes = zip(servers, offsets).map { Readings.answer($0, offset: $1) }
        }
    }
}

@Suite struct ClockMonitorTests {
    func monitor(reopenAfter: Int = 3, enforce: Bool = true) -> (ClockMonitor, ScriptedSources) {
        let sources = ScriptedSources()
        let configuration = ClockMonitorConfiguration(
            enforce: enforce, servers: ["a:1", "b:1", "c:1"], probeInterval: .seconds(1), reopenAfter: reopenAfter,
            chrony: .off)
        return (ClockMonitor(configuration: configuration, sources: sources, logger: Logger(label: "test")), sources)
    }

    @Test func theGateOpensOnlyAfterKGoodChecksAndClosesOnTheFirstBadOne() async {
        let (monitor, sources) = self.monitor(reopenAfter: 3)
        sources.setOffsets([0, 0, 0])
        #expect(!monitor.decision().isOpen)
        for expected in [false, false, true] {
            await monitor.checkNow()
            #expect(monitor.decision().isOpen == expected)
            sources.advance(seconds: 1)
        }
        // A drift on two of three servers: closed at the next check.
        sources.setOffsets([3_000_000_000, 3_000_000_000, 0])
        await monitor.checkNow()
        let closed = monitor.decision()
        #expect(!closed.isOpen)
        #expect(closed.reason?.contains("exceeds the maximum") == true)
        // Back to good: K checks again, the first two keep it closed.
        sources.setOffsets([0, 0, 0])
        for expected in [false, false, true] {
            sources.advance(seconds: 1)
            await monitor.checkNow()
            #expect(monitor.decision().isOpen == expected)
        }
        #expect(monitor.history().count == 7)
    }

    @Test func aStepOfTheWallClockClosesTheGateUntilKGoodChecks() async {
        let (monitor, sources) = self.monitor(reopenAfter: 2)
        sources.setOffsets([0, 0, 0])
        await monitor.checkNow()
        await monitor.checkNow()
        #expect(monitor.decision().isOpen)
        sources.advance(seconds: 0, step: -2_000_000_000)
        let decision = monitor.decision()
        #expect(!decision.isOpen)
        #expect(decision.reason?.contains("stepped") == true)
        await monitor.checkNow()
        #expect(!monitor.decision().isOpen)
        await monitor.checkNow()
        #expect(monitor.decision().isOpen)
    }

    @Test func theBoundGrowsBetweenChecksAndAnOverdueCheckCloses() async {
        let (monitor, sources) = self.monitor(reopenAfter: 1)
        sources.setOffsets([0, 0, 0])
        await monitor.checkNow()
        let first = monitor.decision().boundNanoseconds ?? 0
        sources.advance(seconds: 1)
        let later = monitor.decision()
        #expect(later.isOpen)
        // 15 ppm of one second: 15 µs.
        #expect((later.boundNanoseconds ?? 0) - first == 15_000)
        sources.advance(seconds: 5)
        let stalled = monitor.decision()
        #expect(!stalled.isOpen)
        #expect(stalled.reason?.contains("stalled") == true)
    }

    @Test func aReloadKeepsAnOpenGateOnlyIfTheFirstCheckWithTheNewSettingsIsGood() async {
        let (monitor, sources) = self.monitor(reopenAfter: 2)
        sources.setOffsets([0, 0, 0])
        await monitor.checkNow()
        await monitor.checkNow()
        #expect(monitor.decision().isOpen)

        // Same servers, a tighter maximum that the current bound still meets: stays open, new maximum in force.
        var tighter = monitor.configuration
        tighter.maximumBoundNanoseconds = 500_000_000
        let check = await monitor.reconfigure(tighter, sources: sources)
        #expect(check.isGood)
        #expect(monitor.decision().isOpen)
        #expect(monitor.report().maximumBoundSeconds == 0.5)

        // New servers that disagree: the first check with them closes the gate.
        let disagreeing = ScriptedSources()
        disagreeing.script.withLock { $0 = sources.script.withLock { $0 } }
        disagreeing.setOffsets([3_000_000_000, 3_000_000_000, 0])
        await monitor.reconfigure(tighter, sources: disagreeing)
        #expect(!monitor.decision().isOpen)
        // And it needs reopenAfter good checks again.
        disagreeing.setOffsets([0, 0, 0])
        await monitor.checkNow()
        #expect(!monitor.decision().isOpen)
        await monitor.checkNow()
        #expect(monitor.decision().isOpen)
    }

    @Test func switchingTheGateOnByAReloadStartsClosed() async {
        let (monitor, sources) = self.monitor(reopenAfter: 2, enforce: false)
        sources.setOffsets([0, 0, 0])
        await monitor.checkNow()
        #expect(monitor.decision().stateText == "disabled")
        var enforcing = monitor.configuration
        enforcing.enforce = true
        await monitor.reconfigure(enforcing, sources: sources)
        #expect(!monitor.decision().isOpen, "one good check is not the two the gate needs")
        await monitor.checkNow()
        #expect(monitor.decision().isOpen)
    }

    @Test func aDisabledGateIsOpenAndSaysSo() async {
        let (monitor, sources) = self.monitor(enforce: false)
        sources.setOffsets([9_000_000_000, 9_000_000_000, 9_000_000_000])
        await monitor.checkNow()
        let decision = monitor.decision()
        #expect(decision.isOpen)
        #expect(decision.stateText == "disabled")
        let report = monitor.report()
        #expect(report.gate.open)
        #expect(!report.gate.enforced)
        #expect(report.gate.reason?.contains("development") == true)
    }

    @Test func theReportListsEverySourceWithItsAgreement() async {
        let (monitor, sources) = self.monitor(reopenAfter: 1)
        sources.setOffsets([3_000_000_000, 0, 0])
        await monitor.checkNow()
        let report = monitor.report()
        #expect(report.gate.open)
        #expect(report.sources.map(\.name) == ["a:1", "b:1", "c:1"])
        #expect(report.sources.map(\.agrees) == [false, true, true])
        #expect(abs((report.sources[0].offsetSeconds ?? 0) - 3) < 1e-9)
        #expect(report.agreeing == 2 && report.requiredAgreement == 2)
        #expect(report.kernel.readable && !report.kernel.counted)
    }
}
