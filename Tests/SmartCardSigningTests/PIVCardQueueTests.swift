import Crypto
import Signing
import Testing

@testable import SmartCardSigning

@Suite("PIV card queue (no PC/SC)")
struct PIVCardQueueTests {
    private func queue(maximumWaiting: Int = 4) -> CardQueue {
        CardQueue(
            maximumWaiting: maximumWaiting,
            unavailable: SmartCardError(code: .cardUnavailable, reason: "no card yet")
        )
    }

    @Test("cards are lent in turn, longest idle first")
    func rotation() async throws {
        let queue = self.queue()
        queue.install(0)
        queue.install(1)
        var order: [Int] = []
        for _ in 0..<4 {
            let lease = try await queue.acquire(timeout: .seconds(1))
            order.append(lease.card)
            queue.release(lease)
        }
        #expect(order == [0, 1, 0, 1])
    }

    @Test("a wait for a busy card is bounded and fails with cardBusy; a full queue fails at once")
    func boundedWait() async throws {
        let queue = self.queue(maximumWaiting: 1)
        queue.install(0)
        let held = try await queue.acquire(timeout: .seconds(1))
        let waiter = Task { try await queue.acquire(timeout: .milliseconds(200)) }
        let waiting = await eventually(timeout: .seconds(2)) { queue.waitingCount == 1 }
        #expect(waiting)
        let start = ContinuousClock.now
        let full = await #expect(throws: SmartCardError.self) { _ = try await queue.acquire(timeout: .seconds(5)) }
        #expect(full?.code == .cardBusy)
        #expect(full?.reason.contains("already waiting") == true)
        #expect(ContinuousClock.now - start < .seconds(1))
        let timedOut = await #expect(throws: SmartCardError.self) { _ = try await waiter.value }
        #expect(timedOut?.code == .cardBusy)
        #expect(timedOut?.reason.contains("within") == true)
        queue.release(held)
        #expect(queue.leasedCount == 0)
    }

    @Test("a card given back goes to the first waiter")
    func handOver() async throws {
        let queue = self.queue()
        queue.install(0)
        let held = try await queue.acquire(timeout: .seconds(1))
        let waiter = Task { try await queue.acquire(timeout: .seconds(5)) }
        _ = await eventually(timeout: .seconds(2)) { queue.waitingCount == 1 }
        queue.release(held)
        let lease = try await waiter.value
        #expect(lease.card == 0)
        queue.release(lease)
    }

    @Test("the last card lost: waiters and later signatures fail at once with the reason; a reconnection serves again")
    func lossAndReturn() async throws {
        let queue = self.queue()
        queue.install(0)
        let held = try await queue.acquire(timeout: .seconds(1))
        let waiter = Task { try await queue.acquire(timeout: .seconds(5)) }
        _ = await eventually(timeout: .seconds(2)) { queue.waitingCount == 1 }
        queue.remove(0, reason: SmartCardError(code: .cardUnavailable, reason: "card pulled"))
        let failed = await #expect(throws: SmartCardError.self) { _ = try await waiter.value }
        #expect(failed?.reason == "card pulled")
        // The lease of the lost connection is not lent again.
        queue.release(held)
        let start = ContinuousClock.now
        let meanwhile = await #expect(throws: SmartCardError.self) { _ = try await queue.acquire(timeout: .seconds(5)) }
        #expect(meanwhile?.code == .cardUnavailable)
        #expect(ContinuousClock.now - start < .seconds(1))
        queue.install(0)
        let lease = try await queue.acquire(timeout: .seconds(1))
        #expect(lease.epoch != held.epoch)
        queue.release(lease)
        queue.close(SmartCardError(code: .shutDown, reason: "closed"))
        let closed = await #expect(throws: SmartCardError.self) { _ = try await queue.acquire(timeout: .seconds(1)) }
        #expect(closed?.code == .shutDown)
    }

    @Test("one card of two lost: the other keeps serving")
    func poolKeepsServing() async throws {
        let queue = self.queue()
        queue.install(0)
        queue.install(1)
        queue.remove(0, reason: SmartCardError(code: .cardUnavailable, reason: "card 0 pulled"))
        for _ in 0..<3 {
            let lease = try await queue.acquire(timeout: .seconds(1))
            #expect(lease.card == 1)
            queue.release(lease)
        }
    }

    @Test("RSA input: EMSA-PKCS1-v1_5 with the DigestInfo of the configured hash, 256 octets")
    func rsaBlock() {
        let message = Array("block".utf8)
        let plan = PIVSigningPlan(algorithm: .rsa2048, scheme: .rsaPKCS1v15SHA384)
        let block = plan.input(for: message)
        #expect(block.count == 256)
        #expect(Array(block.prefix(2)) == [0x00, 0x01])
        let digestInfo: [UInt8] =
            [
                0x30, 0x41, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00,
                0x04, 0x30,
            ]
            + Array(SHA384.hash(data: message))
        #expect(Array(block.suffix(digestInfo.count)) == digestInfo)
        #expect(block[256 - digestInfo.count - 1] == 0x00)
        #expect(block[2..<(256 - digestInfo.count - 1)].allSatisfy { $0 == 0xFF })
        let ecc = PIVSigningPlan(algorithm: .eccP384, scheme: .ecdsaP384SHA384)
        #expect(ecc.input(for: message) == Array(SHA384.hash(data: message)))
    }
}
