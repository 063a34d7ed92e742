public import X509

/// What one reader holds, as ``SmartCardInventory/list()`` finds it.
public struct SmartCardReaderSummary: Sendable {
    /// The reader's PC/SC name.
    public var reader: String

    /// The card's answer to reset, or `nil` when the reader is empty.
    public var atr: [UInt8]?

    /// Whether the card answered SELECT of the PIV application.
    public var hasPIV: Bool

    /// The PIN's state from VERIFY without data: tries left (`63CX`), `0` when blocked, `nil` when the
    /// card did not say (or the PIN is verified in this session).
    public var pinRetriesLeft: Int?

    /// The four key slots, when the card has PIV.
    public var slots: [PIVSlotSummary]

    /// What went wrong while reading the card, if anything.
    public var problem: String?
}

/// One PIV key slot and its certificate.
public struct PIVSlotSummary: Sendable {
    public var key: PIVKeyReference

    /// The slot's certificate, or `nil` when the data object is absent or empty.
    public var certificate: Certificate?

    /// The key's algorithm, from the certificate (PIV has no standard way to ask the card), or `nil`
    /// when there is no certificate or Sigillum does not sign with its key type.
    public var algorithm: PIVAlgorithm?

    /// What went wrong reading the certificate object, if anything.
    public var problem: String?
}

/// Lists readers, cards, PIV slots and PIN retries through PC/SC: the `sigillum keys list --pcsc`
/// report. Reading never presents the PIN and never changes the card.
public enum SmartCardInventory {
    /// The reader names pcscd knows, in its order.
    ///
    /// Blocks its caller (a call to pcscd).
    ///
    /// - Throws: ``SmartCardError`` with code ``SmartCardError/ErrorCode/serviceUnavailable`` when pcscd
    ///   does not run.
    public static func readers() throws(SmartCardError) -> [String] {
        let context = try PCSCContext()
        defer { context.release() }
        return try context.readers()
    }

    /// Every reader with its card, PIV slots and PIN state.
    ///
    /// Blocks its caller (calls to pcscd and the cards).
    ///
    /// - Parameter readCards: Whether to connect to the cards and read PIV (default); `false` reports only
    ///   which readers hold a card, and their ATRs, without sending the cards anything.
    /// - Throws: ``SmartCardError`` when pcscd does not run; a card that cannot be read is reported in
    ///   its summary's ``SmartCardReaderSummary/problem`` instead.
    public static func list(readCards: Bool = true) throws(SmartCardError) -> [SmartCardReaderSummary] {
        let context = try PCSCContext()
        defer { context.release() }
        let readers = try context.readers()
        guard !readers.isEmpty else { return [] }
        let states =
            try context.waitForChange(readers: readers, known: readers.map { _ in .unaware }, timeout: .zero)
            ?? readers.map { _ in .unaware }
        return zip(readers, states).map { reader, state in
            var summary = SmartCardReaderSummary(reader: reader, atr: nil, hasPIV: false, slots: [])
            guard state.cardPresent else { return summary }
            summary.atr = state.atr
            guard readCards else { return summary }
            do throws(SmartCardError) {
                let card = try context.connect(reader: reader)
                defer { card.disconnect() }
                try card.beginTransaction()
                defer { try? card.endTransaction() }
                let session = PIVCardSession(transport: card)
                do throws(SmartCardError) {
                    try session.select()
                } catch  where error.code == .notPIV {
                    return summary
                }
                summary.hasPIV = true
                switch try? session.pinStatus() {
                case .retriesLeft(let left): summary.pinRetriesLeft = left
                case .blocked: summary.pinRetriesLeft = 0
                case .verified, nil: break
                }
                summary.slots = PIVKeyReference.all.map { key in
                    var slot = PIVSlotSummary(key: key)
                    do throws(SmartCardError) {
                        if let certificate = try session.certificate(for: key) {
                            slot.certificate = certificate
                            slot.algorithm = PIVAlgorithm(publicKey: certificate.publicKey)
                        }
                    } catch  where error.code == .certificateNotFound {
                        // An empty object: no certificate.
                    } catch {
                        slot.problem = error.reason
                    }
                    return slot
                }
            } catch {
                summary.problem = error.reason
            }
            return summary
        }
    }
}

extension PIVSlotSummary {
    init(key: PIVKeyReference) {
        self.key = key
        self.certificate = nil
        self.algorithm = nil
        self.problem = nil
    }
}

extension SmartCardReaderSummary {
    init(reader: String, atr: [UInt8]?, hasPIV: Bool, slots: [PIVSlotSummary]) {
        self.reader = reader
        self.atr = atr
        self.hasPIV = hasPIV
        self.pinRetriesLeft = nil
        self.slots = slots
        self.problem = nil
    }
}
