/// A leap second announced by a source (RFC 5905 §7.3 LI, chrony's leap status, the kernel's TIME_INS/TIME_DEL).
public enum LeapAnnouncement: String, Sendable, Hashable, Codable {
    case none
    case insert
    case delete
}

/// One SNTP probe of one server, as the monitor uses it.
public struct ProbeReading: Sendable, Hashable {
    /// The server as configured (`host:port`).
    public var server: String
    public var outcome: Outcome

    public enum Outcome: Sendable, Hashable {
        case answered(ProbeSample)
        /// The probe failed; the reason names what was wrong (timeout, kiss-o'-death code, bad mode...).
        case failed(reason: String)
    }

    public init(server: String, outcome: Outcome) {
        self.server = server
        self.outcome = outcome
    }
}

/// A sane answer from an NTP server.
public struct ProbeSample: Sendable, Hashable {
    /// θ: the server's clock minus ours, in nanoseconds (positive: our clock is behind).
    public var offsetNanoseconds: Int64
    /// δ: the round-trip delay, in nanoseconds (never negative).
    public var delayNanoseconds: Int64
    public var rootDelayNanoseconds: Int64
    public var rootDispersionNanoseconds: Int64
    public var stratum: Int
    public var leap: LeapAnnouncement
    public var referenceID: String
    /// The server's precision as a power of two (seconds).
    public var precisionExponent: Int

    public init(
        offsetNanoseconds: Int64,
        delayNanoseconds: Int64,
        rootDelayNanoseconds: Int64,
        rootDispersionNanoseconds: Int64,
        stratum: Int,
        leap: LeapAnnouncement,
        referenceID: String,
        precisionExponent: Int = -20
    ) {
        self.offsetNanoseconds = offsetNanoseconds
        self.delayNanoseconds = delayNanoseconds
        self.rootDelayNanoseconds = rootDelayNanoseconds
        self.rootDispersionNanoseconds = rootDispersionNanoseconds
        self.stratum = stratum
        self.leap = leap
        self.referenceID = referenceID
        self.precisionExponent = precisionExponent
    }

    /// The half-width of the interval around θ that holds the true offset if the server keeps UTC:
    /// δ/2 (the path asymmetry can be at most the whole round trip) + root delay/2 + root dispersion (the server's
    /// own distance to its reference, RFC 5905 §11.2 "root distance") + the server's precision and ours (1 µs).
    public var radiusNanoseconds: Int64 {
        let precision = Self.nanoseconds(ofPowerOfTwo: self.precisionExponent)
        return self.delayNanoseconds / 2 + self.rootDelayNanoseconds / 2 + self.rootDispersionNanoseconds + precision
            + 1_000
    }

    /// The error bound this server alone vouches for: |θ| + radius.
    public var boundNanoseconds: Int64 { abs(self.offsetNanoseconds) + self.radiusNanoseconds }

    static func nanoseconds(ofPowerOfTwo exponent: Int) -> Int64 {
        guard exponent < 0 else { return 1_000_000_000 << Int64(min(exponent, 30)) }
        guard exponent > -31 else { return 1 }
        return max(1, 1_000_000_000 >> Int64(-exponent))
    }
}

/// What chrony says about the clock it disciplines (`chronyc tracking`).
public struct ChronyReading: Sendable, Hashable {
    /// Whether chronyd says it is synchronised (its leap status is not "Not synchronised").
    public var synchronized: Bool
    /// The reference chrony follows (name or address).
    public var reference: String
    public var stratum: Int
    /// UTC minus the system clock, in nanoseconds (the same convention as an SNTP offset).
    public var offsetNanoseconds: Int64
    public var rootDelayNanoseconds: Int64
    public var rootDispersionNanoseconds: Int64
    public var leap: LeapAnnouncement

    public init(
        synchronized: Bool,
        reference: String,
        stratum: Int,
        offsetNanoseconds: Int64,
        rootDelayNanoseconds: Int64,
        rootDispersionNanoseconds: Int64,
        leap: LeapAnnouncement
    ) {
        self.synchronized = synchronized
        self.reference = reference
        self.stratum = stratum
        self.offsetNanoseconds = offsetNanoseconds
        self.rootDelayNanoseconds = rootDelayNanoseconds
        self.rootDispersionNanoseconds = rootDispersionNanoseconds
        self.leap = leap
    }

    /// chrony's own error bound: |offset| + root delay/2 + root dispersion (chrony's "root distance" plus the
    /// remaining correction).
    public var boundNanoseconds: Int64 {
        abs(self.offsetNanoseconds) + self.rootDelayNanoseconds / 2 + self.rootDispersionNanoseconds
    }
}

/// Where the monitor gets its readings; the daemon wires the real ones, tests inject their own.
public protocol ClockSources: Sendable {
    /// Reads the kernel's discipline state.
    func kernel() -> Result<KernelClockState, ClockError>
    /// chrony's tracking data; nil when chrony is not used or not running (`reason` says which).
    func chrony() async -> Result<ChronyReading, ClockError>?
    /// Probes every server once, concurrently; one reading per server, in the order given.
    func probe(_ servers: [String], timeout: Duration) async -> [ProbeReading]
    /// The wall clock (CLOCK_REALTIME) and a monotonic clock (CLOCK_MONOTONIC), in nanoseconds.
    func now() -> ClockInstant
}

/// Two clocks read together: a step of the wall clock shows as a change of their difference.
public struct ClockInstant: Sendable, Hashable {
    /// CLOCK_REALTIME, nanoseconds since 1970.
    public var realtime: Int64
    /// CLOCK_MONOTONIC, nanoseconds since boot (not stepped, only slewed).
    public var monotonic: Int64

    public init(realtime: Int64, monotonic: Int64) {
        self.realtime = realtime
        self.monotonic = monotonic
    }
}
