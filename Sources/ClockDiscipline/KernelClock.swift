import CSysClock

/// The kernel's view of its clock discipline, read with `adjtimex` (modes 0: read only).
///
/// On Linux an NTP daemon (chronyd, ntpd, systemd-timesyncd) that disciplines the clock clears `STA_UNSYNC` and
/// keeps `maxerror` small; an undisciplined clock reports `TIME_ERROR`, `STA_UNSYNC` and a maxerror of 16 s.
public struct KernelClockState: Sendable, Hashable {
    /// The clock state: ok, insert/delete a leap second, leap second in progress, wait, or error.
    public struct LeapState: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        public static let ok = LeapState(rawValue: CSYSCLOCK_TIME_OK)
        public static let insert = LeapState(rawValue: CSYSCLOCK_TIME_INS)
        public static let delete = LeapState(rawValue: CSYSCLOCK_TIME_DEL)
        public static let inProgress = LeapState(rawValue: CSYSCLOCK_TIME_OOP)
        public static let wait = LeapState(rawValue: CSYSCLOCK_TIME_WAIT)
        public static let error = LeapState(rawValue: CSYSCLOCK_TIME_ERROR)

        public var description: String {
            switch self {
            case .ok: "TIME_OK"
            case .insert: "TIME_INS"
            case .delete: "TIME_DEL"
            case .inProgress: "TIME_OOP"
            case .wait: "TIME_WAIT"
            case .error: "TIME_ERROR"
            default: "state \(self.rawValue)"
            }
        }
    }

    public var leapState: LeapState
    /// The raw `STA_*` status flags.
    public var statusFlags: Int32
    public var offsetNanoseconds: Int64
    public var maxErrorMicroseconds: Int64
    public var estimatedErrorMicroseconds: Int64

    /// True when the kernel says its clock is not synchronised (`STA_UNSYNC`).
    public var isUnsynchronized: Bool { self.statusFlags & CSYSCLOCK_STA_UNSYNC != 0 }

    public init(
        leapState: LeapState,
        statusFlags: Int32,
        offsetNanoseconds: Int64,
        maxErrorMicroseconds: Int64,
        estimatedErrorMicroseconds: Int64
    ) {
        self.leapState = leapState
        self.statusFlags = statusFlags
        self.offsetNanoseconds = offsetNanoseconds
        self.maxErrorMicroseconds = maxErrorMicroseconds
        self.estimatedErrorMicroseconds = estimatedErrorMicroseconds
    }
}

/// Reads the kernel clock state.
public enum KernelClock {
    /// Reads the state; throws `ClockError.kernelUnreadable` when `adjtimex` fails (e.g. a seccomp filter denies it).
    public static func read() throws(ClockError) -> KernelClockState {
        let raw = csysclock_read()
        guard raw.clock_state >= 0 else {
            throw ClockError.kernelUnreadable(errno: raw.error_number)
        }
        return KernelClockState(
            leapState: .init(rawValue: raw.clock_state),
            statusFlags: raw.status,
            offsetNanoseconds: raw.offset_ns,
            maxErrorMicroseconds: raw.max_error_us,
            estimatedErrorMicroseconds: raw.est_error_us
        )
    }
}
