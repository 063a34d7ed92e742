import Dispatch
import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import SystemdIntegration

@Suite("Watchdog keep-alives only while the event loops and the checks answer")
struct WatchdogTests {
    final class Pings: Sendable {
        let count = Atomic<Int>(0)
    }

    func service(_ checks: [LivenessCheck], pings: Pings, interval: Duration = .seconds(2)) -> WatchdogService {
        let notifier = ServiceManagerNotifier(isConnected: true) { message in
            if message == "WATCHDOG=1" { pings.count.add(1, ordering: .relaxed) }
            return true
        }
        return WatchdogService(notifier: notifier, interval: interval, checks: checks, logger: Logger(label: "test"))
    }

    @Test("A blocked event loop withholds the keep-alive; it resumes once the loop runs again")
    func blockedLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let pings = Pings()
        // 8 s: each loop gets 2 s to answer, plenty on a loaded machine.
        let watchdog = self.service([.eventLoops(group)], pings: pings, interval: .seconds(8))

        #expect(await watchdog.tick())
        #expect(pings.count.load(ordering: .relaxed) == 1)

        // A handler that never yields: one loop's thread is stuck until the semaphore is signalled.
        let release = DispatchSemaphore(value: 0)
        let loops = Array(group.makeIterator())
        loops[1].execute { release.wait() }
        #expect(await !watchdog.tick())
        #expect(pings.count.load(ordering: .relaxed) == 1)
        #expect(watchdog.problems.count == 1)
        #expect(watchdog.problems.first?.contains("event loop(s) 1 of 2") == true, "\(watchdog.problems)")

        release.signal()
        #expect(await watchdog.tick())
        #expect(pings.count.load(ordering: .relaxed) == 2)
        #expect(watchdog.problems.isEmpty)
        try await group.shutdownGracefully()
    }

    @Test("A failing check withholds the keep-alive and names itself")
    func failingCheck() async {
        let failing = Atomic<Bool>(true)
        let check = LivenessCheck(name: "signers") { _ in
            failing.load(ordering: .relaxed) ? "a pkcs11 signature call has been running for 40 s" : nil
        }
        let pings = Pings()
        let watchdog = self.service([check], pings: pings)
        #expect(await !watchdog.tick())
        #expect(watchdog.problems == ["signers: a pkcs11 signature call has been running for 40 s"])
        failing.store(false, ordering: .relaxed)
        #expect(await watchdog.tick())
        #expect(pings.count.load(ordering: .relaxed) == 1)
    }

    @Test("run() waits for READY, then pings at half the interval, never faster")
    func runPings() async throws {
        let pings = Pings()
        let notifier = ServiceManagerNotifier(isConnected: true) { message in
            if message == "WATCHDOG=1" { pings.count.add(1, ordering: .relaxed) }
            return true
        }
        let watchdog = WatchdogService(
            notifier: notifier, interval: .milliseconds(400), checks: [], logger: Logger(label: "test"))
        let task = Task { try await watchdog.run() }
        try await Task.sleep(for: .milliseconds(500))
        #expect(pings.count.load(ordering: .relaxed) == 0, "no keep-alive before READY=1")
        notifier.ready(status: "serving")
        // The first ping comes at once; two more need at least two half-intervals (a loaded machine may take longer,
        // so only the lower bound is asserted, and the wait for them is generous).
        let deadline = ContinuousClock.now + .seconds(30)
        while pings.count.load(ordering: .relaxed) < 1, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        let first = ContinuousClock.now
        while pings.count.load(ordering: .relaxed) < 3, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        let elapsed = ContinuousClock.now - first
        task.cancel()
        _ = try? await task.value
        #expect(pings.count.load(ordering: .relaxed) >= 3)
        #expect(elapsed >= .milliseconds(350), "3 pings within \(elapsed): faster than every 200 ms")
    }
}
