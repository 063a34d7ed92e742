public import Logging
import NIOPosix
public import ServiceLifecycle
public import Signing
import Synchronization
public import X509

/// A ``Signing/Signer`` whose private key stays on a PIV smart card, reached through PC/SC (pcscd)
/// without vendor middleware: Sigillum speaks NIST SP 800-73-4 to the card itself.
///
/// Start-up (the initialiser) reads the PIN from its source, connects each configured card (its own
/// PC/SC context and thread), SELECTs the PIV application, reads the PIN's retry counter (VERIFY
/// without data), reads the key's certificate from the card (or a file), derives the
/// ``Signing/SignatureScheme`` from the certificate's key (ECC P-256 and P-384, RSA-2048), signs a
/// probe on every card that must verify with the certificate, and finally runs
/// ``Signing/Signer/verifyKeyMatchesCertificate()``. Every failure is a ``SmartCardError`` (or a
/// ``Signing/SignerError`` for files and the PIN source) that names what to fix. A PIN the card rejects
/// is never sent again: the error says how many tries are left.
///
/// ``sign(_:)`` leases a card (waiting at most ``SmartCardSignerConfiguration/queueWaitTimeout``, behind
/// at most ``SmartCardSignerConfiguration/maximumQueueLength`` other signatures), and on the card's own
/// thread runs one PC/SC transaction: VERIFY when the PIN policy wants it (before every signature for
/// 9C), then GENERAL AUTHENTICATE. Several cards holding the same key make a pool.
///
/// When PC/SC says the card was removed or reset, the reader went away, or pcscd stopped
/// (`SCARD_W_REMOVED_CARD`, `SCARD_W_RESET_CARD`, `SCARD_E_NO_READERS_AVAILABLE`, `SCARD_E_NO_SERVICE`, …),
/// that signature fails with ``SmartCardError/ErrorCode/cardUnavailable``, the card leaves the pool
/// and — when it was the last — ``health`` becomes ``Signing/SignerHealth/unavailable(reason:)``.
/// ``run()`` then reconnects it in the background: a new PC/SC context (an old one stays dead after a
/// pcscd restart), a watch for the card (`SCardGetStatusChange`, bounded waits), SELECT, the PIN per
/// the policy, and a probe signature that must still verify with the certificate.
///
/// Run ``run()`` (a ServiceLifecycle `Service`) for recovery and idle health checks; it closes the
/// signer when it ends. Without ``run()``, call ``close()`` when done.
public final class SmartCardSigner: Signer, Service {
    public let scheme: SignatureScheme
    public let certificate: Certificate
    public let chain: [Certificate]

    /// The settings the signer was created with.
    public let configuration: SmartCardSignerConfiguration

    /// The PIV algorithm of the key.
    public let algorithm: PIVAlgorithm

    /// `piv`.
    public var kind: String {
        "piv"
    }

    /// Whether some card can sign now; ``Signing/SignerHealth/unavailable(reason:)`` says why none can.
    public var health: SignerHealth {
        if self.closed.withLock({ $0 }) {
            return .unavailable(reason: "the smart-card signer has been closed")
        }
        var reasons: [String] = []
        for link in self.links {
            guard let reason = link.unavailableReason else { return .available }
            reasons.append(reason)
        }
        return .unavailable(reason: reasons.joined(separator: "; "))
    }

    /// The readers of the cards now connected, in configuration order.
    public var connectedReaders: [String] {
        self.links.compactMap(\.connectedReader)
    }

    /// Each card's state, in configuration order: for a status page.
    public var cards: [SmartCardStatus] {
        self.links.map { link in
            SmartCardStatus(
                selector: link.selector,
                reader: link.lastReader,
                unavailableReason: link.unavailableReason,
                pinRetriesLeft: link.retriesLeft
            )
        }
    }

    private let links: [CardLink]
    private let queue: CardQueue
    private let plan: PIVSigningPlan
    private let pin: PINHolder
    private let logger: Logger
    private let closed = Mutex(false)

    /// Connects the configured cards and checks that they hold the certificate's key.
    ///
    /// - Throws: ``SmartCardError``; ``Signing/SignerError`` when a certificate file or the PIN source
    ///   cannot be read, or when the key does not belong to the certificate.
    public init(configuration: SmartCardSignerConfiguration, logger: Logger) async throws {
        try configuration.validate()
        var logger = logger
        logger[metadataKey: "signer.kind"] = "piv"
        logger[metadataKey: "piv.key"] = "\(configuration.keyReference.hexName)"
        let policy = configuration.effectivePINPolicy
        var octets = try configuration.pin.map { try $0.resolve() }
        if let count = octets?.count, !(6...8).contains(count) {
            octets?.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
            throw SmartCardError(
                code: .invalidConfiguration,
                reason: """
                    the PIN from \(configuration.pin.map { "\($0)" } ?? "the PIN source") has \(count) characters; a \
                    PIV PIN has 6 to 8 (SP 800-73-4): fix the PIN source
                    """
            )
        }
        let pin = PINHolder(octets)
        octets?.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        let links = configuration.readers.enumerated().map { CardLink(index: $0.offset, selector: $0.element) }
        let startup: Startup
        do {
            startup = try await Startup.open(links, configuration: configuration, policy: policy, pin: pin)
        } catch {
            for link in links {
                link.markClosed()
                _ = try? await link.thread.runIfActive { link.teardownBlocking() }
                try? await link.thread.shutdownGracefully()
            }
            pin.erase()
            throw error
        }
        self.configuration = configuration
        self.links = links
        self.pin = pin
        self.logger = logger
        self.plan = startup.plan
        self.algorithm = startup.plan.algorithm
        self.scheme = startup.plan.scheme
        self.certificate = startup.certificate
        self.chain = startup.chain
        self.queue = CardQueue(
            maximumWaiting: configuration.maximumQueueLength,
            unavailable: SmartCardError(code: .cardUnavailable, reason: "the smart-card signer is starting")
        )
        for link in links {
            self.queue.install(link.index)
        }
        do {
            try await self.verifyKeyMatchesCertificate()
        } catch {
            await self.close()
            throw error
        }
        logger.info(
            "PIV smart-card signer ready",
            metadata: [
                "piv.readers": "\(links.compactMap(\.connectedReader))",
                "piv.algorithm": "\(startup.plan.algorithm.name)",
                "piv.pin_policy": "\(policy)",
                "piv.pin_retries": "\(startup.retriesLeft.map { "\($0)" } ?? "unknown")",
                "signer.scheme": "\(startup.plan.scheme)",
            ]
        )
    }

    deinit {
        if !self.closed.withLock({ $0 }) {
            for link in self.links {
                link.thread.shutdownGracefully { _ in }
            }
        }
    }

    // MARK: - Signing

    /// Signs `message` on a card per ``scheme``.
    ///
    /// - Returns: For ECDSA a DER `ECDSA-Sig-Value`; for RSA the raw signature octets (256 for RSA-2048).
    /// - Throws: ``SmartCardError``: ``SmartCardError/ErrorCode/cardUnavailable`` while no card is there
    ///   (and for the signature that noticed), ``SmartCardError/ErrorCode/cardBusy`` when no card came free
    ///   in time or the queue is full, ``SmartCardError/ErrorCode/pinRejected`` or
    ///   ``SmartCardError/ErrorCode/pinBlocked`` when the card refused the PIN,
    ///   ``SmartCardError/ErrorCode/shutDown`` after ``close()``, ``SmartCardError/ErrorCode/commandFailed``
    ///   for other refusals.
    public func sign(_ message: [UInt8]) async throws -> [UInt8] {
        let lease = try await self.queue.acquire(timeout: self.configuration.queueWaitTimeout)
        let link = self.links[lease.card]
        let plan = self.plan
        let key = self.configuration.keyReference
        let policy = self.configuration.effectivePINPolicy
        let pin = self.pin
        let input = plan.input(for: message)
        do {
            let signature = try await link.thread.runIfActive {
                try link.signBlocking(input, plan: plan, key: key, policy: policy, pin: pin)
            }
            self.queue.release(lease)
            return signature
        } catch let error as SmartCardError where error.isCardLoss {
            let reason = self.cardLost(link, error)
            self.queue.release(lease)
            throw SmartCardError(
                code: .cardUnavailable,
                reason: reason,
                returnValue: error.returnValue,
                function: error.function,
                cause: error
            )
        } catch let error as SmartCardError where error.code == .pinRejected || error.code == .pinBlocked {
            self.pinFailed(link, error)
            self.queue.release(lease)
            throw error
        } catch let error as SmartCardError {
            self.queue.release(lease)
            throw error
        } catch is CancellationError {
            self.queue.release(lease)
            throw CancellationError()
        } catch {
            // NIOThreadPool refuses work once shut down.
            self.queue.release(lease)
            throw SmartCardError(code: .shutDown, reason: "the smart-card signer has been closed", cause: error)
        }
    }

    /// Takes a lost card out of the pool (once per connection) and wakes its maintenance loop.
    ///
    /// - Returns: The reason, for the error of the signature that noticed.
    @discardableResult
    private func cardLost(_ link: CardLink, _ error: SmartCardError) -> String {
        let (reason, first) = link.markLost(error)
        guard first else { return reason }
        self.queue.remove(
            link.index,
            reason: SmartCardError(
                code: .cardUnavailable,
                reason: self.unavailableSummary(),
                returnValue: error.returnValue,
                function: error.function
            )
        )
        self.logger.info(
            "PIV card lost",
            metadata: [
                "piv.reader": "\(link.lastReader ?? "")",
                "pcsc.function": "\(error.function ?? "")",
                "pcsc.rv": "\(error.returnValueName ?? "")",
            ]
        )
        link.wakeup.signal()
        return reason
    }

    /// Takes a card whose PIN was rejected out of the pool for good.
    private func pinFailed(_ link: CardLink, _ error: SmartCardError) {
        self.queue.remove(link.index, reason: error)
        self.logger.info(
            "PIV card rejected the PIN",
            metadata: [
                "piv.reader": "\(link.lastReader ?? "")",
                "piv.pin_retries": "\(error.retriesLeft.map { "\($0)" } ?? "unknown")",
            ]
        )
    }

    /// Why no card can sign: the reasons of all cards.
    private func unavailableSummary() -> String {
        let reasons = self.links.compactMap(\.unavailableReason)
        return reasons.isEmpty ? "no card of the signer can sign" : reasons.joined(separator: "; ")
    }

    // MARK: - Maintenance

    /// Reconnects lost cards and checks idle ones every
    /// ``SmartCardSignerConfiguration/healthCheckInterval``, until cancelled or a graceful shutdown;
    /// then closes the signer.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for link in self.links {
                    group.addTask {
                        await self.maintain(link)
                    }
                }
            }
        }
        await self.close()
    }

    private func maintain(_ link: CardLink) async {
        let configuration = self.configuration
        var delay = configuration.reconnectInitialDelay
        var lastCheck = ContinuousClock.now
        while !Task.isCancelled {
            switch link.step {
            case .stop:
                return
            case .halted:
                await link.wakeup.wait(upTo: configuration.healthCheckInterval)
            case .reconnect:
                let started = ContinuousClock.now
                switch await self.reconnect(link, watch: delay) {
                case .connected:
                    delay = configuration.reconnectInitialDelay
                    lastCheck = .now
                case .failed(_, let watched):
                    // A watch already waited for the card; otherwise pause (pcscd down, no reader).
                    let rest = started + delay - .now
                    if !watched || rest > .zero {
                        await link.wakeup.wait(upTo: max(rest, .milliseconds(10)))
                    }
                    delay = min(delay * 2, configuration.reconnectMaximumDelay)
                }
            case .check:
                let due = lastCheck + configuration.healthCheckInterval
                if ContinuousClock.now >= due {
                    lastCheck = .now
                    do {
                        try await link.thread.runIfActive { try link.checkBlocking() }
                    } catch let error as SmartCardError where error.isCardLoss {
                        self.cardLost(link, error)
                    } catch {
                        self.logger.debug("PIV health check failed", metadata: ["error": "\(error)"])
                    }
                } else {
                    await link.wakeup.wait(upTo: due - .now)
                }
            }
        }
    }

    /// One reconnection attempt of `link`, watching for its card up to `watch`.
    private func reconnect(_ link: CardLink, watch: Duration) async -> CardLink.Attempt {
        let taken = Set(self.links.filter { $0 !== link }.compactMap(\.connectedReader))
        let key = self.configuration.keyReference
        let policy = self.configuration.effectivePINPolicy
        let pin = self.pin
        let probe = (plan: self.plan, publicKey: self.certificate.publicKey)
        let attempt: CardLink.Attempt
        do {
            attempt = try await link.thread.runIfActive {
                link.connectBlocking(
                    excluding: taken,
                    watch: watch,
                    key: key,
                    policy: policy,
                    pin: pin,
                    probe: probe
                )
            }
        } catch {
            return .failed(
                SmartCardError(code: .shutDown, reason: "the smart-card signer has been closed", cause: error),
                watched: true
            )
        }
        switch attempt {
        case .connected(let reader):
            self.queue.install(link.index)
            self.logger.info("PIV card reconnected", metadata: ["piv.reader": "\(reader)"])
        case .failed(let error, _):
            if error.code == .pinRejected || error.code == .pinBlocked {
                self.pinFailed(link, error)
            } else {
                link.noteAttemptFailed(error.reason)
                self.logger.debug("PIV reconnection attempt failed", metadata: ["error": "\(error.reason)"])
            }
        }
        return attempt
    }

    // MARK: - Closing

    /// Closes the signer: later signatures fail with ``SmartCardError/ErrorCode/shutDown``, signatures in
    /// flight get up to five seconds to finish, the cards are disconnected (left as they are, not reset),
    /// the contexts released, the threads stopped and the PIN zeroed. Calling it again does nothing.
    public func close() async {
        let first = self.closed.withLock { closed in
            defer { closed = true }
            return !closed
        }
        guard first else { return }
        self.queue.close(SmartCardError(code: .shutDown, reason: "the smart-card signer has been closed"))
        for link in self.links {
            link.markClosed()
        }
        let deadline = ContinuousClock.now + .seconds(5)
        while self.queue.leasedCount > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        for link in self.links {
            _ = try? await link.thread.runIfActive { link.teardownBlocking() }
            try? await link.thread.shutdownGracefully()
        }
        self.pin.erase()
        self.logger.info("PIV smart-card signer closed")
    }
}

/// The state of one card of a ``SmartCardSigner``.
public struct SmartCardStatus: Sendable, Hashable {
    /// How the card's reader is configured.
    public var selector: SmartCardReaderSelector

    /// The reader of the current or last connection; `nil` before the first.
    public var reader: String?

    /// `nil` when the card can sign; otherwise why not.
    public var unavailableReason: String?

    /// The PIN tries left when the card last said (VERIFY without data at connection, or a rejected VERIFY).
    public var pinRetriesLeft: Int?
}

/// What start-up finds: the plan, certificates and the PIN tries left.
private struct Startup: Sendable {
    var plan: PIVSigningPlan
    var certificate: Certificate
    var chain: [Certificate]
    var retriesLeft: Int?

    static func open(
        _ links: [CardLink],
        configuration: SmartCardSignerConfiguration,
        policy: SmartCardPINPolicy,
        pin: PINHolder
    ) async throws -> Startup {
        let key = configuration.keyReference
        var certificate: Certificate?
        var chain: [Certificate] = []
        if case .file(let path) = configuration.certificate {
            let certificates = try CertificateFileReader.readCertificates(atPath: path)
            guard let first = certificates.first else {
                throw SmartCardError(
                    code: .certificateNotFound, reason: "the certificate file \(path) holds no certificate")
            }
            certificate = first
            chain = Array(certificates.dropFirst())
        }
        // Connect every card first (no probe yet: the certificate may have to come from the first card).
        var taken: Set<String> = []
        for link in links {
            let excluded = taken
            let attempt = try await link.thread.runIfActive {
                link.connectBlocking(excluding: excluded, watch: .zero, key: key, policy: policy, pin: pin, probe: nil)
            }
            switch attempt {
            case .connected(let reader): taken.insert(reader)
            case .failed(let error, _): throw error
            }
        }
        guard let first = links.first else {
            throw SmartCardError(code: .invalidConfiguration, reason: "the signer has no readers")
        }
        if certificate == nil {
            certificate = try await first.thread.runIfActive { try first.certificateBlocking(key: key) }
        }
        guard let certificate else {
            throw SmartCardError(code: .certificateNotFound, reason: "the signer has no certificate")
        }
        guard let algorithm = PIVAlgorithm(publicKey: certificate.publicKey) else {
            throw SmartCardError(
                code: .unsupportedKey,
                reason: """
                    the certificate "\(certificate.subject)" of key \(key) has a \(certificate.publicKey) key; \
                    Sigillum signs on PIV cards with ECC P-256, ECC P-384 and RSA-2048 keys
                    """
            )
        }
        let plan = PIVSigningPlan(algorithm: algorithm, scheme: algorithm.scheme(rsaDigest: configuration.rsaDigest))
        if let chainFile = configuration.chainFile {
            chain = try CertificateFileReader.readCertificates(atPath: chainFile)
            if chain.first == certificate {
                chain.removeFirst()
            }
        }
        // Every card after the first must hold the same key (the first is checked by verifyKeyMatchesCertificate).
        let probe = (plan: plan, publicKey: certificate.publicKey)
        for link in links.dropFirst() {
            try await link.thread.runIfActive {
                try link.probeBlocking(key: key, policy: policy, pin: pin, probe: probe)
            }
        }
        return Startup(plan: plan, certificate: certificate, chain: chain, retriesLeft: first.retriesLeft)
    }
}
