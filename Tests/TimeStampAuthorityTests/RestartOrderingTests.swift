import ClockDiscipline
import DevelopmentPKI
import Foundation
import Ledger
import Logging
import PKIMessages
import ServiceLifecycle
import Testing
import TimeStampAuthority

/// genTime ordering across a restart, through a real ledger file: the last genTime is read back from SQLite.
@Suite struct RestartOrderingTests {
    /// Runs a TSA on the ledger at `path` with `clock` until `body` returns, then shuts the ledger down.
    func withTSA<T>(
        ledgerAt path: String, clock: TestClock, _ body: (TimeStampAuthority) async throws -> T
    ) async throws -> T {
        let logger = Logger(label: "restart-test")
        let ledger = try Ledger(configuration: LedgerConfiguration(databasePath: path), logger: logger)
        let epoch = try ledger.beginEpoch()
        let group = ServiceGroup(services: [ledger], logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                let tsa = try await TimeStampAuthority(
                    configuration: makeConfiguration(), signer: try PKIFixtures.signer(.ecP256), auditLog: ledger,
                    clockGate: SwitchGate(),
                    serials: SerialNumberGenerator(instanceID: epoch.instanceID, epoch: epoch.epoch),
                    logger: logger, now: { clock.read() })
                let result = try await body(tsa)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }

    @Test func aRestartedTSABehindThePersistedGenTimeRefusesUntilTheClockPassesIt() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("restart-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/ledger.sqlite"
        // First run: the clock is five minutes ahead of where the second run starts.
        let ahead = TestClock((fixedTime.seconds + 300, 0))
        let issued = try await self.withTSA(ledgerAt: path, clock: ahead) { tsa in
            try #require(try parse(await tsa.respond(to: try request()[...], clientAddress: nil)).1).tstInfo.genTime
        }
        #expect(issued.text.hasPrefix("20261125120500"))
        // Second run on the same file, with the clock "stepped back": nothing until it passes the last genTime.
        let behind = TestClock(fixedTime)
        try await self.withTSA(ledgerAt: path, clock: behind) { tsa in
            let refused = await tsa.respond(to: try request()[...], clientAddress: nil)
            #expect(refused.failInfo == .timeNotAvailable)
            #expect(tsa.health().problems.contains { $0.contains("behind the last issued genTime") })
            behind.set((fixedTime.seconds + 301, 0))
            let later = try #require(try parse(await tsa.respond(to: try request()[...], clientAddress: nil)).1)
            #expect(later.tstInfo.genTime.text.hasPrefix("20261125120501"))
        }
        // The ledger keeps both tokens' genTimes in issue order and the chain still verifies.
        let reader = try Ledger.openReadOnly(path: path)
        let report = try reader.verifyChain()
        #expect(report.firstBreak == nil && report.recordCount == 2, "\(report)")
        let genTimes = try reader.auditRecords().compactMap(\.record.genTimeMicros)
        #expect(genTimes.count == 2 && genTimes[0] < genTimes[1])
        #expect(try reader.auditRecords().allSatisfy { $0.record.clockGate == "open" })
    }
}
