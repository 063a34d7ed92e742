import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

// A raw TCP connection kept open across several writes and reads, for what one `RawHTTP.exchange` cannot show:
// pipelined requests, a head sent before its body, several requests on one connection, the server closing.

extension RawHTTP {
    /// One HTTP/1.x response as read off a connection: the status line, the header fields in order, and the body
    /// as the response frames it (RFC 9112 §6.3: none after HEAD and for 1xx, 204 and 304, else Content-Length
    /// octets, else everything up to the close).
    struct Response: Sendable, CustomStringConvertible {
        var statusLine: String
        var status: Int
        /// Names lower-cased, in the order received.
        var fields: [(name: String, value: String)]
        var body: [UInt8]

        /// The first value of the field `name` (any case), or nil.
        func header(_ name: String) -> String? {
            let name = name.lowercased()
            return self.fields.first { $0.name == name }?.value
        }

        /// How many times the field `name` (any case) occurs.
        func count(of name: String) -> Int {
            let name = name.lowercased()
            return self.fields.filter { $0.name == name }.count
        }

        var description: String {
            let head = ([self.statusLine] + self.fields.map { "\($0.name): \($0.value)" }).joined(separator: " | ")
            return "[\(head)] body \(self.body.count) bytes: \(printable(self.body))"
        }

        /// The response at the start of `bytes` and how many octets it took, or nil while it is incomplete.
        /// `closed`: nothing more will come (a body without Content-Length then ends here).
        static func parse(_ bytes: [UInt8], afterHEAD: Bool, closed: Bool) -> (Response, Int)? {
            let separator: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A]
            guard let end = bytes.firstRange(of: separator) else { return nil }
            let lines = String(decoding: bytes[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
            let statusLine = lines[0]
            let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") ?? 0
            var fields: [(name: String, value: String)] = []
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                fields.append(
                    (
                        line[..<colon].lowercased(),
                        line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                    ))
            }
            var response = Response(statusLine: statusLine, status: status, fields: fields, body: [])
            let bodyStart = end.upperBound
            if afterHEAD || (100..<200).contains(status) || status == 204 || status == 304 {
                return (response, bodyStart)
            }
            guard let lengthText = response.header("content-length"), let length = Int(lengthText) else {
                guard closed else { return nil }
                response.body = Array(bytes[bodyStart...])
                return (response, bytes.count)
            }
            guard bytes.count - bodyStart >= length else { return nil }
            response.body = Array(bytes[bodyStart..<(bodyStart + length)])
            return (response, bodyStart + length)
        }
    }

    /// A blocking socket to 127.0.0.1 whose reads and writes each run on a thread of their own (not on the
    /// cooperative pool), each read bounded in time. Bytes read and not yet taken as a response stay pending.
    final class Connection: Sendable {
        let descriptor: Int32
        private let state = Mutex(ReadState())

        private struct ReadState {
            var pending: [UInt8] = []
            /// How the server ended the connection ("EOF", "reset", …), nil while it is open.
            var ending: String?
            var closedHere = false
        }

        private init(descriptor: Int32) {
            self.descriptor = descriptor
        }

        static func open(port: Int) async throws -> Connection {
            try await offPool {
                Connection(
                    descriptor: try connectToLoopback(port: port, receiveTimeout: timeval(tv_sec: 0, tv_usec: 50_000)))
            }
        }

        /// Closes the socket (once).
        func close() {
            let first = self.state.withLock { state in
                defer { state.closedHere = true }
                return !state.closedHere
            }
            if first { _ = Glibc.close(self.descriptor) }
        }

        /// Sends all of `bytes`; throws when the connection refuses them.
        func send(_ bytes: [UInt8]) async throws {
            let descriptor = self.descriptor
            try await offPool {
                var sent = 0
                while sent < bytes.count {
                    let count = bytes[sent...].withUnsafeBytes {
                        Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
                    }
                    if count < 0, errno == EINTR { continue }
                    guard count > 0 else {
                        throw IntegrationError("send failed after \(sent) of \(bytes.count) bytes: errno \(errno)")
                    }
                    sent += count
                }
            }
        }

        func send(_ text: String) async throws {
            try await self.send(Array(text.utf8))
        }

        /// The next response, or nil when none was complete within `timeout` or before the server closed.
        /// `afterHEAD`: the response answers a HEAD request (no body follows its header fields).
        func next(afterHEAD: Bool = false, timeout: Duration = .seconds(20)) async throws -> Response? {
            try await offPool {
                self.blockingRead(timeout: timeout) { pending, closed in
                    Response.parse(pending, afterHEAD: afterHEAD, closed: closed) != nil
                }
                return self.state.withLock { state in
                    guard
                        let (response, used) = Response.parse(
                            state.pending, afterHEAD: afterHEAD, closed: state.ending != nil)
                    else { return nil }
                    state.pending.removeFirst(used)
                    return response
                }
            }
        }

        /// Up to `count` responses, fewer when the time runs out (each waits up to `timeout`) or the server closes.
        func responses(_ count: Int, timeout: Duration = .seconds(20)) async throws -> [Response] {
            var responses: [Response] = []
            while responses.count < count, let response = try await self.next(timeout: timeout) {
                responses.append(response)
            }
            return responses
        }

        /// Reads until the server closes the connection; false when it is still open after `timeout`. Whatever
        /// arrives before the close stays pending.
        func waitForClose(timeout: Duration = .seconds(10)) async throws -> Bool {
            try await offPool {
                self.blockingRead(timeout: timeout) { _, closed in closed }
                return self.state.withLock { $0.ending != nil }
            }
        }

        /// Reads for `duration` (or until the server closes) and returns the octets not yet taken as a response,
        /// leaving them pending: what arrived after the last response.
        func unread(after duration: Duration) async throws -> [UInt8] {
            try await offPool {
                self.blockingRead(timeout: duration) { _, _ in false }
                return self.state.withLock { $0.pending }
            }
        }

        /// How the server ended the connection, nil while it is open (as far as the reads so far saw).
        var ending: String? { self.state.withLock { $0.ending } }

        /// The pending octets and the connection's state, for failure messages.
        var evidence: String {
            self.state.withLock { state in
                "connection \(state.ending.map { "ended: \($0)" } ?? "open"), pending \(state.pending.count) bytes: "
                    + printable(state.pending)
            }
        }

        /// Reads until `enough(pending, closed)`, the server closes, or `timeout` passes.
        private func blockingRead(timeout: Duration, until enough: ([UInt8], Bool) -> Bool) {
            let deadline = ContinuousClock.now + timeout
            var buffer = [UInt8](repeating: 0, count: 16384)
            while true {
                let done = self.state.withLock { state in
                    enough(state.pending, state.ending != nil) || state.ending != nil
                }
                if done || ContinuousClock.now >= deadline { return }
                let count = buffer.withUnsafeMutableBytes { recv(self.descriptor, $0.baseAddress, $0.count, 0) }
                let code = errno
                if count > 0 {
                    self.state.withLock { $0.pending += buffer[0..<count] }
                } else if count == 0 {
                    self.state.withLock { $0.ending = "EOF" }
                } else if code != EAGAIN && code != EWOULDBLOCK && code != EINTR {
                    self.state.withLock { $0.ending = code == ECONNRESET ? "reset" : "recv error \(code)" }
                }
            }
        }
    }

    /// Opens a connection to 127.0.0.1:`port`, runs `body`, and always closes it.
    static func withConnection<R>(port: Int, _ body: (Connection) async throws -> R) async throws -> R {
        let connection = try await Connection.open(port: port)
        defer { connection.close() }
        return try await body(connection)
    }
}

/// Runs blocking socket work on a thread of its own.
private func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
    }
}

/// Text as is when printable, else a length and the first octets in hex.
private func printable(_ bytes: [UInt8]) -> String {
    let isText = bytes.allSatisfy { $0 == 0x0A || $0 == 0x0D || (0x20..<0x7F).contains($0) }
    return isText ? String(decoding: bytes.prefix(600), as: UTF8.self) : "(binary) " + hex(bytes.prefix(48))
}
