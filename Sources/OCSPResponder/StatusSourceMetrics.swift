import Metrics

/// The watcher's metrics, created once with fixed dimensions: the issuer label from the configuration and the source
/// kind, never paths or serials.
struct StatusSourceMetrics: Sendable {
    let reloads: Counter
    let failures: Counter
    let entries: Gauge
    let revoked: Gauge
    let generation: Gauge

    init(issuerLabel: String, kind: StatusSourceKind, factory: any MetricsFactory) {
        let base = [("issuer", issuerLabel), ("source", kind.name)]
        self.reloads = Counter(
            label: "sigillum_ocsp_status_reloads_total",
            dimensions: base + [("outcome", "success")],
            factory: factory
        )
        self.failures = Counter(
            label: "sigillum_ocsp_status_reloads_total",
            dimensions: base + [("outcome", "failure")],
            factory: factory
        )
        self.entries = Gauge(label: "sigillum_ocsp_status_entries", dimensions: base, factory: factory)
        self.revoked = Gauge(label: "sigillum_ocsp_status_revoked_entries", dimensions: base, factory: factory)
        self.generation = Gauge(label: "sigillum_ocsp_status_generation", dimensions: base, factory: factory)
    }

    func record(_ snapshot: StatusSnapshot) {
        self.entries.record(snapshot.count)
        self.revoked.record(snapshot.revokedCount)
        self.generation.record(Int64(clamping: snapshot.generation))
    }
}
