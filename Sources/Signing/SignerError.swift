/// An error thrown by the `Signing` module.
///
/// Each error carries a stable ``code`` for programs and tests, a reason for people that says
/// what to fix (naming the file or certificate concerned), an optional underlying ``cause``, and
/// the source location that threw it. Use `String(describing:)` to format it for a log or a
/// terminal.
///
/// `SignerError` is `Equatable` and `Hashable`, but only ``code`` takes part, so tests can compare
/// a thrown error's code directly.
public struct SignerError: Error, Hashable, CustomStringConvertible {
    private let backing: Backing

    /// The kind of error.
    public var code: ErrorCode {
        self.backing.code
    }

    /// What went wrong and what to change, for people (without the source location).
    public var reason: String {
        self.backing.reason
    }

    /// The error that led to this one, if any (a file-system, swift-crypto or swift-asn1 error).
    public var cause: (any Error)? {
        self.backing.cause
    }

    public var description: String {
        var text = "SignerError.\(self.code): \(self.backing.reason)"
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

    public static func == (lhs: SignerError, rhs: SignerError) -> Bool {
        lhs.code == rhs.code
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.code)
    }
}

extension SignerError {
    /// A key or certificate file could not be read.
    @inline(never)
    static func unreadableFile(
        reason: String,
        cause: (any Error)? = nil,
        file: String = #fileID,
        line: UInt = #line
    ) -> SignerError {
        SignerError(code: .unreadableFile, reason: reason, cause: cause, file: file, line: line)
    }

    /// The input holds no private key in a format this module reads.
    @inline(never)
    static func notAKey(
        reason: String,
        cause: (any Error)? = nil,
        file: String = #fileID,
        line: UInt = #line
    ) -> SignerError {
        SignerError(code: .notAKey, reason: reason, cause: cause, file: file, line: line)
    }

    /// The input is a private key structure, but its content is damaged or inconsistent.
    @inline(never)
    static func invalidKey(
        reason: String,
        cause: (any Error)? = nil,
        file: String = #fileID,
        line: UInt = #line
    ) -> SignerError {
        SignerError(code: .invalidKey, reason: reason, cause: cause, file: file, line: line)
    }

    /// The key uses an algorithm, curve or size that Sigillum does not sign with.
    @inline(never)
    static func unsupportedAlgorithm(
        reason: String,
        cause: (any Error)? = nil,
        file: String = #fileID,
        line: UInt = #line
    ) -> SignerError {
        SignerError(code: .unsupportedAlgorithm, reason: reason, cause: cause, file: file, line: line)
    }

    /// The key is encrypted (encrypted PKCS#8 or a legacy encrypted PEM).
    @inline(never)
    static func encryptedKey(
        reason: String,
        cause: (any Error)? = nil,
        file: String = #fileID,
        line: UInt = #line
    ) -> SignerError {
        SignerError(code: .encryptedKey, reason: reason, cause: cause, file: file, line: line)
    }

    /// The input holds no X.509 certificate, or a certificate that does not parse.
    @inline(never)
    static func notACertificate(
        reason: String,
        cause: (any Error)? = nil,
        file: String = #fileID,
        line: UInt = #line
    ) -> SignerError {
        SignerError(code: .notACertificate, reason: reason, cause: cause, file: file, line: line)
    }

    /// The signer's key does not belong to its certificate.
    @inline(never)
    static func keyCertificateMismatch(
        reason: String,
        cause: (any Error)? = nil,
        file: String = #fileID,
        line: UInt = #line
    ) -> SignerError {
        SignerError(code: .keyCertificateMismatch, reason: reason, cause: cause, file: file, line: line)
    }

    /// A secret (a PIN, a passphrase) named by a ``SecretSource`` is missing or empty.
    @inline(never)
    static func secretUnavailable(
        reason: String,
        cause: (any Error)? = nil,
        file: String = #fileID,
        line: UInt = #line
    ) -> SignerError {
        SignerError(code: .secretUnavailable, reason: reason, cause: cause, file: file, line: line)
    }

    /// The signing operation itself failed.
    @inline(never)
    static func signingFailed(
        reason: String,
        cause: (any Error)? = nil,
        file: String = #fileID,
        line: UInt = #line
    ) -> SignerError {
        SignerError(code: .signingFailed, reason: reason, cause: cause, file: file, line: line)
    }
}

extension SignerError {
    /// The kind of a ``SignerError``.
    ///
    /// The set is open: later signer backends add codes without breaking callers.
    public struct ErrorCode: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum BackingCode: Hashable, Sendable {
            case unreadableFile
            case notAKey
            case invalidKey
            case unsupportedAlgorithm
            case encryptedKey
            case notACertificate
            case keyCertificateMismatch
            case signingFailed
            case secretUnavailable
        }

        fileprivate var backingCode: BackingCode

        fileprivate init(_ backingCode: BackingCode) {
            self.backingCode = backingCode
        }

        /// A key or certificate file could not be read (missing, unreadable, a directory).
        public static let unreadableFile = ErrorCode(.unreadableFile)

        /// The input holds no private key in a supported format (PKCS#8, SEC1, PKCS#1; PEM or DER).
        public static let notAKey = ErrorCode(.notAKey)

        /// The input is a private key structure, but its content is damaged or inconsistent.
        public static let invalidKey = ErrorCode(.invalidKey)

        /// The key's algorithm, curve or size is not supported.
        public static let unsupportedAlgorithm = ErrorCode(.unsupportedAlgorithm)

        /// The key is encrypted; encrypted keys are not read yet.
        public static let encryptedKey = ErrorCode(.encryptedKey)

        /// The input holds no X.509 certificate, or a certificate that does not parse.
        public static let notACertificate = ErrorCode(.notACertificate)

        /// The signer's key does not belong to its certificate.
        public static let keyCertificateMismatch = ErrorCode(.keyCertificateMismatch)

        /// The signing operation failed.
        public static let signingFailed = ErrorCode(.signingFailed)

        /// A secret (a PIN, a passphrase) named by a ``SecretSource`` is missing, unreadable or empty.
        public static let secretUnavailable = ErrorCode(.secretUnavailable)

        public var description: String {
            String(describing: self.backingCode)
        }
    }
}

extension SignerError {
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
