import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A one-shot SNTP client (RFC 4330; the client side of RFC 5905 §8 and §9): one request, one validated reply, one
/// `NTPSample`. It keeps no state between probes and never touches the system clock.
///
/// Requests follow draft-ietf-ntp-data-minimization: every field is zero except LI 0, VN 4, mode 3 and the transmit
/// timestamp, which carries a fresh random 64-bit value instead of the local time. The real T1 stays in memory. A
/// reply counts only when its origin timestamp echoes that value (the RFC 5905 §8 bogus-packet check), so an off-path
/// sender cannot inject a reply without guessing 64 random bits, and the request reveals nothing about our clock.
///
/// Each probe uses its own UDP socket, connected to the server, so the kernel already drops datagrams from other
/// addresses; datagrams that are too short or do not echo the value are ignored too, and the probe waits for a
/// good reply until the timeout. T4 is read in the channel handler's `channelRead`, the earliest point a reply is
/// visible to us.
public struct SNTPClient: Sendable {
    /// How long one probe waits for an acceptable reply (name resolution not included).
    public var timeout: Duration
    private let realtime: @Sendable () -> Int64

    /// - Parameters:
    ///   - timeout: how long one probe waits for an acceptable reply.
    ///   - realtime: the local clock, in nanoseconds since the Unix epoch; T1 and T4 are read from it. Tests inject a
    ///     shifted or fixed clock.
    public init(
        timeout: Duration = .seconds(1),
        realtime: @escaping @Sendable () -> Int64 = SNTPClient.systemRealtimeNanoseconds
    ) {
        self.timeout = timeout
        self.realtime = realtime
    }

    /// `CLOCK_REALTIME` in nanoseconds since the Unix epoch.
    public static func systemRealtimeNanoseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }

    /// Sends one request to `server` and waits for a valid reply.
    public func probe(_ server: NTPServerAddress) async -> Result<NTPSample, NTPProbeFailure> {
        guard (1...65535).contains(server.port) else {
            return .failure(.network("the port \(server.port) is outside 1…65535"))
        }
        let address: SocketAddress
        switch await Self.resolve(server) {
        case .success(let resolved): address = resolved
        case .failure(let failure): return .failure(failure)
        }
        if Task.isCancelled { return .failure(.cancelled) }

        let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        let promise = eventLoop.makePromise(of: Result<NTPSample, NTPProbeFailure>.self)
        let timeout = TimeAmount.nanoseconds(max(Int64(0), self.timeout.nanosecondsClamped))
        let realtime = self.realtime
        let bootstrap = DatagramBootstrap(group: eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = SNTPExchangeHandler(
                        server: server,
                        remote: address,
                        timeout: timeout,
                        realtime: realtime,
                        promise: promise
                    )
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }

        let channel: any Channel
        do {
            channel = try await bootstrap.connect(to: address).get()
        } catch {
            let failure = NTPProbeFailure.network("cannot open a UDP socket to \(address): \(error)")
            promise.succeed(.failure(failure))
            return .failure(failure)
        }
        let result = await withTaskCancellationHandler {
            // The handler always completes the promise: with a sample, a rejection, the timeout, or on close.
            (try? await promise.futureResult.get()) ?? .failure(.network("the probe ended without a result"))
        } onCancel: {
            promise.succeed(.failure(.cancelled))
        }
        // The handler closes the channel when it decides; this covers cancellation (a second close is harmless).
        try? await channel.close().get()
        return result
    }

    /// Probes every server at once; the answers come back in the order of `servers`.
    public func probe(_ servers: [NTPServerAddress]) async -> [(NTPServerAddress, Result<NTPSample, NTPProbeFailure>)] {
        await withTaskGroup(of: (Int, Result<NTPSample, NTPProbeFailure>).self) { group in
            for (index, server) in servers.enumerated() {
                group.addTask { (index, await self.probe(server)) }
            }
            var results = [Result<NTPSample, NTPProbeFailure>?](repeating: nil, count: servers.count)
            for await (index, result) in group {
                results[index] = result
            }
            return zip(servers, results).map { server, result in (server, result ?? .failure(.cancelled)) }
        }
    }

    /// An IP literal directly; a name through getaddrinfo on NIO's blocking-work pool, never on the cooperative one.
    private static func resolve(_ server: NTPServerAddress) async -> Result<SocketAddress, NTPProbeFailure> {
        if let literal = try? SocketAddress(ipAddress: server.host, port: server.port) {
            return .success(literal)
        }
        let host = server.host
        let port = server.port
        do {
            let address = try await NIOThreadPool.singleton.runIfActive {
                try SocketAddress.makeAddressResolvingHost(host, port: port)
            }
            return .success(address)
        } catch {
            return .failure(.resolution("\(host): \(error)"))
        }
    }
}

/// What one datagram from the server's address means for the probe.
package enum SNTPReplyVerdict: Sendable, Hashable {
    /// A valid reply: the probe is done.
    case accepted(NTPSample)
    /// An authentic reply (it echoes our value) that fails a check: the probe is done.
    case rejected(NTPProbeFailure)
    /// A datagram that cannot be tied to our request: ignore it and keep waiting; report the reason only if nothing
    /// better arrives before the timeout.
    case ignored(NTPProbeFailure)
}

extension SNTPClient {
    /// Judges one datagram, in the order RFC 5905 §8 and RFC 4330 §5 imply: first whether it answers our request at
    /// all (length, origin), then the header (version, mode, kiss-o'-death, leap, stratum), then the timestamps.
    ///
    /// - Parameters:
    ///   - datagram: the received bytes.
    ///   - cookie: the random value sent as the request's transmit timestamp.
    ///   - transmitted: T1, the local time the request left (Unix nanoseconds).
    ///   - received: T4, the local time the datagram arrived (Unix nanoseconds).
    package static func evaluate(
        datagram: some Collection<UInt8>,
        cookie: NTPTimestamp,
        transmitted t1: Int64,
        received t4: Int64,
        from server: NTPServerAddress
    ) -> SNTPReplyVerdict {
        guard let reply = NTPPacket(decoding: datagram) else {
            return .ignored(.shortPacket(datagram.count))
        }
        guard !cookie.isZero, reply.originTimestamp == cookie else {
            return .ignored(.originMismatch)
        }
        guard reply.version == 3 || reply.version == 4 else { return .rejected(.badVersion(Int(reply.version))) }
        guard reply.mode == .server else { return .rejected(.badMode(Int(reply.mode.rawValue))) }
        guard reply.stratum != 0 else {
            return .rejected(.kissOfDeath(code: reply.referenceIDText ?? reply.referenceIDDotted))
        }
        guard reply.leap != .unsynchronized else { return .rejected(.unsynchronized) }
        guard reply.stratum <= 15 else { return .rejected(.badStratum(Int(reply.stratum))) }
        guard !reply.transmitTimestamp.isZero else { return .rejected(.zeroTransmit) }
        guard !reply.receiveTimestamp.isZero else {
            return .rejected(.bogusTimestamps("the receive timestamp is zero"))
        }
        // Both server timestamps are placed in the era nearest T1; every difference below then stays within
        // ±2^31 s, far inside Int64 nanoseconds.
        let t2 = reply.receiveTimestamp.unixNanoseconds(near: t1)
        let t3 = reply.transmitTimestamp.unixNanoseconds(near: t1)
        guard t3 >= t2 else {
            return .rejected(.bogusTimestamps("the server's transmit time is before its receive time"))
        }
        let offset = ((t2 - t1) + (t3 - t4)) / 2
        let delay = max(0, (t4 - t1) - (t3 - t2))
        let referenceID =
            reply.stratum == 1 ? (reply.referenceIDText ?? reply.referenceIDDotted) : reply.referenceIDDotted
        return .accepted(
            NTPSample(
                server: server,
                offsetNanoseconds: offset,
                delayNanoseconds: delay,
                rootDelayNanoseconds: reply.rootDelay.nanoseconds,
                rootDispersionNanoseconds: reply.rootDispersion.nanoseconds,
                stratum: Int(reply.stratum),
                leap: reply.leap,
                referenceID: referenceID,
                precision: reply.precision,
                version: Int(reply.version),
                localReceiveNanoseconds: t4,
                localTransmitNanoseconds: t1
            )
        )
    }

    /// A random, non-zero value for the request's transmit timestamp (zero would match an unset origin).
    package static func makeCookie() -> NTPTimestamp {
        var generator = SystemRandomNumberGenerator()
        while true {
            let value = generator.next() as UInt64
            if value != 0 { return NTPTimestamp(rawValue: value) }
        }
    }
}

/// Runs one exchange on the channel's event loop: sends the request when the socket is up, judges each datagram,
/// and completes the promise exactly once (then closes the channel).
private final class SNTPExchangeHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = ByteBuffer

    private let server: NTPServerAddress
    private let remote: SocketAddress
    private let timeout: TimeAmount
    private let realtime: @Sendable () -> Int64
    private let promise: EventLoopPromise<Result<NTPSample, NTPProbeFailure>>

    private var cookie = NTPTimestamp.zero
    private var transmitted: Int64 = 0
    /// Why the latest unusable datagram was ignored; reported instead of `.timeout` when nothing better came.
    private var ignored: NTPProbeFailure?
    private var timeoutTask: Scheduled<Void>?
    private var finished = false

    init(
        server: NTPServerAddress,
        remote: SocketAddress,
        timeout: TimeAmount,
        realtime: @escaping @Sendable () -> Int64,
        promise: EventLoopPromise<Result<NTPSample, NTPProbeFailure>>
    ) {
        self.server = server
        self.remote = remote
        self.timeout = timeout
        self.realtime = realtime
        self.promise = promise
    }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        self.cookie = SNTPClient.makeCookie()
        let request = NTPPacket.clientRequest(cookie: self.cookie).encoded
        let buffer = context.channel.allocator.buffer(bytes: request)
        self.timeoutTask = context.eventLoop.assumeIsolated().scheduleTask(in: self.timeout) {
            self.finish(context: context, .failure(self.ignored ?? .timeout))
        }
        // T1 as late as possible before the datagram leaves.
        self.transmitted = self.realtime()
        context.writeAndFlush(self.wrapOutboundOut(buffer)).assumeIsolated().whenFailure { error in
            self.finish(context: context, .failure(.network("sending to \(self.remote) failed: \(error)")))
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // T4 first, before anything else is done with the datagram.
        let arrived = self.realtime()
        let envelope = self.unwrapInboundIn(data)
        guard !self.finished, envelope.remoteAddress.port == self.remote.port,
            envelope.remoteAddress.ipAddress == self.remote.ipAddress
        else { return }
        let verdict = SNTPClient.evaluate(
            datagram: envelope.data.readableBytesView,
            cookie: self.cookie,
            transmitted: self.transmitted,
            received: arrived,
            from: self.server
        )
        switch verdict {
        case .accepted(let sample): self.finish(context: context, .success(sample))
        case .rejected(let failure): self.finish(context: context, .failure(failure))
        case .ignored(let reason): self.ignored = reason
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? IOError, error.errnoCode == ECONNREFUSED {
            self.finish(
                context: context,
                .failure(.network("\(self.remote) refused the request (ICMP port unreachable: no NTP server there)"))
            )
        } else {
            self.finish(context: context, .failure(.network("\(error)")))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.finish(context: context, .failure(.network("the socket closed before a reply arrived")))
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.timeoutTask?.cancel()
        if !self.finished {
            self.finished = true
            self.promise.succeed(.failure(.network("the socket closed before a reply arrived")))
        }
    }

    private func finish(context: ChannelHandlerContext, _ result: Result<NTPSample, NTPProbeFailure>) {
        guard !self.finished else { return }
        self.finished = true
        self.timeoutTask?.cancel()
        self.promise.succeed(result)
        context.close(promise: nil)
    }
}

extension Duration {
    /// The duration in nanoseconds, saturating at Int64's bounds.
    fileprivate var nanosecondsClamped: Int64 {
        let (seconds, attoseconds) = self.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return seconds < 0 ? .min : .max }
        let (total, overflowAgain) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000)
        return overflowAgain ? .max : total
    }
}
