/// The clock status as the admin listener's `/status` and `sigillum clock` show it. Times are seconds (Double),
/// instants ISO 8601 UTC; positive offsets mean the local clock is behind UTC.
public struct ClockReport: Sendable, Hashable, Codable {
    public struct Gate: Sendable, Hashable, Codable {
        /// Whether the gate is enforced; false in development, where tokens are issued without clock proof.
        public var enforced: Bool
        public var open: Bool
        /// Why the gate is closed (or, when not enforced, that it is not).
        public var reason: String?
        /// Consecutive good checks so far, and how many reopen a closed gate.
        public var consecutiveGood: Int
        public var reopenAfter: Int
        /// When the gate last opened or closed.
        public var since: String?
    }

    public struct Kernel: Sendable, Hashable, Codable {
        public var readable: Bool
        public var synchronized: Bool
        public var state: String
        public var statusFlags: Int32?
        public var maxErrorSeconds: Double?
        public var estimatedErrorSeconds: Double?
        public var offsetSeconds: Double?
        /// Whether the kernel counts toward the bound (it does when a daemon disciplines it).
        public var counted: Bool
        public var error: String?
    }

    public struct Chrony: Sendable, Hashable, Codable {
        public var available: Bool
        public var synchronized: Bool?
        public var reference: String?
        public var stratum: Int?
        public var offsetSeconds: Double?
        public var rootDelaySeconds: Double?
        public var rootDispersionSeconds: Double?
        public var boundSeconds: Double?
        public var leap: LeapAnnouncement?
        public var counted: Bool
        public var error: String?
    }

    public struct Source: Sendable, Hashable, Codable {
        public var name: String
        public var reachable: Bool
        public var offsetSeconds: Double?
        public var delaySeconds: Double?
        public var rootDelaySeconds: Double?
        public var rootDispersionSeconds: Double?
        /// |offset| + the interval radius: what this server alone vouches for.
        public var boundSeconds: Double?
        public var stratum: Int?
        public var referenceID: String?
        public var leap: LeapAnnouncement?
        /// In the agreeing set of the last check.
        public var agrees: Bool
        public var error: String?
        public var lastAnswer: String?
    }

    public struct Leap: Sendable, Hashable, Codable {
        public var announced: LeapAnnouncement
        public var sources: [String]
        /// When the leap second happens.
        public var at: String?
        public var marginSeconds: Double
        public var inWindow: Bool
    }

    public var gate: Gate
    /// Whether the last check proved UTC within the maximum bound.
    public var synchronized: Bool
    public var offsetSeconds: Double?
    /// The error bound now: the last check's bound grown by 15 ppm since then (RFC 5905 PHI) and by any step of
    /// the wall clock.
    public var boundSeconds: Double?
    public var maximumBoundSeconds: Double
    public var basis: String
    public var problems: [String]
    public var agreeing: Int
    public var configuredServers: Int
    public var requiredAgreement: Int
    public var probeIntervalSeconds: Double
    public var checks: Int
    public var lastCheck: String?
    public var lastGood: String?
    public var leap: Leap
    public var kernel: Kernel
    public var chrony: Chrony?
    public var sources: [Source]
}

/// One point of the drift chart: a check's offset, bound and gate state.
public struct ClockHistoryPoint: Sendable, Hashable, Codable {
    /// Unix milliseconds.
    public var t: Int64
    public var offsetSeconds: Double?
    public var boundSeconds: Double?
    public var open: Bool
    public var agreeing: Int
}
