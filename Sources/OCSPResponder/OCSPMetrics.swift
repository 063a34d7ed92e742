import Metrics
import PKIMessages

/// Responder metrics, created once with fixed dimensions (status and source only).
struct OCSPMetrics: Sendable {
    let fromCache: Counter
    let live: Counter
    let failures: [Int: Counter]
    let otherFailure: Counter
    let presigned: Counter

    init() {
        self.fromCache = Counter(
            label: "sigillum_ocsp_responses_total",
            dimensions: [("status", "successful"), ("source", "cache")]
        )
        self.live = Counter(
            label: "sigillum_ocsp_responses_total", dimensions: [("status", "successful"), ("source", "live")])
        var failures: [Int: Counter] = [:]
        for (value, name) in [
            (1, "malformedRequest"), (2, "internalError"), (3, "tryLater"), (5, "sigRequired"), (6, "unauthorized"),
        ] {
            failures[value] = Counter(
                label: "sigillum_ocsp_responses_total", dimensions: [("status", name), ("source", "none")])
        }
        self.failures = failures
        self.otherFailure = Counter(
            label: "sigillum_ocsp_responses_total", dimensions: [("status", "other"), ("source", "none")])
        self.presigned = Counter(label: "sigillum_ocsp_presigned_total")
    }

    func record(_ outcome: OCSPOutcome) {
        if outcome.status == .successful {
            (outcome.fromCache ? self.fromCache : self.live).increment()
        } else {
            (self.failures[outcome.status.rawValue] ?? self.otherFailure).increment()
        }
    }
}
