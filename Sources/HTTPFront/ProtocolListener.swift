import Logging
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The public listener: SwiftNIO's HTTP/1.1 request decoder and ``ProtocolRequestHandler`` on each connection, on sockets
/// bound here or passed in by systemd.
///
/// The protocol requests are answered on the connection's event loop (no task per request, no router): this is
/// the appliance's hot path, and each hop between threads costs as much as the DER work of a stamp. On graceful
/// shutdown it stops accepting, lets each connection finish the request it is in (NIO's quiescing helper and the
/// handler), closes the connections still open after the drain time, and returns.
final class ProtocolListener: Service {
    let bindings: [ListenerBinding]
    let routes: ProtocolRoutes
    let idleTimeout: Duration
    let drainTimeout: Duration
    let logger: Logger
    let group: any EventLoopGroup
    let onRunning: @Sendable ([Int]) async -> Void
    let open = OpenConnections()

    init(
        bindings: [ListenerBinding],
        routes: ProtocolRoutes,
        idleTimeout: Duration,
        drainTimeout: Duration,
        logger: Logger,
        group: (any EventLoopGroup)? = nil,
        onRunning: @escaping @Sendable ([Int]) async -> Void
    ) {
        self.bindings = bindings
        self.routes = routes
        self.idleTimeout = idleTimeout
        self.drainTimeout = drainTimeout
        self.logger = logger
        self.group = group ?? MultiThreadedEventLoopGroup.singleton
        self.onRunning = onRunning
    }

    func run() async throws {
        let quiescing = ServerQuiescingHelper(group: self.group)
        let routes = self.routes
        let idle = TimeAmount(self.idleTimeout)
        let bootstrap = ServerBootstrap(group: self.group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiescing.makeServerChannelHandler(channel: channel))
                }
            }
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                self.open.insert(channel)
                channel.closeFuture.whenComplete { _ in self.open.remove(channel) }
                return channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(IdleStateHandler(allTimeout: idle))
                    try pipeline.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
                    try pipeline.addHandler(ProtocolRequestHandler(routes: routes))
                }
            }
        let servers = try await ListenerBinding.bindAll(
            self.bindings, close: { try? await $0.close() },
            bind: { binding in
                switch binding {
                case .address(let host, let port):
                    try await bootstrap.bind(host: host, port: port).get()
                case .inherited(let descriptor, _):
                    try await bootstrap.withBoundSocket(descriptor).get()
                }
            })
        await self.onRunning(servers.map { $0.localAddress?.port ?? 0 })
        // Completed by the quiescing helper once every connection accepted before shutdown has closed.
        let stopped = self.group.any().makePromise(of: Void.self)
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                try? await stopped.futureResult.get()
            } onGracefulShutdown: {
                // Closes the listening sockets and asks every connection to close once its current request is
                // answered.
                quiescing.initiateShutdown(promise: stopped)
                // Connections that have not finished when the drain time is over (a client that never completes
                // its request) are closed, so that the rest of the shutdown (signers, ledger) runs gracefully.
                self.open.close(after: self.drainTimeout, on: self.group.any(), logger: self.logger)
            }
        } onCancel: {
            quiescing.initiateShutdown(promise: stopped)
            _ = self.open.closeAll()
        }
    }
}
