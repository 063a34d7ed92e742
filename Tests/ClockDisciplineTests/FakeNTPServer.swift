import ClockDiscipline
import NIOCore
import NIOPosix
import Synchronization

/// An NTP "server" on 127.0.0.1 (a port the kernel picks) that answers each request with whatever datagrams
/// `respond` builds: a good reply, a crafted bad one, several, or none.
final class FakeNTPServer: Sendable {
    /// Builds the answers to one request; `now` is the server's receive time (Unix nanoseconds, real clock).
    typealias Responder = @Sendable (_ request: NTPPacket, _ now: Int64) -> [[UInt8]]

    private let channel: any Channel
    private let log: RequestLog
    let address: NTPServerAddress

    private init(channel: any Channel, log: RequestLog, address: NTPServerAddress) {
        self.channel = channel
        self.log = log
        self.address = address
    }

    /// Every datagram the server received, as received.
    var requests: [[UInt8]] { self.log.requests }

    static func start(_ respond: @escaping Responder) async throws -> FakeNTPServer {
        let log = RequestLog()
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(FakeNTPHandler(respond: respond, log: log))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let port = channel.localAddress?.port ?? 0
        return FakeNTPServer(channel: channel, log: log, address: NTPServerAddress(host: "127.0.0.1", port: port))
    }

    func stop() async {
        try? await self.channel.close().get()
    }
}

private final class FakeNTPHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private let respond: FakeNTPServer.Responder
    private let log: RequestLog

    init(respond: @escaping FakeNTPServer.Responder, log: RequestLog) {
        self.respond = respond
        self.log = log
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let now = SNTPClient.systemRealtimeNanoseconds()
        let envelope = self.unwrapInboundIn(data)
        self.log.record(Array(envelope.data.readableBytesView))
        guard let request = NTPPacket(decoding: envelope.data.readableBytesView) else { return }
        for answer in self.respond(request, now) {
            let buffer = context.channel.allocator.buffer(bytes: answer)
            context.write(
                self.wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: buffer)),
                promise: nil
            )
        }
        context.flush()
    }
}

/// The raw requests a fake server saw.
private final class RequestLog: Sendable {
    private let storage = Mutex<[[UInt8]]>([])
    func record(_ request: [UInt8]) { self.storage.withLock { $0.append(request) } }
    var requests: [[UInt8]] { self.storage.withLock { $0 } }
}

/// Reply builders for the fake server.
enum Replies {
    /// A well-formed stratum-2 reply whose clock runs `shift` nanoseconds ahead of the real one; the server
    /// "works" for `processing` nanoseconds between T2 and T3.
    static func good(
        to request: NTPPacket,
        now: Int64,
        shift: Int64 = 0,
        processing: Int64 = 1_000_000
    ) -> NTPPacket {
        NTPPacket(
            leap: .noWarning,
            version: 4,
            mode: .server,
            stratum: 2,
            poll: 4,
            precision: -20,
            rootDelay: NTPShort(nanoseconds: 12_000_000),
            rootDispersion: NTPShort(nanoseconds: 3_000_000),
            referenceID: 0xC000_0201,
            referenceTimestamp: NTPTimestamp(unixNanoseconds: now + shift - 16_000_000_000),
            originTimestamp: request.transmitTimestamp,
            receiveTimestamp: NTPTimestamp(unixNanoseconds: now + shift),
            transmitTimestamp: NTPTimestamp(unixNanoseconds: now + shift + processing)
        )
    }

    /// A good reply changed by `edit`.
    static func edited(
        _ request: NTPPacket,
        now: Int64,
        _ edit: (inout NTPPacket) -> Void
    ) -> [[UInt8]] {
        var reply = Self.good(to: request, now: now)
        edit(&reply)
        return [reply.encoded]
    }
}
