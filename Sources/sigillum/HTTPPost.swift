import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// An `http://host[:port][/path]` URL, the only kind `HTTPPost` speaks.
struct HTTPURL: Sendable, CustomStringConvertible {
    var host: String
    var port: Int
    /// The request target: path and query, starting with `/`.
    var target: String

    /// Parses `text`; an `https` URL is refused with advice, as this client has no TLS.
    init(_ text: String) throws(CLIError) {
        let lowered = text.lowercased()
        if lowered.hasPrefix("https://") {
            throw CLIError(
                "\(text): https is not supported; use a TLS-terminating proxy URL over http, or curl",
                exitCode: 2
            )
        }
        guard lowered.hasPrefix("http://") else {
            throw CLIError("\(text): not an http URL; expected http://host[:port]/path", exitCode: 2)
        }
        let rest = text.dropFirst("http://".count)
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        var target = String(rest.dropFirst(authority.count).prefix { $0 != "#" })
        if target.isEmpty || target.hasPrefix("?") { target = "/" + target }
        guard !authority.contains("@") else {
            throw CLIError("\(text): user information in the URL is not supported", exitCode: 2)
        }

        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw CLIError("\(text): unterminated IPv6 address literal", exitCode: 2)
            }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else {
                    throw CLIError("\(text): unexpected text after the IPv6 address", exitCode: 2)
                }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else {
            throw CLIError("\(text): the URL has no host", exitCode: 2)
        }
        var port = 80
        if let portText {
            guard let value = Int(portText), (1...65_535).contains(value) else {
                throw CLIError("\(text): port '\(portText)' is not a number in 1...65535", exitCode: 2)
            }
            port = value
        }
        self.host = String(host)
        self.port = port
        self.target = target
    }

    /// The `Host` header value: the host, bracketed when IPv6, with the port unless it is 80.
    var hostHeader: String {
        let name = self.host.contains(":") ? "[\(self.host)]" : self.host
        return self.port == 80 ? name : "\(name):\(self.port)"
    }

    /// `host:port`, the host bracketed when IPv6.
    var authority: String { "\(self.host.contains(":") ? "[\(self.host)]" : self.host):\(self.port)" }

    var description: String { "http://\(self.hostHeader)\(self.target)" }
}

/// A complete HTTP response.
struct HTTPPostResponse: Sendable {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: [UInt8]

    /// The media type of `Content-Type`, lower-cased and without parameters; nil when absent.
    var mediaType: String? {
        guard let value = self.headers.first(name: "content-type") else { return nil }
        let type = value.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return type.trimmingWhitespace().lowercased()
    }
}

/// One-shot HTTP/1.1 exchanges over SwiftNIO: one connection, one request, `Connection: close`.
///
/// The whole exchange (connect, send, receive) is bounded by `timeout`; the body is capped at `maxBodyBytes`.
/// `service` names what is expected at the other end ("TSA", "OCSP responder") in the error advice.
enum HTTPPost {
    static let defaultMaxBodyBytes = 1 << 20

    /// POSTs `body` as `contentType`.
    static func post(
        to url: HTTPURL,
        contentType: String,
        accept: String,
        body: [UInt8],
        timeout: TimeAmount,
        service: String = "TSA",
        maxBodyBytes: Int = HTTPPost.defaultMaxBodyBytes
    ) async throws(CLIError) -> HTTPPostResponse {
        try await self.exchange(
            method: .POST,
            url: url,
            body: (contentType, body),
            accept: accept,
            timeout: timeout,
            service: service,
            maxBodyBytes: maxBodyBytes
        )
    }

    /// GETs `url` (e.g. an RFC 6960 App. A.1 OCSP GET).
    static func get(
        _ url: HTTPURL,
        accept: String,
        timeout: TimeAmount,
        service: String,
        maxBodyBytes: Int = HTTPPost.defaultMaxBodyBytes
    ) async throws(CLIError) -> HTTPPostResponse {
        try await self.exchange(
            method: .GET,
            url: url,
            body: nil,
            accept: accept,
            timeout: timeout,
            service: service,
            maxBodyBytes: maxBodyBytes
        )
    }

    static func exchange(
        method: HTTPMethod,
        url: HTTPURL,
        body: (contentType: String, bytes: [UInt8])?,
        accept: String,
        timeout: TimeAmount,
        service: String,
        maxBodyBytes: Int
    ) async throws(CLIError) -> HTTPPostResponse {
        let deadline = NIODeadline.now() + timeout
        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(timeout)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: url.host, port: url.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                            wrappingChannelSynchronously: channel
                        )
                    }
                }
        } catch {
            var timedOut = NIODeadline.now() >= deadline
            if case .connectTimeout = error as? ChannelError { timedOut = true }
            if timedOut {
                throw CLIError(
                    "connecting to \(url.authority) timed out after \(Self.seconds(timeout)); "
                        + "is the \(service) running and reachable? (--timeout changes the limit)",
                    exitCode: 2
                )
            }
            throw CLIError(
                "cannot connect to \(url.authority) (\(Self.connectionFailure(error))); "
                    + "is the \(service) running? (check --url)",
                exitCode: 2
            )
        }

        // Closing the channel at the deadline ends the exchange wherever it is.
        let rawChannel = channel.channel
        let timer = rawChannel.eventLoop.scheduleTask(deadline: deadline) { rawChannel.close(promise: nil) }
        defer { timer.cancel() }

        do {
            let response = try await channel.executeThenClose { inbound, outbound -> HTTPPostResponse? in
                var head = HTTPRequestHead(version: .http1_1, method: method, uri: url.target)
                head.headers.add(name: "Host", value: url.hostHeader)
                if let body { head.headers.add(name: "Content-Type", value: body.contentType) }
                head.headers.add(name: "Accept", value: accept)
                if let body { head.headers.add(name: "Content-Length", value: String(body.bytes.count)) }
                head.headers.add(name: "Connection", value: "close")
                head.headers.add(name: "User-Agent", value: "sigillum")
                try await outbound.write(.head(head))
                if let body { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body.bytes)))) }
                try await outbound.write(.end(nil))

                var responseHead: HTTPResponseHead?
                var collected = ByteBuffer()
                for try await part in inbound {
                    switch part {
                    case .head(let received):
                        responseHead = received
                        collected.clear()
                    case .body(var chunk):
                        guard collected.readableBytes + chunk.readableBytes <= maxBodyBytes else {
                            throw CLIError(
                                "the response body from \(url) exceeds \(maxBodyBytes) bytes; is this a \(service)?",
                                exitCode: 2
                            )
                        }
                        collected.writeBuffer(&chunk)
                    case .end:
                        guard let received = responseHead else { continue }
                        // An interim 1xx response (100 Continue) is followed by the real one.
                        if (100..<200).contains(received.status.code) {
                            responseHead = nil
                            continue
                        }
                        return HTTPPostResponse(
                            status: received.status,
                            headers: received.headers,
                            body: collected.readBytes(length: collected.readableBytes) ?? []
                        )
                    }
                }
                return nil
            }
            guard let response else {
                throw CLIError("\(url) closed the connection before a complete HTTP response", exitCode: 2)
            }
            return response
        } catch {
            if NIODeadline.now() >= deadline {
                throw CLIError(
                    "no complete response from \(url) within \(Self.seconds(timeout)) (--timeout changes the limit)",
                    exitCode: 2
                )
            }
            if let error = error as? CLIError { throw error }
            throw CLIError("HTTP exchange with \(url) failed: \(error)", exitCode: 2)
        }
    }

    /// A short reason for a failed connect: the errno text of each attempt, or the resolver's error.
    static func connectionFailure(_ error: any Error) -> String {
        if let ioError = error as? IOError {
            return String(cString: strerror(ioError.errnoCode))
        }
        guard let connectionError = error as? NIOConnectionError else { return "\(error)" }
        if connectionError.connectionErrors.isEmpty {
            let dnsError = connectionError.dnsAError ?? connectionError.dnsAAAAError
            return dnsError.map { "cannot resolve the host: \($0)" } ?? "no address for the host"
        }
        var reasons: [String] = []
        for failure in connectionError.connectionErrors {
            let reason = "\(failure.target.ipAddress ?? "?"): \(Self.connectionFailure(failure.error))"
            if !reasons.contains(reason) { reasons.append(reason) }
        }
        return reasons.joined(separator: ", ")
    }

    static func seconds(_ amount: TimeAmount) -> String {
        let value = Double(amount.nanoseconds) / 1e9
        return value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        return String(self.drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}

extension HTTPPostResponse {
    /// Requires a 200 answer of `mediaType`; otherwise a CLIError saying what came instead (with the body's text
    /// when the server explained itself, and `pathHint` on 404).
    func requireOK(mediaType: String, from endpoint: HTTPURL, pathHint: String, service: String) throws(CLIError) {
        guard self.status == .ok else {
            var message = "\(endpoint) answered HTTP \(self.status.code) \(self.status.reasonPhrase)"
            let type = self.mediaType ?? ""
            if type.hasPrefix("text/") || type == "application/json", !self.body.isEmpty {
                let text = String(decoding: self.body.prefix(300), as: UTF8.self)
                message += ": " + text.split(whereSeparator: \.isNewline).joined(separator: " ")
            }
            if self.status == .notFound { message += "; check the path of --url (\(pathHint))" }
            throw CLIError(message, exitCode: 2)
        }
        guard self.mediaType == mediaType else {
            throw CLIError(
                "\(endpoint) answered Content-Type '\(self.headers.first(name: "content-type") ?? "(none)")', "
                    + "not \(mediaType); is --url \(service)?",
                exitCode: 2
            )
        }
    }
}
