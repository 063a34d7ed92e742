import CPKCS11
import Signing
import Testing

@testable import PKCS11Signing

@Suite("PKCS11 session pool")
struct SessionPoolTests {
    private func connection() throws -> SessionPool.Connection {
        let key = TokenKey(handle: 7, algorithm: .ec(.p256), label: "k", id: [1], canSign: true)
        let plan = try SigningPlan.make(scheme: .ecdsaP256SHA256, key: key, mechanisms: [CKM_ECDSA], token: "test")
        return SessionPool.Connection(key: key, plan: plan)
    }

    private func sessions(_ count: Int) -> [PKCS11Session] {
        (0..<count).map { PKCS11Session(handle: CK_SESSION_HANDLE($0 + 1), slot: 0, generation: 0) }
    }

    @Test("a wait for a busy pool is bounded and fails with sessionPoolExhausted")
    func boundedWait() async throws {
        let pool = SessionPool(unavailable: PKCS11Error(code: .tokenUnavailable, reason: "not yet"))
        pool.install(try self.connection(), sessions: self.sessions(1))
        let lease = try await pool.acquire(timeout: .seconds(1))
        let start = ContinuousClock.now
        let error = try await #require(throws: PKCS11Error.self) {
            _ = try await pool.acquire(timeout: .milliseconds(100))
        }
        #expect(error.code == .sessionPoolExhausted)
        // The bound holds as long as the cooperative pool runs the timer; the full test run starves it at times.
        #expect(ContinuousClock.now - start >= .milliseconds(100))
        #expect(ContinuousClock.now - start < .seconds(60))
        #expect(pool.release(lease) == nil)
        let again = try await pool.acquire(timeout: .milliseconds(100))
        #expect(again.session == lease.session)
        #expect(pool.release(again) == nil)
        #expect(pool.leasedCount == 0)
    }

    @Test("waiters are served in order as sessions come back")
    func firstComeFirstServed() async throws {
        let pool = SessionPool(unavailable: PKCS11Error(code: .tokenUnavailable, reason: "not yet"))
        pool.install(try self.connection(), sessions: self.sessions(1))
        let held = try await pool.acquire(timeout: .seconds(1))
        let first = Task { try await pool.acquire(timeout: .seconds(10)) }
        try await Task.sleep(for: .milliseconds(50))
        let second = Task { try await pool.acquire(timeout: .seconds(10)) }
        try await Task.sleep(for: .milliseconds(50))
        _ = pool.release(held)
        let firstLease = try await first.value
        _ = pool.release(firstLease)
        let secondLease = try await second.value
        _ = pool.release(secondLease)
        #expect(pool.leasedCount == 0)
    }

    @Test("invalidation fails waiters at once, later acquisitions too, and stale sessions come back for closing")
    func invalidation() async throws {
        let pool = SessionPool(unavailable: PKCS11Error(code: .tokenUnavailable, reason: "not yet"))
        pool.install(try self.connection(), sessions: self.sessions(2))
        let a = try await pool.acquire(timeout: .seconds(1))
        let b = try await pool.acquire(timeout: .seconds(1))
        let waiter = Task { try await pool.acquire(timeout: .seconds(30)) }
        try await Task.sleep(for: .milliseconds(50))
        let idle = pool.invalidate(PKCS11Error(code: .tokenUnavailable, reason: "token gone"))
        #expect(idle.isEmpty)
        let waited = try await #require(throws: PKCS11Error.self) { _ = try await waiter.value }
        #expect(waited.code == .tokenUnavailable)
        #expect(waited.reason == "token gone")
        await #expect(throws: PKCS11Error.self) { _ = try await pool.acquire(timeout: .seconds(1)) }
        #expect(pool.release(a) == a.session)
        pool.install(try self.connection(), sessions: [PKCS11Session(handle: 9, slot: 0, generation: 1)])
        #expect(pool.release(b) == b.session, "a session of an ended epoch is never reused")
        let fresh = try await pool.acquire(timeout: .seconds(1))
        #expect(fresh.session.handle == 9)
        _ = pool.release(fresh)
    }

    @Test("a cancelled waiter leaves the queue")
    func cancellation() async throws {
        let pool = SessionPool(unavailable: PKCS11Error(code: .tokenUnavailable, reason: "not yet"))
        pool.install(try self.connection(), sessions: self.sessions(1))
        let held = try await pool.acquire(timeout: .seconds(1))
        let waiter = Task { try await pool.acquire(timeout: .seconds(30)) }
        try await Task.sleep(for: .milliseconds(50))
        waiter.cancel()
        await #expect(throws: CancellationError.self) { _ = try await waiter.value }
        _ = pool.release(held)
        let next = try await pool.acquire(timeout: .milliseconds(100))
        _ = pool.release(next)
        #expect(pool.leasedCount == 0)
    }
}
