import CPCSCLite
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A PC/SC resource-manager context (`SCardEstablishContext`): the one Swift type that calls PC/SC
/// Lite, so no C pointer leaves this file and its sibling ``PCSCCard``.
///
/// Every call blocks its thread (the resource manager is another process, pcscd); the signer makes
/// them on its own threads. PC/SC Lite serialises the calls of one context with a lock held for a
/// call's whole duration, `SCardGetStatusChange` included, so a card that signs and a watch that waits
/// for a card use different contexts. After pcscd restarts a context answers `SCARD_E_NO_SERVICE` for
/// good: drop it and establish a new one.
final class PCSCContext: Sendable {
    private let handle: SCARDCONTEXT
    private let released = Mutex(false)

    /// Establishes a context of the user scope.
    ///
    /// - Throws: ``SmartCardError`` with code ``SmartCardError/ErrorCode/serviceUnavailable`` when
    ///   pcscd does not run.
    init() throws(SmartCardError) {
        var context: SCARDCONTEXT = 0
        let value = SCardEstablishContext(DWORD(SCARD_SCOPE_USER), nil, nil, &context)
        try Self.check(value, "SCardEstablishContext", doing: "connecting to the PC/SC service")
        self.handle = context
    }

    deinit {
        self.release()
    }

    /// `SCardReleaseContext`; later calls fail. Calling it again does nothing.
    func release() {
        let first = self.released.withLock { released in
            defer { released = true }
            return !released
        }
        if first {
            _ = SCardReleaseContext(self.handle)
        }
    }

    /// `SCardListReaders`: the reader names, in pcscd's order; empty when no reader is attached.
    func readers() throws(SmartCardError) -> [String] {
        // The list may grow between the two calls (a reader plugged in): ask again then.
        for _ in 0..<4 {
            var length: DWORD = 0
            var value = SCardListReaders(self.handle, nil, nil, &length)
            if UInt32(truncatingIfNeeded: value) == PCSCReturnValue.noReadersAvailable { return [] }
            try Self.check(value, "SCardListReaders", doing: "listing the readers")
            var buffer = [CChar](repeating: 0, count: Int(length))
            value = buffer.withUnsafeMutableBufferPointer {
                SCardListReaders(self.handle, nil, $0.baseAddress, &length)
            }
            if UInt32(truncatingIfNeeded: value) == PCSCReturnValue.insufficientBuffer { continue }
            if UInt32(truncatingIfNeeded: value) == PCSCReturnValue.noReadersAvailable { return [] }
            try Self.check(value, "SCardListReaders", doing: "listing the readers")
            return Self.multiString(buffer.prefix(Int(length)))
        }
        throw SmartCardError(
            code: .commandFailed,
            reason: "the list of PC/SC readers kept changing while being read",
            returnValue: PCSCReturnValue.insufficientBuffer,
            function: "SCardListReaders"
        )
    }

    /// `SCardGetStatusChange`: waits up to `timeout` until a reader's state differs from `known`.
    ///
    /// - Parameters:
    ///   - readers: Reader names.
    ///   - known: The states the caller knows, one per reader (``PCSCReaderState/unaware`` to learn
    ///     them at once).
    ///   - timeout: The longest wait; keep it short (a second) so a closing signer is not held up.
    /// - Returns: The readers' current states, or `nil` when nothing changed within `timeout`.
    func waitForChange(
        readers: [String],
        known: [PCSCReaderState],
        timeout: Duration
    ) throws(SmartCardError) -> [PCSCReaderState]? {
        precondition(readers.count == known.count, "one known state per reader")
        let names = readers.map { strdup($0) }
        defer {
            for name in names {
                free(name)
            }
        }
        var states = zip(names, known).map { name, state in
            var entry = SCARD_READERSTATE()
            entry.szReader = UnsafePointer(name)
            entry.dwCurrentState = DWORD(state.flags)
            return entry
        }
        let milliseconds = max(
            0, timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let value = states.withUnsafeMutableBufferPointer { buffer in
            SCardGetStatusChange(self.handle, DWORD(milliseconds), buffer.baseAddress, DWORD(buffer.count))
        }
        if UInt32(truncatingIfNeeded: value) == PCSCReturnValue.timeout { return nil }
        try Self.check(value, "SCardGetStatusChange", doing: "watching the readers \(readers)")
        return states.map { entry in
            let atr = withUnsafeBytes(of: entry.rgbAtr) { Array($0.prefix(Int(entry.cbAtr))) }
            return PCSCReaderState(flags: UInt32(truncatingIfNeeded: entry.dwEventState), atr: atr)
        }
    }

    /// `SCardConnect` in shared mode, T=0 or T=1: other programs (OpenSC tools) may use the card too,
    /// between our transactions.
    ///
    /// - Throws: ``SmartCardError``; `SCARD_E_NO_SMARTCARD` and the like count as card loss.
    func connect(reader: String) throws(SmartCardError) -> PCSCCard {
        var card: SCARDHANDLE = 0
        var activeProtocol: DWORD = 0
        let value = SCardConnect(
            self.handle,
            reader,
            DWORD(SCARD_SHARE_SHARED),
            DWORD(SCARD_PROTOCOL_T0) | DWORD(SCARD_PROTOCOL_T1),
            &card,
            &activeProtocol
        )
        try Self.check(value, "SCardConnect", doing: "connecting to the card in \"\(reader)\"")
        return PCSCCard(handle: card, activeProtocol: activeProtocol, reader: reader)
    }

    /// The funnel every PC/SC call's return value passes: success passes, anything else becomes a
    /// ``SmartCardError`` that names the function, the return value and what was being done.
    static func check(_ value: LONG, _ function: String, doing context: String) throws(SmartCardError) {
        let code = UInt32(truncatingIfNeeded: value)
        guard code != PCSCReturnValue.success else { return }
        let name = PCSCReturnValue.name(of: code)
        if PCSCReturnValue.meansServiceLoss(code), code != PCSCReturnValue.noReadersAvailable {
            throw SmartCardError(
                code: .serviceUnavailable,
                reason: """
                    the PC/SC service is not running (\(function) answered \(name) while \(context)); start \
                    pcscd (systemctl start pcscd.socket) and check that Sigillum may reach /run/pcscd/pcscd.comm
                    """,
                returnValue: code,
                function: function
            )
        }
        if code == PCSCReturnValue.noReadersAvailable {
            throw SmartCardError(
                code: .readerNotFound,
                reason: "no smart-card reader is attached (\(function) answered \(name) while \(context))",
                returnValue: code,
                function: function
            )
        }
        if PCSCReturnValue.meansCardLoss(code) {
            throw SmartCardError(
                code: .cardUnavailable,
                reason: "the card went away or was reset (\(function) answered \(name) while \(context))",
                returnValue: code,
                function: function
            )
        }
        throw SmartCardError(
            code: .commandFailed,
            reason: "\(function) failed with \(name) while \(context)",
            returnValue: code,
            function: function
        )
    }

    /// Splits a PC/SC multi-string (names each ended by NUL, the list by a second NUL).
    private static func multiString(_ buffer: ArraySlice<CChar>) -> [String] {
        buffer.split(separator: 0, omittingEmptySubsequences: true).map { part in
            String(decoding: part.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }
}

/// A reader's state as `SCardGetStatusChange` reports it (`SCARD_STATE_*` flags and the ATR).
struct PCSCReaderState: Sendable, Hashable {
    /// The `dwEventState` flags; PC/SC Lite keeps an event counter in the upper 16 bits.
    var flags: UInt32
    /// The card's answer to reset, when a card is present.
    var atr: [UInt8] = []

    /// "I know nothing": `SCardGetStatusChange` answers at once with the current state.
    static let unaware = PCSCReaderState(flags: 0)

    /// A card is in the reader (`SCARD_STATE_PRESENT`).
    var cardPresent: Bool { self.flags & UInt32(SCARD_STATE_PRESENT) != 0 }

    /// The card does not answer (`SCARD_STATE_MUTE`).
    var cardMute: Bool { self.flags & UInt32(SCARD_STATE_MUTE) != 0 }

    /// The reader is gone or unusable (`SCARD_STATE_UNKNOWN`, `SCARD_STATE_UNAVAILABLE`).
    var readerUnavailable: Bool {
        self.flags & (UInt32(SCARD_STATE_UNKNOWN) | UInt32(SCARD_STATE_UNAVAILABLE)) != 0
    }

    /// The state to pass back as `dwCurrentState`: these flags without `SCARD_STATE_CHANGED`.
    var known: PCSCReaderState {
        PCSCReaderState(flags: self.flags & ~UInt32(SCARD_STATE_CHANGED), atr: self.atr)
    }
}

/// A connection to the card in one reader (`SCARDHANDLE`), made by ``PCSCContext/connect(reader:)``.
///
/// Calls block; the owning card link makes them on its own thread, one at a time.
final class PCSCCard: Sendable {
    private let handle: SCARDHANDLE
    private let activeProtocol: DWORD
    private let disconnected = Mutex(false)

    /// The reader the card is in.
    let reader: String

    fileprivate init(handle: SCARDHANDLE, activeProtocol: DWORD, reader: String) {
        self.handle = handle
        self.activeProtocol = activeProtocol
        self.reader = reader
    }

    deinit {
        self.disconnect()
    }

    /// `SCardDisconnect` leaving the card as it is (`SCARD_LEAVE_CARD`): no reset, so another
    /// program's state survives. Calling it again does nothing.
    func disconnect() {
        let first = self.disconnected.withLock { disconnected in
            defer { disconnected = true }
            return !disconnected
        }
        if first {
            _ = SCardDisconnect(self.handle, DWORD(SCARD_LEAVE_CARD))
        }
    }

    /// `SCardBeginTransaction`: no other connection may send to the card until ``endTransaction()``.
    func beginTransaction() throws(SmartCardError) {
        try PCSCContext.check(
            SCardBeginTransaction(self.handle),
            "SCardBeginTransaction",
            doing: "starting a transaction on the card in \"\(self.reader)\""
        )
    }

    /// `SCardEndTransaction` leaving the card as it is.
    func endTransaction() throws(SmartCardError) {
        try PCSCContext.check(
            SCardEndTransaction(self.handle, DWORD(SCARD_LEAVE_CARD)),
            "SCardEndTransaction",
            doing: "ending a transaction on the card in \"\(self.reader)\""
        )
    }

    /// `SCardStatus`: the card's ATR; throws when the card was removed or reset since the connection.
    func status() throws(SmartCardError) -> [UInt8] {
        var nameLength: DWORD = 0
        var state: DWORD = 0
        var cardProtocol: DWORD = 0
        var atr = [UInt8](repeating: 0, count: Int(MAX_ATR_SIZE))
        var atrLength = DWORD(atr.count)
        let value = atr.withUnsafeMutableBufferPointer { buffer in
            SCardStatus(self.handle, nil, &nameLength, &state, &cardProtocol, buffer.baseAddress, &atrLength)
        }
        try PCSCContext.check(value, "SCardStatus", doing: "checking the card in \"\(self.reader)\"")
        return Array(atr.prefix(Int(atrLength)))
    }

    /// `SCardTransmit`: sends one command APDU and returns the response APDU (data and status word).
    func transmit(_ command: [UInt8]) throws(SmartCardError) -> [UInt8] {
        var request = SCARD_IO_REQUEST(
            dwProtocol: self.activeProtocol,
            cbPciLength: DWORD(MemoryLayout<SCARD_IO_REQUEST>.size)
        )
        // A short APDU answers at most 256 data octets and the status word; extended ones up to 64 KiB.
        var response = [UInt8](repeating: 0, count: 65_538)
        var length = DWORD(response.count)
        let value = command.withUnsafeBufferPointer { send in
            response.withUnsafeMutableBufferPointer { receive in
                SCardTransmit(
                    self.handle,
                    &request,
                    send.baseAddress,
                    DWORD(send.count),
                    nil,
                    receive.baseAddress,
                    &length
                )
            }
        }
        try PCSCContext.check(value, "SCardTransmit", doing: "sending a command to the card in \"\(self.reader)\"")
        return Array(response.prefix(Int(length)))
    }
}
