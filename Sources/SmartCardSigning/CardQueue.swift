import Signing
import Synchronization

/// The cards of a ``SmartCardSigner``, handed to one signature at a time, with a bounded queue.
///
/// A card runs one command sequence at a time, so each signature leases a card and gives it back.
/// When every available card is busy a signature waits, first come first served, at most the
/// configured time, and only while fewer than the configured number of signatures wait already:
/// beyond either bound it fails at once with ``SmartCardError/ErrorCode/cardBusy``. When no card is
/// available at all (every card removed) signatures fail at once with the reason, without waiting.
///
/// A card that is lost leaves the queue (``remove(_:reason:)``) until a reconnection puts it back
/// (``install(_:)``) under a new epoch; a lease of an older epoch that comes back is not reused.
final class CardQueue: Sendable {
    /// A card lent to one signature.
    struct Lease: Sendable {
        var card: Int
        var epoch: UInt64
    }

    private struct State {
        /// The epoch of each available card; a card absent here is lost or not yet connected.
        var available: [Int: UInt64] = [:]
        /// Available cards not lent out, longest idle first.
        var idle: [Int] = []
        var leased = 0
        var nextEpoch: UInt64 = 0
        /// Why no card can be had, while none is available.
        var unavailable: SmartCardError
        var closed: SmartCardError?
        var waiters = LeaseWaiters<Lease>()
    }

    private let state: Mutex<State>
    private let maximumWaiting: Int

    init(maximumWaiting: Int, unavailable: SmartCardError) {
        self.maximumWaiting = maximumWaiting
        self.state = Mutex(State(unavailable: unavailable))
    }

    /// The number of cards lent out now.
    var leasedCount: Int {
        self.state.withLock { $0.leased }
    }

    /// The number of signatures waiting now.
    var waitingCount: Int {
        self.state.withLock { $0.waiters.count }
    }

    /// Makes `card` available (again) under a new epoch and serves waiting signatures.
    func install(_ card: Int) {
        let handOver = self.state.withLock { state -> [LeaseWaiters<Lease>.Handover] in
            guard state.closed == nil else { return [] }
            state.nextEpoch &+= 1
            state.available[card] = state.nextEpoch
            state.idle.removeAll { $0 == card }
            state.idle.append(card)
            return Self.serveWaiters(&state)
        }
        for (continuation, lease) in handOver {
            continuation.resume(returning: lease)
        }
    }

    /// Takes `card` out: it is lost. When it was the last available card, waiting signatures fail with
    /// `reason`, and so do later ones until a card is installed again.
    func remove(_ card: Int, reason: SmartCardError) {
        let failed = self.state.withLock { state -> [CheckedContinuation<Lease, any Error>] in
            state.available[card] = nil
            state.idle.removeAll { $0 == card }
            guard state.available.isEmpty else { return [] }
            state.unavailable = reason
            return state.waiters.failAll(with: reason)
        }
        for continuation in failed {
            continuation.resume(throwing: reason)
        }
    }

    /// Closes the queue: waiting and later signatures fail with `error`.
    func close(_ error: SmartCardError) {
        let failed = self.state.withLock { state -> [CheckedContinuation<Lease, any Error>] in
            state.closed = error
            state.available = [:]
            state.idle = []
            return state.waiters.failAll(with: error)
        }
        for continuation in failed {
            continuation.resume(throwing: error)
        }
    }

    /// Lends a card, waiting up to `timeout` for one to come free.
    ///
    /// - Throws: The reason no card is available when none is; ``SmartCardError/ErrorCode/cardBusy``
    ///   when the queue is full or `timeout` passes; ``SmartCardError/ErrorCode/shutDown`` after
    ///   ``close(_:)``; `CancellationError` when the task is cancelled while waiting.
    func acquire(timeout: Duration) async throws -> Lease {
        enum Immediate {
            case lease(Lease)
            case failure(SmartCardError)
            case wait(UInt64)
        }
        let maximumWaiting = self.maximumWaiting
        let immediate = self.state.withLock { state -> Immediate in
            if let closed = state.closed { return .failure(closed) }
            guard !state.available.isEmpty else { return .failure(state.unavailable) }
            if state.waiters.isEmpty, !state.idle.isEmpty {
                let card = state.idle.removeFirst()
                state.leased += 1
                return .lease(Lease(card: card, epoch: state.available[card] ?? 0))
            }
            guard state.waiters.count < maximumWaiting else {
                return .failure(
                    SmartCardError(
                        code: .cardBusy,
                        reason: """
                            \(state.waiters.count) signatures are already waiting for the card (the most the \
                            queue holds); the card is slower than the load: add cards to the pool or lower \
                            the request rate
                            """
                    )
                )
            }
            return .wait(state.waiters.enqueue())
        }
        let id: UInt64
        switch immediate {
        case .lease(let lease): return lease
        case .failure(let error): throw error
        case .wait(let waiter): id = waiter
        }
        return try await LeaseWaiters.wait(
            id,
            timeout: timeout,
            timeoutError: {
                SmartCardError(
                    code: .cardBusy,
                    reason: """
                        no card became free within \(timeout); the card is slower than the load: add cards to \
                        the pool, raise the queue wait or lower the request rate
                        """
                )
            },
            access: { body in self.state.withLock { body(&$0.waiters) } }
        )
    }

    /// Takes a card back; it is lent again only when its epoch is still the current one.
    func release(_ lease: Lease) {
        let handOver = self.state.withLock { state -> [LeaseWaiters<Lease>.Handover] in
            state.leased -= 1
            guard state.closed == nil, state.available[lease.card] == lease.epoch else { return [] }
            state.idle.append(lease.card)
            return Self.serveWaiters(&state)
        }
        for (continuation, lease) in handOver {
            continuation.resume(returning: lease)
        }
    }

    /// Hands idle cards to waiters in order; the caller resumes the continuations outside the lock.
    private static func serveWaiters(_ state: inout State) -> [LeaseWaiters<Lease>.Handover] {
        var handOver: [LeaseWaiters<Lease>.Handover] = []
        while !state.waiters.isEmpty, !state.idle.isEmpty {
            let card = state.idle.removeFirst()
            state.leased += 1
            let lease = Lease(card: card, epoch: state.available[card] ?? 0)
            if let served = state.waiters.serveFirst(lease) { handOver.append(served) }
        }
        return handOver
    }
}
