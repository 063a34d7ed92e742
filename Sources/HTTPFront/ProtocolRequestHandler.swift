import NIOCore
import NIOHTTP1

/// One connection of the public listener: HTTP/1.1 requests for `/tsa` and `/ocsp`, answered on the connection's
/// event loop.
///
/// The protocol services are called without a task when they can answer without waiting: the TSA signs with an
/// in-process key on this thread and writes the token when the ledger reports the audit record durable; the OCSP
/// responder answers from its cache or signs with an in-process key. Hardware signers continue in a task.
///
/// NIO's request decoder parses; this handler writes each response itself, status line, header fields and body in
/// one buffer (nothing re-encoded on the way out; answers given while their request is read are flushed together
/// at the end of the event loop's round, see `queueFlush`), and keeps the HTTP/1.1 rules that
/// NIO's server pipeline handlers would otherwise keep:
/// - one request at a time: parts of a pipelined request wait (and reading pauses) until the answer before it is
///   written (RFC 9112 §9.3.2: answers in request order);
/// - backpressure: while the connection is not writable (answers the client has not read pile up past NIO's high
///   water mark), no further request is taken up and nothing more is read, so a client that pipelines without
///   reading holds at most about one read's worth of answers in the server's memory, and no token is issued for it
///   meanwhile;
/// - a parse error is answered 400 and the connection closed;
/// - shutdown (NIO's quiescing event) and a client that closed its sending side end the connection once the request
///   in progress, if any, is answered.
final class ProtocolRequestHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let routes: ProtocolRoutes
    private var state = State.idle
    private var clientAddress: String?
    private var isActive = false
    /// What arrived for later requests while one was being answered, in order.
    private var waiting = CircularBuffer<Pending>()
    /// A read was asked for while parts were waiting or the connection was not writable; it is passed on once
    /// neither holds.
    private var readDeferred = false
    /// Close once the request in progress is answered (shutdown, or the client stopped sending).
    private var closeWhenIdle = false
    /// The request being answered is answered while it is read (no task, no ledger wait): its answer is written
    /// and flushed with the others of this event-loop round.
    private var answeringWhileReading = false
    /// A flush of this connection's written answers is queued for the end of the event loop's round.
    private var flushQueued = false

    private enum Pending {
        case part(HTTPServerRequestPart)
        /// The decoder found the bytes after the earlier requests malformed: this status (400, or 431 for a header
        /// block over the decoder's limit) once those are answered.
        case malformed(HTTPResponseStatus)
    }

    private enum State {
        case idle
        /// Reading the body of a request that will be answered.
        case collecting(ProtocolRoutes.Route, HTTPRequestHead, ByteBuffer)
        /// An answer was written before the body was read (404, 413 and the like): the rest of it is ignored.
        case discarding
        /// The request was read; the answer is being prepared.
        case answering
        /// The connection is being closed; nothing more is read or written.
        case closing
    }

    init(routes: ProtocolRoutes) {
        self.routes = routes
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { self.becameActive(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        self.becameActive(context: context)
        context.fireChannelActive()
    }

    private func becameActive(context: ChannelHandlerContext) {
        self.isActive = true
        self.clientAddress = context.channel.remoteAddress?.ipAddress
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.isActive = false
        self.state = .closing
        self.waiting.removeAll()
        context.fireChannelInactive()
    }

    // MARK: Reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = self.unwrapInboundIn(data)
        switch self.state {
        case .answering:
            self.waiting.append(.part(part))
        case .closing:
            break
        case .idle, .collecting, .discarding:
            if self.waiting.isEmpty {
                self.handle(part, context: context)
            } else {
                self.waiting.append(.part(part))
            }
        }
    }

    /// Withholds reads while parts of a pipelined request wait and while answers wait for the client to read them, so
    /// that a client can queue neither requests nor answers without bound.
    ///
    /// A read is not withheld merely because an answer is being prepared: a client that waits for each answer sends
    /// nothing meanwhile, and withholding would take the socket out of the event loop's read interest and put it back
    /// for every request (two `epoll_ctl` calls each). What a pipelining client sent meanwhile is read once, waits,
    /// and holds further reads back until it is taken up.
    func read(context: ChannelHandlerContext) {
        self.readDeferred = true
        self.passDeferredRead(context: context)
    }

    /// The client read enough of the answers: take up the requests that waited, or read again.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            switch self.state {
            case .idle, .discarding: self.idle(context: context)
            case .collecting: self.passDeferredRead(context: context)
            case .answering, .closing: break
            }
        }
        context.fireChannelWritabilityChanged()
    }

    private func passDeferredRead(context: ChannelHandlerContext) {
        guard self.readDeferred, self.waiting.isEmpty, context.channel.isWritable else { return }
        self.readDeferred = false
        context.read()
    }

    private var isAnswering: Bool {
        if case .answering = self.state { return true }
        return false
    }

    private func handle(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            self.received(head: head, context: context)
        case .body(var chunk):
            guard case .collecting(let route, let head, var body) = self.state else { return }
            // A chunked body has no length to check first: it is cut at the limit.
            guard body.readableBytes + chunk.readableBytes <= self.routes.maxRequestBytes else {
                self.state = .discarding
                self.writeTooLarge(head: head, context: context)
                return
            }
            self.state = .answering  // the buffer is uniquely referenced while it grows
            if body.readableBytes == 0 {
                body = chunk  // the usual single-part body: kept as read, not copied
            } else {
                body.writeBuffer(&chunk)
            }
            self.state = .collecting(route, head, body)
        case .end:
            switch self.state {
            case .collecting(let route, let head, let body):
                self.state = .answering
                self.answer(route, head: head, body: body, context: context)
            case .discarding:
                self.state = .idle
                self.idle(context: context)
            case .idle, .answering, .closing:
                break
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is IdleStateHandler.IdleStateEvent:
            // Idle (or stuck in a half-sent request) for the idle timeout; a request being answered is let finish.
            if !self.isAnswering { self.close(context: context) }
        case is ChannelShouldQuiesceEvent:
            self.closeWhenIdle = true
            self.closeIfIdle(context: context)
        case ChannelEvent.inputClosed:
            // The client sends nothing more: what it sent is answered, then the connection closes (at once when
            // only the client's reading side was left open after a final answer).
            self.closeWhenIdle = true
            if self.isClosing {
                self.close(context: context)
            } else {
                self.closeIfIdle(context: context)
            }
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is HTTPParserError || error is ByteToMessageDecoderError else {
            self.close(context: context)  // the connection itself failed
            return
        }
        // The decoder's error comes after the parts it decoded before it: the requests before the malformed bytes
        // are answered first, in order (as NIO's pipelining handler keeps it).
        // RFC 6585 §5: a request line and header fields over the decoder's limit are 431, other parse errors 400.
        let status: HTTPResponseStatus =
            (error as? HTTPParserError) == .headerOverflow ? .requestHeaderFieldsTooLarge : .badRequest
        if self.isAnswering || !self.waiting.isEmpty {
            if !self.waiting.contains(where: { if case .malformed = $0 { true } else { false } }) {
                self.waiting.append(.malformed(status))
            }
            return
        }
        self.answerMalformed(status, context: context)
    }

    /// RFC 9112 §2.2, §3.2: a malformed request is answered 400 (431 when its header block is too large), and the
    /// connection ends (the framing may be lost).
    private func answerMalformed(_ status: HTTPResponseStatus = .badRequest, context: ChannelHandlerContext) {
        guard self.isActive, !self.isClosing else { return }
        var buffer = context.channel.allocator.buffer(capacity: 160)
        buffer.writeString(
            "HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\ncontent-length: 0\r\nconnection: close\r\n")
        buffer.writeString("date: \(self.routes.dates.current())\r\nserver: \(self.routes.serverName)\r\n\r\n")
        self.writeFinal(buffer, context: context)
    }

    // MARK: Routing

    private func received(head: HTTPRequestHead, context: ChannelHandlerContext) {
        // RFC 9112 §3.2: an HTTP/1.1 request without exactly one Host field is answered 400.
        if head.version.major == 1, head.version.minor >= 1, head.headers["host"].count != 1 {
            return self.answerMalformed(context: context)
        }
        // An answer given before a body is read ends the connection (RFC 9110 §10.1.1 asks the server to say
        // whether it will read the rest): a client that sent `Expect: 100-continue` would otherwise never send the
        // body, and the connection would hang until the idle timeout.
        let bodyPending =
            head.headers.contains(name: "transfer-encoding")
            || (head.headers.first(name: "content-length").flatMap { Int($0) } ?? 0) > 0
        switch self.routes.route(method: head.method, uri: head.uri) {
        case .notFound:
            self.state = .discarding
            self.writeText(.notFound, "no such resource\n", head: head, close: bodyPending, context: context)
        case .methodNotAllowed(let allowed):
            self.state = .discarding
            self.writeText(
                .methodNotAllowed, "\(head.method) is not allowed here; use \(allowed)\n", head: head,
                extraHeaders: [("allow", allowed)], close: true, context: context)
        case .failed(let status, let message):
            self.state = .discarding
            self.writeText(status, message, head: head, close: true, context: context)
        case .serverOptions(let allowed):
            // RFC 9110 §9.3.7: a successful answer without content states Content-Length 0 (as `write` does).
            self.state = .discarding
            self.write(
                status: .ok, headers: [("allow", allowed)], body: [], head: head, close: bodyPending, context: context)
        case .route(let route):
            if route.readsBody {
                if let problem = self.routes.bodyProblem(route, headers: head.headers) {
                    self.state = .discarding
                    switch problem {
                    case .tooLarge: self.writeTooLarge(head: head, context: context)
                    case .unsupportedMediaType(let message):
                        self.writeText(
                            .unsupportedMediaType, message, head: head, close: bodyPending, context: context)
                    }
                    return
                }
                // RFC 9110 §10.1.1: a client that asked waits for this before it sends the body. An HTTP/1.0 client's
                // expectation is ignored, and it is sent no 1xx (§15.2).
                if head.version.major > 1 || (head.version.major == 1 && head.version.minor >= 1),
                    let expect = head.headers.first(name: "expect"),
                    expect.lowercased() == "100-continue"
                {
                    var buffer = context.channel.allocator.buffer(capacity: 32)
                    buffer.writeString("HTTP/1.1 100 Continue\r\n\r\n")
                    context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
                }
            }
            self.state = .collecting(route, head, context.channel.allocator.buffer(capacity: 0))
        }
    }

    private func answer(
        _ route: ProtocolRoutes.Route, head: HTTPRequestHead, body: ByteBuffer, context: ChannelHandlerContext
    ) {
        let loop = context.eventLoop
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: loop)
        let deliver: @Sendable (ProtocolRoutes.Answer) -> Void = { answer in
            if loop.inEventLoop {
                bound.value.handler.answered(answer, head: head, context: bound.value.context)
            } else {
                loop.execute { bound.value.handler.answered(answer, head: head, context: bound.value.context) }
            }
        }
        self.answeringWhileReading = true
        defer { self.answeringWhileReading = false }
        self.routes.answer(
            route, head: head, body: body.readableBytesView, clientAddress: self.clientAddress, deliver: deliver)
    }

    private func answered(_ answer: ProtocolRoutes.Answer, head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard self.isAnswering else { return }
        self.state = .idle
        self.write(
            status: answer.status, headers: answer.headers, body: answer.body, head: head, close: false,
            context: context)
        self.idle(context: context)
    }

    /// Between requests: handles the parts that waited, passes on a withheld read, or closes when asked to.
    ///
    /// Parts wait while the connection is not writable; ``channelWritabilityChanged(context:)`` comes back here.
    private func idle(context: ChannelHandlerContext) {
        while context.channel.isWritable, let pending = self.waiting.popFirst() {
            switch pending {
            case .part(let part): self.handle(part, context: context)
            case .malformed(let status): return self.answerMalformed(status, context: context)
            }
            if self.isAnswering || self.isClosing { return }
        }
        guard self.waiting.isEmpty else { return }
        if self.closeIfIdle(context: context) { return }
        self.passDeferredRead(context: context)
    }

    @discardableResult
    private func closeIfIdle(context: ChannelHandlerContext) -> Bool {
        guard self.closeWhenIdle, self.waiting.isEmpty else { return false }
        switch self.state {
        case .idle, .discarding:
            self.close(context: context)
            return true
        case .collecting, .answering, .closing:
            return false
        }
    }

    private func close(context: ChannelHandlerContext) {
        guard self.isActive else { return }
        self.state = .closing
        self.waiting.removeAll()
        context.flush()  // an answer whose flush is still queued goes out first
        context.close(promise: nil)
    }

    // MARK: Writing

    private func writeTooLarge(head: HTTPRequestHead, context: ChannelHandlerContext) {
        self.writeText(
            .payloadTooLarge, "the request is larger than \(self.routes.maxRequestBytes) bytes\n", head: head,
            close: true, context: context)
    }

    private func writeText(
        _ status: HTTPResponseStatus, _ text: String, head: HTTPRequestHead,
        extraHeaders: [(String, String)] = [], close: Bool = false, context: ChannelHandlerContext
    ) {
        self.write(
            status: status, headers: extraHeaders + [("content-type", "text/plain; charset=utf-8")],
            body: Array(text.utf8), head: head, close: close, context: context)
    }

    /// Writes a whole response in one buffer. `close` (or a request that does not keep the connection alive) ends
    /// the connection afterwards: the sending side first, so that the client reads the answer even while it still
    /// sends a body nobody reads, then the rest once the client closed or after a grace period.
    private func write(
        status: HTTPResponseStatus, headers: [(String, String)], body: [UInt8], head: HTTPRequestHead, close: Bool,
        context: ChannelHandlerContext
    ) {
        guard self.isActive, !self.isClosing else { return }
        let keepAlive = !close && head.isKeepAlive
        var buffer = context.channel.allocator.buffer(capacity: 320 + body.count)
        buffer.writeString("HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\n")
        for (name, value) in headers {
            buffer.writeString(name)
            buffer.writeStaticString(": ")
            buffer.writeString(value)
            buffer.writeStaticString("\r\n")
        }
        if status != .notModified {
            // RFC 9110 §8.6: a 304 states no length (it could only be the 200's), so none is sent.
            buffer.writeStaticString("content-length: ")
            buffer.writeString(String(body.count))
            buffer.writeStaticString("\r\n")
        }
        buffer.writeStaticString("date: ")
        buffer.writeString(self.routes.dates.current())
        buffer.writeStaticString("\r\nserver: ")
        buffer.writeString(self.routes.serverName)
        if !keepAlive {
            buffer.writeStaticString("\r\nconnection: close")
        } else if head.version.major == 1, head.version.minor == 0 {
            buffer.writeStaticString("\r\nconnection: keep-alive")  // HTTP/1.0 closes unless told otherwise
        }
        buffer.writeStaticString("\r\n\r\n")
        // RFC 9110 §9.3.2: HEAD gets the header fields of GET without the content.
        if head.method != .HEAD, status != .notModified {
            buffer.writeBytes(body)
        }
        guard !keepAlive else {
            guard self.answeringWhileReading else {
                context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
                return
            }
            context.write(self.wrapOutboundOut(buffer), promise: nil)
            self.queueFlush(context: context)
            return
        }
        self.writeFinal(buffer, context: context)
    }

    /// Flushes this connection's answers once the event loop has handled every connection that was ready in this
    /// round: NIO runs the tasks queued meanwhile only after all ready sockets were read.
    ///
    /// An answer given while its request is read (OCSP from the cache or signed in-process, TSA rejections) would
    /// otherwise be one `write` each, and each wakes the client's thread on its own; on two cores that wake-up
    /// preempts the event loop before it reads the next ready request. Flushed together, the answers of one round
    /// reach the clients in one burst. Answers that arrive later (a token after its ledger commit, a hardware
    /// signature) come one batch at a time anyway and are flushed at once. Writability counts the unflushed bytes,
    /// so backpressure is unchanged.
    private func queueFlush(context: ChannelHandlerContext) {
        guard !self.flushQueued else { return }
        self.flushQueued = true
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let (handler, context) = bound.value
            handler.flushQueued = false
            if handler.isActive { context.flush() }
        }
    }

    /// Writes the connection's last answer, then closes the sending side first and the rest once the client closed
    /// or after a grace period (RFC 9112 §9.6): what the client still sends is read and dropped meanwhile, so that
    /// closing with unread bytes does not reset the connection before the client has read the answer.
    private func writeFinal(_ buffer: ByteBuffer, context: ChannelHandlerContext) {
        self.state = .closing
        self.waiting.removeAll()
        let channel = context.channel
        context.writeAndFlush(self.wrapOutboundOut(buffer)).whenComplete { _ in
            channel.close(mode: .output, promise: nil)
            channel.eventLoop.scheduleTask(in: .seconds(2)) { channel.close(promise: nil) }
        }
    }

    private var isClosing: Bool {
        if case .closing = self.state { return true }
        return false
    }
}
