import ClockDiscipline
import DevelopmentPKI
import Foundation
import Ledger
import Logging
import PKIMessages
import Synchronization
import Testing
import TimeStampAuthority

/// genTime ordering across clock steps and restarts, the accuracy against the clock bound, and the clock evidence
/// kept in audit records.
@Suite struct ClockEvidenceTests {
    func genTime(_ outcome: TimeStampOutcome) throws -> String {
        try #require(try parse(outcome).1).tstInfo.genTime.text
    }

    /// genTime as nanoseconds within its day (the tests stay within one day).
    func instant(_ text: String) throws -> Int64 {
        let c = try GeneralizedTimeText(text).components
        return Int64(c.day * 86_400 + c.hour * 3600 + c.minute * 60 + c.second) * 1_000_000_000 + Int64(c.nanoseconds)
    }

    @Test func genTimeStrictlyIncreasesAndABackwardStepIsRefusedNotReordered() async throws {
        let clock = TestClock(fixedTime)
        let log = MemoryAuditLog()
        let tsa = try await makeTSA(signer: try PKIFixtures.signer(.ecP256), log: log, clock: clock)
        var previous = Int64.min
        for _ in 0..<20 {
            let text = try self.genTime(await tsa.respond(to: try request()[...], clientAddress: nil))
            let instant = try self.instant(text)
            #expect(instant > previous, "\(text)")
            previous = instant
        }
        // The wall clock steps back one second: no token until it passes the last genTime again.
        clock.set((fixedTime.seconds - 1, fixedTime.nanoseconds))
        let refused = await tsa.respond(to: try request()[...], clientAddress: nil)
        #expect(refused.failInfo == .timeNotAvailable)
        #expect(try parse(refused).0.status.statusString?.first?.contains("before the last issued genTime") == true)
        #expect(tsa.health().problems.contains { $0.contains("behind the last issued genTime") })
        clock.set((fixedTime.seconds + 1, 0))
        let after = try self.genTime(await tsa.respond(to: try request()[...], clientAddress: nil))
        #expect(try self.instant(after) > previous)
        let genTimes = log.records.withLock { $0.compactMap(\.genTimeMicros) }
        #expect(genTimes.count == 21)
        #expect(zip(genTimes, genTimes.dropFirst()).allSatisfy { $0 < $1 })
    }

    @Test func aRestartResumesAfterThePersistedGenTime() async throws {
        let log = MemoryAuditLog()
        // The last token of the previous run was issued 10 s "after" the current clock.
        let last = (fixedTime.seconds + 10) * 1_000_000
        log.persistedGenTime.withLock { $0 = last }
        let clock = TestClock(fixedTime)
        let tsa = try await makeTSA(signer: try PKIFixtures.signer(.ecP256), log: log, clock: clock)
        #expect(await tsa.respond(to: try request()[...], clientAddress: nil).failInfo == .timeNotAvailable)
        clock.set((fixedTime.seconds + 11, 0))
        let outcome = await tsa.respond(to: try request()[...], clientAddress: nil)
        #expect(outcome.status == .granted)
        #expect((log.records.withLock { $0.last?.genTimeMicros } ?? 0) > last)
    }

    @Test func aClockJustBehindTheLastGenTimeIsWaitedFor() async throws {
        let log = MemoryAuditLog()
        let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
        log.persistedGenTime.withLock { $0 = now + 2_000 }  // 2 ms ahead; the TSA may wait 5 ms
        let tsa = try await TimeStampAuthority(
            configuration: makeConfiguration(), signer: try PKIFixtures.signer(.ecP256), auditLog: log,
            clockGate: SwitchGate(), serials: SerialNumberGenerator(instanceID: 1, epoch: 1),
            logger: .init(label: "test"))
        let outcome = await tsa.respond(to: try request()[...], clientAddress: nil)
        #expect(outcome.status == .granted)
        #expect((log.records.withLock { $0.last?.genTimeMicros } ?? 0) > now + 2_000)
    }

    @Test func dynamicAccuracyIsTheBoundRoundedUpToTheMillisecond() async throws {
        var configuration = makeConfiguration()
        configuration.dynamicAccuracy = true
        let gate = SwitchGate()
        let log = MemoryAuditLog()
        let tsa = try await makeTSA(
            signer: try PKIFixtures.signer(.ecP256), configuration: configuration, log: log, gate: gate)
        // No proven bound: no token, since the accuracy could not be stated honestly.
        #expect(await tsa.respond(to: try request()[...], clientAddress: nil).failInfo == .timeNotAvailable)
        gate.bound.store(1_200_001, ordering: .relaxed)
        let info = try #require(try parse(await tsa.respond(to: try request()[...], clientAddress: nil)).1).tstInfo
        #expect(info.accuracy == Accuracy(millis: 2))
        let record = try #require(log.records.withLock { $0.last })
        #expect(record.accuracyMicros == 2_000)
        #expect(record.clockBoundMicros == 1_201)
        #expect(record.clockGate == "open")
        gate.bound.store(1_500_000_000, ordering: .relaxed)
        let seconds = try #require(try parse(await tsa.respond(to: try request()[...], clientAddress: nil)).1)
        #expect(seconds.tstInfo.accuracy == Accuracy(seconds: 1, millis: 500))
    }

    @Test func aStaticAccuracyBelowTheBoundRefusesTokens() async throws {
        let gate = SwitchGate()
        let tsa = try await makeTSA(signer: try PKIFixtures.signer(.ecP256), gate: gate)  // 500 ms stated
        gate.bound.store(400_000_000, ordering: .relaxed)
        #expect(await tsa.respond(to: try request()[...], clientAddress: nil).status == .granted)
        gate.bound.store(600_000_000, ordering: .relaxed)
        let refused = await tsa.respond(to: try request()[...], clientAddress: nil)
        #expect(refused.failInfo == .timeNotAvailable)
        #expect(try parse(refused).0.status.statusString?.first?.contains("exceeds the stated accuracy") == true)
    }

    @Test func aClosedGateGivesTimeNotAvailableWithTheReason() async throws {
        let gate = SwitchGate()
        gate.open.store(false, ordering: .relaxed)
        let tsa = try await makeTSA(signer: try PKIFixtures.signer(.ecP256), gate: gate)
        let outcome = await tsa.respond(to: try request()[...], clientAddress: nil)
        #expect(outcome.failInfo == .timeNotAvailable)
        #expect(try parse(outcome).0.status.statusString == ["test gate closed"])
        #expect(!tsa.health().isServing)
    }
}
