import DevelopmentPKI
import Logging
import PKIMessages
import Synchronization
import Testing
import TimeStampAuthority

/// A configuration reload replaces the TSA with its `successor`: tokens of both must stay one sequence.
@Suite struct SuccessorTests {
    @Test func theSuccessorContinuesSerialsGenTimeAndCounts() async throws {
        let clock = TestClock(fixedTime)
        let log = MemoryAuditLog()
        let first = try await makeTSA(signer: try PKIFixtures.signer(.ecP256), log: log, clock: clock)
        let before = try #require(try parse(await first.respond(to: try request()[...], clientAddress: nil)).1)

        // The new configuration: another key type and accuracy; the clock has not moved (same microsecond).
        let second = try await first.successor(
            configuration: makeConfiguration(accuracyMicroseconds: 250_000),
            signer: try PKIFixtures.signer(.rsa2048),
            logger: Logger(label: "test"))
        let outcome = await second.respond(to: try request()[...], clientAddress: nil)
        let after = try #require(try parse(outcome).1)

        // Serial numbers: the same generator, so the next number.
        let firstSerial = before.tstInfo.serialNumber.contentOctets
        let nextSerial = after.tstInfo.serialNumber.contentOctets
        #expect(firstSerial.count == nextSerial.count)
        #expect(Array(firstSerial.dropLast()) == Array(nextSerial.dropLast()))
        #expect(nextSerial.last == (firstSerial.last ?? 0) &+ 1)
        // genTime: the same sequencer, so strictly after the old TSA's last token even in the same microsecond.
        #expect(after.tstInfo.genTime.text > before.tstInfo.genTime.text, "\(after.tstInfo.genTime.text)")
        // The new settings apply; the counters are shared.
        #expect(after.tstInfo.accuracy?.millis == 250)
        #expect(second.counts.granted == 2)
        #expect(first.counts.granted == 2)
        // The old one still answers (requests in flight during the swap), in the same sequence.
        let late = try #require(try parse(await first.respond(to: try request()[...], clientAddress: nil)).1)
        #expect(late.tstInfo.genTime.text > after.tstInfo.genTime.text)
        #expect(log.records.withLock { $0.count } == 3)
    }

    @Test func aSuccessorWithABrokenConfigurationIsRefused() async throws {
        let first = try await makeTSA(signer: try PKIFixtures.signer(.ecP256))
        var broken = makeConfiguration()
        broken.policies = []
        await #expect(throws: (any Error).self) {
            _ = try await first.successor(
                configuration: broken, signer: try PKIFixtures.signer(.ecP256), logger: Logger(label: "test"))
        }
        // The running TSA is untouched.
        #expect(await first.respond(to: try request()[...], clientAddress: nil).status == .granted)
    }
}
