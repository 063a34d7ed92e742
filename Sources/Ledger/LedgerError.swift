/// An error thrown by the ``Ledger`` module.
///
/// Each error carries a stable ``code`` for programs, a ``reason`` that says what went wrong
/// in plain words, a ``remedy`` that says what an operator can do about it, an optional
/// underlying ``cause`` (for example the SQLite error) and the source location that raised it.
///
/// Equality and hashing consider only the ``code``, so tests and callers can match an error
/// by its code alone.
public struct LedgerError: Error, Hashable, CustomStringConvertible {
    private let backing: Backing

    /// The kind of error.
    public var code: ErrorCode { self.backing.code }

    /// What went wrong, in plain words.
    public var reason: String { self.backing.reason }

    /// What an operator can do about it.
    public var remedy: String { self.backing.remedy }

    /// The underlying error, when another library (SQLite, the file system) reported it.
    public var cause: (any Error)? { self.backing.cause }

    public var description: String {
        var text = "LedgerError.\(self.code): \(self.reason)"
        if !self.remedy.isEmpty {
            text += " Remedy: \(self.remedy)"
        }
        if let cause = self.cause {
            text += " (cause: \(cause))"
        }
        text += " [\(self.backing.file):\(self.backing.line)]"
        return text
    }

    private init(
        code: ErrorCode,
        reason: String,
        remedy: String,
        cause: (any Error)?,
        file: String,
        line: UInt
    ) {
        self.backing = Backing(code: code, reason: reason, remedy: remedy, cause: cause, file: file, line: line)
    }

    public static func == (lhs: LedgerError, rhs: LedgerError) -> Bool {
        lhs.code == rhs.code
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.code)
    }
}

// MARK: - Factories

extension LedgerError {
    /// The ledger database could not be opened, created or migrated.
    @inline(never)
    static func openFailed(
        path: String,
        reason: String,
        remedy: String =
            "Check that the path is correct, that its directory is writable by this user and that the disk is not full.",
        cause: (any Error)? = nil,
        file: String = #fileID,
        line: UInt = #line
    ) -> LedgerError {
        LedgerError(
            code: .openFailed,
            reason: "cannot open the ledger at \(path): \(reason)",
            remedy: remedy,
            cause: cause,
            file: file,
            line: line
        )
    }

    /// A read-only open found no file at the path.
    @inline(never)
    static func databaseNotFound(
        path: String,
        file: String = #fileID,
        line: UInt = #line
    ) -> LedgerError {
        LedgerError(
            code: .databaseNotFound,
            reason: "there is no ledger at \(path)",
            remedy:
                "Pass the path of an existing ledger (by default STATE/ledger.sqlite); a read-only open never creates one.",
            cause: nil,
            file: file,
            line: line
        )
    }

    /// The file is not a Sigillum ledger, or was written by a newer version of Sigillum.
    @inline(never)
    static func incompatibleDatabase(
        path: String,
        reason: String,
        file: String = #fileID,
        line: UInt = #line
    ) -> LedgerError {
        LedgerError(
            code: .incompatibleDatabase,
            reason: "the file at \(path) cannot be used as a ledger: \(reason)",
            remedy: "Check the path; a ledger written by a newer Sigillum needs that version (or newer) to open it.",
            cause: nil,
            file: file,
            line: line
        )
    }

    /// A write transaction failed; nothing of it was committed.
    @inline(never)
    static func commitFailed(
        reason: String,
        cause: (any Error)?,
        file: String = #fileID,
        line: UInt = #line
    ) -> LedgerError {
        LedgerError(
            code: .commitFailed,
            reason: reason,
            remedy: "Check disk space, file permissions and the system log; the ledger retries with the next record.",
            cause: cause,
            file: file,
            line: line
        )
    }

    /// The ledger is shutting down or has stopped and accepts no more records.
    @inline(never)
    static func shutDown(
        reason: String,
        file: String = #fileID,
        line: UInt = #line
    ) -> LedgerError {
        LedgerError(
            code: .shutDown,
            reason: reason,
            remedy: "Records are accepted only while the ledger service runs; restart the service.",
            cause: nil,
            file: file,
            line: line
        )
    }

    /// `run()` was called while the ledger was already running.
    @inline(never)
    static func alreadyRunning(
        file: String = #fileID,
        line: UInt = #line
    ) -> LedgerError {
        LedgerError(
            code: .alreadyRunning,
            reason: "the ledger's group-commit loop is already running",
            remedy: "Run each Ledger once, in one ServiceGroup.",
            cause: nil,
            file: file,
            line: line
        )
    }

    /// The 32-bit epoch counter is used up.
    @inline(never)
    static func epochExhausted(
        file: String = #fileID,
        line: UInt = #line
    ) -> LedgerError {
        LedgerError(
            code: .epochExhausted,
            reason: "the ledger's epoch counter reached 4294967295 and cannot grow",
            remedy: "Configure a new instance id (or a new ledger) so that token serials stay unique.",
            cause: nil,
            file: file,
            line: line
        )
    }

    /// A caller passed an argument the ledger cannot use.
    @inline(never)
    static func invalidArgument(
        reason: String,
        file: String = #fileID,
        line: UInt = #line
    ) -> LedgerError {
        LedgerError(
            code: .invalidArgument,
            reason: reason,
            remedy: "",
            cause: nil,
            file: file,
            line: line
        )
    }

    /// Reading the ledger failed.
    @inline(never)
    static func readFailed(
        reason: String,
        cause: (any Error)?,
        file: String = #fileID,
        line: UInt = #line
    ) -> LedgerError {
        LedgerError(
            code: .readFailed,
            reason: reason,
            remedy: "Check that the file is readable and not damaged (`sigillum ledger verify`).",
            cause: cause,
            file: file,
            line: line
        )
    }

    /// A stored row has values of the wrong type or size.
    @inline(never)
    static func corruptRecord(
        sequence: Int64,
        reason: String,
        file: String = #fileID,
        line: UInt = #line
    ) -> LedgerError {
        LedgerError(
            code: .corruptRecord,
            reason: "record \(sequence) is damaged: \(reason)",
            remedy: "Run `sigillum ledger verify` and restore the ledger from a backup.",
            cause: nil,
            file: file,
            line: line
        )
    }
}

// MARK: - Codes

extension LedgerError {
    /// The kind of a ``LedgerError``.
    ///
    /// New codes may be added in later versions; switch over them with a `default` branch.
    public struct ErrorCode: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum BackingCode: Hashable, Sendable {
            case openFailed
            case databaseNotFound
            case incompatibleDatabase
            case commitFailed
            case shutDown
            case alreadyRunning
            case epochExhausted
            case invalidArgument
            case readFailed
            case corruptRecord
        }

        fileprivate var backingCode: BackingCode

        fileprivate init(_ backingCode: BackingCode) {
            self.backingCode = backingCode
        }

        /// The ledger database could not be opened, created or migrated.
        public static let openFailed = ErrorCode(.openFailed)

        /// A read-only open found no file at the path.
        public static let databaseNotFound = ErrorCode(.databaseNotFound)

        /// The file is not a Sigillum ledger or was written by a newer version.
        public static let incompatibleDatabase = ErrorCode(.incompatibleDatabase)

        /// A write transaction failed; none of its records were committed.
        public static let commitFailed = ErrorCode(.commitFailed)

        /// The ledger is shutting down or has stopped; the record was not committed.
        public static let shutDown = ErrorCode(.shutDown)

        /// The group-commit loop is already running.
        public static let alreadyRunning = ErrorCode(.alreadyRunning)

        /// The epoch counter is used up.
        public static let epochExhausted = ErrorCode(.epochExhausted)

        /// An argument was not usable (for example a serial that is not hexadecimal).
        public static let invalidArgument = ErrorCode(.invalidArgument)

        /// Reading the ledger failed.
        public static let readFailed = ErrorCode(.readFailed)

        /// A stored row has values of the wrong type or size.
        public static let corruptRecord = ErrorCode(.corruptRecord)

        public var description: String {
            String(describing: self.backingCode)
        }
    }
}

// MARK: - Backing

extension LedgerError {
    private final class Backing: Sendable {
        let code: ErrorCode
        let reason: String
        let remedy: String
        let cause: (any Error)?
        let file: String
        let line: UInt

        init(code: ErrorCode, reason: String, remedy: String, cause: (any Error)?, file: String, line: UInt) {
            self.code = code
            self.reason = reason
            self.remedy = remedy
            self.cause = cause
            self.file = file
            self.line = line
        }
    }
}
