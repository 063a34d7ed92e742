import Logging
import NIOCore
import Synchronization

/// The connections a listener has open, so that those still open when the drain time after a graceful shutdown is
/// over can be closed (a client that never completes its request must not hold up the signers' and ledger's
/// shutdown).
final class OpenConnections: Sendable {
    private let open = Mutex<[ObjectIdentifier: any Channel]>([:])

    func insert(_ channel: any Channel) {
        let key = ObjectIdentifier(channel)
        self.open.withLock { $0[key] = channel }
    }

    func remove(_ channel: any Channel) {
        let key = ObjectIdentifier(channel)
        _ = self.open.withLock { $0.removeValue(forKey: key) }
    }

    /// Closes every connection still open now.
    func closeAll() -> Int {
        let remaining = self.open.withLock { Array($0.values) }
        for channel in remaining { channel.close(promise: nil) }
        return remaining.count
    }

    /// After `drainTime`, closes the connections still open, with a warning naming how many.
    func close(after drainTime: Duration, on loop: any EventLoop, logger: Logger) {
        loop.scheduleTask(in: TimeAmount(drainTime)) {
            let closed = self.closeAll()
            guard closed > 0 else { return }
            logger.warning(
                "closing \(closed) connection(s) still open after the drain time",
                metadata: ["sigillum.event": "http.drain.timeout"])
        }
    }
}

extension ListenerBinding {
    /// Binds every binding with `bind`; if one fails, closes those already bound and rethrows.
    static func bindAll<Server>(
        _ bindings: [ListenerBinding],
        close: (Server) async -> Void,
        bind: (ListenerBinding) async throws -> Server
    ) async throws -> [Server] {
        var servers: [Server] = []
        do {
            for binding in bindings { servers.append(try await bind(binding)) }
        } catch {
            for server in servers { await close(server) }
            throw error
        }
        return servers
    }
}
