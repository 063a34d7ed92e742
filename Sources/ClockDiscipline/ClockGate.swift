public import ServiceLifecycle
import Synchronization

/// Whether a time-stamp may be issued now, and why not.
///
/// The gate knows nothing of tokens: it only says whether UTC is known within the stated bound.
public struct ClockGateDecision: Sendable, Hashable {
    public var isOpen: Bool
    /// Why the gate is closed (nil when open), for `/health` and the rejection's statusString.
    public var reason: String?
    /// The error bound in microseconds when the source knows one.
    public var errorBoundMicroseconds: Int64?

    public init(isOpen: Bool, reason: String? = nil, errorBoundMicroseconds: Int64? = nil) {
        self.isOpen = isOpen
        self.reason = reason
        self.errorBoundMicroseconds = errorBoundMicroseconds
    }

    public static let open = ClockGateDecision(isOpen: true)
}

/// The seam between the TSA and whatever proves UTC. Must be cheap: it is asked once per request.
public protocol ClockGate: Sendable {
    /// The decision for a token issued now.
    func decision() -> ClockGateDecision
    /// A short description of the gate for logs and `/health`.
    var gateDescription: String { get }
}

/// A gate that is always open (the development default, where no NTP daemon disciplines the kernel).
public struct AlwaysOpenClockGate: ClockGate {
    public init() {}
    public func decision() -> ClockGateDecision { .open }
    public var gateDescription: String { "disabled (development)" }
}

/// A gate that follows the kernel's `STA_UNSYNC` flag: closed while the kernel says the clock is not synchronised.
///
/// The state is read by `run()` every `interval` and published through a mutex, so asking costs a lock, not a
/// system call. Until the first read the gate is closed. A later issue replaces this with the full monitor
/// (chrony, SNTP probes, error bounds).
public final class KernelSyncClockGate: ClockGate, Service {
    private let state: Mutex<ClockGateDecision>
    private let interval: Duration
    private let reader: @Sendable () throws(ClockError) -> KernelClockState

    public init(
        interval: Duration = .milliseconds(500),
        reader: @escaping @Sendable () throws(ClockError) -> KernelClockState = KernelClock.read
    ) {
        self.interval = interval
        self.reader = reader
        self.state = Mutex(ClockGateDecision(isOpen: false, reason: "the kernel clock state has not been read yet"))
        self.refresh()
    }

    public var gateDescription: String { "kernel STA_UNSYNC" }

    public func decision() -> ClockGateDecision {
        self.state.withLock { $0 }
    }

    /// Reads the kernel once and publishes the decision.
    public func refresh() {
        let decision: ClockGateDecision
        do {
            let kernel = try self.reader()
            if kernel.isUnsynchronized {
                decision = ClockGateDecision(
                    isOpen: false,
                    reason: "the kernel reports the clock as unsynchronised (STA_UNSYNC, \(kernel.leapState), "
                        + "maxerror \(kernel.maxErrorMicroseconds) us)",
                    errorBoundMicroseconds: kernel.maxErrorMicroseconds
                )
            } else {
                decision = ClockGateDecision(isOpen: true, errorBoundMicroseconds: kernel.maxErrorMicroseconds)
            }
        } catch {
            decision = ClockGateDecision(isOpen: false, reason: error.reason)
        }
        self.state.withLock { $0 = decision }
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            self.refresh()
            try? await Task.sleep(for: self.interval)
        }
    }
}
