import Testing

@testable import ClockDiscipline

/// Readings for the evaluation tests.
enum Readings {
    static let unsyncedKernel = KernelClockState(
        leapState: .error, statusFlags: 0x40, offsetNanoseconds: 0, maxErrorMicroseconds: 16_000_000,
        estimatedErrorMicroseconds: 16_000_000)

    static func syncedKernel(maxError: Int64 = 5_000, leap: KernelClockState.LeapState = .ok) -> KernelClockState {
        KernelClockState(
            leapState: leap, statusFlags: 0x2001, offsetNanoseconds: 1_000, maxErrorMicroseconds: maxError,
            estimatedErrorMicroseconds: 100)
    }

    static func answer(
        _ server: String, offset: Int64, delay: Int64 = 200_000, dispersion: Int64 = 50_000,
        leap: LeapAnnouncement = .none
    ) -> ProbeReading {
        ProbeReading(
            server: server,
            outcome: .answered(
                ProbeSample(
                    offsetNanoseconds: offset, delayNanoseconds: delay, rootDelayNanoseconds: 0,
                    rootDispersionNanoseconds: dispersion, stratum: 1, leap: leap, referenceID: "LOCL",
                    precisionExponent: -24)))
    }

    static func failure(_ server: String) -> ProbeReading {
        ProbeReading(server: server, outcome: .failed(reason: "timeout"))
    }

    /// 2026-11-25T12:00:00Z.
    static let noon: Int64 = 1_795_608_000 * 1_000_000_000
}

@Suite struct ClockEvaluationTests {
    let servers = ["a:123", "b:123", "c:123"]

    func evaluate(
        servers: [String]? = nil,
        kernel: KernelClockState = Readings.unsyncedKernel,
        chrony: ChronyReading? = nil,
        probes: [ProbeReading],
        now: Int64 = Readings.noon,
        maximum: Int64 = 1_000_000_000
    ) -> ClockCheck {
        let configuration = ClockMonitorConfiguration(
            servers: servers ?? self.servers, maximumBoundNanoseconds: maximum)
        return ClockEvaluation.evaluate(
            configuration: configuration, instant: ClockInstant(realtime: now, monotonic: 1_000_000_000),
            kernel: .success(kernel), chrony: chrony.map { .success($0) }, probes: probes)
    }

    @Test func threeAgreeingServersProveTheClockAndTheBoundIsTheLargestVouched() {
        let check = self.evaluate(probes: [
            Readings.answer("a:123", offset: 100_000), Readings.answer("b:123", offset: -50_000),
            Readings.answer("c:123", offset: 20_000),
        ])
        #expect(check.isGood)
        #expect(check.agreeing == ["a:123", "b:123", "c:123"])
        #expect(check.offsetNanoseconds == 20_000)
        // |100 µs| + 100 µs (delay/2) + 50 µs dispersion + precision (~60 ns) + 1 µs.
        let bound = check.boundNanoseconds ?? 0
        #expect(bound >= 250_000 && bound < 252_000)
        // At least |offset| + delay/2 + root dispersion of the estimate's source.
        #expect(bound >= 20_000 + 100_000 + 50_000)
    }

    @Test func oneShiftedServerOfThreeNeitherClosesNorMovesTheEstimate() {
        let check = self.evaluate(probes: [
            Readings.answer("a:123", offset: 3_000_000_000), Readings.answer("b:123", offset: 10_000),
            Readings.answer("c:123", offset: -10_000),
        ])
        #expect(check.isGood)
        #expect(check.agreeing == ["b:123", "c:123"])
        #expect((check.boundNanoseconds ?? .max) < 1_000_000)
    }

    @Test func aShiftedMajorityClosesTheGateEvenThoughItAgrees() {
        let check = self.evaluate(probes: [
            Readings.answer("a:123", offset: 3_000_000_000), Readings.answer("b:123", offset: 3_000_010_000),
            Readings.answer("c:123", offset: 0),
        ])
        #expect(!check.isGood)
        #expect(check.agreeing == ["a:123", "b:123"])
        #expect(check.problems.joined().contains("exceeds the maximum"))
    }

    @Test func oneAnsweringServerOfThreeIsNotAMajority() {
        let check = self.evaluate(probes: [
            Readings.answer("a:123", offset: 0), Readings.failure("b:123"), Readings.failure("c:123"),
        ])
        #expect(!check.isGood)
        #expect(check.boundNanoseconds == nil)
        #expect(check.problems.joined().contains("only 1 of 3"))
    }

    @Test func theUndisciplinedKernelIsReportedButNotCounted() {
        let check = self.evaluate(probes: [
            Readings.answer("a:123", offset: 0), Readings.answer("b:123", offset: 0),
            Readings.answer("c:123", offset: 0),
        ])
        #expect(check.isGood)
        #expect(!check.kernelDisciplined)
        #expect((check.boundNanoseconds ?? .max) < 16_000_000_000)
    }

    @Test func aDisciplinedKernelsMaxErrorIsAFloorAndChronyCounts() {
        let chrony = ChronyReading(
            synchronized: true, reference: "ntp1", stratum: 2, offsetNanoseconds: 30_000,
            rootDelayNanoseconds: 2_000_000, rootDispersionNanoseconds: 4_000_000, leap: .none)
        let check = self.evaluate(
            kernel: Readings.syncedKernel(maxError: 8_000), chrony: chrony,
            probes: [
                Readings.answer("a:123", offset: 0), Readings.answer("b:123", offset: 0),
                Readings.answer("c:123", offset: 0),
            ])
        #expect(check.isGood)
        // chrony: 30 µs + 1 ms + 4 ms = 5.03 ms; kernel 8 ms: the bound is the kernel's.
        #expect(check.boundNanoseconds == 8_000_000)
        let chronyBound = self.evaluate(
            servers: [], kernel: Readings.syncedKernel(maxError: 1_000), chrony: chrony, probes: [])
        #expect(chronyBound.boundNanoseconds == 5_030_000)
        #expect(chronyBound.offsetNanoseconds == 30_000)
    }

    @Test func noServersAndAnUndisciplinedKernelProveNothing() {
        let check = self.evaluate(servers: [], probes: [])
        #expect(!check.isGood)
        #expect(check.problems.joined().contains("STA_UNSYNC"))
    }

    @Test func theBoundMayBeConfiguredDownToMilliseconds() {
        let probes = [
            Readings.answer("a:123", offset: 1_500_000), Readings.answer("b:123", offset: 1_500_000),
            Readings.answer("c:123", offset: 1_500_000),
        ]
        #expect(!self.evaluate(probes: probes, maximum: 1_000_000).isGood)
        #expect(self.evaluate(probes: probes, maximum: 2_000_000).isGood)
    }

    @Test func aKernelLeapInsertClosesTheWindowAroundTheNextMidnightOnly() {
        let midnight = ClockEvaluation.nextMidnight(after: Readings.noon)
        let probes = [
            Readings.answer("a:123", offset: 0), Readings.answer("b:123", offset: 0),
            Readings.answer("c:123", offset: 0),
        ]
        let atNoon = self.evaluate(kernel: Readings.syncedKernel(leap: .insert), probes: probes)
        #expect(atNoon.isGood)
        #expect(atNoon.leap == .insert)
        #expect(atNoon.leapInstantNanoseconds == midnight)
        let justBefore = self.evaluate(
            kernel: Readings.syncedKernel(leap: .insert), probes: probes, now: midnight - 5_000_000_000)
        #expect(!justBefore.isGood)
        #expect(justBefore.problems.joined().contains("leap"))
        let after = self.evaluate(
            kernel: Readings.syncedKernel(leap: .wait), probes: probes, now: midnight + 3_000_000_000)
        #expect(!after.isGood)
        let later = self.evaluate(
            kernel: Readings.syncedKernel(leap: .wait), probes: probes, now: midnight + 60_000_000_000)
        #expect(later.isGood)
    }

    @Test func anNTPLeapWarningPointsAtTheEndOfTheMonthAndOnlyFromAgreeingServers() {
        let probes = [
            Readings.answer("a:123", offset: 0, leap: .insert), Readings.answer("b:123", offset: 0),
            Readings.answer("c:123", offset: 0),
        ]
        let check = self.evaluate(probes: probes)
        // 2026-12-01T00:00:00Z.
        let firstOfDecember: Int64 = 1_796_083_200_000_000_000
        #expect(check.leapInstantNanoseconds == firstOfDecember)
        let liar = self.evaluate(probes: [
            Readings.answer("a:123", offset: 5_000_000_000, leap: .insert), Readings.answer("b:123", offset: 0),
            Readings.answer("c:123", offset: 0),
        ])
        #expect(liar.leap == .none)
    }

    @Test func calendarArithmetic() {
        #expect(ClockEvaluation.days(fromCivil: 1970, 1, 1) == 0)
        #expect(ClockEvaluation.days(fromCivil: 2000, 3, 1) == 11_017)
        let (year, month, day) = ClockEvaluation.civil(fromDays: 20_782)
        #expect(year == 2026 && month == 11 && day == 25)
        #expect(ClockTimeText.iso8601(Readings.noon + 5_000_000) == "2026-11-25T12:00:00.005Z")
        // December rolls into January.
        let december = ClockEvaluation.days(fromCivil: 2026, 12, 31) * 86_400_000_000_000
        #expect(
            ClockEvaluation.endOfMonth(containing: december) == ClockEvaluation.days(fromCivil: 2027, 1, 1)
                * 86_400_000_000_000)
    }
}
