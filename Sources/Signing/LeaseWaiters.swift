/// The first-come-first-served waiters of a pool of signing resources (PKCS#11 sessions, PIV cards).
///
/// The pool keeps this value inside its own lock together with its resources; every mutating method runs under that
/// lock and returns the continuations to resume, which the caller resumes after unlocking. A waiter is registered
/// (``enqueue()``) under the lock, then parks its continuation (``park(_:_:)``) in a second critical section: a
/// resource or a failure that comes in between is kept as the waiter's result and handed over when it parks.
package struct LeaseWaiters<Value: Sendable>: Sendable {
    private enum Waiter: Sendable {
        /// Registered, its continuation not yet stored.
        case pending
        case waiting(CheckedContinuation<Value, any Error>)
        /// Resolved before its continuation was stored.
        case resolved(Result<Value, any Error>)
    }

    /// A continuation to resume with a value, outside the lock.
    package typealias Handover = (continuation: CheckedContinuation<Value, any Error>, value: Value)

    private var waiters: [UInt64: Waiter] = [:]
    /// Exactly the waiters that are pending or waiting, oldest first.
    private var order: [UInt64] = []
    private var nextID: UInt64 = 0

    package init() {}

    /// How many wait.
    package var count: Int { self.order.count }
    package var isEmpty: Bool { self.order.isEmpty }

    /// Registers a waiter at the end of the line.
    package mutating func enqueue() -> UInt64 {
        self.nextID &+= 1
        self.waiters[self.nextID] = .pending
        self.order.append(self.nextID)
        return self.nextID
    }

    /// Gives `value` to the oldest waiter. Returns the continuation to resume when it has parked; nil when it has
    /// not yet (it gets `value` when it does).
    ///
    /// - Precondition: not ``isEmpty``.
    package mutating func serveFirst(_ value: Value) -> Handover? {
        let id = self.order.removeFirst()
        if case .waiting(let continuation) = self.waiters[id] {
            self.waiters[id] = nil
            return (continuation, value)
        }
        self.waiters[id] = .resolved(.success(value))
        return nil
    }

    /// Ends one waiter with `error` (its timeout, its cancellation); nil when it has not parked yet or is already
    /// served.
    package mutating func fail(_ id: UInt64, with error: any Error) -> CheckedContinuation<Value, any Error>? {
        switch self.waiters[id] {
        case .pending:
            self.waiters[id] = .resolved(.failure(error))
            self.order.removeAll { $0 == id }
            return nil
        case .waiting(let continuation):
            self.waiters[id] = nil
            self.order.removeAll { $0 == id }
            return continuation
        case .resolved, nil:
            return nil
        }
    }

    /// Ends every waiter with `error`; returns the parked continuations to resume throwing it.
    package mutating func failAll(with error: any Error) -> [CheckedContinuation<Value, any Error>] {
        var failed: [CheckedContinuation<Value, any Error>] = []
        for id in self.order {
            switch self.waiters[id] {
            case .waiting(let continuation):
                failed.append(continuation)
                self.waiters[id] = nil
            case .pending:
                self.waiters[id] = .resolved(.failure(error))
            case .resolved, nil:
                break
            }
        }
        self.order = []
        return failed
    }

    /// Stores the continuation of waiter `id`; returns its result instead when it was resolved meanwhile.
    private mutating func park(
        _ id: UInt64, _ continuation: CheckedContinuation<Value, any Error>
    ) -> Result<Value, any Error>? {
        switch self.waiters[id] {
        case .pending:
            self.waiters[id] = .waiting(continuation)
            return nil
        case .resolved(let result):
            self.waiters[id] = nil
            return result
        case .waiting, nil:
            return .failure(CancellationError())
        }
    }

    /// Waits as waiter `id` (from ``enqueue()``) until a pool serves it, it fails, `timeout` passes (it then fails
    /// with `timeoutError`), or the task is cancelled (`CancellationError`).
    ///
    /// - Parameter access: runs its closure on the pool's `LeaseWaiters` under the pool's lock.
    package static func wait(
        _ id: UInt64,
        timeout: Duration,
        timeoutError: @escaping @Sendable () -> any Error,
        access: @escaping @Sendable (_ body: (inout LeaseWaiters<Value>) -> Void) -> Void
    ) async throws -> Value {
        let fail: @Sendable (any Error) -> Void = { error in
            var continuation: CheckedContinuation<Value, any Error>?
            access { continuation = $0.fail(id, with: error) }
            continuation?.resume(throwing: error)
        }
        let timer = Task {
            guard (try? await Task.sleep(for: timeout)) != nil else { return }
            fail(timeoutError())
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value, any Error>) in
                var resolved: Result<Value, any Error>?
                access { resolved = $0.park(id, continuation) }
                if let resolved {
                    continuation.resume(with: resolved)
                }
            }
        } onCancel: {
            fail(CancellationError())
        }
    }
}
