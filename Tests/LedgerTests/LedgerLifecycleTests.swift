import Foundation
import GRDB
import Ledger
import Testing

@Suite("Opening, epochs and lookups")
struct LedgerLifecycleTests {
    @Test("beginEpoch increments across re-opens and keeps the generated instance id")
    func epochsAcrossReopens() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.ledgerPath
            let first = try openLedger(path).beginEpoch()
            #expect(first.epoch == 1)
            #expect(first.instanceID != 0)
            let second = try openLedger(path).beginEpoch()
            #expect(second == (first.instanceID, 2))
            let ledger = try openLedger(path)
            #expect(try ledger.beginEpoch() == (first.instanceID, 3))
            #expect(try ledger.beginEpoch() == (first.instanceID, 4))
        }
    }

    @Test("a configured instance id is used, stored, and kept when no longer configured")
    func configuredInstanceID() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.ledgerPath
            let generated = try openLedger(path).beginEpoch()
            let configured = try openLedger(path, instanceID: 0x0A0B_0C0D).beginEpoch()
            #expect(configured.instanceID == 0x0A0B_0C0D)
            #expect(configured.epoch == generated.epoch + 1, "epochs never repeat, whatever the instance id")
            let later = try openLedger(path).beginEpoch()
            #expect(later == (0x0A0B_0C0D, 3))

            let fresh = try openLedger(directory.path("other.sqlite"), instanceID: 42).beginEpoch()
            #expect(fresh == (42, 1))
        }
    }

    @Test("the epoch is committed before beginEpoch returns (another connection sees it)")
    func epochIsDurable() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.ledgerPath
            let ledger = try openLedger(path)
            let epoch = try ledger.beginEpoch()
            let stored = try rawConnection(path).read { db in
                try Row.fetchOne(db, sql: "SELECT instance_id, epoch FROM ledger_meta")
            }
            #expect(stored?[0] == Int64(epoch.instanceID))
            #expect(stored?[1] == Int64(epoch.epoch))
        }
    }

    @Test("the writer uses WAL with synchronous=FULL")
    func durabilitySettings() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.ledgerPath
            let ledger = try openLedger(path)
            #expect(try ledger.writerSynchronousMode() == 2)
            let mode = try rawConnection(path).read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
            #expect(mode == "wal")
            let migrations = try rawConnection(path).read { db in
                try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
            }
            #expect(migrations == ["v1-audit-log", "v2-ocsp-presigned", "v3-ocsp-status", "v4-clock-evidence"])
        }
    }

    @Test("a missing directory is created with mode 0700")
    func createsDirectory() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.path("state/nested/ledger.sqlite")
            _ = try openLedger(path)
            let attributes = try FileManager.default.attributesOfItem(atPath: directory.path("state/nested"))
            let permissions = (attributes[.posixPermissions] as? NSNumber)?.intValue
            #expect(permissions == 0o700)
            #expect(FileManager.default.fileExists(atPath: path))
        }
    }

    @Test("a new ledger's database, WAL and shared-memory files are private (0600)")
    func createsPrivateFiles() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.ledgerPath
            let ledger = try openLedger(path)
            _ = try ledger.beginEpoch()
            for file in [path, path + "-wal", path + "-shm"] {
                let attributes = try FileManager.default.attributesOfItem(atPath: file)
                let permissions = (attributes[.posixPermissions] as? NSNumber)?.intValue
                #expect(permissions == 0o600, "\(file): \(String(permissions ?? -1, radix: 8))")
            }
        }
    }

    @Test("a failed open names the path and the reason")
    func openFailure() async throws {
        try await withTemporaryDirectory { directory in
            let blocker = directory.path("not-a-directory")
            _ = FileManager.default.createFile(atPath: blocker, contents: Data("x".utf8))
            let path = blocker + "/ledger.sqlite"
            let error = await expectLedgerError(.openFailed) { try openLedger(path) }
            #expect(error?.description.contains(path) == true, "\(String(describing: error))")
            #expect(error?.reason.contains("is not a directory") == true)

            let garbage = directory.path("garbage.sqlite")
            _ = FileManager.default.createFile(atPath: garbage, contents: Data(repeating: 0x41, count: 4096))
            let garbageError = await expectLedgerError(.openFailed) { try openLedger(garbage) }
            #expect(garbageError?.description.contains(garbage) == true)
        }
    }

    @Test("an SQLite file of another application is refused, not migrated")
    func foreignDatabase() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.path("foreign.sqlite")
            try rawWrite(path) { db in
                try db.execute(sql: "CREATE TABLE customers (id INTEGER PRIMARY KEY)")
            }
            await expectLedgerError(.incompatibleDatabase) { try openLedger(path) }
            await expectLedgerError(.incompatibleDatabase) { try Ledger.openReadOnly(path: path) }
        }
    }

    @Test("a read-only open of a missing file says so")
    func readOnlyMissing() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.path("absent.sqlite")
            let error = await expectLedgerError(.databaseNotFound) { try Ledger.openReadOnly(path: path) }
            #expect(error?.reason == "there is no ledger at \(path)")
            #expect(!FileManager.default.fileExists(atPath: path), "a read-only open must not create the file")
        }
    }

    @Test("a read-only reader sees committed records while the ledger runs")
    func readOnlyWhileRunning() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.ledgerPath
            let ledger = try openLedger(path)
            try await withRunningLedger(ledger) { _ in
                for index in 1...20 {
                    _ = try await ledger.append(makeRecord(index))
                }
                let reader = try Ledger.openReadOnly(path: path)
                #expect(try reader.auditRecordCount() == 20)
                #expect(try reader.verifyChain().isIntact)
                _ = try await ledger.append(makeRecord(21))
                #expect(try reader.auditRecordCount() == 21)
                #expect(try reader.auditRecords(serialHex: hex(makeRecord(21).serialNumber)).count == 1)
            }
        }
    }

    @Test("lookup by serial ignores a 0x prefix, case and leading zero octets")
    func serialLookup() async throws {
        try await withTemporaryDirectory { directory in
            let ledger = try openLedger(directory.ledgerPath)
            var highBit = makeRecord(1)
            highBit.serialNumber = [0x00, 0x80, 0x01]
            try await withRunningLedger(ledger) { _ in
                _ = try await ledger.append(highBit)
                _ = try await ledger.append(makeRecord(2))
            }
            for query in ["008001", "0x8001", "0X8001", "8001", "0x00008001"] {
                let found = try ledger.auditRecords(serialHex: query)
                #expect(found.map(\.record) == [highBit], "query \(query)")
            }
            let plain = hex(makeRecord(2).serialNumber)
            #expect(try ledger.auditRecords(serialHex: plain.uppercased()).map(\.sequence) == [2])
            #expect(try ledger.auditRecords(serialHex: "0x0badcafe").isEmpty)
            await expectLedgerError(.invalidArgument) { try ledger.auditRecords(serialHex: "xyz") }
            await expectLedgerError(.invalidArgument) { try ledger.auditRecords(serialHex: "") }
        }
    }

    @Test("errors compare by code only")
    func errorEquality() async throws {
        try await withTemporaryDirectory { directory in
            let first = await expectLedgerError(.databaseNotFound) {
                try Ledger.openReadOnly(path: directory.path("a"))
            }
            let second = await expectLedgerError(.databaseNotFound) {
                try Ledger.openReadOnly(path: directory.path("b"))
            }
            #expect(first == second)
            #expect(first?.reason != second?.reason)
            #expect(first?.code != LedgerError.ErrorCode.openFailed)
        }
    }
}
