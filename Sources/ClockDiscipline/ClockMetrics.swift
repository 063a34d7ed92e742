import Metrics

/// The clock's Prometheus series (fixed labels: the configured servers, never client data).
struct ClockMetrics: Sendable {
    let offset = Gauge(label: "sigillum_clock_offset_seconds")
    let bound = Gauge(label: "sigillum_clock_error_bound_seconds")
    let gateOpen = Gauge(label: "sigillum_clock_gate_open")
    let agreeing = Gauge(label: "sigillum_clock_agreeing_servers")
    let kernelMaxError = Gauge(label: "sigillum_clock_kernel_maxerror_seconds")
    let goodChecks = Counter(label: "sigillum_clock_checks_total", dimensions: [("result", "good")])
    let badChecks = Counter(label: "sigillum_clock_checks_total", dimensions: [("result", "bad")])
    let sourceOffset: [String: Gauge]
    let sourceDelay: [String: Gauge]
    let sourceAgrees: [String: Gauge]
    let servers: [String]

    init(servers: [String]) {
        self.servers = servers
        var offsets: [String: Gauge] = [:]
        var delays: [String: Gauge] = [:]
        var agrees: [String: Gauge] = [:]
        for server in servers {
            offsets[server] = Gauge(label: "sigillum_clock_source_offset_seconds", dimensions: [("source", server)])
            delays[server] = Gauge(label: "sigillum_clock_source_delay_seconds", dimensions: [("source", server)])
            agrees[server] = Gauge(label: "sigillum_clock_source_agrees", dimensions: [("source", server)])
        }
        self.sourceOffset = offsets
        self.sourceDelay = delays
        self.sourceAgrees = agrees
    }

    func record(_ check: ClockCheck) {
        (check.isGood ? self.goodChecks : self.badChecks).increment()
        if let offset = check.offsetNanoseconds { self.offset.record(Double(offset) / 1e9) }
        if let bound = check.boundNanoseconds { self.bound.record(Double(bound) / 1e9) }
        self.agreeing.record(check.agreeing.count)
        if case .success(let kernel) = check.kernel {
            self.kernelMaxError.record(Double(kernel.maxErrorMicroseconds) / 1e6)
        }
        for reading in check.probes {
            self.sourceAgrees[reading.server]?.record(check.agreeing.contains(reading.server) ? 1 : 0)
            if case .answered(let sample) = reading.outcome {
                self.sourceOffset[reading.server]?.record(Double(sample.offsetNanoseconds) / 1e9)
                self.sourceDelay[reading.server]?.record(Double(sample.delayNanoseconds) / 1e9)
            }
        }
    }
}
