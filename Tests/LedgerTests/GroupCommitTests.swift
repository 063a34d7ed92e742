import Foundation
import GRDB
import Ledger
import ServiceLifecycle
import Testing

@Suite("Group commit")
struct GroupCommitTests {
    @Test("500 concurrent appends: distinct contiguous receipts, one chain, fewer transactions than records")
    func concurrentAppends() async throws {
        try await withTemporaryDirectory { directory in
            let ledger = try openLedger(directory.ledgerPath, maxBatchSize: 64)
            let count = 500
            let receipts = try await withRunningLedger(ledger) { _ in
                try await withThrowingTaskGroup(of: (Int, TimeStampAuditReceipt).self) { tasks in
                    for index in 1...count {
                        tasks.addTask { (index, try await ledger.append(makeRecord(index))) }
                    }
                    var receipts: [Int: TimeStampAuditReceipt] = [:]
                    for try await (index, receipt) in tasks {
                        receipts[index] = receipt
                    }
                    return receipts
                }
            }

            #expect(receipts.count == count)
            #expect(receipts.values.map(\.sequence).sorted() == Array(1...Int64(count)))
            #expect(Set(receipts.values.map(\.recordHash)).count == count)
            #expect(receipts.values.allSatisfy { $0.recordHash.count == 32 })
            #expect(try ledger.auditRecordCount() == count)

            let report = try ledger.verifyChain()
            #expect(report.isIntact, "\(report)")
            #expect(report.recordCount == count)
            #expect(report.headRecordCount == Int64(count))

            // Every caller got the receipt of its own record.
            for index in [1, 2, 99, 250, 500] {
                let stored = try ledger.auditRecords(serialHex: hex(makeRecord(index).serialNumber))
                #expect(stored.count == 1)
                #expect(stored.first?.record == makeRecord(index))
                #expect(stored.first?.sequence == receipts[index]?.sequence)
                #expect(stored.first?.recordHash == receipts[index]?.recordHash)
            }

            let statistics = ledger.groupCommitStatistics
            #expect(statistics.records == count)
            #expect(statistics.largestBatch > 1, "no batch held more than one record: \(statistics)")
            #expect(statistics.largestBatch <= 64)
            #expect(statistics.transactions < count)
            #expect(statistics.failedTransactions == 0)
        }
    }

    @Test("records appended before run() wait for it and are committed in batches of at most maxBatchSize")
    func appendsBeforeRunAreBatched() async throws {
        try await withTemporaryDirectory { directory in
            let ledger = try openLedger(directory.ledgerPath, maxBatchSize: 128)
            let count = 500
            let group = ServiceGroup(services: [ledger], logger: testLogger)
            let sequences = try await withThrowingTaskGroup(of: Int64?.self) { tasks in
                for index in 1...count {
                    tasks.addTask { try await ledger.append(makeRecord(index)).sequence }
                }
                try await waitUntil("all records are queued") { ledger.queuedRecordCount == count }
                #expect(!ledger.isHealthy)
                #expect(ledger.groupCommitStatistics.transactions == 0)

                tasks.addTask {
                    try await group.run()
                    return nil
                }
                var sequences: [Int64] = []
                for try await sequence in tasks {
                    if let sequence {
                        sequences.append(sequence)
                        if sequences.count == count {
                            await group.triggerGracefulShutdown()
                        }
                    }
                }
                return sequences
            }
            #expect(sequences.sorted() == Array(1...Int64(count)))
            // 500 queued records, at most 128 per transaction: 128 + 128 + 128 + 116.
            let statistics = ledger.groupCommitStatistics
            #expect(statistics.transactions == 4)
            #expect(statistics.largestBatch == 128)
            #expect(try ledger.verifyChain().isIntact)
        }
    }

    @Test("a failed commit fails the batch and makes the ledger unhealthy until commits work again")
    func transientCommitFailure() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.ledgerPath
            let ledger = try openLedger(path, lockTimeoutSeconds: 0.1, healthProbeIntervalSeconds: 0.05)
            let raw = try rawConnection(path)
            try await withRunningLedger(ledger) { _ in
                let first = try await ledger.append(makeRecord(1))
                #expect(first.sequence == 1)
                #expect(ledger.isHealthy)

                // Another process holds the write lock longer than the ledger waits.
                try raw.inDatabase { try $0.execute(sql: "BEGIN IMMEDIATE") }
                let error = await expectLedgerError(.commitFailed) {
                    try await ledger.append(makeRecord(2))
                }
                #expect(error?.cause != nil)
                #expect(!ledger.isHealthy)
                #expect(ledger.groupCommitStatistics.failedTransactions == 1)
                // The idle writer's probes fail too while the lock is held.
                try await Task.sleep(for: .milliseconds(400))
                #expect(!ledger.isHealthy)

                // Once the lock is gone, a probe commit heals the ledger without any record.
                try raw.inDatabase { try $0.execute(sql: "ROLLBACK") }
                try await waitUntil("a probe commit succeeds") { ledger.isHealthy }
                #expect(ledger.groupCommitStatistics.transactions == 1)

                let third = try await ledger.append(makeRecord(3))
                #expect(third.sequence == 2, "the failed record must not use up a sequence number")
                #expect(ledger.isHealthy)
            }
            let report = try ledger.verifyChain()
            #expect(report.isIntact, "\(report)")
            #expect(report.recordCount == 2)
            #expect(try ledger.auditRecords(serialHex: hex(makeRecord(2).serialNumber)).isEmpty)
        }
    }

    @Test("commits, batch sizes, records and failures are measured")
    func metrics() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.ledgerPath
            let metrics = RecordingMetrics()
            let ledger = try openLedger(path, metrics: metrics)
            for label in [
                "sigillum_ledger_commit_seconds", "sigillum_ledger_batch_size", "sigillum_ledger_records_total",
                "sigillum_ledger_commit_failures_total",
            ] {
                #expect(metrics.hasMetric(label), "\(label) is created in init")
            }
            let group = ServiceGroup(services: [ledger], logger: testLogger)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for index in 1...10 {
                    tasks.addTask { _ = try await ledger.append(makeRecord(index)) }
                }
                try await waitUntil("10 records are queued") { ledger.queuedRecordCount == 10 }
                tasks.addTask { try await group.run() }
                try await waitUntil("the batch is committed") { ledger.groupCommitStatistics.records == 10 }
                _ = try await ledger.append(makeRecord(11))
                try rawWrite(path) { try $0.execute(sql: "DROP TABLE tsa_audit") }
                await expectLedgerError(.commitFailed) { try await ledger.append(makeRecord(12)) }
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            #expect(metrics.values("sigillum_ledger_batch_size") == [10, 1])
            #expect(metrics.values("sigillum_ledger_records_total") == [10, 1])
            #expect(metrics.values("sigillum_ledger_commit_seconds").count == 2)
            #expect(metrics.values("sigillum_ledger_commit_seconds").allSatisfy { $0 > 0 })
            #expect(metrics.values("sigillum_ledger_commit_failures_total") == [1])
        }
    }

    @Test("a commit that cannot succeed (table dropped) throws and leaves the ledger unhealthy")
    func permanentCommitFailure() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.ledgerPath
            let ledger = try openLedger(path, healthProbeIntervalSeconds: 0.05)
            try await withRunningLedger(ledger) { _ in
                _ = try await ledger.append(makeRecord(1))
                try rawWrite(path) { try $0.execute(sql: "DROP TABLE tsa_audit") }
                await expectLedgerError(.commitFailed) {
                    try await ledger.append(makeRecord(2))
                }
                #expect(!ledger.isHealthy)
                // Probe commits check the schema as well, so they do not report a false recovery.
                try await Task.sleep(for: .milliseconds(300))
                #expect(!ledger.isHealthy)
                await expectLedgerError(.commitFailed) {
                    try await ledger.append(makeRecord(3))
                }
                #expect(ledger.groupCommitStatistics.failedTransactions == 2)
            }
        }
    }

    @Test("graceful shutdown stops accepting at once but commits what is already queued")
    func gracefulShutdownDrainsQueue() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.ledgerPath
            let ledger = try openLedger(path, lockTimeoutSeconds: 30)
            let raw = try rawConnection(path)
            let group = ServiceGroup(services: [ledger], logger: testLogger)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                try await waitUntil("the ledger runs") { ledger.isHealthy }

                // Hold the writer inside its first transaction.
                try raw.inDatabase { try $0.execute(sql: "BEGIN IMMEDIATE") }
                tasks.addTask { _ = try await ledger.append(makeRecord(1)) }
                try await waitUntil("the writer commits record 1") { ledger.committingRecordCount == 1 }
                for index in 2...51 {
                    tasks.addTask { _ = try await ledger.append(makeRecord(index)) }
                }
                try await waitUntil("50 records are queued") { ledger.queuedRecordCount == 50 }

                await group.triggerGracefulShutdown()
                try await waitUntil("the ledger stops accepting") { !ledger.isHealthy }
                let clock = ContinuousClock()
                let start = clock.now
                await expectLedgerError(.shutDown) {
                    try await ledger.append(makeRecord(99))
                }
                #expect(clock.now - start < .seconds(1))

                try raw.inDatabase { try $0.execute(sql: "ROLLBACK") }
                try await tasks.waitForAll()
            }
            #expect(try ledger.auditRecordCount() == 51)
            #expect(try ledger.verifyChain().isIntact)
        }
    }

    @Test("append after shutdown fails fast, and run() does not start twice")
    func appendAfterShutdown() async throws {
        try await withTemporaryDirectory { directory in
            let ledger = try openLedger(directory.ledgerPath)
            try await withRunningLedger(ledger) { _ in
                _ = try await ledger.append(makeRecord(1))
                await expectLedgerError(.alreadyRunning) { try await ledger.run() }
            }
            #expect(!ledger.isHealthy)
            let clock = ContinuousClock()
            let start = clock.now
            await expectLedgerError(.shutDown) {
                try await ledger.append(makeRecord(2))
            }
            #expect(clock.now - start < .seconds(1))
            await expectLedgerError(.shutDown) { try await ledger.run() }
            #expect(try ledger.auditRecordCount() == 1)
        }
    }

    @Test("cancelling run() stops the ledger and later appends fail fast")
    func cancellation() async throws {
        try await withTemporaryDirectory { directory in
            let ledger = try openLedger(directory.ledgerPath)
            let runner = Task { try await ledger.run() }
            try await waitUntil("the ledger runs") { ledger.isHealthy }
            _ = try await ledger.append(makeRecord(1))
            runner.cancel()
            try await runner.value
            #expect(!ledger.isHealthy)
            await expectLedgerError(.shutDown) {
                try await ledger.append(makeRecord(2))
            }
            #expect(try ledger.auditRecordCount() == 1)
        }
    }

    @Test("records that cannot be encoded are refused before they are queued")
    func invalidRecords() async throws {
        try await withTemporaryDirectory { directory in
            let ledger = try openLedger(directory.ledgerPath)
            var shortDigest = makeRecord(1)
            shortDigest.tokenSHA256 = [1, 2, 3]
            await expectLedgerError(.invalidArgument) { try await ledger.append(shortDigest) }
            var emptySerial = makeRecord(2)
            emptySerial.serialNumber = []
            await expectLedgerError(.invalidArgument) { try await ledger.append(emptySerial) }
            var nul = makeRecord(3)
            nul.clientAddress = "10.0.0.1\u{0}evil"
            await expectLedgerError(.invalidArgument) { try await ledger.append(nul) }
            #expect(ledger.queuedRecordCount == 0)
        }
    }
}
