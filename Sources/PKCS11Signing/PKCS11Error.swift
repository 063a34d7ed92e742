/// An error thrown by the `PKCS11Signing` module.
///
/// Each error carries a stable ``code`` for programs and tests, a reason for people that says what
/// to fix (naming the module, token or key concerned), the PKCS#11 return value when a module call
/// failed (``returnValue``, with its name in ``returnValueName``), an optional underlying ``cause``
/// and the source location that threw it.
///
/// `PKCS11Error` is `Equatable` and `Hashable`, but only ``code`` takes part, so tests can compare a
/// thrown error's code directly.
public struct PKCS11Error: Error, Hashable, CustomStringConvertible {
    private let backing: Backing

    /// The kind of error.
    public var code: ErrorCode {
        self.backing.code
    }

    /// What went wrong and what to change, for people (without the source location).
    public var reason: String {
        self.backing.reason
    }

    /// The `CK_RV` a module function returned, when the error comes from one.
    public var returnValue: UInt? {
        self.backing.returnValue
    }

    /// The name of ``returnValue`` (`CKR_PIN_INCORRECT`), or its hexadecimal value when unknown.
    public var returnValueName: String? {
        self.backing.returnValue.map(PKCS11ReturnValue.name(of:))
    }

    /// The PKCS#11 function that failed (`C_Login`), when the error comes from one.
    public var function: String? {
        self.backing.function
    }

    /// The error that led to this one, if any.
    public var cause: (any Error)? {
        self.backing.cause
    }

    public var description: String {
        var text = "PKCS11Error.\(self.code): \(self.backing.reason)"
        if let function = self.backing.function, let name = self.returnValueName {
            text += " [\(function): \(name)]"
        }
        if let cause = self.backing.cause {
            text += " (cause: \(cause))"
        }
        return text + " [\(self.backing.file):\(self.backing.line)]"
    }

    init(
        code: ErrorCode,
        reason: String,
        returnValue: UInt? = nil,
        function: String? = nil,
        cause: (any Error)? = nil,
        file: String = #fileID,
        line: UInt = #line
    ) {
        self.backing = Backing(
            code: code,
            reason: reason,
            returnValue: returnValue,
            function: function,
            cause: cause,
            file: file,
            line: line
        )
    }

    public static func == (lhs: PKCS11Error, rhs: PKCS11Error) -> Bool {
        lhs.code == rhs.code
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.code)
    }

    /// Whether the error means the token, its session or its login went away: the signer then marks
    /// itself unavailable and reconnects in the background.
    package var isTokenLoss: Bool {
        if self.code == .tokenUnavailable { return true }
        guard let returnValue = self.backing.returnValue else { return false }
        return PKCS11ReturnValue.meansTokenLoss(returnValue)
    }

    /// This error with another code and reason, keeping the return value, function and location.
    func with(
        code: ErrorCode,
        reason: String,
        file: String = #fileID,
        line: UInt = #line
    ) -> PKCS11Error {
        PKCS11Error(
            code: code,
            reason: reason,
            returnValue: self.returnValue,
            function: self.function,
            cause: self.cause,
            file: file,
            line: line
        )
    }
}

extension PKCS11Error {
    /// The kind of a ``PKCS11Error``.
    ///
    /// The set is open: later versions add codes without breaking callers.
    public struct ErrorCode: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum BackingCode: Hashable, Sendable {
            case moduleUnavailable
            case invalidConfiguration
            case tokenNotFound
            case keyNotFound
            case certificateNotFound
            case ambiguousObject
            case unsupportedKey
            case mechanismUnavailable
            case pinRejected
            case tokenUnavailable
            case sessionPoolExhausted
            case keyChanged
            case operationFailed
            case shutDown
        }

        fileprivate var backingCode: BackingCode

        fileprivate init(_ backingCode: BackingCode) {
            self.backingCode = backingCode
        }

        /// The module cannot be used: it does not load (`dlopen`), has no `C_GetFunctionList`, is
        /// already initialised in this process, cannot use OS locking, or failed `C_Initialize`.
        public static let moduleUnavailable = ErrorCode(.moduleUnavailable)

        /// A setting is out of range or malformed (a pool size of 0, an odd-length hex key id).
        public static let invalidConfiguration = ErrorCode(.invalidConfiguration)

        /// No token with the configured label or serial number is present.
        public static let tokenNotFound = ErrorCode(.tokenNotFound)

        /// No private key with the configured label or `CKA_ID` is on the token.
        public static let keyNotFound = ErrorCode(.keyNotFound)

        /// No certificate with the key's `CKA_ID` is on the token.
        public static let certificateNotFound = ErrorCode(.certificateNotFound)

        /// Several tokens, keys or certificates match where one must.
        public static let ambiguousObject = ErrorCode(.ambiguousObject)

        /// The key's type, curve or size is not one Sigillum signs with, or it may not sign.
        public static let unsupportedKey = ErrorCode(.unsupportedKey)

        /// The token lacks every mechanism that could make the configured signature.
        public static let mechanismUnavailable = ErrorCode(.mechanismUnavailable)

        /// The token refused the PIN (`CKR_PIN_INCORRECT`, `CKR_PIN_LOCKED`, `CKR_PIN_EXPIRED`, …).
        /// Sigillum never retries a rejected PIN.
        public static let pinRejected = ErrorCode(.pinRejected)

        /// The token, its session or its login went away; the signer reconnects in the background.
        public static let tokenUnavailable = ErrorCode(.tokenUnavailable)

        /// Every session of the pool stayed busy for longer than the configured wait.
        public static let sessionPoolExhausted = ErrorCode(.sessionPoolExhausted)

        /// After a reconnection the key found is not the key of the certificate any more.
        public static let keyChanged = ErrorCode(.keyChanged)

        /// A PKCS#11 function failed with a return value that has no more specific code.
        public static let operationFailed = ErrorCode(.operationFailed)

        /// The signer or module has been closed.
        public static let shutDown = ErrorCode(.shutDown)

        public var description: String {
            String(describing: self.backingCode)
        }
    }
}

extension PKCS11Error {
    private final class Backing: Sendable {
        let code: ErrorCode
        let reason: String
        let returnValue: UInt?
        let function: String?
        let cause: (any Error)?
        let file: String
        let line: UInt

        init(
            code: ErrorCode,
            reason: String,
            returnValue: UInt?,
            function: String?,
            cause: (any Error)?,
            file: String,
            line: UInt
        ) {
            self.code = code
            self.reason = reason
            self.returnValue = returnValue
            self.function = function
            self.cause = cause
            self.file = file
            self.line = line
        }
    }
}
