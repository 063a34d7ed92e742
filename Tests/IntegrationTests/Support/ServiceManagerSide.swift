import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// systemd's end of the notification protocol (sd_notify(3)): a datagram socket the daemon finds in `$NOTIFY_SOCKET`.
final class NotifySocket: Sendable {
    let path: String
    let descriptor: Int32
    /// Every message received, in order, with the instant it was read.
    private let received = Mutex<[(bytes: [UInt8], at: ContinuousClock.Instant)]>([])

    init(path: String) throws {
        self.path = path
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw IntegrationError("socket(AF_UNIX, SOCK_DGRAM) failed: errno \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw IntegrationError("socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in bytes.enumerated() { buffer[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0 else {
            close(fd)
            throw IntegrationError("bind(\(path)) failed: errno \(errno)")
        }
        self.descriptor = fd
        // Read continuously, as systemd does: a datagram queue holds only a few messages (net.unix.max_dgram_qlen),
        // and a sender on a blocking socket waits once it is full.
        let reader = Thread { [weak self] in
            while let socket = self, !socket.closed.load(ordering: .relaxed) {
                var poller = pollfd(fd: socket.descriptor, events: Int16(POLLIN), revents: 0)
                if poll(&poller, 1, 50) > 0 { socket.drain() }
            }
        }
        reader.start()
    }

    private let closed = Atomic<Bool>(false)

    deinit {
        self.closed.store(true, ordering: .relaxed)
        close(self.descriptor)
        unlink(self.path)
    }

    /// Reads whatever has arrived, without blocking.
    private func drain() {
        // One reader at a time, so that the order of messages is kept.
        self.reading.withLock { _ in self.drainLocked() }
    }

    private let reading = Mutex<Void>(())

    private func drainLocked() {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(self.descriptor, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            guard count > 0 else { return }
            let message = Array(buffer[0..<count])
            self.received.withLock { $0.append((message, .now)) }
        }
    }

    /// All messages so far.
    var messages: [String] {
        self.drain()
        return self.received.withLock { $0.map { String(decoding: $0.bytes, as: UTF8.self) } }
    }

    /// The messages so far as received, with their arrival instants.
    var rawMessages: [(bytes: [UInt8], at: ContinuousClock.Instant)] {
        self.drain()
        return self.received.withLock { $0 }
    }

    /// Waits until some message has the assignment `assignment` (e.g. `READY=1`) after `index`; returns its index.
    @discardableResult
    func waitFor(
        _ assignment: String, after index: Int = -1, timeout: Duration = .seconds(60)
    ) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        while true {
            let messages = self.messages
            if let found = messages.indices.first(where: {
                $0 > index && Self.assignments($0 < messages.count ? messages[$0] : "").contains(assignment)
            }) {
                return found
            }
            if ContinuousClock.now >= deadline {
                throw IntegrationError("no \(assignment) after message \(index) within \(timeout); got:\n\(messages)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Waits until a message after `index` satisfies `predicate`; returns its index.
    @discardableResult
    func waitFor(
        after index: Int, timeout: Duration, description: String, where predicate: (String) -> Bool
    ) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        while true {
            let messages = self.messages
            if let found = messages.indices.first(where: { $0 > index && predicate(messages[$0]) }) { return found }
            if ContinuousClock.now >= deadline {
                throw IntegrationError("no message \(description) after \(index) within \(timeout); got:\n\(messages)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    static func assignments(_ message: String) -> [String] {
        message.split(separator: "\n").map(String.init)
    }

    /// The value of `NAME=` in a message.
    static func value(_ name: String, in message: String) -> String? {
        self.assignments(message).first { $0.hasPrefix(name + "=") }.map { String($0.dropFirst(name.count + 1)) }
    }
}

/// The journal's end of the native protocol (systemd-journald.socket(8)): a datagram socket at
/// `/run/systemd/journal/socket` as the daemon sees it; the test binds it in a folder that a private mount namespace
/// puts in place of `/run`.
final class JournalSocket: Sendable {
    let socket: NotifySocket

    /// Binds `RUN/systemd/journal/socket`.
    init(run: String) throws {
        try FileManager.default.createDirectory(
            atPath: run + "/systemd/journal", withIntermediateDirectories: true)
        self.socket = try NotifySocket(path: run + "/systemd/journal/socket")
    }

    /// The entries so far, each as its fields. The native format is `NAME=value\n`, or for values holding a newline
    /// `NAME\n`, a 64-bit little-endian length, the value and `\n`.
    var entries: [[String: String]] {
        self.socket.rawMessages.map { Self.parse($0.bytes) }
    }

    static func parse(_ bytes: [UInt8]) -> [String: String] {
        var fields: [String: String] = [:]
        var index = 0
        while index < bytes.count {
            guard let end = bytes[index...].firstIndex(where: { $0 == 0x0A || $0 == 0x3D }) else { break }
            let name = String(decoding: bytes[index..<end], as: UTF8.self)
            if bytes[end] == 0x3D {
                let valueEnd = bytes[(end + 1)...].firstIndex(of: 0x0A) ?? bytes.count
                fields[name] = String(decoding: bytes[(end + 1)..<valueEnd], as: UTF8.self)
                index = valueEnd + 1
            } else {
                guard end + 9 <= bytes.count else { break }
                var length = 0
                for offset in 0..<8 { length |= Int(bytes[end + 1 + offset]) << (8 * offset) }
                let start = end + 9
                guard start + length <= bytes.count else { break }
                fields[name] = String(decoding: bytes[start..<(start + length)], as: UTF8.self)
                index = start + length + 1
            }
        }
        return fields
    }
}

/// A loopback TCP port that was free a moment ago (for `systemd-socket-activate -l`).
func freeTCPPort() throws -> Int {
    let (descriptor, port) = try RawHTTP.occupyLoopbackPort()
    close(descriptor)
    return port
}

/// A blocking TCP connection to 127.0.0.1, for requests sent in pieces.
final class LoopbackConnection: Sendable {
    let descriptor: Int32

    init(port: Int) throws {
        self.descriptor = try connectToLoopback(port: port, receiveTimeout: timeval(tv_sec: 20, tv_usec: 0))
    }

    deinit { close(self.descriptor) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(self.descriptor, $0.baseAddress, $0.count, 0) }
            guard sent > 0 else { throw IntegrationError("send: errno \(errno)") }
            offset += sent
        }
    }

    /// Reads until the peer closes (or 20 s pass without data).
    func receiveAll() throws -> [UInt8] {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = recv(self.descriptor, &buffer, buffer.count, 0)
            if count > 0 {
                received += buffer[0..<count]
            } else if count == 0 {
                return received
            } else {
                throw IntegrationError("recv: errno \(errno) after \(received.count) bytes")
            }
        }
    }
}
