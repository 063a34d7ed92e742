import Foundation
import GRDB

/// One pre-signed OCSP answer as the ledger keeps it. The ledger knows no ASN.1: the CertID and the response are
/// bytes, the status a text the responder compares with its own.
public struct PresignedOCSPRecord: Sendable, Hashable {
    /// The CertID DER (the key).
    public var certID: [UInt8]
    /// The issuer's label (its subject), so that a removed issuer's answers can be dropped.
    public var issuer: String
    public var serial: [UInt8]
    /// The status the answer states, in the responder's own canonical text.
    public var status: String
    /// The OCSPResponse DER.
    public var response: [UInt8]
    public var thisUpdate: Int64
    public var nextUpdate: Int64
    public var entityTag: String

    public init(
        certID: [UInt8],
        issuer: String,
        serial: [UInt8],
        status: String,
        response: [UInt8],
        thisUpdate: Int64,
        nextUpdate: Int64,
        entityTag: String
    ) {
        self.certID = certID
        self.issuer = issuer
        self.serial = serial
        self.status = status
        self.response = response
        self.thisUpdate = thisUpdate
        self.nextUpdate = nextUpdate
        self.entityTag = entityTag
    }
}

extension Ledger {
    /// Stores (or replaces) pre-signed answers, all in one transaction.
    public func storePresignedOCSP(_ records: [PresignedOCSPRecord]) async throws {
        guard !records.isEmpty else { return }
        do {
            try await self.pool.write { db in
                let statement = try db.cachedStatement(
                    sql: """
                        INSERT OR REPLACE INTO ocsp_presigned
                            (cert_id, issuer, serial, status, response, this_update, next_update, entity_tag)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """
                )
                for record in records {
                    try statement.execute(arguments: [
                        Data(record.certID), record.issuer, Data(record.serial), record.status, Data(record.response),
                        record.thisUpdate, record.nextUpdate, record.entityTag,
                    ])
                }
            }
        } catch {
            throw LedgerError.commitFailed(
                reason: "the pre-signed OCSP answers could not be stored (\(error))",
                cause: error
            )
        }
    }

    /// The pre-signed answers of `issuer` that are still valid at `now` (seconds since 1970).
    public func presignedOCSP(issuer: String, validAt now: Int64) throws -> [PresignedOCSPRecord] {
        do {
            return try self.pool.read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT cert_id, issuer, serial, status, response, this_update, next_update, entity_tag
                        FROM ocsp_presigned WHERE issuer = ? AND next_update > ?
                        """,
                    arguments: [issuer, now]
                ).map { row in
                    PresignedOCSPRecord(
                        certID: [UInt8](row["cert_id"] as Data? ?? Data()),
                        issuer: row["issuer"],
                        serial: [UInt8](row["serial"] as Data? ?? Data()),
                        status: row["status"],
                        response: [UInt8](row["response"] as Data? ?? Data()),
                        thisUpdate: row["this_update"],
                        nextUpdate: row["next_update"],
                        entityTag: row["entity_tag"]
                    )
                }
            }
        } catch {
            throw LedgerError.readFailed(
                reason: "the pre-signed OCSP answers could not be read (\(error))", cause: error)
        }
    }

    /// Drops answers that expired before `now` (seconds since 1970); returns how many.
    @discardableResult
    public func purgeExpiredPresignedOCSP(before now: Int64) async throws -> Int {
        try await self.pool.write { db in
            try db.execute(sql: "DELETE FROM ocsp_presigned WHERE next_update <= ?", arguments: [now])
            return db.changesCount
        }
    }
}
