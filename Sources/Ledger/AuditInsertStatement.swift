import GRDB
import GRDBSQLite

/// The `INSERT INTO tsa_audit` of the ledger's writer, bound through SQLite's C API.
///
/// GRDB's statement arguments box every value (`DatabaseValue`, `Data` for each blob) before binding; on the ledger's
/// hot path that cost more CPU than SQLite's own insert. This type binds a record's values from one buffer that the
/// writer reuses for every record (``Parameters``), without copies: SQLite reads the bytes in place
/// (`SQLITE_STATIC`) while the statement runs, and the bindings are cleared before the buffer changes again. The
/// statement is GRDB's cached one for the connection, so it is compiled once, not once per batch, and GRDB finalizes
/// it when the connection closes. This is the only place in the module that calls SQLite directly; it runs inside
/// the caller's GRDB transaction, on its connection.
struct AuditInsertStatement {
    private let connection: OpaquePointer
    private let statement: OpaquePointer
    private let sql: String

    init(_ db: Database, sql: String) throws {
        guard let connection = db.sqliteConnection else {
            throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "the connection is closed", sql: sql)
        }
        self.connection = connection
        self.statement = try db.cachedStatement(sql: sql).sqliteStatement
        self.sql = sql
    }

    /// One record's values, in the order of the statement's `?`, kept in one buffer that outlives the records.
    ///
    /// ``removeAll()`` keeps the capacity, so that binding a record allocates nothing once the buffer has grown to
    /// the largest record.
    struct Parameters {
        fileprivate enum Slot {
            case integer(Int64)
            case text(start: Int, count: Int)
            case blob(start: Int, count: Int)
            case null
        }

        fileprivate private(set) var bytes: [UInt8] = []
        fileprivate private(set) var slots: [Slot] = []

        init() {
            self.bytes.reserveCapacity(1024)
            self.slots.reserveCapacity(24)
        }

        mutating func removeAll() {
            self.bytes.removeAll(keepingCapacity: true)
            self.slots.removeAll(keepingCapacity: true)
        }

        mutating func integer(_ value: Int64?) {
            self.slots.append(value.map { .integer($0) } ?? .null)
        }

        mutating func text(_ value: String?) {
            guard let value else { return self.slots.append(.null) }
            let start = self.bytes.count
            self.bytes.append(contentsOf: value.utf8)
            self.slots.append(.text(start: start, count: self.bytes.count - start))
        }

        /// A blob; an empty array binds a zero-length blob, not NULL.
        mutating func blob(_ value: [UInt8]?) {
            guard let value else { return self.slots.append(.null) }
            let start = self.bytes.count
            self.bytes.append(contentsOf: value)
            self.slots.append(.blob(start: start, count: value.count))
        }
    }

    /// SQLite's "the bytes stay valid and unchanged until the binding is replaced" destructor.
    private static let unchanging: sqlite3_destructor_type? = nil
    /// Where an empty text or blob points: SQLite reads no byte of it, but a null pointer would bind NULL.
    private static let nothing: StaticString = ""

    /// Binds `parameters` to `?1…` and runs the insert.
    func insert(_ parameters: Parameters) throws {
        sqlite3_reset(self.statement)
        // The bindings point into `parameters`: they are cleared before it can change or go away.
        defer {
            sqlite3_reset(self.statement)
            sqlite3_clear_bindings(self.statement)
        }
        let code = parameters.bytes.withUnsafeBytes { raw -> Int32 in
            for (offset, slot) in parameters.slots.enumerated() {
                let index = Int32(offset + 1)
                let code: Int32
                switch slot {
                case .integer(let number):
                    code = sqlite3_bind_int64(self.statement, index, number)
                case .text(let start, let count):
                    code = sqlite3_bind_text(
                        self.statement, index, Self.address(raw, start, count).assumingMemoryBound(to: CChar.self),
                        Int32(count), Self.unchanging)
                case .blob(let start, let count):
                    code = sqlite3_bind_blob(
                        self.statement, index, Self.address(raw, start, count), Int32(count), Self.unchanging)
                case .null:
                    code = sqlite3_bind_null(self.statement, index)
                }
                guard code == SQLITE_OK else { return code }
            }
            return sqlite3_step(self.statement)
        }
        guard code == SQLITE_DONE else { throw self.error(code) }
    }

    private static func address(_ raw: UnsafeRawBufferPointer, _ start: Int, _ count: Int) -> UnsafeRawPointer {
        guard count > 0, let base = raw.baseAddress else { return UnsafeRawPointer(Self.nothing.utf8Start) }
        return base + start
    }

    private func error(_ code: Int32) -> DatabaseError {
        DatabaseError(
            resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(self.connection)),
            sql: self.sql)
    }
}
