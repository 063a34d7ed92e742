/// How the clock monitor proves UTC and when it lets the TSA issue tokens.
public struct ClockMonitorConfiguration: Sendable, Hashable {
    /// Whether the gate is enforced. When false (the development default) the gate stays open and the status says
    /// that tokens are issued without proof of UTC; the sources are still read and reported.
    public var enforce: Bool
    /// The NTP servers probed with SNTP, as `host`, `host:port` or `[v6]:port`.
    public var servers: [String]
    /// The time between two checks (each probes every server, reads the kernel and chrony).
    public var probeInterval: Duration
    /// How long a probe waits for an answer; at most the probe interval.
    public var probeTimeout: Duration
    /// The largest error bound under which tokens are issued (EN 319 421 asks for 1 s at most).
    public var maximumBoundNanoseconds: Int64
    /// K: consecutive good checks before a closed gate opens again (hysteresis).
    public var reopenAfter: Int
    /// No tokens this long before and after an announced leap second.
    public var leapMarginNanoseconds: Int64
    /// Read chrony's tracking data when chronyc answers (`auto`), or never (`off`).
    public var chrony: ChronyUse
    /// chronyd's command socket for chronyc `-h`; nil for chronyc's default.
    public var chronySocket: String?

    /// Whether and how chrony is consulted.
    public enum ChronyUse: String, Sendable, Hashable, CaseIterable {
        case auto
        case off
    }

    public init(
        enforce: Bool = true,
        servers: [String] = [],
        probeInterval: Duration = .seconds(16),
        probeTimeout: Duration = .seconds(1),
        maximumBoundNanoseconds: Int64 = 1_000_000_000,
        reopenAfter: Int = 3,
        leapMarginNanoseconds: Int64 = 10_000_000_000,
        chrony: ChronyUse = .auto,
        chronySocket: String? = nil
    ) {
        self.enforce = enforce
        self.servers = servers
        self.probeInterval = probeInterval
        self.probeTimeout = probeTimeout
        self.maximumBoundNanoseconds = maximumBoundNanoseconds
        self.reopenAfter = reopenAfter
        self.leapMarginNanoseconds = leapMarginNanoseconds
        self.chrony = chrony
        self.chronySocket = chronySocket
    }

    /// A majority of the configured servers: what must agree for the probes to count as proof.
    public var requiredAgreement: Int { self.servers.count / 2 + 1 }
}
