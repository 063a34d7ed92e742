import CSystemd
import Glibc
import Synchronization

/// Tells the service manager how the daemon is doing, through `sd_pid_notify(3)` (libsystemd).
///
/// The protocol (sd_notify(3), systemd.service(5) `Type=notify`): newline-separated `VARIABLE=value` assignments sent
/// as one datagram to the socket named by `$NOTIFY_SOCKET`. Without that variable (not started by systemd, or
/// `Type=simple`) every call is a no-op, so the daemon calls the same methods in both cases.
///
/// The order the daemon follows: `READY=1` once the listeners are bound, the signers passed their probe and the clock
/// status is known; `STATUS=` whenever the one-line summary changes; `WATCHDOG=1` from ``WatchdogService``;
/// `RELOADING=1` … `READY=1` around a SIGHUP reload; `STOPPING=1` when shutdown begins.
public final class ServiceManagerNotifier: Sendable {
    /// Whether `$NOTIFY_SOCKET` was set when the notifier was made.
    public let isConnected: Bool
    private let lastStatus = Mutex<String?>(nil)
    private let readySent = Atomic<Bool>(false)
    private let send: @Sendable (String) -> Bool

    /// A notifier for this process's environment. libsystemd reads `$NOTIFY_SOCKET` itself at every call.
    public convenience init(environment: [String: String]) {
        self.init(isConnected: environment["NOTIFY_SOCKET"].map { !$0.isEmpty } ?? false) { message in
            // sd_pid_notify(0, …): the message comes from this process (systemd's NotifyAccess=main accepts it).
            // unset_environment 0: the variable stays, later messages need it. Negative returns are errnos.
            message.withCString { sd_pid_notify(0, 0, $0) } > 0
        }
    }

    /// A notifier with its own transport, for tests.
    public init(isConnected: Bool, send: @escaping @Sendable (String) -> Bool) {
        self.isConnected = isConnected
        self.send = send
    }

    /// Start-up is complete: listeners bound, signers probed, clock status known.
    @discardableResult
    public func ready(status: String) -> Bool {
        self.lastStatus.withLock { $0 = status }
        self.readySent.store(true, ordering: .releasing)
        return self.notify(["READY=1", "STATUS=\(Self.oneLine(status))", "MAINPID=\(getpid())"])
    }

    /// Whether start-up completed (`ready(status:)` was called).
    public var isReady: Bool { self.readySent.load(ordering: .acquiring) }

    /// A reload began (SIGHUP). `MONOTONIC_USEC` lets systemd ≥ 253 (`Type=notify-reload`) match it to its request;
    /// older managers ignore the extra field.
    @discardableResult
    public func reloading(status: String) -> Bool {
        self.lastStatus.withLock { $0 = status }
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let microseconds = Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
        return self.notify(["RELOADING=1", "STATUS=\(Self.oneLine(status))", "MONOTONIC_USEC=\(microseconds)"])
    }

    /// Shutdown began: systemd shows "deactivating" and stops expecting watchdog pings.
    @discardableResult
    public func stopping(status: String) -> Bool {
        self.lastStatus.withLock { $0 = status }
        return self.notify(["STOPPING=1", "STATUS=\(Self.oneLine(status))"])
    }

    /// Updates the one-line status `systemctl status` shows; sends nothing when it did not change.
    @discardableResult
    public func status(_ status: String) -> Bool {
        let changed = self.lastStatus.withLock { last -> Bool in
            guard last != status else { return false }
            last = status
            return true
        }
        guard changed else { return true }
        return self.notify(["STATUS=\(Self.oneLine(status))"])
    }

    /// One watchdog keep-alive.
    @discardableResult
    public func watchdog() -> Bool {
        self.notify(["WATCHDOG=1"])
    }

    /// The last status sent.
    public var currentStatus: String? { self.lastStatus.withLock { $0 } }

    private func notify(_ assignments: [String]) -> Bool {
        guard self.isConnected else { return false }
        return self.send(assignments.joined(separator: "\n"))
    }

    /// A status is one line: a newline would start a new assignment.
    static func oneLine(_ text: String) -> String {
        String(text.map { $0.isNewline ? " " : $0 })
    }
}

/// The watchdog interval systemd asks for (`WatchdogSec=`), read through `sd_watchdog_enabled(3)`.
public enum ServiceManagerWatchdog {
    /// `$WATCHDOG_USEC` when it is set for this process (`$WATCHDOG_PID` absent or ours); `nil` otherwise.
    public static func interval() -> Duration? {
        var microseconds: UInt64 = 0
        let result = sd_watchdog_enabled(0, &microseconds)
        guard result > 0, microseconds > 0 else { return nil }
        return .microseconds(Int64(clamping: microseconds))
    }
}
