/// The PC/SC return values Sigillum names and reacts to (pcsclite.h; the values are those of
/// Microsoft's WinSCard, which PC/SC Lite copies).
///
/// `LONG` is 64 bits wide on Linux, but every value fits 32 bits; they are kept as `UInt32`.
enum PCSCReturnValue {
    static let success: UInt32 = 0x0000_0000
    static let cancelled: UInt32 = 0x8010_0002
    static let invalidHandle: UInt32 = 0x8010_0003
    static let insufficientBuffer: UInt32 = 0x8010_0008
    static let unknownReader: UInt32 = 0x8010_0009
    static let timeout: UInt32 = 0x8010_000A
    static let sharingViolation: UInt32 = 0x8010_000B
    static let noSmartCard: UInt32 = 0x8010_000C
    static let notTransacted: UInt32 = 0x8010_0016
    static let readerUnavailable: UInt32 = 0x8010_0017
    static let noService: UInt32 = 0x8010_001D
    static let serviceStopped: UInt32 = 0x8010_001E
    static let noReadersAvailable: UInt32 = 0x8010_002E
    static let commDataLost: UInt32 = 0x8010_002F
    static let unresponsiveCard: UInt32 = 0x8010_0066
    static let unpoweredCard: UInt32 = 0x8010_0067
    static let resetCard: UInt32 = 0x8010_0068
    static let removedCard: UInt32 = 0x8010_0069

    private static let names: [UInt32: String] = [
        0x0000_0000: "SCARD_S_SUCCESS",
        0x8010_0001: "SCARD_F_INTERNAL_ERROR",
        0x8010_0002: "SCARD_E_CANCELLED",
        0x8010_0003: "SCARD_E_INVALID_HANDLE",
        0x8010_0004: "SCARD_E_INVALID_PARAMETER",
        0x8010_0005: "SCARD_E_INVALID_TARGET",
        0x8010_0006: "SCARD_E_NO_MEMORY",
        0x8010_0008: "SCARD_E_INSUFFICIENT_BUFFER",
        0x8010_0009: "SCARD_E_UNKNOWN_READER",
        0x8010_000A: "SCARD_E_TIMEOUT",
        0x8010_000B: "SCARD_E_SHARING_VIOLATION",
        0x8010_000C: "SCARD_E_NO_SMARTCARD",
        0x8010_000D: "SCARD_E_UNKNOWN_CARD",
        0x8010_000F: "SCARD_E_PROTO_MISMATCH",
        0x8010_0010: "SCARD_E_NOT_READY",
        0x8010_0011: "SCARD_E_INVALID_VALUE",
        0x8010_0012: "SCARD_E_SYSTEM_CANCELLED",
        0x8010_0013: "SCARD_F_COMM_ERROR",
        0x8010_0014: "SCARD_F_UNKNOWN_ERROR",
        0x8010_0016: "SCARD_E_NOT_TRANSACTED",
        0x8010_0017: "SCARD_E_READER_UNAVAILABLE",
        0x8010_001C: "SCARD_E_CARD_UNSUPPORTED",
        0x8010_001D: "SCARD_E_NO_SERVICE",
        0x8010_001E: "SCARD_E_SERVICE_STOPPED",
        0x8010_001F: "SCARD_E_UNSUPPORTED_FEATURE",
        0x8010_002E: "SCARD_E_NO_READERS_AVAILABLE",
        0x8010_002F: "SCARD_E_COMM_DATA_LOST",
        0x8010_0031: "SCARD_E_SERVER_TOO_BUSY",
        0x8010_0065: "SCARD_W_UNSUPPORTED_CARD",
        0x8010_0066: "SCARD_W_UNRESPONSIVE_CARD",
        0x8010_0067: "SCARD_W_UNPOWERED_CARD",
        0x8010_0068: "SCARD_W_RESET_CARD",
        0x8010_0069: "SCARD_W_REMOVED_CARD",
    ]

    /// `SCARD_W_REMOVED_CARD`, or `0x…` for a value without a name here.
    static func name(of value: UInt32) -> String {
        if let name = self.names[value] { return name }
        let digits = String(value, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }

    /// Whether `value` means the card (or its reader) is gone or was reset under the connection: the
    /// connection must be made again.
    ///
    /// `SCARD_E_NOT_TRANSACTED` is what pcscd answers when the reader driver could not reach the card
    /// during `SCardTransmit` (vpcd with its card emulator gone, a USB reader unplugged mid-command).
    static func meansCardLoss(_ value: UInt32) -> Bool {
        switch value {
        case removedCard, resetCard, unpoweredCard, unresponsiveCard, noSmartCard, readerUnavailable,
            unknownReader, notTransacted, commDataLost, invalidHandle:
            true
        default:
            false
        }
    }

    /// Whether `value` means the PC/SC service is gone or restarted, so the context is dead and a new
    /// one must be established (an old context keeps answering `SCARD_E_NO_SERVICE` after a restart).
    static func meansServiceLoss(_ value: UInt32) -> Bool {
        value == noService || value == serviceStopped || value == noReadersAvailable
    }
}
