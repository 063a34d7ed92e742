/// An error thrown by the `SmartCardSigning` module.
///
/// Each error carries a stable ``code`` for programs and tests, a reason for people that says what
/// to fix (naming the reader, card, key reference or status word concerned), the PC/SC return value
/// when a PC/SC call failed (``returnValue``, with its name in ``returnValueName``, and the
/// ``function``), the card's ISO 7816-4 status word when the card refused a command
/// (``statusWord``), the PIN tries left when the card said so (``retriesLeft``), an optional
/// underlying ``cause`` and the source location that threw it.
///
/// `SmartCardError` is `Equatable` and `Hashable`, but only ``code`` takes part, so tests can compare
/// a thrown error's code directly.
public struct SmartCardError: Error, Hashable, CustomStringConvertible {
    private let backing: Backing

    /// The kind of error.
    public var code: ErrorCode {
        self.backing.code
    }

    /// What went wrong and what to change, for people (without the source location).
    public var reason: String {
        self.backing.reason
    }

    /// The PC/SC return value (`SCARD_W_REMOVED_CARD` is `0x80100069`), when a PC/SC call failed.
    public var returnValue: UInt32? {
        self.backing.returnValue
    }

    /// The name of ``returnValue`` (`SCARD_W_REMOVED_CARD`), or its hexadecimal value when unknown.
    public var returnValueName: String? {
        self.backing.returnValue.map(PCSCReturnValue.name(of:))
    }

    /// The PC/SC function that failed (`SCardTransmit`), when the error comes from one.
    public var function: String? {
        self.backing.function
    }

    /// The status word (`SW1 SW2`, such as `0x6982`) with which the card refused a command.
    public var statusWord: UInt16? {
        self.backing.statusWord
    }

    /// The PIN tries the card has left, when it said (a rejected VERIFY answers `63CX`).
    public var retriesLeft: Int? {
        self.backing.retriesLeft
    }

    /// The error that led to this one, if any.
    public var cause: (any Error)? {
        self.backing.cause
    }

    public var description: String {
        var text = "SmartCardError.\(self.code): \(self.backing.reason)"
        if let function = self.backing.function, let name = self.returnValueName {
            text += " [\(function): \(name)]"
        }
        if let statusWord = self.backing.statusWord {
            text += " [SW \(hexString(statusWord))]"
        }
        if let cause = self.backing.cause {
            text += " (cause: \(cause))"
        }
        return text + " [\(self.backing.file):\(self.backing.line)]"
    }

    init(
        code: ErrorCode,
        reason: String,
        returnValue: UInt32? = nil,
        function: String? = nil,
        statusWord: UInt16? = nil,
        retriesLeft: Int? = nil,
        cause: (any Error)? = nil,
        file: String = #fileID,
        line: UInt = #line
    ) {
        self.backing = Backing(
            code: code,
            reason: reason,
            returnValue: returnValue,
            function: function,
            statusWord: statusWord,
            retriesLeft: retriesLeft,
            cause: cause,
            file: file,
            line: line
        )
    }

    public static func == (lhs: SmartCardError, rhs: SmartCardError) -> Bool {
        lhs.code == rhs.code
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.code)
    }

    /// Whether the error means the card, its reader or the PC/SC service went away (removed, reset,
    /// powered down, pcscd restarted): the signer then marks that card unavailable and reconnects in
    /// the background.
    package var isCardLoss: Bool {
        if self.code == .cardUnavailable || self.code == .serviceUnavailable { return true }
        guard let returnValue = self.backing.returnValue else { return false }
        return PCSCReturnValue.meansCardLoss(returnValue) || PCSCReturnValue.meansServiceLoss(returnValue)
    }

    /// This error with another code and reason, keeping the PC/SC and card details and the location.
    func with(code: ErrorCode, reason: String) -> SmartCardError {
        SmartCardError(
            code: code,
            reason: reason,
            returnValue: self.returnValue,
            function: self.function,
            statusWord: self.statusWord,
            retriesLeft: self.retriesLeft,
            cause: self.cause,
            file: self.backing.file,
            line: self.backing.line
        )
    }
}

extension SmartCardError {
    /// The kind of a ``SmartCardError``.
    ///
    /// The set is open: later versions add codes without breaking callers.
    public struct ErrorCode: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum BackingCode: Hashable, Sendable {
            case invalidConfiguration
            case serviceUnavailable
            case readerNotFound
            case cardNotFound
            case notPIV
            case certificateNotFound
            case unsupportedKey
            case pinRejected
            case pinBlocked
            case cardUnavailable
            case cardBusy
            case commandFailed
            case malformedResponse
            case keyChanged
            case shutDown
        }

        fileprivate var backingCode: BackingCode

        fileprivate init(_ backingCode: BackingCode) {
            self.backingCode = backingCode
        }

        /// A setting is out of range or contradicts another (no readers, a pool of 0, a PIN policy that
        /// needs a PIN without a PIN source, a PIN of fewer than 6 or more than 8 characters).
        public static let invalidConfiguration = ErrorCode(.invalidConfiguration)

        /// The PC/SC service (pcscd) is not running or stopped (`SCARD_E_NO_SERVICE`).
        public static let serviceUnavailable = ErrorCode(.serviceUnavailable)

        /// No reader matches the configured name (or no reader is attached at all).
        public static let readerNotFound = ErrorCode(.readerNotFound)

        /// The reader holds no card, or no reader holds a card with the PIV application.
        public static let cardNotFound = ErrorCode(.cardNotFound)

        /// The card does not answer SELECT of the PIV application (NIST SP 800-73-4 AID).
        public static let notPIV = ErrorCode(.notPIV)

        /// The slot's certificate data object is empty or not on the card.
        public static let certificateNotFound = ErrorCode(.certificateNotFound)

        /// The key's algorithm (from its certificate) is not one Sigillum signs with on a PIV card:
        /// ECC P-256, ECC P-384, RSA-2048.
        public static let unsupportedKey = ErrorCode(.unsupportedKey)

        /// The card rejected the PIN (`63CX`); ``SmartCardError/retriesLeft`` says how many tries are
        /// left. Sigillum never retries a rejected PIN.
        public static let pinRejected = ErrorCode(.pinRejected)

        /// The PIN is blocked (`6983`, or no tries left): unblock it with the PUK.
        public static let pinBlocked = ErrorCode(.pinBlocked)

        /// The card or its reader went away, was reset, or pcscd restarted; the signer reconnects in the
        /// background.
        public static let cardUnavailable = ErrorCode(.cardUnavailable)

        /// No card came free within the configured wait, or too many signatures were waiting already.
        public static let cardBusy = ErrorCode(.cardBusy)

        /// The card refused a command with a status word that has no more specific code, or a PC/SC
        /// call failed with a return value that has none.
        public static let commandFailed = ErrorCode(.commandFailed)

        /// The card answered with data that does not follow SP 800-73-4 (a broken TLV, a missing tag).
        public static let malformedResponse = ErrorCode(.malformedResponse)

        /// After a reconnection the card's key is not the certificate's key any more.
        public static let keyChanged = ErrorCode(.keyChanged)

        /// The signer has been closed.
        public static let shutDown = ErrorCode(.shutDown)

        public var description: String {
            String(describing: self.backingCode)
        }
    }
}

extension SmartCardError {
    private final class Backing: Sendable {
        let code: ErrorCode
        let reason: String
        let returnValue: UInt32?
        let function: String?
        let statusWord: UInt16?
        let retriesLeft: Int?
        let cause: (any Error)?
        let file: String
        let line: UInt

        init(
            code: ErrorCode,
            reason: String,
            returnValue: UInt32?,
            function: String?,
            statusWord: UInt16?,
            retriesLeft: Int?,
            cause: (any Error)?,
            file: String,
            line: UInt
        ) {
            self.code = code
            self.reason = reason
            self.returnValue = returnValue
            self.function = function
            self.statusWord = statusWord
            self.retriesLeft = retriesLeft
            self.cause = cause
            self.file = file
            self.line = line
        }
    }
}

/// `0x6982` style: four upper-case hex digits.
func hexString(_ value: UInt16) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return "0x" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
}

/// `A0 00 00 03 08` style.
func hexString(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { byte in
        let digits = String(byte, radix: 16, uppercase: true)
        return digits.count == 1 ? "0" + digits : digits
    }.joined(separator: " ")
}
