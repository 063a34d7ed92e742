import NIOPosix
import Signing
import Synchronization
import X509

/// One card of a ``SmartCardSigner``: the reader it is in, its own PC/SC context and connection, its
/// own thread, and whether it can sign now.
///
/// Every method named `…Blocking` calls PC/SC and must run on ``thread`` (one thread, so the card sees
/// one command sequence at a time); the signer never makes them on the Swift concurrency pool. The
/// state is behind a lock, since health is read from anywhere.
final class CardLink: Sendable {
    /// The card's place in the configuration, and in the ``CardQueue``.
    let index: Int
    let selector: SmartCardReaderSelector
    /// The card's own thread for blocking PC/SC calls.
    let thread: NIOThreadPool
    /// Wakes the card's maintenance loop: the card was lost, or the signer closes.
    let wakeup = Wakeup()
    private let state = Mutex(State())

    private struct State {
        /// This card's context; another card's or a watch's calls never wait behind its lock.
        var context: PCSCContext?
        var card: PCSCCard?
        /// The reader of the current (or last) connection.
        var reader: String?
        /// Whether the PIN was verified on this connection (for ``SmartCardPINPolicy/oncePerConnection``).
        var pinVerified = false
        /// The PIN tries left when last asked.
        var retriesLeft: Int?
        /// Why the card cannot sign, while it is lost and being reconnected.
        var lossReason: String?
        /// What the last reconnection attempt found, while lost.
        var lastAttempt: String?
        /// Set when the card rejected the PIN or it is blocked: no more attempts until restarted.
        var pinProblem: SmartCardError?
        var closed = false
    }

    init(index: Int, selector: SmartCardReaderSelector) {
        self.index = index
        self.selector = selector
        self.thread = NIOThreadPool(numberOfThreads: 1)
        self.thread.start()
    }

    /// What the maintenance loop should do for this card.
    enum Step {
        case stop
        /// The PIN was rejected: nothing to do until a restart.
        case halted
        case reconnect
        case check
    }

    var step: Step {
        self.state.withLock { state in
            if state.closed { return .stop }
            if state.pinProblem != nil { return .halted }
            if state.lossReason != nil || state.card == nil { return .reconnect }
            return .check
        }
    }

    /// `nil` when the card can sign; otherwise why not.
    var unavailableReason: String? {
        self.state.withLock { state in
            if state.closed { return "the smart-card signer has been closed" }
            if let problem = state.pinProblem {
                return "\(problem.reason); the card stays unused until the PIN source is fixed and the signer restarts"
            }
            if let loss = state.lossReason {
                return state.lastAttempt.map { "\(loss); last attempt: \($0)" } ?? loss
            }
            if state.card == nil { return "\(self.selector) is not connected yet" }
            return nil
        }
    }

    /// The reader of the live connection, if any.
    var connectedReader: String? {
        self.state.withLock { state in state.lossReason == nil && state.card != nil ? state.reader : nil }
    }

    /// The reader of the current or last connection.
    var lastReader: String? {
        self.state.withLock { $0.reader }
    }

    /// The PIN tries left when last asked.
    var retriesLeft: Int? {
        self.state.withLock { $0.retriesLeft }
    }

    /// Records the loss of the card (once per connection).
    ///
    /// - Returns: The reason to report, and whether this call recorded it (the first to notice).
    func markLost(_ error: SmartCardError) -> (reason: String, first: Bool) {
        self.state.withLock { state in
            let name = state.reader.map { "the card in \"\($0)\"" } ?? "\(self.selector)"
            let call =
                error.function.map { "\($0) answered \(error.returnValueName ?? "an error")" } ?? error.reason
            let reason = "\(name) is unavailable (\(call)); reconnecting in the background"
            guard !state.closed, state.lossReason == nil, state.pinProblem == nil else {
                return (state.lossReason ?? reason, false)
            }
            state.lossReason = reason
            state.lastAttempt = nil
            state.pinVerified = false
            return (reason, true)
        }
    }

    /// Records that the card rejected the PIN, or that it is blocked: the card is not used again.
    func markPINProblem(_ error: SmartCardError) {
        self.state.withLock { state in
            state.pinProblem = error
            state.retriesLeft = error.retriesLeft
        }
    }

    /// Updates the reason while reconnection attempts fail.
    func noteAttemptFailed(_ detail: String) {
        self.state.withLock { state in
            guard state.lossReason != nil, !state.closed else { return }
            state.lastAttempt = detail
        }
    }

    /// Marks the card closed; a watch in progress ends within its one-second slice.
    func markClosed() {
        self.state.withLock { $0.closed = true }
        self.wakeup.signal()
    }

    // MARK: - Blocking calls (on `thread`)

    /// What an attempt to connect the card found.
    enum Attempt: Sendable {
        case connected(reader: String)
        /// Not connected; `watched` tells whether the attempt already waited for a card to come
        /// (`SCardGetStatusChange`), so the loop need not sleep before the next one.
        case failed(SmartCardError, watched: Bool)
    }

    /// Connects: drops an old connection (and the context after a loss, since after a pcscd restart an
    /// old context stays dead), establishes a context, finds the reader, waits up to `watch` for a card
    /// when there is none, connects, SELECTs PIV, reads the PIN state and VERIFYs per the policy, and
    /// checks with a probe signature that the card's key is `publicKey`'s (when given).
    func connectBlocking(
        excluding taken: Set<String>,
        watch: Duration,
        key: PIVKeyReference,
        policy: SmartCardPINPolicy,
        pin: PINHolder,
        probe: (plan: PIVSigningPlan, publicKey: Certificate.PublicKey)?
    ) -> Attempt {
        let (oldCard, oldContext, closed) = self.state.withLock { state in
            defer {
                state.card = nil
                state.pinVerified = false
                if state.lossReason != nil {
                    state.context = nil
                }
            }
            return (state.card, state.lossReason != nil ? state.context : nil, state.closed)
        }
        oldCard?.disconnect()
        oldContext?.release()
        guard !closed else {
            return .failed(
                SmartCardError(code: .shutDown, reason: "the smart-card signer has been closed"), watched: true)
        }
        var watched = false
        do throws(SmartCardError) {
            let context = try self.context()
            var found = try self.findCard(in: context, excluding: taken)
            if found == nil, watch > .zero {
                watched = true
                try self.watchForCard(in: context, excluding: taken, upTo: watch)
                found = try self.findCard(in: context, excluding: taken)
            }
            guard let (card, session) = found else {
                throw self.noCardError(in: context, excluding: taken)
            }
            do throws(SmartCardError) {
                try self.prepare(card, session: session, key: key, policy: policy, pin: pin, probe: probe)
            } catch {
                card.disconnect()
                throw error
            }
            let installed = self.state.withLock { state -> Bool in
                guard !state.closed else { return false }
                state.card = card
                state.reader = card.reader
                state.lossReason = nil
                state.lastAttempt = nil
                return true
            }
            guard installed else {
                card.disconnect()
                throw SmartCardError(code: .shutDown, reason: "the smart-card signer has been closed")
            }
            return .connected(reader: card.reader)
        } catch {
            if error.code == .serviceUnavailable || (error.returnValue.map(PCSCReturnValue.meansServiceLoss) ?? false) {
                let context = self.state.withLock { state in
                    defer { state.context = nil }
                    return state.context
                }
                context?.release()
            }
            return .failed(error, watched: watched)
        }
    }

    /// This card's context, established when there is none.
    private func context() throws(SmartCardError) -> PCSCContext {
        if let context = self.state.withLock({ $0.context }) { return context }
        let context = try PCSCContext()
        let closed = self.state.withLock { state in
            state.context = context
            return state.closed
        }
        if closed {
            context.release()
            throw SmartCardError(code: .shutDown, reason: "the smart-card signer has been closed")
        }
        return context
    }

    /// The readers `selector` may mean, in order.
    private func candidates(in context: PCSCContext, excluding taken: Set<String>) throws(SmartCardError) -> [String] {
        let readers = try context.readers()
        switch self.selector {
        case .name(let name):
            return readers.filter { $0 == name }
        case .nameContaining(let text):
            return readers.filter { $0.contains(text) && !taken.contains($0) }.prefix(1).map { $0 }
        case .firstWithPIV:
            return readers.filter { !taken.contains($0) }
        }
    }

    /// Connects to the first candidate reader whose card answers SELECT of PIV.
    ///
    /// - Returns: `nil` when no candidate reader holds a card (for a named reader: when it is empty).
    /// - Throws: A named reader missing: ``SmartCardError/ErrorCode/readerNotFound``; its card not PIV:
    ///   ``SmartCardError/ErrorCode/notPIV``.
    private func findCard(
        in context: PCSCContext,
        excluding taken: Set<String>
    ) throws(SmartCardError) -> (PCSCCard, PIVCardSession)? {
        let readers = try self.candidates(in: context, excluding: taken)
        if readers.isEmpty, self.selector != .firstWithPIV {
            let all = (try? context.readers()) ?? []
            throw SmartCardError(
                code: .readerNotFound,
                reason: """
                    no reader matches \(self.selector) (readers: \(all.isEmpty ? "none" : all.map { "\"\($0)\"" }.joined(separator: ", "))); \
                    fix the reader name or attach the reader
                    """
            )
        }
        for reader in readers {
            let card: PCSCCard
            do throws(SmartCardError) {
                card = try context.connect(reader: reader)
            } catch
                where error.returnValue == PCSCReturnValue.noSmartCard
                || error.returnValue == PCSCReturnValue.removedCard
                || error.returnValue == PCSCReturnValue.unpoweredCard
                || error.returnValue == PCSCReturnValue.unresponsiveCard
            {
                continue
            }
            let session = PIVCardSession(transport: card)
            do throws(SmartCardError) {
                try card.beginTransaction()
                defer { try? card.endTransaction() }
                try session.select()
                return (card, session)
            } catch {
                card.disconnect()
                if self.selector == .firstWithPIV, error.code == .notPIV {
                    continue
                }
                throw error
            }
        }
        return nil
    }

    /// The error when no card was found: which readers were looked at.
    private func noCardError(in context: PCSCContext, excluding taken: Set<String>) -> SmartCardError {
        switch self.selector {
        case .firstWithPIV:
            let readers = (try? context.readers()) ?? []
            return SmartCardError(
                code: readers.isEmpty ? .readerNotFound : .cardNotFound,
                reason: readers.isEmpty
                    ? "no smart-card reader is attached; attach one and insert the PIV card"
                    : """
                    no reader holds a PIV card (readers: \(readers.map { "\"\($0)\"" }.joined(separator: ", "))\
                    \(taken.isEmpty ? "" : "; taken by other cards of this signer: \(taken.sorted().joined(separator: ", "))")); \
                    insert the card
                    """
            )
        default:
            let reader =
                (try? self.candidates(in: context, excluding: taken))?.first.map { "\"\($0)\"" } ?? "\(self.selector)"
            return SmartCardError(
                code: .cardNotFound,
                reason: "no card is in the reader \(reader); insert the PIV card",
                returnValue: PCSCReturnValue.noSmartCard,
                function: "SCardConnect"
            )
        }
    }

    /// Waits (`SCardGetStatusChange`) up to `duration` for a card to come into a candidate reader; at
    /// most one second per call, so a closing signer is not held up for long.
    private func watchForCard(
        in context: PCSCContext,
        excluding taken: Set<String>,
        upTo duration: Duration
    ) throws(SmartCardError) {
        let readers = try self.candidates(in: context, excluding: taken)
        guard !readers.isEmpty else { return }
        guard
            var known = try context.waitForChange(
                readers: readers,
                known: readers.map { _ in .unaware },
                timeout: .zero
            )
        else { return }
        if known.contains(where: { $0.cardPresent && !$0.cardMute }) { return }
        let deadline = ContinuousClock.now + duration
        while ContinuousClock.now < deadline, self.state.withLock({ !$0.closed }) {
            let slice = min(deadline - ContinuousClock.now, .seconds(1))
            guard let changed = try context.waitForChange(readers: readers, known: known.map(\.known), timeout: slice)
            else { continue }
            if changed.contains(where: { $0.cardPresent && !$0.cardMute }) { return }
            known = changed
        }
    }

    /// After SELECT: the PIN state (VERIFY without data), VERIFY when the policy wants it now, and the
    /// probe signature.
    private func prepare(
        _ card: PCSCCard,
        session: PIVCardSession,
        key: PIVKeyReference,
        policy: SmartCardPINPolicy,
        pin: PINHolder,
        probe: (plan: PIVSigningPlan, publicKey: Certificate.PublicKey)?
    ) throws(SmartCardError) {
        try card.beginTransaction()
        defer { try? card.endTransaction() }
        var verified = false
        if policy != .never {
            // Some cards do not answer the status query (VERIFY without data); then the counter is unknown.
            let status: PIVPINStatus?
            do throws(SmartCardError) {
                status = try session.pinStatus()
            } catch  where error.code == .commandFailed && error.returnValue == nil {
                status = nil
            }
            switch status {
            case .verified:
                verified = true
            case .retriesLeft(let left):
                self.state.withLock { $0.retriesLeft = left }
            case .blocked:
                let error = PIVCardSession.blocked(card.reader, statusWord: nil)
                self.markPINProblem(error)
                throw error
            case nil:
                self.state.withLock { $0.retriesLeft = nil }
            }
            if policy == .oncePerConnection, !verified {
                try self.verify(session, pin: pin)
                verified = true
            }
        }
        self.state.withLock { $0.pinVerified = verified }
        guard let probe else { return }
        try self.signProbe(card, session: session, key: key, policy: policy, pin: pin, probe: probe)
    }

    /// Signs the probe on the connected card and checks it with the certificate's key.
    func probeBlocking(
        key: PIVKeyReference,
        policy: SmartCardPINPolicy,
        pin: PINHolder,
        probe: (plan: PIVSigningPlan, publicKey: Certificate.PublicKey)
    ) throws(SmartCardError) {
        guard let card = self.state.withLock({ $0.card }) else {
            throw SmartCardError(code: .cardUnavailable, reason: self.unavailableReason ?? "the card is not connected")
        }
        try card.beginTransaction()
        defer { try? card.endTransaction() }
        try self.signProbe(
            card, session: PIVCardSession(transport: card), key: key, policy: policy, pin: pin, probe: probe)
    }

    private func signProbe(
        _ card: PCSCCard,
        session: PIVCardSession,
        key: PIVKeyReference,
        policy: SmartCardPINPolicy,
        pin: PINHolder,
        probe: (plan: PIVSigningPlan, publicKey: Certificate.PublicKey)
    ) throws(SmartCardError) {
        let verified = self.state.withLock { $0.pinVerified }
        if policy == .everySignature || (policy == .oncePerConnection && !verified) {
            try self.verify(session, pin: pin)
        }
        let output = try session.authenticate(
            algorithm: probe.plan.algorithm,
            key: key,
            input: probe.plan.input(for: connectionProbe)
        )
        let signature = try probe.plan.signature(fromCardOutput: output, reader: card.reader)
        guard probe.plan.scheme.isValidSignature(signature, for: connectionProbe, publicKey: probe.publicKey) else {
            throw SmartCardError(
                code: .keyChanged,
                reason: """
                    key \(key) of the card in "\(card.reader)" is not the key of the signer's certificate (a probe \
                    signature does not verify); put back the card that holds the certificate's key
                    """
            )
        }
    }

    /// VERIFY with the PIN; a rejection marks the card so that the PIN is never sent again.
    private func verify(_ session: PIVCardSession, pin: PINHolder) throws(SmartCardError) {
        do throws(SmartCardError) {
            try pin.withPIN { pin throws(SmartCardError) in
                guard let pin else {
                    throw SmartCardError(
                        code: .invalidConfiguration, reason: "no PIN is configured for a key that needs one")
                }
                try session.verify(pin: pin)
            }
            self.state.withLock { $0.pinVerified = true }
        } catch {
            if error.code == .pinRejected || error.code == .pinBlocked {
                self.markPINProblem(error)
            }
            throw error
        }
    }

    /// One signature: in one transaction, VERIFY when the policy wants it, then GENERAL AUTHENTICATE.
    func signBlocking(
        _ input: [UInt8],
        plan: PIVSigningPlan,
        key: PIVKeyReference,
        policy: SmartCardPINPolicy,
        pin: PINHolder
    ) throws(SmartCardError) -> [UInt8] {
        let (card, verified) = self.state.withLock { ($0.card, $0.pinVerified) }
        guard let card else {
            throw SmartCardError(code: .cardUnavailable, reason: self.unavailableReason ?? "the card is not connected")
        }
        let session = PIVCardSession(transport: card)
        try card.beginTransaction()
        let output: [UInt8]
        do throws(SmartCardError) {
            if policy == .everySignature || (policy == .oncePerConnection && !verified) {
                try self.verify(session, pin: pin)
            }
            output = try session.authenticate(algorithm: plan.algorithm, key: key, input: input)
        } catch {
            try? card.endTransaction()
            throw error
        }
        try? card.endTransaction()
        return try plan.signature(fromCardOutput: output, reader: card.reader)
    }

    /// The health check of an idle card: `SCardStatus` throws when it was removed or reset.
    func checkBlocking() throws(SmartCardError) {
        guard let card = self.state.withLock({ $0.card }) else { return }
        _ = try card.status()
    }

    /// Reads the key's certificate from the connected card.
    func certificateBlocking(key: PIVKeyReference) throws(SmartCardError) -> Certificate {
        guard let card = self.state.withLock({ $0.card }) else {
            throw SmartCardError(code: .cardUnavailable, reason: self.unavailableReason ?? "the card is not connected")
        }
        let session = PIVCardSession(transport: card)
        try card.beginTransaction()
        defer { try? card.endTransaction() }
        guard let certificate = try session.certificate(for: key) else {
            throw SmartCardError(
                code: .certificateNotFound,
                reason: """
                    the card in "\(card.reader)" has no certificate for key \(key) (GET DATA \
                    \(hexString(key.certificateObjectTag)) answered 6A82); load it onto the card or configure a \
                    certificate file
                    """,
                statusWord: StatusWord.notFound
            )
        }
        return certificate
    }

    /// Disconnects and releases the context; the end of the card's life.
    func teardownBlocking() {
        let (card, context) = self.state.withLock { state in
            defer {
                state.card = nil
                state.context = nil
            }
            return (state.card, state.context)
        }
        card?.disconnect()
        context?.release()
    }
}

/// The message a connection signs to check that the card's key is still the certificate's.
private let connectionProbe = Array("Sigillum PIV connection probe: the certificate's key".utf8)
