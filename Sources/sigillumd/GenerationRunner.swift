import HTTPFront
import Logging
import ServiceLifecycle
import Signing
import Synchronization

/// Runs the background services of the current ``Generation`` and replaces the generation on a reload.
///
/// A replacement starts the new generation's services, makes its services current for new requests (``ServingSlot``),
/// waits (bounded) until the old generation's requests have finished, and only then shuts the old generation's
/// services down — its signers close after their last signature.
final class GenerationRunner: Service {
    let slot: ServingSlot
    let drainTimeout: Duration
    let logger: Logger
    private let state: Mutex<State>
    private let groups: AsyncStream<ServiceGroup>
    private let incoming: AsyncStream<ServiceGroup>.Continuation

    private struct State {
        var current: Generation
        var currentGroup: ServiceGroup?
        var stopping = false
    }

    init(first: Generation, slot: ServingSlot, drainTimeout: Duration, logger: Logger) {
        self.slot = slot
        self.drainTimeout = drainTimeout
        self.logger = logger
        (self.groups, self.incoming) = AsyncStream.makeStream()
        let group = Self.group(for: first, logger: logger)
        self.state = Mutex(State(current: first, currentGroup: group))
        if let group { self.incoming.yield(group) }
    }

    /// The generation new requests are served by.
    var current: Generation { self.state.withLock { $0.current } }

    func run() async throws {
        let groups = self.groups
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { running in
                for await group in groups {
                    running.addTask { try await group.run() }
                }
            }
        } onGracefulShutdown: {
            self.incoming.finish()
            let group = self.state.withLock { state in
                state.stopping = true
                return state.currentGroup
            }
            if let group { Task { await group.triggerGracefulShutdown() } }
        }
    }

    /// Puts `next` in place of the current generation.
    /// - Returns: How many requests of the old generation were still running when the drain time ran out.
    func replace(with next: Generation) async -> Int {
        let group = Self.group(for: next, logger: self.logger)
        let (stopping, oldGroup) = self.state.withLock { state -> (Bool, ServiceGroup?) in
            guard !state.stopping else { return (true, nil) }
            let old = state.currentGroup
            state.current = next
            state.currentGroup = group
            return (false, old)
        }
        guard !stopping else {
            // Shutting down: the new generation is never served; close what it opened.
            await GenerationBuilder.shutDown(next.services, logger: self.logger)
            return 0
        }
        if let group { self.incoming.yield(group) }
        let stillRunning = await self.slot.replace(with: next.serving, drainingWithin: self.drainTimeout)
        if stillRunning > 0 {
            let message =
                "\(stillRunning) request(s) of the previous configuration still running after \(self.drainTimeout); "
                + "closing its signers anyway"
            self.logger.warning(
                "\(message)",
                metadata: ["sigillum.event": "reload.drain.timeout"])
        }
        if let oldGroup { await oldGroup.triggerGracefulShutdown() }
        return stillRunning
    }

    private static func group(for generation: Generation, logger: Logger) -> ServiceGroup? {
        guard !generation.services.isEmpty else { return nil }
        return ServiceGroup(
            configuration: .init(services: generation.services.map { .init(service: $0) }, logger: logger))
    }
}
