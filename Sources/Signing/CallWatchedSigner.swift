import Synchronization
public import X509

/// A hardware signer whose signature calls are timed, so that one that never returns can be noticed.
///
/// A PKCS#11 module or a PC/SC stack can block a call forever (a wedged token, a driver stuck in USB I/O). The
/// signer itself cannot see that from inside the call; this wrapper records when each ``sign(_:)`` started and
/// reports the oldest one still running. The daemon's watchdog withholds its keep-alive while that age passes a
/// limit, so systemd restarts the process instead of leaving it hung. Software signers are not wrapped: their calls
/// are CPU work that ends.
public final class CallWatchedSigner: Signer {
    public let base: any Signer
    private let calls = Mutex<(next: UInt64, started: [UInt64: ContinuousClock.Instant])>((0, [:]))

    public init(_ base: any Signer) {
        self.base = base
    }

    public var scheme: SignatureScheme { self.base.scheme }
    public var certificate: Certificate { self.base.certificate }
    public var chain: [Certificate] { self.base.chain }
    public var kind: String { self.base.kind }
    public var health: SignerHealth { self.base.health }

    public func sign(_ message: [UInt8]) async throws -> [UInt8] {
        let now = ContinuousClock.now
        let id = self.calls.withLock { calls -> UInt64 in
            calls.next &+= 1
            calls.started[calls.next] = now
            return calls.next
        }
        defer { _ = self.calls.withLock { $0.started.removeValue(forKey: id) } }
        return try await self.base.sign(message)
    }

    /// How long the oldest signature call still running has been running; `nil` when none is.
    public func oldestCallAge(now: ContinuousClock.Instant = .now) -> Duration? {
        self.calls.withLock { calls in calls.started.values.min().map { now - $0 } }
    }

    /// How many signature calls are running.
    public var runningCalls: Int { self.calls.withLock { $0.started.count } }
}
