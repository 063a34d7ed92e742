import Synchronization

/// Hands out genTime values that strictly increase across every token of this instance.
///
/// EN 319 422 §5.2 / RFC 3161 §2.4.2 `ordering`: tokens of one TSA must be orderable by genTime. genTime carries
/// microseconds, and each value is the wall clock at the moment it is taken, never invented: when the clock reads
/// a time not after the last issued genTime (two requests in the same microsecond, a backward step, or a restart
/// behind the time persisted in the ledger), the sequencer waits for the clock to pass it if that takes at most
/// `maximumWait`, and refuses otherwise.
final class GenTimeSequencer: Sendable {
    /// The last issued genTime, microseconds since 1970.
    let last: Mutex<Int64>
    private let maximumWaitStorage: Atomic<Int64>
    let now: @Sendable () -> (seconds: Int64, nanoseconds: Int64)

    /// Why a genTime could not be issued.
    struct Behind: Error {
        /// How far the clock is behind the last genTime, in microseconds.
        var microseconds: Int64
    }

    init(
        after last: Int64?,
        maximumWait: Duration,
        now: @escaping @Sendable () -> (seconds: Int64, nanoseconds: Int64)
    ) {
        self.last = Mutex(last ?? Int64.min)
        self.maximumWaitStorage = Atomic(Self.microseconds(maximumWait))
        self.now = now
    }

    /// The longest wait for the clock to pass the last genTime; a reload may change it.
    var maximumWait: Duration {
        get { .microseconds(self.maximumWaitMicroseconds) }
        set { self.maximumWaitStorage.store(Self.microseconds(newValue), ordering: .relaxed) }
    }

    var maximumWaitMicroseconds: Int64 { self.maximumWaitStorage.load(ordering: .relaxed) }

    private static func microseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return max(0, seconds * 1_000_000 + attoseconds / 1_000_000_000_000)
    }

    /// The next genTime, strictly after every earlier one.
    func next() async throws(Behind) -> (seconds: Int64, nanoseconds: Int64) {
        // Read only once the clock is found behind: the usual request never waits.
        var start: ContinuousClock.Instant?
        // Two requests in one microsecond always wait for the next one, whatever the configured maximum.
        let allowance = max(self.maximumWaitMicroseconds, 100)
        while true {
            let behind: Int64
            switch self.attempt() {
            case .issued(let time): return time
            case .behind(let microseconds): behind = microseconds
            }
            let now = ContinuousClock.now
            let waited = (now - (start ?? now)).components
            if start == nil { start = now }
            let waitedMicros = waited.seconds * 1_000_000 + waited.attoseconds / 1_000_000_000_000
            guard waitedMicros + behind <= allowance else {
                throw Behind(microseconds: behind)
            }
            if behind > Self.spinLimit {
                try? await Task.sleep(for: .microseconds(behind))
            }
            // Shorter waits re-read the clock at once: a microsecond passes before a task switch would.
        }
    }

    /// The next genTime when it can be taken without sleeping (the clock is past the last genTime, or within
    /// ``spinLimit`` µs of it); nil when the caller must use ``next()``, which sleeps or refuses.
    func nextWithoutSleeping() -> (seconds: Int64, nanoseconds: Int64)? {
        var deadline: ContinuousClock.Instant?
        while true {
            switch self.attempt() {
            case .issued(let time):
                return time
            case .behind(let microseconds) where microseconds <= Self.spinLimit:
                // Bounded by the monotonic clock too, in case the wall clock does not move.
                let now = ContinuousClock.now
                if let deadline, now >= deadline { return nil }
                if deadline == nil { deadline = now + .microseconds(Self.spinLimit) }
            case .behind:
                return nil
            }
        }
    }

    /// Waits up to this many microseconds are spent re-reading the clock rather than sleeping.
    static let spinLimit: Int64 = 50

    private enum Attempt {
        case issued((seconds: Int64, nanoseconds: Int64))
        /// How many microseconds the clock must advance first.
        case behind(Int64)
    }

    /// Takes the clock's reading as the next genTime if it is after the last one.
    private func attempt() -> Attempt {
        let time = self.now()
        let micros = time.seconds * 1_000_000 + time.nanoseconds / 1000
        let behind = self.last.withLock { last -> Int64 in
            if micros > last {
                last = micros
                return 0
            }
            return last - micros + 1
        }
        // Truncate to the microsecond actually recorded, so the text and the number agree.
        return behind == 0 ? .issued((time.seconds, time.nanoseconds / 1000 * 1000)) : .behind(behind)
    }

    /// The last issued genTime.
    var lastIssued: Int64? {
        let value = self.last.withLock { $0 }
        return value == Int64.min ? nil : value
    }
}
