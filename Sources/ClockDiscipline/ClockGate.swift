/// Whether a time-stamp may be issued now, and under which clock evidence.
///
/// The gate knows nothing of tokens: it only says whether UTC is known within the stated bound.
public struct ClockGateDecision: Sendable, Hashable {
    public var isOpen: Bool
    /// Why the gate is closed (nil when open), for `/health` and the rejection's statusString.
    public var reason: String?
    /// The error bound of the clock now, in nanoseconds, when a source proves one.
    public var boundNanoseconds: Int64?
    /// Whether the gate is enforced; a disabled gate (development) is open without proof.
    public var enforced: Bool

    public init(isOpen: Bool, reason: String? = nil, boundNanoseconds: Int64? = nil, enforced: Bool = true) {
        self.isOpen = isOpen
        self.reason = reason
        self.boundNanoseconds = boundNanoseconds
        self.enforced = enforced
    }

    /// The gate state as kept in each audit record: `open`, `closed` or `disabled`.
    public var stateText: String { self.enforced ? (self.isOpen ? "open" : "closed") : "disabled" }
}

/// The seam between the TSA and whatever proves UTC. Must be cheap: it is asked once per request.
public protocol ClockGate: Sendable {
    /// The decision for a token issued now.
    func decision() -> ClockGateDecision
    /// A short description of the gate for logs and `/health`.
    var gateDescription: String { get }
}

/// A gate that is always open and proves nothing (unit tests, and code paths without a monitor).
public struct AlwaysOpenClockGate: ClockGate {
    public init() {}
    public func decision() -> ClockGateDecision { ClockGateDecision(isOpen: true, enforced: false) }
    public var gateDescription: String { "disabled" }
}
