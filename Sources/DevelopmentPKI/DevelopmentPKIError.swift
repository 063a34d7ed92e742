/// An error thrown by the `DevelopmentPKI` module.
///
/// Each error carries a stable ``code`` for programs and tests, a reason for people that says
/// what to fix (naming the file or directory concerned), an optional underlying ``cause``, and
/// the source location that threw it. Use `String(describing:)` to format it for a log or a
/// terminal.
///
/// `DevelopmentPKIError` is `Equatable` and `Hashable`, but only ``code`` takes part, so tests can compare
/// a thrown error's code directly.
public struct DevelopmentPKIError: Error, Hashable, CustomStringConvertible {
    private let backing: Backing

    /// The kind of error.
    public var code: ErrorCode {
        self.backing.code
    }

    /// What went wrong and what to change, for people (without the source location).
    public var reason: String {
        self.backing.reason
    }

    /// The error that led to this one, if any (a file-system error, a `SignerError`, a swift-certificates error).
    public var cause: (any Error)? {
        self.backing.cause
    }

    public var description: String {
        var text = "DevelopmentPKIError.\(self.code): \(self.backing.reason)"
        if let cause = self.backing.cause {
            text += " (cause: \(cause))"
        }
        return text + " [\(self.backing.file):\(self.backing.line)]"
    }

    private init(
        code: ErrorCode,
        reason: String,
        cause: (any Error)?,
        file: String,
        line: UInt
    ) {
        self.backing = Backing(code: code, reason: reason, cause: cause, file: file, line: line)
    }

    public static func == (lhs: DevelopmentPKIError, rhs: DevelopmentPKIError) -> Bool {
        lhs.code == rhs.code
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.code)
    }
}

extension DevelopmentPKIError {
    /// A directory of the state folder could not be created or its mode set.
    @inline(never)
    static func cannotCreateDirectory(
        reason: String,
        cause: (any Error)? = nil,
        file: String = #fileID,
        line: UInt = #line
    ) -> DevelopmentPKIError {
        DevelopmentPKIError(code: .cannotCreateDirectory, reason: reason, cause: cause, file: file, line: line)
    }

    /// A key, certificate or index file could not be written.
    @inline(never)
    static func cannotWriteFile(
        reason: String,
        cause: (any Error)? = nil,
        file: String = #fileID,
        line: UInt = #line
    ) -> DevelopmentPKIError {
        DevelopmentPKIError(code: .cannotWriteFile, reason: reason, cause: cause, file: file, line: line)
    }

    /// A certificate or key of the development PKI could not be read.
    @inline(never)
    static func cannotReadFile(
        reason: String,
        cause: (any Error)? = nil,
        file: String = #fileID,
        line: UInt = #line
    ) -> DevelopmentPKIError {
        DevelopmentPKIError(code: .cannotReadFile, reason: reason, cause: cause, file: file, line: line)
    }

    /// The development PKI in the state folder is missing files.
    @inline(never)
    static func incompleteSet(
        reason: String,
        cause: (any Error)? = nil,
        file: String = #fileID,
        line: UInt = #line
    ) -> DevelopmentPKIError {
        DevelopmentPKIError(code: .incompleteSet, reason: reason, cause: cause, file: file, line: line)
    }

    /// A key or certificate could not be generated.
    @inline(never)
    static func generationFailed(
        reason: String,
        cause: (any Error)? = nil,
        file: String = #fileID,
        line: UInt = #line
    ) -> DevelopmentPKIError {
        DevelopmentPKIError(code: .generationFailed, reason: reason, cause: cause, file: file, line: line)
    }
}

extension DevelopmentPKIError {
    /// The kind of a ``DevelopmentPKIError``.
    public struct ErrorCode: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum BackingCode: Hashable, Sendable {
            case cannotCreateDirectory
            case cannotWriteFile
            case cannotReadFile
            case incompleteSet
            case generationFailed
        }

        fileprivate var backingCode: BackingCode

        fileprivate init(_ backingCode: BackingCode) {
            self.backingCode = backingCode
        }

        /// A directory of the state folder could not be created or its mode set.
        public static let cannotCreateDirectory = ErrorCode(.cannotCreateDirectory)

        /// A key, certificate or index file could not be written.
        public static let cannotWriteFile = ErrorCode(.cannotWriteFile)

        /// A certificate or key of the development PKI could not be read.
        public static let cannotReadFile = ErrorCode(.cannotReadFile)

        /// The development PKI in the state folder is missing files.
        public static let incompleteSet = ErrorCode(.incompleteSet)

        /// A key or certificate could not be generated.
        public static let generationFailed = ErrorCode(.generationFailed)

        public var description: String {
            String(describing: self.backingCode)
        }
    }
}

extension DevelopmentPKIError {
    private final class Backing: Sendable {
        let code: ErrorCode
        let reason: String
        let cause: (any Error)?
        let file: String
        let line: UInt

        init(code: ErrorCode, reason: String, cause: (any Error)?, file: String, line: UInt) {
            self.code = code
            self.reason = reason
            self.cause = cause
            self.file = file
            self.line = line
        }
    }
}
