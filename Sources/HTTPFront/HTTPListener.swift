import Foundation
import HTTPTypes
public import Hummingbird
import HummingbirdCore
public import Logging
public import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
public import ServiceLifecycle
import Synchronization

/// Where a listener accepts connections.
public enum ListenerBinding: Sendable, CustomStringConvertible {
    /// Bind and listen on an address.
    case address(host: String, port: Int)
    /// A socket the service manager already bound and put in the listening state (socket activation); `name` is
    /// its `FileDescriptorName=`.
    case inherited(descriptor: Int32, name: String)

    public var description: String {
        switch self {
        case .address(let host, let port): "\(host):\(port)"
        case .inherited(let descriptor, let name): "socket '\(name)' passed by systemd (descriptor \(descriptor))"
        }
    }
}

/// An HTTP/1.1 server for a router: Hummingbird's router and HTTP/1 channel on SwiftNIO sockets that are either
/// bound here or passed in by systemd.
///
/// Hummingbird's `Application` binds only by address, and socket activation needs a descriptor; this service is
/// the small piece between them: it accepts on every binding given (an IPv4 and an IPv6 socket of one unit, say),
/// answers each request through the router, and on graceful shutdown stops accepting, lets each connection finish
/// the request it is in (NIO's quiescing helper, which Hummingbird's HTTP/1 channel honours), then returns.
public final class HTTPListener<Responder: HTTPResponder>: Service
where Responder.Context == SigillumRequestContext {
    let bindings: [ListenerBinding]
    let responder: Responder
    let idleTimeout: Duration?
    let serverName: String
    let logger: Logger
    let onRunning: @Sendable ([Int]) async -> Void
    let group: any EventLoopGroup
    let drainTimeout: Duration
    let dates = DateHeaderCache()
    let open = OpenConnections()

    public init(
        bindings: [ListenerBinding],
        responder: Responder,
        idleTimeout: Duration?,
        drainTimeout: Duration = .seconds(10),
        serverName: String = "sigillum",
        logger: Logger,
        group: (any EventLoopGroup)? = nil,
        onRunning: @escaping @Sendable ([Int]) async -> Void
    ) {
        self.bindings = bindings
        self.responder = responder
        self.idleTimeout = idleTimeout
        self.drainTimeout = drainTimeout
        self.serverName = serverName
        self.logger = logger
        self.group = group ?? MultiThreadedEventLoopGroup.singleton
        self.onRunning = onRunning
    }

    public func run() async throws {
        let childSetup = HTTP1Channel(
            responder: self.respond,
            configuration: .init(idleTimeout: self.idleTimeout.map { TimeAmount($0) })
        )
        let quiescing = ServerQuiescingHelper(group: self.group)
        let bootstrap = ServerBootstrap(group: self.group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiescing.makeServerChannelHandler(channel: channel))
                }
            }
        let logger = self.logger
        let initializer: @Sendable (any Channel) -> EventLoopFuture<HTTP1Channel.Value> = { channel in
            childSetup.setup(channel: channel, logger: logger)
        }
        let servers = try await ListenerBinding.bindAll(
            self.bindings, close: { try? await $0.channel.close() },
            bind: { binding -> NIOAsyncChannel<HTTP1Channel.Value, Never> in
                switch binding {
                case .address(let host, let port):
                    try await bootstrap.bind(
                        host: host, port: port, serverBackPressureStrategy: nil, childChannelInitializer: initializer)
                case .inherited(let descriptor, _):
                    try await bootstrap.bind(
                        descriptor, serverBackPressureStrategy: nil, childChannelInitializer: initializer)
                }
            })
        await self.onRunning(servers.map { $0.channel.localAddress?.port ?? 0 })
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { listeners in
                for server in servers {
                    listeners.addTask {
                        await withDiscardingTaskGroup { connections in
                            do {
                                try await server.executeThenClose { inbound in
                                    for try await connection in inbound {
                                        let channel = connection.channel
                                        self.open.insert(channel)
                                        connections.addTask {
                                            await childSetup.handle(value: connection, logger: logger)
                                            self.open.remove(channel)
                                        }
                                    }
                                }
                            } catch {
                                logger.error("accepting connections failed", metadata: ["error.message": "\(error)"])
                            }
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            // Closes the listening sockets and asks every connection to close once its current request is answered.
            let loop = self.group.any()
            let done = loop.makePromise(of: Void.self)
            quiescing.initiateShutdown(promise: done)
            // Connections that have not finished when the drain time is over (a client that never completes its
            // request) are closed, so that the rest of the shutdown (signers, ledger) runs gracefully.
            self.open.close(after: self.drainTimeout, on: loop, logger: self.logger)
        }
    }

    /// One request through the router; what Hummingbird's `Application` does around its responder.
    @Sendable
    func respond(to request: Request, writer: consuming ResponseWriter, channel: any Channel) async throws {
        let context = SigillumRequestContext(source: .init(channel: channel, logger: self.logger))
        var response: Response
        do {
            response = try await self.responder.respond(to: request, context: context)
        } catch let error as HTTPParserError {
            throw error
        } catch {
            self.logger.debug("unhandled error in a route", metadata: ["error.message": "\(error)"])
            response = Response(status: .internalServerError)
        }
        response.headers[.date] = self.dates.current()
        response.headers[.server] = self.serverName
        do {
            try await writer.write(response: response.head, body: response.body)
        } catch is HTTPParserError {
            // The request turned out malformed while the answer was being written: a second response (the 400 the
            // channel writes for a parser error) cannot follow, so the connection is closed instead.
            throw ResponseAbandoned()
        }
    }
}

/// Ends a connection whose response could not be completed.
struct ResponseAbandoned: Error {}

/// The `Date` header (RFC 9110 §6.6.1), formatted once per second.
final class DateHeaderCache: Sendable {
    private let cached = Mutex<(second: Int64, text: String)>((-1, ""))

    func current() -> String {
        let second = self.currentSecond()
        return self.cached.withLock { cached in
            if cached.second != second {
                cached = (second, HTTPDate.format(secondsSince1970: second))
            }
            return cached.text
        }
    }

    /// The wall clock in whole seconds since 1970.
    func currentSecond() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec)
    }
}
