import GRDB
import GRDBSQLite

/// The prepared `INSERT INTO tsa_audit` of one batch, bound through SQLite's C API.
///
/// GRDB's statement arguments box every value (`DatabaseValue`, `Data` for each blob) before binding; on the ledger's
/// hot path that cost more CPU than SQLite's own insert. This type binds the record's arrays and strings straight from
/// their storage (`SQLITE_TRANSIENT`: SQLite copies them) and is the only place in the module that calls SQLite
/// directly. It runs inside the caller's GRDB transaction, on its connection, and finalizes the statement when done.
struct AuditInsertStatement: ~Copyable {
    private let connection: OpaquePointer
    private let statement: OpaquePointer
    private let sql: String

    /// SQLite's "copy the value before returning" destructor.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    init(_ db: Database, sql: String) throws {
        guard let connection = db.sqliteConnection else {
            throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "the connection is closed", sql: sql)
        }
        var statement: OpaquePointer?
        let code = sqlite3_prepare_v2(connection, sql, -1, &statement, nil)
        guard code == SQLITE_OK, let statement else {
            sqlite3_finalize(statement)
            throw DatabaseError(
                resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(connection)), sql: sql)
        }
        self.connection = connection
        self.statement = statement
        self.sql = sql
    }

    deinit {
        sqlite3_finalize(self.statement)
    }

    /// One value per `?`, in order.
    enum Value {
        case integer(Int64)
        case optionalInteger(Int64?)
        case text(String)
        case optionalText(String?)
        /// A blob; an empty array binds a zero-length blob, not NULL.
        case blob([UInt8])
        case optionalBlob([UInt8]?)
    }

    /// Binds `values` to the parameters 1… and runs the insert.
    func insert(_ values: [Value]) throws {
        sqlite3_reset(self.statement)
        sqlite3_clear_bindings(self.statement)
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32
            switch value {
            case .integer(let number), .optionalInteger(.some(let number)):
                code = sqlite3_bind_int64(self.statement, index, number)
            case .text(let text), .optionalText(.some(let text)):
                code = sqlite3_bind_text(self.statement, index, text, -1, Self.transient)
            case .blob(let bytes), .optionalBlob(.some(let bytes)):
                code = bytes.withUnsafeBytes { raw in
                    // A non-null pointer with length 0 is a zero-length blob.
                    sqlite3_bind_blob(
                        self.statement, index, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(raw.count),
                        Self.transient)
                }
            case .optionalInteger(.none), .optionalText(.none), .optionalBlob(.none):
                code = sqlite3_bind_null(self.statement, index)
            }
            guard code == SQLITE_OK else { throw self.error(code) }
        }
        let code = sqlite3_step(self.statement)
        sqlite3_reset(self.statement)
        guard code == SQLITE_DONE else { throw self.error(code) }
    }

    private func error(_ code: Int32) -> DatabaseError {
        DatabaseError(
            resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(self.connection)),
            sql: self.sql)
    }
}
