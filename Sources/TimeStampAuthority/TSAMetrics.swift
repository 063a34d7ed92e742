import Metrics
import PKIMessages
import Synchronization

/// Plain counts since start, for `/status` and the status page (Prometheus has the same as counters).
public struct TSACounts: Sendable, Hashable, Codable {
    public var granted: Int
    public var rejected: Int
    public var refusedForTime: Int
}

/// The atomics behind ``TSACounts``.
final class TSACounters: Sendable {
    let granted = Atomic<Int>(0)
    let rejected = Atomic<Int>(0)
    let refusedForTime = Atomic<Int>(0)

    var snapshot: TSACounts {
        TSACounts(
            granted: self.granted.load(ordering: .relaxed), rejected: self.rejected.load(ordering: .relaxed),
            refusedForTime: self.refusedForTime.load(ordering: .relaxed))
    }
}

/// The TSA's metrics, created once with fixed dimensions (outcome and failInfo names only: never serials, nonces
/// or client addresses).
struct TSAMetrics: Sendable {
    let granted: Counter
    let rejections: [PKIFailureInfo: Counter]
    let otherRejection: Counter
    let duration: Timer
    let tokens: Counter
    /// Stamps refused because UTC was not proven (gate closed, bound above the accuracy, clock behind genTime).
    let refusedForTime: Counter
    let counters = TSACounters()

    static let failures: [PKIFailureInfo] = [
        .badAlg, .badRequest, .badDataFormat, .timeNotAvailable, .unacceptedPolicy, .unacceptedExtension,
        .addInfoNotAvailable, .systemFailure,
    ]

    init() {
        self.granted = Counter(
            label: "sigillum_tsa_requests_total", dimensions: [("outcome", "granted"), ("failinfo", "none")])
        var rejections: [PKIFailureInfo: Counter] = [:]
        for failure in Self.failures {
            rejections[failure] = Counter(
                label: "sigillum_tsa_requests_total",
                dimensions: [("outcome", "rejection"), ("failinfo", failure.description)]
            )
        }
        self.rejections = rejections
        self.otherRejection = Counter(
            label: "sigillum_tsa_requests_total",
            dimensions: [("outcome", "rejection"), ("failinfo", "other")]
        )
        self.duration = Timer(label: "sigillum_tsa_request_duration_seconds", preferredDisplayUnit: .seconds)
        self.tokens = Counter(label: "sigillum_tsa_tokens_issued_total")
        self.refusedForTime = Counter(label: "sigillum_tsa_refused_for_time_total")
    }

    func record(failure: PKIFailureInfo) {
        (self.rejections[failure] ?? self.otherRejection).increment()
        self.counters.rejected.add(1, ordering: .relaxed)
    }
}
