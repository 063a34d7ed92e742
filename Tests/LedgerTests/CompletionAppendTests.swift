import Foundation
import Ledger
import Synchronization
import Testing

/// `append(_:completion:)`, the form an event loop uses: the same group commit as `async` `append`, the completion
/// called exactly once, after the commit.
@Suite("Append with a completion")
struct CompletionAppendTests {
    /// Appends through the completion form and waits for the single report.
    func append(_ ledger: Ledger, _ record: TimeStampAuditRecord) async throws -> TimeStampAuditReceipt {
        let calls = Atomic<Int>(0)
        let result: Result<TimeStampAuditReceipt, any Error> = await withCheckedContinuation { continuation in
            ledger.append(record) { result in
                if calls.add(1, ordering: .relaxed).newValue == 1 {
                    continuation.resume(returning: result)
                } else {
                    Issue.record("the completion was called more than once")
                }
            }
        }
        return try result.get()
    }

    @Test("mixed with async appends: one chain, every record committed before its completion")
    func mixedWithAsyncAppends() async throws {
        try await withTemporaryDirectory { directory in
            let ledger = try openLedger(directory.ledgerPath, maxBatchSize: 32)
            let count = 200
            let receipts = try await withRunningLedger(ledger) { _ in
                try await withThrowingTaskGroup(of: TimeStampAuditReceipt.self) { tasks in
                    for index in 1...count {
                        tasks.addTask {
                            let receipt =
                                index.isMultiple(of: 2)
                                ? try await self.append(ledger, makeRecord(index))
                                : try await ledger.append(makeRecord(index))
                            // Committed: a reader sees the record once the completion reported it.
                            let stored = try ledger.auditRecords(serialHex: hex(makeRecord(index).serialNumber))
                            #expect(stored.first?.sequence == receipt.sequence)
                            return receipt
                        }
                    }
                    var receipts: [TimeStampAuditReceipt] = []
                    for try await receipt in tasks { receipts.append(receipt) }
                    return receipts
                }
            }
            #expect(receipts.map(\.sequence).sorted() == Array(1...Int64(count)))
            let report = try ledger.verifyChain()
            #expect(report.isIntact, "\(report)")
            #expect(report.recordCount == count)
            #expect(ledger.groupCommitStatistics.transactions < count)
        }
    }

    @Test("every field survives the insert: an empty nonce is not a missing one, optionals set and unset, UTF-8 text")
    func fieldsRoundTrip() async throws {
        try await withTemporaryDirectory { directory in
            let ledger = try openLedger(directory.ledgerPath)
            var emptyNonce = makeRecord(1)
            emptyNonce.nonce = []
            var everything = makeRecord(2)
            everything.genTimeMicros = 1_795_608_000_120_456
            everything.clockBoundMicros = 812
            everything.clockGate = "open — bound 0.8 ms"
            everything.clientAddress = "2001:db8::7"
            var nothing = makeRecord(3)
            (nothing.nonce, nothing.clientAddress, nothing.accuracyMicros) = (nil, nil, nil)
            let records = [emptyNonce, everything, nothing]
            try await withRunningLedger(ledger) { _ in
                for record in records { _ = try await self.append(ledger, record) }
            }
            for record in records {
                let stored = try ledger.auditRecords(serialHex: hex(record.serialNumber))
                #expect(stored.count == 1)
                #expect(stored.first?.record == record, "\(String(describing: stored.first?.record)) != \(record)")
            }
            #expect(try ledger.verifyChain().isIntact)
        }
    }

    @Test("refusals reach the completion: an invalid record at once, and any record after shutdown")
    func refusals() async throws {
        try await withTemporaryDirectory { directory in
            let ledger = try openLedger(directory.ledgerPath)
            var invalid = makeRecord(1)
            invalid.tokenSHA256 = [1, 2, 3]
            await expectLedgerError(.invalidArgument) { try await self.append(ledger, invalid) }
            #expect(ledger.queuedRecordCount == 0)
            try await withRunningLedger(ledger) { _ in
                _ = try await self.append(ledger, makeRecord(2))
            }
            await expectLedgerError(.shutDown) { try await self.append(ledger, makeRecord(3)) }
            #expect(try ledger.auditRecordCount() == 1)
        }
    }
}
