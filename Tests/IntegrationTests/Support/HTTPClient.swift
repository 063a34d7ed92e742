import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// One HTTP response as curl received it.
struct HTTPExchange: Sendable, CustomStringConvertible {
    var status: Int
    /// Header names lower-cased; of the final response (after any `100 Continue`).
    var headers: [String: String]
    var body: [UInt8]
    var curl: ToolResult

    var contentType: String? { self.headers["content-type"] }
    var text: String { String(decoding: self.body, as: UTF8.self) }

    var description: String {
        let printable = self.body.allSatisfy { $0 == 0x0A || $0 == 0x0D || (0x20..<0x7F).contains($0) }
        let body = printable ? String(self.text.prefix(600)) : "(\(self.body.count) bytes) " + hex(self.body.prefix(64))
        return "HTTP \(self.status) \(self.headers)\n\(body)"
    }
}

/// HTTP over loopback with curl (URLSession needs FoundationNetworking on Linux; curl is what operators use).
enum HTTPClient {
    /// `curl -sS` with `arguments` before the URL; headers and body are captured through files.
    static func request(_ url: String, _ arguments: [String], timeout: Int = 30) async throws -> HTTPExchange {
        let id = UUID().uuidString
        let headerPath = "\(Tool.scratch)/\(id).headers"
        let bodyPath = "\(Tool.scratch)/\(id).body"
        defer {
            try? FileManager.default.removeItem(atPath: headerPath)
            try? FileManager.default.removeItem(atPath: bodyPath)
        }
        let result = try await Tool.run(
            tool: "curl",
            ["-sS", "--max-time", "\(timeout)", "-D", headerPath, "-o", bodyPath] + arguments + [url],
            timeout: .seconds(timeout + 10)
        )
        guard result.succeeded else { throw IntegrationError("curl failed:\n\(result)") }
        let (status, headers) = Self.parseHeaders(readText(headerPath))
        return HTTPExchange(status: status, headers: headers, body: (try? readFile(bodyPath)) ?? [], curl: result)
    }

    /// Status and headers of the last response block in a `curl -D` file.
    static func parseHeaders(_ text: String) -> (Int, [String: String]) {
        var status = 0
        var headers: [String: String] = [:]
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.hasPrefix("HTTP/") {
                status = Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
                headers = [:]
            } else if let colon = line.firstIndex(of: ":") {
                let name = line[..<colon].lowercased()
                headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return (status, headers)
    }

    static func get(_ url: String) async throws -> HTTPExchange {
        try await self.request(url, [])
    }

    /// POSTs `body` (written to a file, sent with `--data-binary @file`). `contentType` nil sends no Content-Type at
    /// all (curl would otherwise add `application/x-www-form-urlencoded`).
    static func post(
        _ url: String,
        body: [UInt8],
        contentType: String? = "application/timestamp-query",
        extraArguments: [String] = []
    ) async throws -> HTTPExchange {
        let bodyPath = "\(Tool.scratch)/\(UUID().uuidString).req"
        try writeFile(bodyPath, body)
        defer { try? FileManager.default.removeItem(atPath: bodyPath) }
        return try await self.post(url, file: bodyPath, contentType: contentType, extraArguments: extraArguments)
    }

    static func post(
        _ url: String,
        file: String,
        contentType: String? = "application/timestamp-query",
        extraArguments: [String] = []
    ) async throws -> HTTPExchange {
        let header = contentType.map { "Content-Type: \($0)" } ?? "Content-Type:"
        return try await self.request(url, ["-H", header, "--data-binary", "@\(file)"] + extraArguments)
    }

    /// The value of the Prometheus sample `name{labels}` (labels exactly as printed), or nil.
    static func metric(_ metrics: String, _ sample: String) -> Double? {
        for line in metrics.split(separator: "\n") where line.hasPrefix(sample + " ") {
            return Double(line.dropFirst(sample.count + 1).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }
}

/// A raw TCP exchange on loopback, for what curl cannot do (headers announcing a body that is never sent).
enum RawHTTP {
    /// Connects to 127.0.0.1:`port`, sends `request`, and reads until the peer closes, `until` matches what was
    /// read, or `timeout` passes. Runs on a thread of its own, not on the cooperative pool.
    static func exchange(
        port: Int,
        request: [UInt8],
        timeout: Duration = .seconds(10),
        until done: @escaping @Sendable (String) -> Bool = { _ in false }
    ) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(
                    with: Result {
                        try Self.blockingExchange(port: port, request: request, timeout: timeout, until: done)
                    })
            }
        }
    }

    private static func blockingExchange(
        port: Int,
        request: [UInt8],
        timeout: Duration,
        until done: (String) -> Bool
    ) throws -> String {
        let fd = try connectToLoopback(port: port, receiveTimeout: timeval(tv_sec: 0, tv_usec: 50_000))
        defer { close(fd) }
        var sent = 0
        while sent < request.count {
            let count = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { break }  // the peer closed early: read what it answered
            sent += count
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                received += buffer[0..<count]
                if done(String(decoding: received, as: UTF8.self)) { break }
            } else if count == 0 {
                break
            } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                break
            }
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// A listening socket on 127.0.0.1 with a port the kernel picked; close the descriptor when done.
    static func occupyLoopbackPort() throws -> (descriptor: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw IntegrationError("socket() failed: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && listen(fd, 8) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else {
            close(fd)
            throw IntegrationError("cannot listen on 127.0.0.1: errno \(errno)")
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }
}

/// 127.0.0.1:`port` as a socket address.
func loopbackAddress(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return address
}

/// A blocking TCP socket connected to 127.0.0.1:`port`, reads timing out after `receiveTimeout`; the caller closes it.
func connectToLoopback(port: Int, receiveTimeout: timeval) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw IntegrationError("socket() failed: errno \(errno)") }
    var timeout = receiveTimeout
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = loopbackAddress(port: port)
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard connected == 0 else {
        close(fd)
        throw IntegrationError("connect to 127.0.0.1:\(port) failed: errno \(errno)")
    }
    return fd
}
