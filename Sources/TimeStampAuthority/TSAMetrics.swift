import Metrics
import PKIMessages

/// The TSA's metrics, created once with fixed dimensions (outcome and failInfo names only: never serials, nonces
/// or client addresses).
struct TSAMetrics: Sendable {
    let granted: Counter
    let rejections: [PKIFailureInfo: Counter]
    let otherRejection: Counter
    let duration: Timer
    let tokens: Counter

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
    }

    func record(failure: PKIFailureInfo) {
        (self.rejections[failure] ?? self.otherRejection).increment()
    }
}
