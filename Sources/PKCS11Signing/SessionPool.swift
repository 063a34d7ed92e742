import Signing
import Synchronization

/// The sessions a ``PKCS11Signer`` signs with, handed out one signature at a time.
///
/// A PKCS#11 session runs one operation at a time (v2.40 §5.6), so each signature leases a session
/// and returns it. When every session is busy a signature waits, first come first served, up to a
/// bounded time. When the token goes away the pool is invalidated: waiting and later signatures fail
/// at once with the reason, until a reconnection installs fresh sessions under a new epoch; sessions
/// of an older epoch that come back are handed out for closing instead of being reused.
final class SessionPool: Sendable {
    /// A session lent to one signature, with the connection it belongs to.
    struct Lease: Sendable {
        var session: PKCS11Session
        var epoch: UInt64
        var connection: Connection
    }

    /// What a pool's sessions sign with: the token's key and the plan for it.
    struct Connection: Sendable {
        var key: TokenKey
        var plan: SigningPlan
    }

    private struct State {
        var epoch: UInt64 = 0
        var connection: Connection?
        /// Why no session can be had, while there is no connection.
        var unavailable: PKCS11Error
        var idle: [PKCS11Session] = []
        var leased = 0
        var waiters = LeaseWaiters<Lease>()
    }

    private let state: Mutex<State>

    init(unavailable: PKCS11Error) {
        self.state = Mutex(State(unavailable: unavailable))
    }

    /// The number of sessions lent out now.
    var leasedCount: Int {
        self.state.withLock { $0.leased }
    }

    /// Starts a new epoch with `sessions` signing through `connection`.
    ///
    /// - Returns: The new epoch.
    @discardableResult
    func install(_ connection: Connection, sessions: [PKCS11Session]) -> UInt64 {
        let (epoch, handOver): (UInt64, [LeaseWaiters<Lease>.Handover]) = self.state.withLock {
            state in
            state.epoch &+= 1
            state.connection = connection
            state.idle = sessions
            return (state.epoch, Self.serveWaiters(&state))
        }
        for (continuation, lease) in handOver {
            continuation.resume(returning: lease)
        }
        return epoch
    }

    /// Ends the epoch: waiting signatures fail with `error`, and so do later ones until ``install(_:sessions:)``.
    ///
    /// - Returns: The idle sessions, for the caller to close.
    func invalidate(_ error: PKCS11Error) -> [PKCS11Session] {
        let (idle, failed): ([PKCS11Session], [CheckedContinuation<Lease, any Error>]) = self.state.withLock {
            state in
            state.epoch &+= 1
            state.connection = nil
            state.unavailable = error
            let idle = state.idle
            state.idle = []
            return (idle, state.waiters.failAll(with: error))
        }
        for continuation in failed {
            continuation.resume(throwing: error)
        }
        return idle
    }

    /// Lends a session, waiting up to `timeout` for one to come back.
    ///
    /// - Throws: The pool's ``PKCS11Error`` while it is invalidated;
    ///   ``PKCS11Error/ErrorCode/sessionPoolExhausted`` after `timeout`; `CancellationError` when the
    ///   task is cancelled while waiting.
    func acquire(timeout: Duration) async throws -> Lease {
        let immediate: Result<Lease, PKCS11Error>? = self.state.withLock { state in
            guard let connection = state.connection else { return .failure(state.unavailable) }
            guard state.waiters.isEmpty, let session = state.idle.popLast() else { return nil }
            state.leased += 1
            return .success(Lease(session: session, epoch: state.epoch, connection: connection))
        }
        if let immediate {
            return try immediate.get()
        }
        let id = self.state.withLock { $0.waiters.enqueue() }
        // A session may have come back between the two locks.
        self.serve()
        return try await LeaseWaiters.wait(
            id,
            timeout: timeout,
            timeoutError: {
                PKCS11Error(
                    code: .sessionPoolExhausted,
                    reason: """
                        no PKCS#11 session became free within \(timeout); the token is slower than the load: \
                        raise the session pool size or lower the request rate
                        """
                )
            },
            access: { body in self.state.withLock { body(&$0.waiters) } }
        )
    }

    /// Takes a session back.
    ///
    /// - Returns: The session when it belongs to an ended epoch (or the pool is closed): the caller closes it.
    func release(_ lease: Lease) -> PKCS11Session? {
        let (stale, handOver): (Bool, [LeaseWaiters<Lease>.Handover]) = self.state.withLock {
            state in
            state.leased -= 1
            guard lease.epoch == state.epoch, state.connection != nil else { return (true, []) }
            state.idle.append(lease.session)
            return (false, Self.serveWaiters(&state))
        }
        for (continuation, lease) in handOver {
            continuation.resume(returning: lease)
        }
        return stale ? lease.session : nil
    }

    private func serve() {
        let handOver = self.state.withLock { Self.serveWaiters(&$0) }
        for (continuation, lease) in handOver {
            continuation.resume(returning: lease)
        }
    }

    /// Hands idle sessions to waiters in order; the continuations are resumed by the caller, outside the lock.
    private static func serveWaiters(_ state: inout State) -> [LeaseWaiters<Lease>.Handover] {
        var handOver: [LeaseWaiters<Lease>.Handover] = []
        guard let connection = state.connection else { return handOver }
        while !state.waiters.isEmpty, let session = state.idle.popLast() {
            state.leased += 1
            let lease = Lease(session: session, epoch: state.epoch, connection: connection)
            if let served = state.waiters.serveFirst(lease) { handOver.append(served) }
        }
        return handOver
    }
}
