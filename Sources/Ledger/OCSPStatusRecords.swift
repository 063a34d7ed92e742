import Foundation
import GRDB

/// The status of one certificate as the ledger keeps it for the OCSP responder, written by
/// `sigillum ocsp revoke|unrevoke|import-index|import-crl`. Plain data: the ledger knows no ASN.1; the responder
/// turns these into its own status entries.
///
/// A row exists for every serial the ledger knows to be issued (imported from `index.txt`, or named in a
/// `revoke`/`unrevoke`); `unrevoke` sets the row back to good and keeps it, so the serial stays "issued".
public struct OCSPStatusRecord: Sendable, Hashable {
    /// The issuer's key: its subject, as the responder labels issuers (`OCSPIssuer.label`).
    public var issuer: String
    /// The serial's big-endian magnitude; leading zero octets are dropped when stored.
    public var serial: [UInt8]
    /// Revoked, or good.
    public var isRevoked: Bool
    /// revocationTime in seconds since 1970; set when ``isRevoked``.
    public var revocationTime: Int64?
    /// The RFC 5280 CRLReason value, or `nil` for none.
    public var reason: Int?
    /// The invalidity date (RFC 5280 §5.3.2) in seconds since 1970, or `nil`.
    public var invalidityTime: Int64?

    public init(
        issuer: String,
        serial: [UInt8],
        isRevoked: Bool,
        revocationTime: Int64? = nil,
        reason: Int? = nil,
        invalidityTime: Int64? = nil
    ) {
        self.issuer = issuer
        self.serial = serial
        self.isRevoked = isRevoked
        self.revocationTime = revocationTime
        self.reason = reason
        self.invalidityTime = invalidityTime
    }

    /// A good (issued, not revoked) record.
    public static func good(issuer: String, serial: [UInt8]) -> OCSPStatusRecord {
        OCSPStatusRecord(issuer: issuer, serial: serial, isRevoked: false)
    }
}

/// The SQL of the `ocsp_status` and `ocsp_status_generation` tables (migration `v3-ocsp-status`).
///
/// ```sql
/// CREATE TABLE ocsp_status (issuer TEXT NOT NULL, serial BLOB NOT NULL,
///   status TEXT NOT NULL CHECK (status IN ('good', 'revoked')), revocation_time INTEGER, reason INTEGER,
///   invalidity_time INTEGER, updated_at TEXT NOT NULL, PRIMARY KEY (issuer, serial));
/// CREATE TABLE ocsp_status_generation (issuer TEXT PRIMARY KEY, generation INTEGER NOT NULL);
/// ```
///
/// Every change bumps the issuer's generation in the same transaction, so a reader that sees the same generation
/// twice knows nothing changed.
enum OCSPStatusStore {
    /// The magnitude without leading zero octets (`[0]` for zero), so `00 8A` and `8A` are one row.
    static func normalized(_ serial: [UInt8]) -> [UInt8] {
        let minimal = Array(serial.drop(while: { $0 == 0 }))
        return minimal.isEmpty ? [0] : minimal
    }

    static func bumpGeneration(_ db: Database, issuer: String) throws {
        try db.execute(
            sql: """
                INSERT INTO ocsp_status_generation (issuer, generation) VALUES (?, 1)
                ON CONFLICT (issuer) DO UPDATE SET generation = generation + 1
                """,
            arguments: [issuer]
        )
    }

    static func upsert(_ db: Database, _ records: [OCSPStatusRecord]) throws {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO ocsp_status
                    (issuer, serial, status, revocation_time, reason, invalidity_time, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                ON CONFLICT (issuer, serial) DO UPDATE SET
                    status = excluded.status,
                    revocation_time = excluded.revocation_time,
                    reason = excluded.reason,
                    invalidity_time = excluded.invalidity_time,
                    updated_at = excluded.updated_at
                """
        )
        var issuers = Set<String>()
        for record in records {
            if record.isRevoked && record.revocationTime == nil {
                throw LedgerError.invalidArgument(
                    reason: "a revoked status needs a revocation time (serial \(Hex.encode(record.serial)))")
            }
            try statement.execute(arguments: [
                record.issuer,
                Data(normalized(record.serial)),
                record.isRevoked ? "revoked" : "good",
                record.isRevoked ? record.revocationTime : nil,
                record.isRevoked ? record.reason : nil,
                record.isRevoked ? record.invalidityTime : nil,
            ])
            issuers.insert(record.issuer)
        }
        for issuer in issuers {
            try bumpGeneration(db, issuer: issuer)
        }
    }

    static func generation(_ db: Database, issuer: String) throws -> Int64 {
        guard try db.tableExists("ocsp_status_generation") else { return 0 }
        return try Int64.fetchOne(
            db,
            sql: "SELECT generation FROM ocsp_status_generation WHERE issuer = ?",
            arguments: [issuer]
        ) ?? 0
    }

    static func status(_ db: Database, issuer: String) throws -> (generation: Int64, records: [OCSPStatusRecord]) {
        guard try db.tableExists("ocsp_status") else { return (0, []) }
        let generation = try generation(db, issuer: issuer)
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT serial, status, revocation_time, reason, invalidity_time
                FROM ocsp_status WHERE issuer = ?
                """,
            arguments: [issuer]
        )
        var records: [OCSPStatusRecord] = []
        while let row = try rows.next() {
            guard let serial = row[0] as Data?, let status = row[1] as String? else {
                throw LedgerError.corruptRecord(
                    sequence: 0, reason: "an ocsp_status row of \"\(issuer)\" is not well-formed")
            }
            let isRevoked = status == "revoked"
            let revocationTime = row[2] as Int64?
            if isRevoked && revocationTime == nil {
                throw LedgerError.corruptRecord(
                    sequence: 0,
                    reason:
                        "the revoked ocsp_status row of serial \(Hex.encode([UInt8](serial))) has no revocation time"
                )
            }
            records.append(
                OCSPStatusRecord(
                    issuer: issuer,
                    serial: [UInt8](serial),
                    isRevoked: isRevoked,
                    revocationTime: revocationTime,
                    reason: (row[3] as Int64?).map { Int($0) },
                    invalidityTime: row[4] as Int64?
                )
            )
        }
        return (generation, records)
    }
}

extension Ledger {
    /// Inserts or replaces the statuses, all in one transaction, and bumps the generation of every issuer named.
    ///
    /// A revoked record must carry a revocation time. Safe while the daemon runs on the same file (WAL, busy
    /// timeout).
    public func setOCSPStatus(_ records: [OCSPStatusRecord]) throws {
        guard !records.isEmpty else { return }
        do {
            try self.pool.write { db in try OCSPStatusStore.upsert(db, records) }
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError.commitFailed(reason: "the OCSP statuses could not be stored (\(error))", cause: error)
        }
    }

    /// Unrevokes a serial: sets it good (creating the row when missing, so the serial counts as issued) and bumps the
    /// issuer's generation.
    ///
    /// - Returns: Whether the serial was revoked before.
    @discardableResult
    public func removeOCSPStatus(issuer: String, serial: [UInt8]) throws -> Bool {
        do {
            return try self.pool.write { db in
                let wasRevoked =
                    try String.fetchOne(
                        db,
                        sql: "SELECT status FROM ocsp_status WHERE issuer = ? AND serial = ?",
                        arguments: [issuer, Data(OCSPStatusStore.normalized(serial))]
                    ) == "revoked"
                try OCSPStatusStore.upsert(db, [.good(issuer: issuer, serial: serial)])
                return wasRevoked
            }
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError.commitFailed(reason: "the OCSP status could not be stored (\(error))", cause: error)
        }
    }

    /// Every status stored for `issuer`, with the generation they were read at (one snapshot).
    public func ocspStatus(issuer: String) throws -> (generation: Int64, records: [OCSPStatusRecord]) {
        try LedgerStore.read(self.pool, "read the OCSP statuses") { try OCSPStatusStore.status($0, issuer: issuer) }
    }

    /// The generation of `issuer`'s statuses: 0 before the first change, then bumped by every change.
    public func ocspStatusGeneration(issuer: String) throws -> Int64 {
        try LedgerStore.read(self.pool, "read the OCSP status generation") {
            try OCSPStatusStore.generation($0, issuer: issuer)
        }
    }
}

extension LedgerReader {
    /// Every status stored for `issuer`, with the generation they were read at (empty for a ledger older than
    /// migration `v3-ocsp-status`).
    public func ocspStatus(issuer: String) throws -> (generation: Int64, records: [OCSPStatusRecord]) {
        try LedgerStore.read(self.dbPool, "read the OCSP statuses") { try OCSPStatusStore.status($0, issuer: issuer) }
    }

    /// The generation of `issuer`'s statuses (0 when none was ever written).
    public func ocspStatusGeneration(issuer: String) throws -> Int64 {
        try LedgerStore.read(self.dbPool, "read the OCSP status generation") {
            try OCSPStatusStore.generation($0, issuer: issuer)
        }
    }
}
