import CSysClock
import Glibc

/// Placeholder until the SNTP client lands: kernel and clocks only.
public struct SystemClockSources: ClockSources {
    public init(servers: [String], probeTimeout: Duration, chrony: Bool, chronySocket: String?) {}
    public func kernel() -> Result<KernelClockState, ClockError> {
        Result { () throws(ClockError) in try KernelClock.read() }
    }
    public func chrony() async -> Result<ChronyReading, ClockError>? { nil }
    public func probe(_ servers: [String], timeout: Duration) async -> [ProbeReading] {
        servers.map { ProbeReading(server: $0, outcome: .failed(reason: "SNTP not built yet")) }
    }
    public func now() -> ClockInstant {
        var realtime = timespec()
        var monotonic = timespec()
        clock_gettime(CLOCK_REALTIME, &realtime)
        clock_gettime(CLOCK_MONOTONIC, &monotonic)
        return ClockInstant(
            realtime: Int64(realtime.tv_sec) * 1_000_000_000 + Int64(realtime.tv_nsec),
            monotonic: Int64(monotonic.tv_sec) * 1_000_000_000 + Int64(monotonic.tv_nsec))
    }
}
