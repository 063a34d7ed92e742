public import ClockDiscipline
public import OCSPResponder
import Synchronization
public import TimeStampAuthority

/// The services the listeners answer with. A reload builds a new set; the listeners keep running.
public struct ServingSet: Sendable {
    public var tsa: TimeStampAuthority?
    public var ocsp: OCSPResponderService?
    public var clock: ClockMonitor?

    public init(tsa: TimeStampAuthority?, ocsp: OCSPResponderService?, clock: ClockMonitor?) {
        self.tsa = tsa
        self.ocsp = ocsp
        self.clock = clock
    }
}

/// The current ``ServingSet``, swapped by a reload without dropping a request.
///
/// Each request takes the set that is current when it starts and keeps it to the end, counted per generation; a
/// reload puts the new set in place (requests starting afterwards take it) and then waits until the old generation
/// has no request left, so that the old signers, PKCS#11 sessions and card connections are closed only after their
/// last signature.
public final class ServingSlot: Sendable {
    fileprivate final class Generation: Sendable {
        let set: ServingSet
        let number: Int
        let running = Atomic<Int>(0)

        init(set: ServingSet, number: Int) {
            self.set = set
            self.number = number
        }
    }

    private let current: Mutex<Generation>

    public init(_ set: ServingSet) {
        self.current = Mutex(Generation(set: set, number: 1))
    }

    /// The current set, for reads that do not serve a request (status, health).
    public var set: ServingSet { self.current.withLock { $0.set } }

    /// How many reloads took effect, plus one.
    public var generation: Int { self.current.withLock { $0.number } }

    /// A request that holds the set current when it started; ``leave()`` exactly once when it is answered.
    public struct Ticket: Sendable {
        fileprivate let generation: Generation
        public var set: ServingSet { self.generation.set }

        public func leave() { self.generation.running.subtract(1, ordering: .releasing) }
    }

    /// Takes the current set for a request, counted as one of its generation until the ticket's ``Ticket/leave()``.
    public func enter() -> Ticket {
        // Counted under the lock: a reload that swaps right after sees this request in the old generation.
        let generation = self.current.withLock { generation in
            generation.running.add(1, ordering: .relaxed)
            return generation
        }
        return Ticket(generation: generation)
    }

    /// Makes `set` current and waits until the requests of the previous one have finished, or `timeout` passed.
    /// - Returns: The number of the old generation's requests still running (0 when it drained).
    public func replace(with set: ServingSet, drainingWithin timeout: Duration) async -> Int {
        let old = self.current.withLock { generation in
            let old = generation
            generation = Generation(set: set, number: old.number + 1)
            return old
        }
        let deadline = ContinuousClock.now + timeout
        while true {
            let running = old.running.load(ordering: .acquiring)
            if running == 0 || ContinuousClock.now >= deadline { return running }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}
