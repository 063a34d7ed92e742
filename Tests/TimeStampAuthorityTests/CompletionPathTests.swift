import DevelopmentPKI
import Foundation
import Ledger
import Logging
import PKIMessages
import Signing
import Synchronization
import Testing
import X509

@testable import TimeStampAuthority

/// A signer that is not a `SoftwareSigner` (as a PKCS#11 or card signer is not): the TSA must await it.
final class AwaitedSigner: Signer {
    let wrapped: SoftwareSigner
    let calls = Atomic<Int>(0)

    init(wrapped: SoftwareSigner) {
        self.wrapped = wrapped
    }

    var scheme: SignatureScheme { self.wrapped.scheme }
    var certificate: Certificate { self.wrapped.certificate }
    var chain: [Certificate] { self.wrapped.chain }
    var kind: String { "awaited" }
    var health: SignerHealth { .available }

    func sign(_ message: [UInt8]) async throws -> [UInt8] {
        self.calls.add(1, ordering: .relaxed)
        try await Task.sleep(for: .milliseconds(1))
        return try self.wrapped.sign(message)
    }
}

/// `respond(to:clientAddress:completion:)`, the form the event loop calls: the same answers as the `async` form,
/// the completion called once, a token only after its audit record is stored, and the fallbacks to a task.
@Suite("TSA answers through a completion")
struct CompletionPathTests {
    /// Calls the completion form and waits for its single answer (a second call would be recorded as an issue).
    func respond(_ tsa: TimeStampAuthority, _ bytes: [UInt8]) async -> (outcome: TimeStampOutcome, synchronous: Bool) {
        let returned = Atomic<Bool>(false)
        let calls = Atomic<Int>(0)
        let result: (TimeStampOutcome, Bool) = await withCheckedContinuation { continuation in
            tsa.respond(to: bytes[...], clientAddress: "192.0.2.7") { outcome in
                let synchronous = !returned.load(ordering: .acquiring)
                if calls.add(1, ordering: .relaxed).newValue == 1 {
                    continuation.resume(returning: (outcome, synchronous))
                } else {
                    Issue.record("the completion was called more than once")
                }
            }
            returned.store(true, ordering: .releasing)
        }
        return result
    }

    @Test func grantedTokenIsLoggedBeforeTheCompletion() async throws {
        let log = MemoryAuditLog()
        let tsa = try await makeTSA(signer: try PKIFixtures.signer(.ecP256), log: log)
        let loggedWhenAnswered = Mutex<Int?>(nil)
        let bytes = try request()
        let outcome: TimeStampOutcome = await withCheckedContinuation { continuation in
            tsa.respond(to: bytes[...], clientAddress: "192.0.2.7") { outcome in
                loggedWhenAnswered.withLock { $0 = log.records.withLock { $0.count } }
                continuation.resume(returning: outcome)
            }
        }
        let (response, token) = try parse(outcome)
        #expect(response.status.status == .granted)
        let info = try #require(token).tstInfo
        #expect(loggedWhenAnswered.withLock { $0 } == 1, "the token was answered before its record was stored")
        let record = try #require(log.records.withLock { $0.first })
        #expect(record.serialNumber == Array(info.serialNumber.contentOctets))
        #expect(record.clientAddress == "192.0.2.7")
        #expect(tsa.counts.granted == 1)
    }

    /// A rejection needs neither signer nor ledger: it is answered before `respond` returns.
    @Test func rejectionIsAnsweredOnTheCallersThread() async throws {
        let tsa = try await makeTSA(signer: try PKIFixtures.signer(.ecP256))
        let answer = await self.respond(tsa, [0x30, 0x03, 0x02, 0x01])
        #expect(answer.synchronous)
        #expect(answer.outcome.failInfo == .badDataFormat)
        #expect(try parse(answer.outcome).0.status.status == .rejection)
    }

    @Test func failedAuditCommitWithholdsTheToken() async throws {
        let log = MemoryAuditLog()
        log.failing.store(true, ordering: .relaxed)
        let tsa = try await makeTSA(signer: try PKIFixtures.signer(.ecP256), log: log)
        let answer = await self.respond(tsa, try request())
        #expect(answer.outcome.failInfo == .systemFailure)
        #expect(try parse(answer.outcome).1 == nil)
        #expect(answer.outcome.serial == nil)
    }

    /// A signer that must be awaited continues in a task, with the same token shape and an audit record.
    @Test func awaitedSignerFallsBackToATask() async throws {
        let signer = AwaitedSigner(wrapped: try PKIFixtures.signer(.ecP256))
        let log = MemoryAuditLog()
        let tsa = try await makeTSA(signer: signer, log: log)
        let probes = signer.calls.load(ordering: .relaxed)  // the key probe at start-up signs once
        let answer = await self.respond(tsa, try request())
        #expect(!answer.synchronous)
        let token = try #require(try parse(answer.outcome).1)
        #expect(signer.calls.load(ordering: .relaxed) == probes + 1)
        #expect(log.records.withLock { $0.count } == 1)
        #expect(Array(token.tstInfo.serialNumber.contentOctets) == log.records.withLock { $0[0].serialNumber })
    }

    /// A clock found behind the last genTime by more than a few microseconds is waited for in a task, and the
    /// token still gets a genTime after the last one.
    @Test func clockBehindTheLastGenTimeIsWaitedForInATask() async throws {
        // The wall clock, minus an offset the test sets: after a step back it catches up in real time.
        let offset = Atomic<Int64>(0)
        let now: @Sendable () -> (seconds: Int64, nanoseconds: Int64) = {
            let time = TimeStampAuthority.systemTime()
            let total = time.seconds * 1_000_000_000 + time.nanoseconds - offset.load(ordering: .relaxed)
            return (total / 1_000_000_000, total % 1_000_000_000)
        }
        let tsa = try await TimeStampAuthority(
            configuration: makeConfiguration(),
            signer: try PKIFixtures.signer(.ecP256),
            auditLog: MemoryAuditLog(),
            clockGate: SwitchGate(),
            serials: SerialNumberGenerator(instanceID: 1, epoch: 1),
            logger: Logger(label: "test"),
            now: now
        )
        let first = await self.respond(tsa, try request())
        let firstInfo = try #require(try parse(first.outcome).1).tstInfo
        // 2 ms back: under the default maximum wait (5 ms), over the spin limit (50 µs).
        offset.store(2_000_000, ordering: .relaxed)
        let second = await self.respond(tsa, try request())
        let secondInfo = try #require(try parse(second.outcome).1, "\(second.outcome.failInfo.map { "\($0)" } ?? "")")
            .tstInfo
        #expect(!second.synchronous)
        #expect(secondInfo.genTime.text > firstInfo.genTime.text, "\(secondInfo.genTime) after \(firstInfo.genTime)")
    }

    /// Many concurrent answers through the completion: distinct serials, one record each.
    @Test func concurrentCompletionsGiveDistinctSerials() async throws {
        let log = MemoryAuditLog()
        let tsa = try await makeTSA(signer: try PKIFixtures.signer(.ecP256), log: log)
        let bytes = try request()
        let serials = await withTaskGroup(of: String?.self) { group in
            for _ in 0..<100 {
                group.addTask { await self.respond(tsa, bytes).outcome.serialHex }
            }
            var all: [String] = []
            for await serial in group { all.append(serial ?? "") }
            return all
        }
        #expect(Set(serials).count == 100)
        #expect(!serials.contains(""))
        #expect(log.records.withLock { $0.count } == 100)
    }
}
