import Foundation
import Ledger
import Logging
import PKIMessages
import Synchronization
import Testing

@testable import OCSPResponder

/// A ledger in memory: rows and a generation, changed by the test.
final class FakeStatusLedger: OCSPStatusLedger {
    private let storage = Mutex<(generation: Int64, records: [OCSPStatusRecord], failing: Bool)>((0, [], false))

    func set(_ records: [OCSPStatusRecord], bump: Bool = true) {
        self.storage.withLock {
            $0.records = records
            if bump { $0.generation += 1 }
        }
    }

    func bump() { self.storage.withLock { $0.generation += 1 } }

    func fail(_ failing: Bool) { self.storage.withLock { $0.failing = failing } }

    func ocspStatusGeneration(issuer: String) throws -> Int64 {
        try self.storage.withLock {
            if $0.failing { throw TestFailure("ledger unavailable") }
            return $0.generation
        }
    }

    func ocspStatus(issuer: String) throws -> (generation: Int64, records: [OCSPStatusRecord]) {
        try self.storage.withLock {
            if $0.failing { throw TestFailure("ledger unavailable") }
            return ($0.generation, $0.records.filter { $0.issuer == issuer })
        }
    }
}

@Suite("Ledger status source", .timeLimit(.minutes(1)))
struct LedgerStatusSourceTests {
    static let issuer = "CN=Test CA"
    static let fast = StatusSourceWatcher.Configuration(pollInterval: .milliseconds(50), issuerLabel: "test")
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    static func key(_ hex: String) -> SerialNumberKey { SerialNumberKey(hex: hex)! }

    @Test("the first snapshot lists the ledger's rows and knows every issued serial")
    func initialSnapshot() throws {
        let ledger = FakeStatusLedger()
        ledger.set([
            .good(issuer: Self.issuer, serial: [0x01]),
            OCSPStatusRecord(
                issuer: Self.issuer, serial: [0x00, 0x8A], isRevoked: true, revocationTime: 1_700_000_000, reason: 1,
                invalidityTime: 1_699_999_000),
            .good(issuer: "CN=Other", serial: [0x03]),
        ])
        let source = try LedgerStatusSource(
            ledger: ledger, issuer: Self.issuer, configuration: Self.fast, logger: Self.logger)
        let snapshot = source.currentSnapshot
        #expect(snapshot.generation == 1)
        #expect(snapshot.sourceKind == .ledger)
        #expect(snapshot.knowsAllIssued)
        #expect(snapshot.count == 2)
        #expect(source.status(of: Self.key("01")) == .good)
        guard case .revoked(let revocation)? = source.status(of: Self.key("8A")) else {
            Issue.record("8A is not revoked")
            return
        }
        #expect(revocation.time == Date(timeIntervalSince1970: 1_700_000_000))
        #expect(revocation.reason == .keyCompromise)
        #expect(revocation.invalidityDate == Date(timeIntervalSince1970: 1_699_999_000))
        #expect(snapshot.resolve(Self.key("03"), nonIssuedIsRevoked: false) == .unknown)
    }

    @Test("a generation change reloads; an unchanged generation does not; same rows publish nothing")
    func reloadsOnGenerationChange() async throws {
        let ledger = FakeStatusLedger()
        ledger.set([.good(issuer: Self.issuer, serial: [0x01])])
        let source = try LedgerStatusSource(
            ledger: ledger, issuer: Self.issuer, configuration: Self.fast, logger: Self.logger)
        #expect(await source.checkForChange() == .unchanged)

        ledger.set([
            OCSPStatusRecord(issuer: Self.issuer, serial: [0x01], isRevoked: true, revocationTime: 1_700_000_000)
        ])
        #expect(await source.checkForChange() == .reloaded(generation: 2))
        guard case .revoked? = source.status(of: Self.key("01")) else {
            Issue.record("01 is not revoked after the reload")
            return
        }
        #expect(await source.checkForChange() == .unchanged)

        ledger.bump()
        #expect(await source.checkForChange() == .sameContent)
        #expect(source.currentSnapshot.generation == 2)

        // Rows changed without a generation bump are not seen (every writer bumps it in the same transaction).
        ledger.set([.good(issuer: Self.issuer, serial: [0x01])], bump: false)
        #expect(await source.checkForChange() == .unchanged)
        ledger.bump()
        #expect(await source.checkForChange() == .reloaded(generation: 3))
        #expect(source.status(of: Self.key("01")) == .good)
    }

    @Test("an unreadable ledger keeps the previous snapshot")
    func failureKeepsSnapshot() async throws {
        let ledger = FakeStatusLedger()
        ledger.set([.good(issuer: Self.issuer, serial: [0x01])])
        let source = try LedgerStatusSource(
            ledger: ledger, issuer: Self.issuer, configuration: Self.fast, logger: Self.logger)
        ledger.fail(true)
        guard case .failed = await source.checkForChange() else {
            Issue.record("expected a failure")
            return
        }
        #expect(source.status(of: Self.key("01")) == .good)
        ledger.fail(false)
        ledger.set([])
        #expect(await source.checkForChange() == .reloaded(generation: 2))
        #expect(source.currentSnapshot.count == 0)
    }

    @Test("run() polls a real ledger and picks up a change made through another connection")
    func runPollsRealLedger() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.path("ledger.sqlite")
            let daemonSide = try Ledger(
                configuration: LedgerConfiguration(databasePath: path), logger: Self.logger)
            let source = try LedgerStatusSource(
                ledger: daemonSide, issuer: Self.issuer, configuration: Self.fast, logger: Self.logger)
            #expect(source.currentSnapshot.count == 0)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await source.run() }
                let cliSide = try Ledger(configuration: LedgerConfiguration(databasePath: path), logger: Self.logger)
                try cliSide.setOCSPStatus([
                    OCSPStatusRecord(issuer: Self.issuer, serial: [0x42], isRevoked: true, revocationTime: 1_000)
                ])
                // Generous: the poll is every few milliseconds, but the suite shares two cores with daemons.
                let deadline = ContinuousClock.now + .seconds(60)
                while source.currentSnapshot.generation < 2, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                }
                group.cancelAll()
                try await group.waitForAll()
            }
            #expect(source.currentSnapshot.generation == 2)
            guard case .revoked? = source.status(of: Self.key("42")) else {
                Issue.record("42 is not revoked")
                return
            }
        }
    }
}
