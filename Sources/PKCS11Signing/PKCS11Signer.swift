import CPKCS11
import Foundation
public import Logging
import NIOPosix
public import ServiceLifecycle
public import Signing
import Synchronization
public import X509

/// A ``Signing/Signer`` whose private key stays in a PKCS#11 token: an HSM, SoftHSM2, a smart card
/// through OpenSC.
///
/// Start-up (the initialiser) loads or takes the module, finds the token by label or serial
/// number, logs in once as the user, finds the key by label or `CKA_ID`, derives the
/// ``Signing/SignatureScheme`` from the key (and the configured RSA padding and hash), picks the
/// mechanism from `C_GetMechanismList`, reads the certificate from the token or a file, opens the
/// session pool and signs a probe that must verify with the certificate. Every failure is a
/// ``PKCS11Error`` (or a ``Signing/SignerError`` for files, the PIN source and a key that does not
/// match its certificate) that names what to fix; a rejected PIN is never tried again.
///
/// ``sign(_:)`` leases a session (waiting a bounded time when all are busy) and makes the blocking
/// PKCS#11 calls on the signer's own threads, never on the Swift concurrency pool.
///
/// When a call says the token, session or login went away (`CKR_SESSION_HANDLE_INVALID`,
/// `CKR_DEVICE_REMOVED`, `CKR_TOKEN_NOT_PRESENT`, `CKR_USER_NOT_LOGGED_IN`, `CKR_OBJECT_HANDLE_INVALID`,
/// …), that signature fails with ``PKCS11Error/ErrorCode/tokenUnavailable``, ``health`` becomes
/// ``Signing/SignerHealth/unavailable(reason:)``, and ``run()`` reconnects in the background with
/// exponential backoff: it finds the token again (re-initialising the module if it must, see
/// ``PKCS11SignerConfiguration/reinitializeModuleToRescan``), logs in, finds the key and checks with a
/// probe signature that it is still the certificate's key; then ``health`` is
/// ``Signing/SignerHealth/available`` again. A PIN the token rejects on re-login stops the attempts: the
/// signer stays unavailable with that reason until restarted.
///
/// A key with `CKA_ALWAYS_AUTHENTICATE` (the token wants the PIN again for every signature, as qualified-signature
/// keys often do) is signed with `C_Login(CKU_CONTEXT_SPECIFIC)` between `C_SignInit` and `C_Sign` (v2.40 §5.6): the
/// signer then reads the PIN once at start-up, keeps it in memory and zeroes it on ``close()``. A PIN refused there
/// also stops the signer until restarted.
///
/// Run ``run()`` (a ServiceLifecycle `Service`) for recovery and periodic health checks; it closes the
/// signer when it ends. Without ``run()``, call ``close()`` when done.
public final class PKCS11Signer: Signer, Service {
    public let scheme: SignatureScheme
    public let certificate: Certificate
    public let chain: [Certificate]

    /// The settings the signer was created with.
    public let configuration: PKCS11SignerConfiguration

    /// The module the signer uses.
    public let module: PKCS11Module

    /// `pkcs11`.
    public var kind: String {
        "pkcs11"
    }

    /// Whether the token can sign now; ``Signing/SignerHealth/unavailable(reason:)`` says why not.
    public var health: SignerHealth {
        self.state.withLock { $0.health }
    }

    private let ownsModule: Bool
    private let threads: NIOThreadPool
    private let pool: SessionPool
    private let wakeup = Wakeup()
    private let logger: Logger
    private let state: Mutex<State>
    /// The PIN, kept for `C_Login(CKU_CONTEXT_SPECIFIC)` when the key has `CKA_ALWAYS_AUTHENTICATE`; none otherwise.
    private let contextPIN: PINHolder

    private struct State {
        var health: SignerHealth = .available
        var connection: TokenConnection?
        /// The pool epoch of `connection`; a loss reported for another epoch was handled already.
        var epoch: UInt64 = 0
        /// Why the token was lost, while reconnecting.
        var lossReason: String?
        /// Set when the token rejected the PIN on re-login or for a signature: no more attempts.
        var pinRejected = false
        var closed = false
        /// Sessions of ended connections, closed on the signer's threads by the next maintenance step.
        var staleSessions: [PKCS11Session] = []
    }

    /// Opens a signer that loads its own module from ``PKCS11SignerConfiguration/modulePath``.
    ///
    /// Use ``init(configuration:module:logger:)`` instead when several signers use the same module.
    ///
    /// - Throws: ``PKCS11Error``; ``Signing/SignerError`` when a certificate file or the PIN source
    ///   cannot be read, or when the key does not belong to the certificate.
    public convenience init(configuration: PKCS11SignerConfiguration, logger: Logger) async throws {
        try await self.init(configuration: configuration, sharedModule: nil, logger: logger)
    }

    /// Opens a signer on a module loaded by the caller (and shared with other signers).
    ///
    /// - Throws: ``PKCS11Error``; ``Signing/SignerError`` when a certificate file or the PIN source
    ///   cannot be read, or when the key does not belong to the certificate.
    public convenience init(
        configuration: PKCS11SignerConfiguration,
        module: PKCS11Module,
        logger: Logger
    ) async throws {
        try await self.init(configuration: configuration, sharedModule: module, logger: logger)
    }

    private init(
        configuration: PKCS11SignerConfiguration,
        sharedModule: PKCS11Module?,
        logger: Logger
    ) async throws {
        try configuration.validate()
        var logger = logger
        logger[metadataKey: "signer.kind"] = "pkcs11"
        logger[metadataKey: "pkcs11.token"] = "\(configuration.token)"
        let threads = NIOThreadPool(numberOfThreads: configuration.sessionPoolSize + 1)
        threads.start()
        let module: PKCS11Module
        let startup: Startup
        do {
            if let sharedModule {
                module = sharedModule
            } else {
                module = try await threads.runIfActive { try PKCS11Module(path: configuration.modulePath) }
            }
            do {
                startup = try await threads.runIfActive { try Startup.open(module, configuration) }
            } catch {
                if sharedModule == nil {
                    module.finalize()
                }
                throw error
            }
        } catch {
            try? await threads.shutdownGracefully()
            throw error
        }
        self.configuration = configuration
        self.module = module
        self.ownsModule = sharedModule == nil
        self.threads = threads
        self.logger = logger
        self.scheme = startup.scheme
        self.certificate = startup.certificate
        self.chain = startup.chain
        self.pool = SessionPool(
            unavailable: PKCS11Error(code: .tokenUnavailable, reason: "the signer is starting")
        )
        self.state = Mutex(State(connection: startup.connection))
        self.contextPIN = PINHolder(startup.contextPIN)
        let epoch = self.pool.install(
            SessionPool.Connection(key: startup.connection.key, plan: startup.plan),
            sessions: startup.sessions
        )
        self.state.withLock { $0.epoch = epoch }
        do {
            try await self.verifyKeyMatchesCertificate()
        } catch {
            await self.close()
            throw error
        }
        logger.info(
            "PKCS#11 signer ready",
            metadata: [
                "pkcs11.module": "\(module.path)",
                "pkcs11.key": "\(startup.connection.key.algorithm) \(startup.connection.key.id.hexString)",
                "signer.scheme": "\(startup.scheme)",
                "pkcs11.mechanism": "\(startup.plan.mechanism)",
                "pkcs11.sessions": "\(configuration.sessionPoolSize)",
            ]
        )
    }

    deinit {
        let closed = self.state.withLock { $0.closed }
        if !closed {
            self.threads.shutdownGracefully { _ in }
        }
    }

    // MARK: - Signing

    /// Signs `message` on the token per ``scheme``.
    ///
    /// - Returns: For ECDSA a DER `ECDSA-Sig-Value` (the token's `r ‖ s` re-encoded); for RSA the raw
    ///   signature octets; for Ed25519 64 octets.
    /// - Throws: ``PKCS11Error``: ``PKCS11Error/ErrorCode/tokenUnavailable`` while the token is away
    ///   (and for the signature that noticed it), ``PKCS11Error/ErrorCode/sessionPoolExhausted`` when no
    ///   session came free in time, ``PKCS11Error/ErrorCode/shutDown`` after ``close()``,
    ///   ``PKCS11Error/ErrorCode/operationFailed`` for other refusals.
    public func sign(_ message: [UInt8]) async throws -> [UInt8] {
        let lease = try await self.pool.acquire(timeout: self.configuration.sessionWaitTimeout)
        let plan = lease.connection.plan
        let key = lease.connection.key.handle
        let contextPIN = lease.connection.key.alwaysAuthenticate ? self.contextPIN.withPIN { $0 } : nil
        let input = plan.input(for: message)
        let output: [UInt8]
        do {
            output = try await self.threads.runIfActive { [module] in
                try module.sign(
                    lease.session,
                    key: key,
                    mechanism: plan.mechanism,
                    data: input,
                    expectedLength: plan.outputLength,
                    contextPIN: contextPIN
                )
            }
        } catch let error as PKCS11Error where error.code == .pinRejected {
            self.giveBack(lease)
            throw self.pinRejectedForSignature(error, epoch: lease.epoch)
        } catch let error as PKCS11Error where error.isTokenLoss {
            self.giveBack(lease)
            let reason = self.tokenLost(error, epoch: lease.epoch)
            throw PKCS11Error(
                code: .tokenUnavailable,
                reason: reason,
                returnValue: error.returnValue,
                function: error.function,
                cause: error
            )
        } catch let error as PKCS11Error {
            self.giveBack(lease)
            throw error
        } catch is CancellationError {
            self.giveBack(lease)
            throw CancellationError()
        } catch {
            // NIOThreadPool refuses work once shut down.
            self.giveBack(lease)
            throw PKCS11Error(code: .shutDown, reason: "the PKCS#11 signer has been closed", cause: error)
        }
        self.giveBack(lease)
        return try plan.signature(fromTokenOutput: output)
    }

    /// The token refused the PIN given for one signature (`CKA_ALWAYS_AUTHENTICATE`): every further attempt would
    /// count towards locking it, so the signer stops until restarted, like after a PIN refused on re-login.
    ///
    /// - Returns: The error for the signature that was refused.
    private func pinRejectedForSignature(_ error: PKCS11Error, epoch: UInt64) -> PKCS11Error {
        let reason = "\(error.reason); the signer stays unavailable until the PIN source is fixed and it restarts"
        let first = self.state.withLock { state -> Bool in
            guard !state.closed, epoch >= state.epoch, !state.pinRejected else { return false }
            state.pinRejected = true
            state.health = .unavailable(reason: reason)
            if let anchor = state.connection?.anchor {
                state.staleSessions.append(anchor)
            }
            state.connection = nil
            return true
        }
        if first {
            let idle = self.pool.invalidate(PKCS11Error(code: .pinRejected, reason: reason, cause: error))
            self.state.withLock { $0.staleSessions.append(contentsOf: idle) }
            self.wakeup.signal()
            self.logger.info(
                "PKCS#11 token rejected the PIN for a signature",
                metadata: ["pkcs11.rv": "\(error.returnValueName ?? "")"]
            )
        }
        return error.with(code: .pinRejected, reason: reason)
    }

    private func giveBack(_ lease: SessionPool.Lease) {
        guard let stale = self.pool.release(lease) else { return }
        self.state.withLock { $0.staleSessions.append(stale) }
        self.wakeup.signal()
    }

    /// Marks the token lost (once per connection): health unavailable, pool invalidated, the
    /// maintenance loop woken to reconnect.
    ///
    /// - Returns: The reason, for the error of the signature that noticed.
    @discardableResult
    private func tokenLost(_ error: PKCS11Error, epoch: UInt64) -> String {
        let name = self.state.withLock { $0.connection?.name } ?? "\(self.configuration.token)"
        let call = error.function.map { "\($0) answered \(error.returnValueName ?? "an error")" } ?? error.reason
        let reason = "\(name) is unavailable (\(call)); reconnecting in the background"
        let (first, current) = self.state.withLock { state -> (Bool, String) in
            // Epochs only grow; a lease newer than the recorded epoch belongs to a connection being installed.
            guard !state.closed, epoch >= state.epoch, state.lossReason == nil else {
                if case .unavailable(let current) = state.health { return (false, current) }
                return (false, reason)
            }
            state.lossReason = reason
            state.health = .unavailable(reason: reason)
            if let anchor = state.connection?.anchor {
                state.staleSessions.append(anchor)
            }
            state.connection = nil
            return (true, reason)
        }
        guard first else { return current }
        let idle = self.pool.invalidate(PKCS11Error(code: .tokenUnavailable, reason: reason, cause: error))
        self.state.withLock { $0.staleSessions.append(contentsOf: idle) }
        self.logger.info(
            "PKCS#11 token lost",
            metadata: [
                "pkcs11.function": "\(error.function ?? "")",
                "pkcs11.rv": "\(error.returnValueName ?? "")",
            ]
        )
        self.wakeup.signal()
        return reason
    }

    // MARK: - Maintenance

    /// Reconnects after a token loss and checks an idle token every
    /// ``PKCS11SignerConfiguration/healthCheckInterval``, until cancelled or a graceful shutdown; then
    /// closes the signer.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.maintain()
        }
        await self.close()
    }

    private enum Step {
        case stop
        case reconnect
        case check(TokenConnection, epoch: UInt64)
        case idle
    }

    private func maintain() async {
        var delay = self.configuration.reconnectInitialDelay
        var lastCheck = ContinuousClock.now
        while !Task.isCancelled {
            await self.closeStaleSessions()
            let step: Step = self.state.withLock { state in
                if state.closed { return .stop }
                if state.pinRejected { return .idle }
                if state.lossReason != nil { return .reconnect }
                if let connection = state.connection { return .check(connection, epoch: state.epoch) }
                return .idle
            }
            switch step {
            case .stop:
                return
            case .idle:
                await self.wakeup.wait(upTo: self.configuration.healthCheckInterval)
            case .reconnect:
                // Sleep the whole backoff: early wake-ups (a stale session coming back) do not shorten it.
                let deadline = ContinuousClock.now + delay
                while ContinuousClock.now < deadline, !Task.isCancelled, !self.state.withLock({ $0.closed }) {
                    await self.wakeup.wait(upTo: deadline - .now)
                }
                guard !Task.isCancelled, !self.state.withLock({ $0.closed }) else { return }
                if await self.reconnect() {
                    delay = self.configuration.reconnectInitialDelay
                    lastCheck = .now
                } else {
                    delay = min(delay * 2, self.configuration.reconnectMaximumDelay)
                }
            case .check(let connection, let epoch):
                let due = lastCheck + self.configuration.healthCheckInterval
                if ContinuousClock.now >= due {
                    lastCheck = .now
                    await self.check(connection, epoch: epoch)
                } else {
                    await self.wakeup.wait(upTo: due - .now)
                }
            }
        }
    }

    private func closeStaleSessions() async {
        let stale = self.state.withLock { state in
            defer { state.staleSessions = [] }
            return state.staleSessions
        }
        guard !stale.isEmpty else { return }
        _ = try? await self.threads.runIfActive { [module] in
            for session in stale {
                module.closeSession(session)
            }
        }
    }

    /// The health check of an idle connection: the anchor session still logged in, the key still
    /// there, the token still readable.
    private func check(_ connection: TokenConnection, epoch: UInt64) async {
        do {
            try await self.threads.runIfActive { [module] in
                let sessionState = try module.sessionState(connection.anchor)
                guard PKCS11Module.isUserState(sessionState) else {
                    throw PKCS11Error(
                        code: .tokenUnavailable,
                        reason: "the login on \(connection.name) ended",
                        returnValue: CKR_USER_NOT_LOGGED_IN,
                        function: "C_GetSessionInfo"
                    )
                }
                _ = try module.attributeValue(connection.anchor, of: connection.key.handle, CKA_KEY_TYPE)
                _ = try module.tokenInformation(connection.slot)
            }
        } catch let error as PKCS11Error where error.isTokenLoss {
            self.tokenLost(error, epoch: epoch)
        } catch {
            self.logger.debug("PKCS#11 health check failed", metadata: ["error": "\(error)"])
        }
    }

    /// One reconnection attempt.
    ///
    /// - Returns: Whether the signer is connected again.
    private func reconnect() async -> Bool {
        let configuration = self.configuration
        let scheme = self.scheme
        let publicKey = self.certificate.publicKey
        do {
            let (connection, plan, sessions, contextPIN) = try await self.threads.runIfActive { [module] in
                let connection = try module.connect(
                    token: configuration.token,
                    key: configuration.key,
                    pin: configuration.pin,
                    rescan: configuration.reinitializeModuleToRescan
                )
                var sessions: [PKCS11Session] = []
                do {
                    let found = try SignatureScheme.forTokenKey(
                        connection.key.algorithm,
                        rsaPadding: configuration.rsaPadding,
                        rsaDigest: configuration.rsaDigest
                    )
                    guard found == scheme else {
                        throw PKCS11Error(
                            code: .keyChanged,
                            reason: """
                                \(configuration.key) on \(connection.name) is now a \(connection.key.algorithm) key \
                                (\(found)), not the \(scheme) key of the certificate; restore the original key
                                """
                        )
                    }
                    let plan = try SigningPlan.make(
                        scheme: scheme,
                        key: connection.key,
                        mechanisms: connection.mechanisms,
                        token: connection.name
                    )
                    for _ in 0..<configuration.sessionPoolSize {
                        sessions.append(try module.openSession(connection.slot))
                    }
                    let contextPIN = connection.key.alwaysAuthenticate ? try configuration.pin.resolve() : nil
                    // The key found must still be the certificate's: sign a probe and verify it.
                    let output = try module.sign(
                        sessions[0],
                        key: connection.key.handle,
                        mechanism: plan.mechanism,
                        data: plan.input(for: reconnectionProbe),
                        expectedLength: plan.outputLength,
                        contextPIN: contextPIN
                    )
                    let signature = try plan.signature(fromTokenOutput: output)
                    guard scheme.isValidSignature(signature, for: reconnectionProbe, publicKey: publicKey) else {
                        throw PKCS11Error(
                            code: .keyChanged,
                            reason: """
                                \(configuration.key) on \(connection.name) is not the key of the certificate any \
                                more (a probe signature does not verify); restore the original key or token
                                """
                        )
                    }
                    return (connection, plan, sessions, contextPIN)
                } catch {
                    for session in sessions {
                        module.closeSession(session)
                    }
                    module.closeSession(connection.anchor)
                    throw error
                }
            }
            let installed = self.state.withLock { state -> Bool in
                guard !state.closed else { return false }
                state.connection = connection
                state.lossReason = nil
                state.health = .available
                // Under the state lock, so that a close() that follows erases it.
                self.contextPIN.replace(with: contextPIN)
                return true
            }
            guard installed else {
                self.state.withLock { $0.staleSessions.append(contentsOf: sessions + [connection.anchor]) }
                return false
            }
            let epoch = self.pool.install(SessionPool.Connection(key: connection.key, plan: plan), sessions: sessions)
            self.state.withLock { $0.epoch = epoch }
            self.logger.info("PKCS#11 token reconnected", metadata: ["pkcs11.slot": "\(connection.slot)"])
            return true
        } catch let error as PKCS11Error where error.code == .pinRejected {
            let reason = "\(error.reason); the signer stays unavailable until the PIN source is fixed and it restarts"
            self.state.withLock { state in
                state.pinRejected = true
                state.health = .unavailable(reason: reason)
            }
            self.logger.info(
                "PKCS#11 token rejected the PIN on re-login",
                metadata: ["pkcs11.rv": "\(error.returnValueName ?? "")"]
            )
            return false
        } catch {
            let detail = (error as? PKCS11Error)?.reason ?? (error as? SignerError)?.reason ?? "\(error)"
            self.state.withLock { state in
                guard let loss = state.lossReason, !state.closed else { return }
                state.health = .unavailable(reason: "\(loss); last attempt: \(detail)")
            }
            self.logger.debug("PKCS#11 reconnection attempt failed", metadata: ["error": "\(detail)"])
            return false
        }
    }

    // MARK: - Closing

    /// Closes the signer: later signatures fail with ``PKCS11Error/ErrorCode/shutDown``, signatures in
    /// flight get up to five seconds to finish, the sessions close, the module is finalised when the
    /// signer loaded it, and the threads stop. Calling it again does nothing.
    ///
    /// Closing the sessions ends the login unless another signer still has a session on the token;
    /// the signer never calls `C_Logout`, which would log out those signers too.
    public func close() async {
        let first = self.state.withLock { state in
            defer { state.closed = true }
            return !state.closed
        }
        guard first else { return }
        let idle = self.pool.invalidate(PKCS11Error(code: .shutDown, reason: "the PKCS#11 signer has been closed"))
        self.wakeup.signal()
        let deadline = ContinuousClock.now + .seconds(5)
        while self.pool.leasedCount > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        let (stale, anchor) = self.state.withLock { state in
            defer {
                state.staleSessions = []
                state.connection = nil
                state.health = .unavailable(reason: "the PKCS#11 signer has been closed")
            }
            return (state.staleSessions, state.connection?.anchor)
        }
        self.contextPIN.erase()
        let ownsModule = self.ownsModule
        _ = try? await self.threads.runIfActive { [module] in
            for session in idle + stale {
                module.closeSession(session)
            }
            if let anchor {
                module.closeSession(anchor)
            }
            if ownsModule {
                module.finalize()
            }
        }
        try? await self.threads.shutdownGracefully()
        self.logger.info("PKCS#11 signer closed")
    }
}

/// The message a reconnection signs to check that the key is still the certificate's.
private let reconnectionProbe = Array("Sigillum PKCS#11 reconnection probe: still the certificate's key".utf8)

/// What start-up finds: the connection, scheme, plan, certificates and the pool's sessions.
private struct Startup: Sendable {
    var connection: TokenConnection
    var scheme: SignatureScheme
    var plan: SigningPlan
    var certificate: Certificate
    var chain: [Certificate]
    var sessions: [PKCS11Session]
    /// The PIN for per-signature logins, read when the key has `CKA_ALWAYS_AUTHENTICATE`.
    var contextPIN: [UInt8]?

    /// Blocking: runs on the signer's threads.
    static func open(_ module: PKCS11Module, _ configuration: PKCS11SignerConfiguration) throws -> Startup {
        let connection = try module.connect(
            token: configuration.token,
            key: configuration.key,
            pin: configuration.pin,
            rescan: false
        )
        var sessions: [PKCS11Session] = []
        do {
            let scheme = try SignatureScheme.forTokenKey(
                connection.key.algorithm,
                rsaPadding: configuration.rsaPadding,
                rsaDigest: configuration.rsaDigest
            )
            let plan = try SigningPlan.make(
                scheme: scheme,
                key: connection.key,
                mechanisms: connection.mechanisms,
                token: connection.name
            )
            let certificate: Certificate
            var chain: [Certificate] = []
            switch configuration.certificate {
            case .token:
                certificate = try module.certificate(connection.anchor, id: connection.key.id, token: connection.name)
            case .file(let path):
                let certificates = try CertificateFileReader.readCertificates(atPath: path)
                guard let first = certificates.first else {
                    throw PKCS11Error(code: .certificateNotFound, reason: "the certificate file \(path) is empty")
                }
                certificate = first
                chain = Array(certificates.dropFirst())
            }
            if let chainFile = configuration.chainFile {
                chain = try CertificateFileReader.readCertificates(atPath: chainFile)
                if chain.first == certificate {
                    chain.removeFirst()
                }
            }
            for _ in 0..<configuration.sessionPoolSize {
                sessions.append(try module.openSession(connection.slot))
            }
            return Startup(
                connection: connection,
                scheme: scheme,
                plan: plan,
                certificate: certificate,
                chain: chain,
                sessions: sessions,
                contextPIN: connection.key.alwaysAuthenticate ? try configuration.pin.resolve() : nil
            )
        } catch {
            for session in sessions {
                module.closeSession(session)
            }
            module.closeSession(connection.anchor)
            throw error
        }
    }
}
