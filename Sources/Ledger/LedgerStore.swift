import Foundation
import GRDB

/// The head of the audit chain: how many records were committed and the last record's hash.
struct ChainHead: Sendable, Equatable {
    var count: Int64
    var hash: [UInt8]

    static let empty = ChainHead(count: 0, hash: AuditChain.genesisHash)
}

/// A stored row, decoded without trusting its types (a tampered row must not crash the reader).
struct StoredAuditRow {
    var sequence: Int64
    var serialNumber: [UInt8]?
    /// The decoded record, or `nil` when a column has the wrong type or size.
    var record: StoredAuditRecord?
    /// Why `record` is `nil`.
    var problem: String?
}

/// The SQL of the SQLite ledger. Everything that knows table and column names lives here.
///
/// Tables (migration `v1-audit-log`):
///
/// ```sql
/// CREATE TABLE ledger_meta (            -- exactly one row, id = 1
///   id INTEGER PRIMARY KEY CHECK (id = 1),
///   instance_id INTEGER,                -- set on first open; NULL only inside the migration
///   epoch INTEGER NOT NULL DEFAULT 0,   -- last epoch handed out by beginEpoch()
///   audit_count INTEGER NOT NULL,       -- chain head: records committed (= last seq)
///   audit_head_hash BLOB NOT NULL,      -- chain head: last record_hash (32 zero bytes if none)
///   created_at TEXT NOT NULL);
/// CREATE TABLE tsa_audit (
///   seq INTEGER PRIMARY KEY,            -- 1, 2, 3… assigned by the writer
///   instance_id INTEGER NOT NULL, serial BLOB NOT NULL, gen_time TEXT NOT NULL,
///   policy TEXT NOT NULL, hash_alg TEXT NOT NULL, imprint BLOB NOT NULL, nonce BLOB,
///   client TEXT, token_sha256 BLOB NOT NULL, accuracy_us INTEGER, committed_at TEXT NOT NULL,
///   prev_hash BLOB NOT NULL, record_hash BLOB NOT NULL);
/// CREATE INDEX tsa_audit_serial ON tsa_audit(serial);
/// -- v4-clock-evidence:
/// ALTER TABLE tsa_audit ADD COLUMN gen_time_us INTEGER;     -- genTime, µs since 1970
/// ALTER TABLE tsa_audit ADD COLUMN clock_bound_us INTEGER;  -- the clock's error bound at issue
/// ALTER TABLE tsa_audit ADD COLUMN clock_gate TEXT;         -- 'open' or 'disabled'
/// CREATE INDEX tsa_audit_gen_time ON tsa_audit(gen_time_us);
/// ```
enum LedgerStore {
    // MARK: Schema

    /// The first migration's name; later migrations (OCSP tables…) are appended after it.
    static let firstMigration = "v1-audit-log"
    /// Pre-signed OCSP answers, kept so that a restart does not re-sign everything at once.
    static let presignedMigration = "v2-ocsp-presigned"
    /// Certificate statuses written by `sigillum ocsp revoke|unrevoke|import-*`, with a per-issuer generation.
    static let ocspStatusMigration = "v3-ocsp-status"
    /// The clock evidence of each token (EN 319 421) and genTime as a number, for ordering across restarts.
    static let clockEvidenceMigration = "v4-clock-evidence"

    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration(firstMigration) { db in
            try db.execute(
                sql: """
                    CREATE TABLE ledger_meta (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        instance_id INTEGER,
                        epoch INTEGER NOT NULL DEFAULT 0,
                        audit_count INTEGER NOT NULL,
                        audit_head_hash BLOB NOT NULL,
                        created_at TEXT NOT NULL
                    );
                    INSERT INTO ledger_meta (id, instance_id, epoch, audit_count, audit_head_hash, created_at)
                    VALUES (1, NULL, 0, 0, zeroblob(32), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
                    CREATE TABLE tsa_audit (
                        seq INTEGER PRIMARY KEY,
                        instance_id INTEGER NOT NULL,
                        serial BLOB NOT NULL,
                        gen_time TEXT NOT NULL,
                        policy TEXT NOT NULL,
                        hash_alg TEXT NOT NULL,
                        imprint BLOB NOT NULL,
                        nonce BLOB,
                        client TEXT,
                        token_sha256 BLOB NOT NULL,
                        accuracy_us INTEGER,
                        committed_at TEXT NOT NULL,
                        prev_hash BLOB NOT NULL,
                        record_hash BLOB NOT NULL
                    );
                    CREATE INDEX tsa_audit_serial ON tsa_audit(serial);
                    """
            )
        }
        migrator.registerMigration(presignedMigration) { db in
            try db.execute(
                sql: """
                    CREATE TABLE ocsp_presigned (
                        cert_id BLOB PRIMARY KEY,
                        issuer TEXT NOT NULL,
                        serial BLOB NOT NULL,
                        status TEXT NOT NULL,
                        response BLOB NOT NULL,
                        this_update INTEGER NOT NULL,
                        next_update INTEGER NOT NULL,
                        entity_tag TEXT NOT NULL
                    );
                    CREATE INDEX ocsp_presigned_issuer ON ocsp_presigned(issuer);
                    """
            )
        }
        migrator.registerMigration(ocspStatusMigration) { db in
            try db.execute(
                sql: """
                    CREATE TABLE ocsp_status (
                        issuer TEXT NOT NULL,
                        serial BLOB NOT NULL,
                        status TEXT NOT NULL CHECK (status IN ('good', 'revoked')),
                        revocation_time INTEGER,
                        reason INTEGER,
                        invalidity_time INTEGER,
                        updated_at TEXT NOT NULL,
                        PRIMARY KEY (issuer, serial)
                    );
                    CREATE TABLE ocsp_status_generation (
                        issuer TEXT PRIMARY KEY,
                        generation INTEGER NOT NULL
                    );
                    """
            )
        }
        migrator.registerMigration(clockEvidenceMigration) { db in
            // Older records get gen_time_us from their text (YYYYMMDDhhmmss[.f]Z), so that ordering holds across
            // the upgrade too; their clock columns stay NULL (and their chain hashes unchanged).
            try db.execute(
                sql: """
                    ALTER TABLE tsa_audit ADD COLUMN gen_time_us INTEGER;
                    ALTER TABLE tsa_audit ADD COLUMN clock_bound_us INTEGER;
                    ALTER TABLE tsa_audit ADD COLUMN clock_gate TEXT;
                    UPDATE tsa_audit SET gen_time_us =
                        CAST(strftime('%s', substr(gen_time, 1, 4) || '-' || substr(gen_time, 5, 2) || '-'
                            || substr(gen_time, 7, 2) || ' ' || substr(gen_time, 9, 2) || ':'
                            || substr(gen_time, 11, 2) || ':' || substr(gen_time, 13, 2)) AS INTEGER) * 1000000
                        + CASE WHEN substr(gen_time, 15, 1) = '.'
                            THEN CAST(substr(substr(gen_time, 16, length(gen_time) - 16) || '000000', 1, 6)
                                AS INTEGER)
                            ELSE 0 END;
                    CREATE INDEX tsa_audit_gen_time ON tsa_audit(gen_time_us);
                    """
            )
        }
        return migrator
    }()

    /// Fails when the file is not a ledger or was migrated by a newer version.
    static func checkCompatible(_ db: Database, path: String) throws {
        if try migrator.hasBeenSuperseded(db) {
            throw LedgerError.incompatibleDatabase(
                path: path,
                reason: "it was written by a newer version of Sigillum"
            )
        }
        guard try db.tableExists("ledger_meta"), try db.tableExists("tsa_audit") else {
            throw LedgerError.incompatibleDatabase(path: path, reason: "it has no ledger tables")
        }
    }

    // MARK: Meta

    /// Sets the instance id on open: the configured one, else the stored one, else a new random one.
    static func establishInstanceID(_ db: Database, configured: UInt32?) throws -> UInt32 {
        let stored = try DatabaseValue.fetchOne(db, sql: "SELECT instance_id FROM ledger_meta WHERE id = 1")
        guard let stored else {
            throw LedgerError.corruptRecord(sequence: 0, reason: "the ledger_meta row is missing")
        }
        let storedID: UInt32?
        switch stored.storage {
        case .null:
            storedID = nil
        case .int64(let value):
            guard let id = UInt32(exactly: value) else {
                throw LedgerError.corruptRecord(sequence: 0, reason: "the stored instance id \(value) is out of range")
            }
            storedID = id
        default:
            throw LedgerError.corruptRecord(sequence: 0, reason: "the stored instance id is not an integer")
        }
        let instanceID = configured ?? storedID ?? UInt32.random(in: 1...UInt32.max)
        if instanceID != storedID {
            try db.execute(
                sql: "UPDATE ledger_meta SET instance_id = ? WHERE id = 1",
                arguments: [Int64(instanceID)]
            )
        }
        return instanceID
    }

    /// Reads the chain head from `ledger_meta`.
    static func loadHead(_ db: Database) throws -> ChainHead {
        guard let row = try Row.fetchOne(db, sql: "SELECT audit_count, audit_head_hash FROM ledger_meta WHERE id = 1")
        else {
            throw LedgerError.corruptRecord(sequence: 0, reason: "the ledger_meta row is missing")
        }
        guard let count = integer(row[0]), count >= 0, let hash = blob(row[1]), hash.count == AuditChain.hashLength
        else {
            throw LedgerError.corruptRecord(sequence: 0, reason: "the ledger head in ledger_meta is not well-formed")
        }
        return ChainHead(count: count, hash: hash)
    }

    /// The last stored record's sequence and hash, for the consistency check at open.
    static func lastStoredRecord(_ db: Database) throws -> ChainHead {
        guard let row = try Row.fetchOne(db, sql: "SELECT seq, record_hash FROM tsa_audit ORDER BY seq DESC LIMIT 1")
        else {
            return .empty
        }
        return ChainHead(count: integer(row[0]) ?? -1, hash: blob(row[1]) ?? [])
    }

    /// Increments the epoch and returns it with the instance id.
    static func beginEpoch(_ db: Database) throws -> (instanceID: UInt32, epoch: UInt32) {
        guard let row = try Row.fetchOne(db, sql: "SELECT instance_id, epoch FROM ledger_meta WHERE id = 1"),
            let storedID = integer(row[0]), let instanceID = UInt32(exactly: storedID),
            let storedEpoch = integer(row[1]), let previous = UInt32(exactly: storedEpoch)
        else {
            throw LedgerError.corruptRecord(
                sequence: 0, reason: "the instance id or epoch in ledger_meta is not well-formed")
        }
        guard previous < UInt32.max else {
            throw LedgerError.epochExhausted()
        }
        let epoch = previous + 1
        try db.execute(sql: "UPDATE ledger_meta SET epoch = ? WHERE id = 1", arguments: [Int64(epoch)])
        return (instanceID, epoch)
    }

    // MARK: Append

    /// A write without records: prepares the insert (so the schema is checked) and rewrites the
    /// head row, to learn whether commits work again after a failure.
    static func probe(_ db: Database) throws {
        _ = try db.makeStatement(sql: insertSQL)
        try db.execute(sql: "UPDATE ledger_meta SET audit_count = audit_count WHERE id = 1")
    }

    private static let insertSQL = """
        INSERT INTO tsa_audit (seq, instance_id, serial, gen_time, policy, hash_alg, imprint, nonce, client,
                               token_sha256, accuracy_us, committed_at, prev_hash, record_hash, gen_time_us,
                               clock_bound_us, clock_gate)
        VALUES (?, ?, COALESCE(?, X''), ?, ?, ?, COALESCE(?, X''), CASE WHEN ? THEN COALESCE(?, X'') END, ?,
                ?, ?, ?, ?, ?, ?, ?, ?)
        """
    // GRDB binds an empty Data as NULL, hence COALESCE for blobs that may be empty, and a
    // presence flag for the nonce (an empty nonce and no nonce are different records).

    /// Writes one batch inside the caller's transaction and moves the head in `ledger_meta`.
    ///
    /// - Returns: One receipt per record, in order, and the new head.
    static func appendBatch(
        _ db: Database,
        records: [TimeStampAuditRecord],
        head: ChainHead,
        instanceID: UInt32,
        committedAt: String
    ) throws -> (receipts: [TimeStampAuditReceipt], head: ChainHead) {
        let statement = try AuditInsertStatement(db, sql: insertSQL)
        var receipts: [TimeStampAuditReceipt] = []
        receipts.reserveCapacity(records.count)
        var scratch: [UInt8] = []
        scratch.reserveCapacity(512)
        var parameters = AuditInsertStatement.Parameters()
        var sequence = head.count
        var previousHash = head.hash
        let instance = Int64(instanceID)
        for record in records {
            sequence += 1
            let hash = AuditChain.recordHash(
                previousHash: previousHash,
                sequence: sequence,
                instanceID: instanceID,
                record: record,
                committedAt: committedAt,
                scratch: &scratch
            )
            parameters.removeAll()
            parameters.integer(sequence)
            parameters.integer(instance)
            parameters.blob(record.serialNumber)
            parameters.text(record.genTime)
            parameters.text(record.policy)
            parameters.text(record.hashAlgorithm)
            parameters.blob(record.imprint)
            parameters.integer(record.nonce != nil ? 1 : 0)
            parameters.blob(record.nonce)
            parameters.text(record.clientAddress)
            parameters.blob(record.tokenSHA256)
            parameters.integer(record.accuracyMicros)
            parameters.text(committedAt)
            parameters.blob(previousHash)
            parameters.blob(hash)
            parameters.integer(record.genTimeMicros)
            parameters.integer(record.clockBoundMicros)
            parameters.text(record.clockGate)
            try statement.insert(parameters)
            receipts.append(TimeStampAuditReceipt(sequence: sequence, recordHash: hash))
            previousHash = hash
        }
        try db.cachedStatement(sql: "UPDATE ledger_meta SET audit_count = ?, audit_head_hash = ? WHERE id = 1")
            .execute(arguments: [sequence, Data(previousHash)])
        return (receipts, ChainHead(count: sequence, hash: previousHash))
    }

    // MARK: Reading

    /// Runs a read in one snapshot, turning database errors into ``LedgerError``.
    static func read<T>(
        _ reader: some DatabaseReader,
        _ action: String,
        _ body: (Database) throws -> T
    ) throws -> T {
        do {
            return try reader.read(body)
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError.readFailed(reason: "could not \(action)", cause: error)
        }
    }

    /// Parses a serial number given in hexadecimal.
    static func parseSerial(_ hex: String) throws -> [UInt8] {
        guard let serial = Hex.decode(hex) else {
            throw LedgerError.invalidArgument(reason: "\"\(hex)\" is not a hexadecimal serial number")
        }
        return serial
    }

    private static let recordColumns = """
        seq, instance_id, serial, gen_time, policy, hash_alg, imprint, nonce, client, token_sha256, accuracy_us,
        committed_at, prev_hash, record_hash, gen_time_us, clock_bound_us, clock_gate
        """

    /// The largest genTime (microseconds since 1970) of the records this instance wrote.
    static func lastGenTimeMicroseconds(_ db: Database, instanceID: UInt32) throws -> Int64? {
        try Int64.fetchOne(
            db, sql: "SELECT MAX(gen_time_us) FROM tsa_audit WHERE instance_id = ?", arguments: [Int64(instanceID)])
    }

    static func auditRecordCount(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM tsa_audit") ?? 0
    }

    /// Records whose serial has the given integer value (leading zero octets ignored).
    static func auditRecords(_ db: Database, serial: [UInt8]) throws -> [StoredAuditRecord] {
        let minimal = Array(serial.drop(while: { $0 == 0 }))
        let variants = [minimal.isEmpty ? [0] : minimal, [0] + minimal]
        let rows = try Row.fetchCursor(
            db,
            sql: "SELECT \(recordColumns) FROM tsa_audit WHERE serial IN (?, ?) ORDER BY seq",
            arguments: [Data(variants[0]), Data(variants[1])]
        )
        return try collect(rows)
    }

    /// Up to `limit` records with a sequence number above `sequence`, in order.
    static func auditRecords(_ db: Database, after sequence: Int64, limit: Int) throws -> [StoredAuditRecord] {
        let rows = try Row.fetchCursor(
            db,
            sql: "SELECT \(recordColumns) FROM tsa_audit WHERE seq > ? ORDER BY seq LIMIT ?",
            arguments: [sequence, max(0, limit)]
        )
        return try collect(rows)
    }

    static func verifyChain(_ db: Database) throws -> ChainVerificationReport {
        var verifier = ChainVerifier()
        let rows = try Row.fetchCursor(db, sql: "SELECT \(recordColumns) FROM tsa_audit ORDER BY seq")
        while let row = try rows.next() {
            if !verifier.check(decode(row)) {
                break
            }
        }
        var headCount: Int64?
        var headHash: [UInt8]?
        if let meta = try Row.fetchOne(db, sql: "SELECT audit_count, audit_head_hash FROM ledger_meta WHERE id = 1") {
            headCount = integer(meta[0])
            headHash = blob(meta[1]).flatMap { $0.count == AuditChain.hashLength ? $0 : nil }
        }
        return verifier.finish(headCount: headCount, headHash: headHash)
    }

    private static func collect(_ rows: RowCursor) throws -> [StoredAuditRecord] {
        var records: [StoredAuditRecord] = []
        while let row = try rows.next() {
            let decoded = decode(row)
            guard let record = decoded.record else {
                throw LedgerError.corruptRecord(
                    sequence: decoded.sequence,
                    reason: decoded.problem ?? "a stored field is not well-formed"
                )
            }
            records.append(record)
        }
        return records
    }

    /// Decodes a row selected with `recordColumns`, checking every type.
    static func decode(_ row: Row) -> StoredAuditRow {
        let sequence = integer(row[0]) ?? 0
        let serial = blob(row[2])
        var decoded = StoredAuditRow(sequence: sequence, serialNumber: serial, record: nil, problem: nil)
        func fail(_ column: String) -> StoredAuditRow {
            decoded.problem = "its \(column) column does not hold a value of the expected type"
            return decoded
        }
        guard integer(row[0]) != nil else { return fail("seq") }
        guard let instance = integer(row[1]), let instanceID = UInt32(exactly: instance) else {
            return fail("instance_id")
        }
        guard let serial else { return fail("serial") }
        guard let genTime = text(row[3]) else { return fail("gen_time") }
        guard let policy = text(row[4]) else { return fail("policy") }
        guard let hashAlgorithm = text(row[5]) else { return fail("hash_alg") }
        guard let imprint = blob(row[6]) else { return fail("imprint") }
        let nonceValue: DatabaseValue = row[7]
        let nonce = blob(nonceValue)
        guard nonce != nil || nonceValue.isNull else { return fail("nonce") }
        let clientValue: DatabaseValue = row[8]
        let client = text(clientValue)
        guard client != nil || clientValue.isNull else { return fail("client") }
        guard let tokenSHA256 = blob(row[9]) else { return fail("token_sha256") }
        let accuracyValue: DatabaseValue = row[10]
        let accuracy = integer(accuracyValue)
        guard accuracy != nil || accuracyValue.isNull else { return fail("accuracy_us") }
        guard let committedAt = text(row[11]) else { return fail("committed_at") }
        guard let previousHash = blob(row[12]), previousHash.count == AuditChain.hashLength else {
            return fail("prev_hash")
        }
        guard let recordHash = blob(row[13]) else { return fail("record_hash") }
        var optionalIntegers: [Int64?] = []
        for (index, column) in [(14, "gen_time_us"), (15, "clock_bound_us")] {
            let value: DatabaseValue = row[index]
            let number = integer(value)
            guard number != nil || value.isNull else { return fail(column) }
            optionalIntegers.append(number)
        }
        let gateValue: DatabaseValue = row[16]
        let clockGate = text(gateValue)
        guard clockGate != nil || gateValue.isNull else { return fail("clock_gate") }
        decoded.record = StoredAuditRecord(
            sequence: sequence,
            instanceID: instanceID,
            record: TimeStampAuditRecord(
                serialNumber: serial,
                genTime: genTime,
                policy: policy,
                hashAlgorithm: hashAlgorithm,
                imprint: imprint,
                nonce: nonce,
                clientAddress: client,
                tokenSHA256: tokenSHA256,
                accuracyMicros: accuracy,
                genTimeMicros: optionalIntegers[0],
                clockBoundMicros: optionalIntegers[1],
                clockGate: clockGate
            ),
            committedAt: committedAt,
            previousHash: previousHash,
            recordHash: recordHash
        )
        return decoded
    }

    private static func integer(_ value: DatabaseValue) -> Int64? {
        if case .int64(let integer) = value.storage { return integer }
        return nil
    }

    private static func text(_ value: DatabaseValue) -> String? {
        if case .string(let string) = value.storage { return string }
        return nil
    }

    private static func blob(_ value: DatabaseValue) -> [UInt8]? {
        if case .blob(let data) = value.storage { return [UInt8](data) }
        return nil
    }
}
