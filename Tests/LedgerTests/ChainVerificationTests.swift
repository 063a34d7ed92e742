import Crypto
import Foundation
import GRDB
import Ledger
import Testing

@Suite("Hash chain and tamper detection")
struct ChainVerificationTests {
    static let count = 12

    /// A ledger file with `count` records, tampered with by `tamper` through a raw connection.
    func tamperedLedger(
        in directory: TemporaryDirectory,
        _ tamper: (Database) throws -> Void
    ) async throws -> ChainVerificationReport {
        let path = directory.ledgerPath
        try await makeLedgerFile(path, count: Self.count)
        try rawWrite(path, tamper)
        let readerReport = try Ledger.openReadOnly(path: path).verifyChain()
        let writerReport = try openLedger(path).verifyChain()
        #expect(readerReport == writerReport)
        return readerReport
    }

    @Test("an untouched ledger passes")
    func intact() async throws {
        try await withTemporaryDirectory { directory in
            let report = try await tamperedLedger(in: directory) { _ in }
            #expect(report.isIntact)
            #expect(report.firstBreak == nil)
            #expect(report.recordCount == Self.count)
            #expect(report.headRecordCount == Int64(Self.count))
            #expect(report.description.hasPrefix("ledger chain intact: 12 records"), "\(report)")
        }
    }

    @Test("an empty ledger passes")
    func empty() async throws {
        try await withTemporaryDirectory { directory in
            let report = try openLedger(directory.ledgerPath).verifyChain()
            #expect(report.isIntact)
            #expect(report.recordCount == 0)
            #expect(report.lastRecordHash == [UInt8](repeating: 0, count: 32))
        }
    }

    @Test(
        "changing one field of a middle record names that record as altered",
        arguments: [
            "policy = '1.3.6.1.4.1.99999.1.2'",
            "gen_time = '20261125014501.000Z'",
            "imprint = X'00'",
            "nonce = NULL",
            "client = '198.51.100.7'",
            "accuracy_us = 1",
            "serial = X'01000000000000000a'",
            "instance_id = instance_id + 1",
            "committed_at = '2020-01-01T00:00:00.000Z'",
            "prev_hash = zeroblob(32)",
            "policy = 42",
        ]
    )
    func alteredField(_ assignment: String) async throws {
        try await withTemporaryDirectory { directory in
            let report = try await tamperedLedger(in: directory) { db in
                try db.execute(sql: "UPDATE tsa_audit SET \(assignment) WHERE seq = 7")
            }
            let brk = try #require(report.firstBreak, "\(assignment) went unnoticed")
            #expect(brk.kind == .recordAltered)
            #expect(brk.sequence == 7)
            #expect(!report.isIntact)
            #expect(report.description.contains("record 7 (serial 0x"), "\(report)")
            #expect(report.description.contains("was altered"), "\(report)")
        }
    }

    @Test("the description names the record, its serial and the kind of break")
    func alteredDescription() async throws {
        try await withTemporaryDirectory { directory in
            let report = try await tamperedLedger(in: directory) { db in
                try db.execute(sql: "UPDATE tsa_audit SET policy = '1.2.3' WHERE seq = 5")
            }
            let serial = hex(makeRecord(5).serialNumber)
            #expect(report.firstBreak?.serialNumber == makeRecord(5).serialNumber)
            #expect(
                report.firstBreak?.description
                    == "record 5 (serial 0x\(serial)) was altered: its stored hash does not match its content"
            )
        }
    }

    @Test("a record rewritten together with its own hash breaks the link to the next record")
    func rewrittenWithHash() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.ledgerPath
            try await makeLedgerFile(path, count: Self.count)
            let stored = try #require(try Ledger.openReadOnly(path: path).auditRecords(after: 5, limit: 1).first)
            var forged = stored.record
            forged.imprint = Array(repeating: 0xAA, count: 32)
            let forgedHash = independentRecordHash(
                previousHash: stored.previousHash,
                sequence: stored.sequence,
                instanceID: stored.instanceID,
                record: forged,
                committedAt: stored.committedAt
            )
            try rawWrite(path) { db in
                try db.execute(
                    sql: "UPDATE tsa_audit SET imprint = ?, record_hash = ? WHERE seq = 6",
                    arguments: [Data(forged.imprint), Data(forgedHash)]
                )
            }
            let report = try Ledger.openReadOnly(path: path).verifyChain()
            let brk = try #require(report.firstBreak)
            #expect(brk.kind == .linkBroken)
            #expect(brk.sequence == 7)
            #expect(brk.description.contains("record 7 (serial 0x"))
            #expect(brk.description.contains("does not link"))
        }
    }

    @Test("deleting a middle record names the gap")
    func deletedMiddle() async throws {
        try await withTemporaryDirectory { directory in
            let report = try await tamperedLedger(in: directory) { db in
                try db.execute(sql: "DELETE FROM tsa_audit WHERE seq = 6")
            }
            let brk = try #require(report.firstBreak)
            #expect(brk.kind == .recordMissing)
            #expect(brk.sequence == 6)
            #expect(brk.missingSequences == 6...6)
            #expect(brk.description == "record 6 is missing: the sequence jumps from 5 to 7")
        }
    }

    @Test("deleting several middle records names the whole gap")
    func deletedRange() async throws {
        try await withTemporaryDirectory { directory in
            let report = try await tamperedLedger(in: directory) { db in
                try db.execute(sql: "DELETE FROM tsa_audit WHERE seq BETWEEN 3 AND 5")
            }
            let brk = try #require(report.firstBreak)
            #expect(brk.kind == .recordMissing)
            #expect(brk.missingSequences == 3...5)
            #expect(brk.description == "records 3 to 5 are missing: the sequence jumps from 2 to 6")
        }
    }

    @Test("deleting the first record is a gap at the start")
    func deletedFirst() async throws {
        try await withTemporaryDirectory { directory in
            let report = try await tamperedLedger(in: directory) { db in
                try db.execute(sql: "DELETE FROM tsa_audit WHERE seq = 1")
            }
            #expect(report.firstBreak?.kind == .recordMissing)
            #expect(report.firstBreak?.missingSequences == 1...1)
            #expect(report.firstBreak?.description == "record 1 is missing: the table starts at record 2")
        }
    }

    @Test("deleting the last records is reported as truncation")
    func truncatedTail() async throws {
        try await withTemporaryDirectory { directory in
            let report = try await tamperedLedger(in: directory) { db in
                try db.execute(sql: "DELETE FROM tsa_audit WHERE seq >= 11")
            }
            let brk = try #require(report.firstBreak)
            #expect(brk.kind == .tailTruncated)
            #expect(brk.missingSequences == 11...12)
            #expect(report.recordCount == 10)
            #expect(report.headRecordCount == 12)
            #expect(
                brk.description
                    == "the ledger was truncated: its head records 12 records but the table ends at record 10; records 11 to 12 were removed"
            )
        }
    }

    @Test("deleting the last record together with rewinding the head count is a head mismatch")
    func rewoundHead() async throws {
        try await withTemporaryDirectory { directory in
            let report = try await tamperedLedger(in: directory) { db in
                try db.execute(sql: "DELETE FROM tsa_audit WHERE seq = 12")
                try db.execute(sql: "UPDATE ledger_meta SET audit_count = 11")
            }
            #expect(report.firstBreak?.kind == .headMismatch)
            #expect(report.firstBreak?.description.contains("does not match the hash of the last record (11)") == true)
        }
    }

    @Test("a record with a forged tail record is caught: bad hash, or (hash forged too) head mismatch")
    func appendedBehindBack() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.ledgerPath
            try await makeLedgerFile(path, count: Self.count)
            let last = try #require(try Ledger.openReadOnly(path: path).auditRecords(after: 11, limit: 1).first)
            var forged = last.record
            forged.serialNumber = [0x05]
            let forgedHash = independentRecordHash(
                previousHash: last.recordHash,
                sequence: 13,
                instanceID: last.instanceID,
                record: forged,
                committedAt: last.committedAt
            )
            let insert = """
                INSERT INTO tsa_audit (seq, instance_id, serial, gen_time, policy, hash_alg, imprint, nonce,
                  client, token_sha256, accuracy_us, committed_at, prev_hash, record_hash)
                SELECT 13, instance_id, X'05', gen_time, policy, hash_alg, imprint, nonce, client,
                  token_sha256, accuracy_us, committed_at, record_hash, ?
                FROM tsa_audit WHERE seq = 12
                """

            // A copied hash does not match the new content.
            try rawWrite(path) { db in try db.execute(sql: insert, arguments: [Data(last.recordHash)]) }
            let careless = try Ledger.openReadOnly(path: path).verifyChain()
            #expect(careless.firstBreak?.kind == .recordAltered)
            #expect(careless.firstBreak?.sequence == 13)

            // A correctly computed hash passes the record checks, but the head still says 12.
            try rawWrite(path) { db in
                try db.execute(
                    sql: "UPDATE tsa_audit SET record_hash = ? WHERE seq = 13", arguments: [Data(forgedHash)])
            }
            let careful = try Ledger.openReadOnly(path: path).verifyChain()
            let brk = try #require(careful.firstBreak)
            #expect(brk.kind == .headMismatch)
            #expect(brk.sequence == 13)
            #expect(
                brk.description
                    == "the table holds records beyond the ledger head: the head records 12 records but the table ends at record 13"
            )
        }
    }

    @Test("records survive close and re-open, and the chain continues from the stored head")
    func reopenContinuesChain() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.ledgerPath
            try await makeLedgerFile(path, count: 5)

            let reopened = try openLedger(path)
            #expect(try reopened.auditRecordCount() == 5)
            let receipts = try await withRunningLedger(reopened) { _ in
                var receipts: [TimeStampAuditReceipt] = []
                for index in 6...8 {
                    receipts.append(try await reopened.append(makeRecord(index)))
                }
                return receipts
            }
            #expect(receipts.map(\.sequence) == [6, 7, 8])
            let records = try reopened.auditRecords(after: 4, limit: 2)
            #expect(records.map(\.sequence) == [5, 6])
            #expect(records[1].previousHash == records[0].recordHash)
            #expect(records[1].record == makeRecord(6))

            let report = try Ledger.openReadOnly(path: path).verifyChain()
            #expect(report.isIntact, "\(report)")
            #expect(report.recordCount == 8)
            #expect(report.lastRecordHash == receipts.last?.recordHash)
        }
    }

    @Test("stored hashes follow the documented canonical encoding")
    func canonicalEncoding() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.ledgerPath
            let ledger = try openLedger(path, instanceID: 0xDEAD_BEEF)
            var empty = makeRecord(1)
            empty.nonce = []
            empty.imprint = []
            var absent = makeRecord(2)
            absent.nonce = nil
            absent.clientAddress = nil
            absent.accuracyMicros = nil
            var negative = makeRecord(3)
            negative.accuracyMicros = -1
            negative.clientAddress = ""
            let inputs = [empty, absent, negative]
            let receipts = try await withRunningLedger(ledger) { _ in
                var receipts: [TimeStampAuditReceipt] = []
                for record in inputs {
                    receipts.append(try await ledger.append(record))
                }
                return receipts
            }
            let stored = try ledger.auditRecords()
            #expect(stored.map(\.record) == inputs, "empty and absent fields must round-trip distinctly")
            var previous = [UInt8](repeating: 0, count: 32)
            for (record, receipt) in zip(stored, receipts) {
                #expect(record.instanceID == 0xDEAD_BEEF)
                #expect(record.previousHash == previous)
                let expected = independentRecordHash(
                    previousHash: previous,
                    sequence: record.sequence,
                    instanceID: record.instanceID,
                    record: record.record,
                    committedAt: record.committedAt
                )
                #expect(record.recordHash == expected)
                #expect(receipt.recordHash == expected)
                previous = expected
            }
            // committed_at is UTC ISO 8601 with milliseconds.
            #expect(stored[0].committedAt.count == 24)
            #expect(stored[0].committedAt.hasSuffix("Z"))
        }
    }

    @Test("the encoding matches a vector computed outside Swift")
    func knownAnswer() {
        let record = TimeStampAuditRecord(
            serialNumber: [0x01, 0x02],
            genTime: "20261125014500.123Z",
            policy: "1.2.3.4",
            hashAlgorithm: "2.16.840.1.101.3.4.2.1",
            imprint: [0xAB, 0xCD],
            nonce: nil,
            clientAddress: "127.0.0.1",
            tokenSHA256: [UInt8](repeating: 0x11, count: 32),
            accuracyMicros: 1_000_000
        )
        // Computed with python3's hashlib over the documented encoding.
        let expected = "8c2466daa78c976bbd26a9204b826a6df0d2869e6d6b9db9686ec13da8bd5eda"
        var scratch: [UInt8] = []
        let moduleHash = AuditChain.recordHash(
            previousHash: [UInt8](repeating: 0, count: 32),
            sequence: 1,
            instanceID: 7,
            record: record,
            committedAt: "2026-11-25T01:45:00.123Z",
            scratch: &scratch
        )
        #expect(hex(moduleHash) == expected)
        let testHash = independentRecordHash(
            previousHash: [UInt8](repeating: 0, count: 32),
            sequence: 1,
            instanceID: 7,
            record: record,
            committedAt: "2026-11-25T01:45:00.123Z"
        )
        #expect(hex(testHash) == expected)
    }
}

/// The documented encoding, written again independently of the Ledger module.
func independentRecordHash(
    previousHash: [UInt8],
    sequence: Int64,
    instanceID: UInt32,
    record: TimeStampAuditRecord,
    committedAt: String
) -> [UInt8] {
    var bytes = previousHash
    func length(_ count: Int) -> [UInt8] {
        Array(bigEndian(UInt64(count)).suffix(4))
    }
    func field(_ value: [UInt8]) {
        bytes += length(value.count) + value
    }
    func optional(_ value: [UInt8]?) {
        if let value { field(value) } else { bytes += [0xFF, 0xFF, 0xFF, 0xFF] }
    }
    field(Array("sigillum-tsa-audit-v1".utf8))
    field(bigEndian(UInt64(bitPattern: sequence)))
    field(Array(bigEndian(UInt64(instanceID)).suffix(4)))
    field(record.serialNumber)
    field(Array(record.genTime.utf8))
    field(Array(record.policy.utf8))
    field(Array(record.hashAlgorithm.utf8))
    field(record.imprint)
    optional(record.nonce)
    optional(record.clientAddress.map { Array($0.utf8) })
    field(record.tokenSHA256)
    optional(record.accuracyMicros.map { bigEndian(UInt64(bitPattern: $0)) })
    field(Array(committedAt.utf8))
    return Array(SHA256.hash(data: bytes))
}
