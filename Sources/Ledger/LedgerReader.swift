import Foundation
import GRDB

/// A read-only view of a ledger, for the CLI (`sigillum ledger verify`) while the daemon may be
/// running. Made by ``Ledger/openReadOnly(path:)``.
///
/// It never writes, migrates or creates the file, and sees one consistent snapshot per call.
public final class LedgerReader: Sendable {
    private let path: String
    let dbPool: DatabasePool

    init(path: String) throws {
        self.path = path
        guard !path.isEmpty, FileManager.default.fileExists(atPath: path) else {
            throw LedgerError.databaseNotFound(path: path)
        }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.label = "sigillum.ledger.readonly"
        configuration.maximumReaderCount = 2
        do {
            self.dbPool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw LedgerError.openFailed(
                path: path,
                reason: "SQLite could not open it read-only (\(error))",
                remedy: "Check that the file is readable by this user.",
                cause: error
            )
        }
        do {
            try self.dbPool.read { db in try LedgerStore.checkCompatible(db, path: path) }
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError.incompatibleDatabase(
                path: path, reason: "it is not a readable SQLite database (\(error))")
        }
    }

    /// Walks the audit chain in sequence order and reports the first break, if any.
    public func verifyChain() throws -> ChainVerificationReport {
        try LedgerStore.read(self.dbPool, "verify the audit chain") { try LedgerStore.verifyChain($0) }
    }

    /// The number of stored audit records.
    public func auditRecordCount() throws -> Int {
        try LedgerStore.read(self.dbPool, "count the audit records") { try LedgerStore.auditRecordCount($0) }
    }

    /// The records of the token with this serial number.
    ///
    /// - Parameter serialHex: The serial in hexadecimal (an optional `0x`, any case); leading
    ///   zero octets do not matter.
    public func auditRecords(serialHex: String) throws -> [StoredAuditRecord] {
        let serial = try LedgerStore.parseSerial(serialHex)
        return try LedgerStore.read(self.dbPool, "look up the audit records") {
            try LedgerStore.auditRecords($0, serial: serial)
        }
    }

    /// Up to `limit` records with a sequence number above `sequence`, in sequence order.
    public func auditRecords(after sequence: Int64 = 0, limit: Int = 1000) throws -> [StoredAuditRecord] {
        try LedgerStore.read(self.dbPool, "list the audit records") {
            try LedgerStore.auditRecords($0, after: sequence, limit: limit)
        }
    }
}
