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

    private enum Waiter {
        /// Registered, its continuation not yet stored.
        case pending
        case waiting(CheckedContinuation<Lease, any Error>)
        /// Resolved before its continuation was stored.
        case resolved(Result<Lease, any Error>)
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
        var waiters: [UInt64: Waiter] = [:]
        var order: [UInt64] = []
        var nextWaiter: UInt64 = 0
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
        self.state.withLock { $0.order.count }
    }

    /// Makes `card` available (again) under a new epoch and serves waiting signatures.
    func install(_ card: Int) {
        let handOver = self.state.withLock { state -> [(CheckedContinuation<Lease, any Error>, Lease)] in
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
            return Self.failAll(&state, with: reason)
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
            return Self.failAll(&state, with: error)
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
            if state.order.isEmpty, !state.idle.isEmpty {
                let card = state.idle.removeFirst()
                state.leased += 1
                return .lease(Lease(card: card, epoch: state.available[card] ?? 0))
            }
            guard state.order.count < maximumWaiting else {
                return .failure(
                    SmartCardError(
                        code: .cardBusy,
                        reason: """
                            \(state.order.count) signatures are already waiting for the card (the most the \
                            queue holds); the card is slower than the load: add cards to the pool or lower \
                            the request rate
                            """
                    )
                )
            }
            state.nextWaiter &+= 1
            state.waiters[state.nextWaiter] = .pending
            state.order.append(state.nextWaiter)
            return .wait(state.nextWaiter)
        }
        let id: UInt64
        switch immediate {
        case .lease(let lease): return lease
        case .failure(let error): throw error
        case .wait(let waiter): id = waiter
        }
        let timer = Task { [self] in
            do {
                try await Task.sleep(for: timeout)
            } catch {
                return
            }
            self.fail(
                waiter: id,
                with: SmartCardError(
                    code: .cardBusy,
                    reason: """
                        no card became free within \(timeout); the card is slower than the load: add cards to \
                        the pool, raise the queue wait or lower the request rate
                        """
                )
            )
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Lease, any Error>) in
                let resolved: Result<Lease, any Error>? = self.state.withLock { state in
                    switch state.waiters[id] {
                    case .pending:
                        state.waiters[id] = .waiting(continuation)
                        return nil
                    case .resolved(let result):
                        state.waiters[id] = nil
                        return result
                    case .waiting, nil:
                        return .failure(CancellationError())
                    }
                }
                if let resolved {
                    continuation.resume(with: resolved)
                }
            }
        } onCancel: {
            self.fail(waiter: id, with: CancellationError())
        }
    }

    /// Takes a card back; it is lent again only when its epoch is still the current one.
    func release(_ lease: Lease) {
        let handOver = self.state.withLock { state -> [(CheckedContinuation<Lease, any Error>, Lease)] in
            state.leased -= 1
            guard state.closed == nil, state.available[lease.card] == lease.epoch else { return [] }
            state.idle.append(lease.card)
            return Self.serveWaiters(&state)
        }
        for (continuation, lease) in handOver {
            continuation.resume(returning: lease)
        }
    }

    private func fail(waiter id: UInt64, with error: any Error) {
        let continuation = self.state.withLock { state -> CheckedContinuation<Lease, any Error>? in
            switch state.waiters[id] {
            case .pending:
                state.waiters[id] = .resolved(.failure(error))
                state.order.removeAll { $0 == id }
                return nil
            case .waiting(let continuation):
                state.waiters[id] = nil
                state.order.removeAll { $0 == id }
                return continuation
            case .resolved, nil:
                return nil
            }
        }
        continuation?.resume(throwing: error)
    }

    /// Hands idle cards to waiters in order; the caller resumes the continuations outside the lock.
    private static func serveWaiters(_ state: inout State) -> [(CheckedContinuation<Lease, any Error>, Lease)] {
        var handOver: [(CheckedContinuation<Lease, any Error>, Lease)] = []
        while !state.order.isEmpty, !state.idle.isEmpty {
            let id = state.order.removeFirst()
            let card = state.idle.removeFirst()
            let lease = Lease(card: card, epoch: state.available[card] ?? 0)
            state.leased += 1
            switch state.waiters[id] {
            case .pending:
                state.waiters[id] = .resolved(.success(lease))
            case .waiting(let continuation):
                state.waiters[id] = nil
                handOver.append((continuation, lease))
            case .resolved, nil:
                // Not in `order` any more by construction; give the card back.
                state.leased -= 1
                state.idle.insert(card, at: 0)
            }
        }
        return handOver
    }

    private static func failAll(_ state: inout State, with error: any Error) -> [CheckedContinuation<Lease, any Error>]
    {
        var failed: [CheckedContinuation<Lease, any Error>] = []
        for id in state.order {
            switch state.waiters[id] {
            case .waiting(let continuation):
                failed.append(continuation)
                state.waiters[id] = nil
            case .pending:
                state.waiters[id] = .resolved(.failure(error))
            case .resolved, nil:
                break
            }
        }
        state.order = []
        return failed
    }
}
