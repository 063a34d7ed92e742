import CZlib
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Puts a ``PIVCardEmulator`` into a vpcd reader: a client of the TCP port that pcscd's vsmartcard
/// driver (`libifdvpcd`) listens on (in Debian's configuration 35963 for "Virtual PCD 00 00", 35964 for
/// "… 00 01"; the tests use ports of their own, see ``PCSCTestEnvironment``).
///
/// vpcd's protocol: each message is a 2-octet big-endian length and then either a command APDU or a
/// 1-octet control code (0 power off, 1 power on, 2 reset, 4 get ATR); the card answers an APDU with
/// a response APDU and "get ATR" with its ATR, in the same framing, and the other codes with nothing.
///
/// The card is "inserted" while the client is connected: ``remove()`` closes the connection (pcscd
/// sees the reader empty) and ``insert()`` lets the client connect again. The client runs on a thread
/// of its own and reconnects by itself while inserted (after a pcscd restart, for instance).
final class VirtualCardReader: Sendable {
    let card: PIVCardEmulator
    let port: UInt16

    private struct State {
        var inserted = true
        var stopped = false
        var socket: Int32 = -1
        var connected = false
        var sessions = 0
    }

    private let state = Mutex(State())
    private let finished = DispatchSemaphore(value: 0)

    /// Starts the client for `card` on `port`; it connects as soon as pcscd listens.
    init(card: PIVCardEmulator, port: UInt16 = pcscEnvironment.firstPort) {
        self.card = card
        self.port = port
        let thread = Thread { [self] in
            self.loop()
            self.finished.signal()
        }
        thread.name = "vpcd card \(port)"
        thread.start()
    }

    /// Whether the card is connected to pcscd now.
    var isConnected: Bool { self.state.withLock { $0.connected } }

    /// How many connections to vpcd the card has made.
    var sessions: Int { self.state.withLock { $0.sessions } }

    /// Takes the card out: closes the connection and stays away until ``insert()``.
    func remove() {
        let socket = self.state.withLock { state -> Int32 in
            state.inserted = false
            return state.socket
        }
        if socket >= 0 {
            shutdown(socket, Int32(SHUT_RDWR))
        }
    }

    /// Puts the card back: the client connects again.
    func insert() {
        self.state.withLock { $0.inserted = true }
    }

    /// Stops the client and waits for its thread.
    func stop() {
        let socket = self.state.withLock { state -> Int32 in
            state.stopped = true
            state.inserted = false
            return state.socket
        }
        if socket >= 0 {
            shutdown(socket, Int32(SHUT_RDWR))
        }
        _ = self.finished.wait(timeout: .now() + 5)
    }

    private func loop() {
        while true {
            let (stopped, inserted) = self.state.withLock { ($0.stopped, $0.inserted) }
            if stopped { return }
            guard inserted, let socket = self.connect() else {
                usleep(50_000)
                continue
            }
            let keep = self.state.withLock { state -> Bool in
                guard state.inserted, !state.stopped else { return false }
                state.socket = socket
                state.connected = true
                state.sessions += 1
                return true
            }
            if keep {
                self.serve(socket)
            }
            self.state.withLock { state in
                state.socket = -1
                state.connected = false
            }
            close(socket)
            self.card.reset()
        }
    }

    private func connect() -> Int32? {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = self.port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard status == 0 else {
            close(socket)
            return nil
        }
        var one: Int32 = 1
        setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return socket
    }

    /// Serves messages until the connection ends.
    private func serve(_ socket: Int32) {
        while true {
            guard let header = self.read(socket, count: 2) else { return }
            let length = Int(header[0]) << 8 | Int(header[1])
            guard length > 0, let message = self.read(socket, count: length) else { return }
            if message.count == 1 {
                switch message[0] {
                case 0, 1, 2:
                    // Power off, power on, reset: no answer.
                    self.card.reset()
                case 4:
                    guard self.write(socket, self.card.atr) else { return }
                default:
                    break
                }
                continue
            }
            guard self.write(socket, self.card.process(message)) else { return }
        }
    }

    /// Reads exactly `count` octets, or `nil` when the connection ends.
    ///
    /// vpcd writes a message's length and payload separately; without `TCP_QUICKACK` (which Linux clears
    /// after each delayed ACK) the second write waits for our delayed ACK, 40 ms per APDU.
    private func read(_ socket: Int32, count: Int) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            var one: Int32 = 1
            setsockopt(socket, Int32(IPPROTO_TCP), TCP_QUICKACK, &one, socklen_t(MemoryLayout<Int32>.size))
            let received = buffer.withUnsafeMutableBytes { pointer in
                recv(socket, pointer.baseAddress?.advanced(by: offset), count - offset, 0)
            }
            if received < 0, errno == EINTR { continue }
            guard received > 0 else { return nil }
            offset += received
        }
        return buffer
    }

    /// Writes one framed message in one call.
    private func write(_ socket: Int32, _ payload: [UInt8]) -> Bool {
        let message = [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)] + payload
        var offset = 0
        while offset < message.count {
            let sent = message.withUnsafeBytes { pointer in
                send(socket, pointer.baseAddress?.advanced(by: offset), message.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent < 0, errno == EINTR { continue }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }
}

/// gzip-compresses `data` (RFC 1952), as card issuers store large certificates.
func gzip(_ data: [UInt8]) throws -> [UInt8] {
    var stream = z_stream()
    // 15 window bits + 16: a gzip header and trailer.
    guard
        deflateInit2_(
            &stream,
            Z_BEST_COMPRESSION,
            Z_DEFLATED,
            15 + 16,
            8,
            Z_DEFAULT_STRATEGY,
            zlibVersion(),
            Int32(MemoryLayout<z_stream>.size)
        ) == Z_OK
    else { throw EmulatorRefusal(0x6F00) }
    defer { deflateEnd(&stream) }
    var input = data
    var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(data.count))) + 64)
    let status = input.withUnsafeMutableBufferPointer { source in
        output.withUnsafeMutableBufferPointer { destination in
            stream.next_in = source.baseAddress
            stream.avail_in = uInt(source.count)
            stream.next_out = destination.baseAddress
            stream.avail_out = uInt(destination.count)
            return deflate(&stream, Z_FINISH)
        }
    }
    guard status == Z_STREAM_END else { throw EmulatorRefusal(0x6F00) }
    return Array(output.prefix(Int(stream.total_out)))
}
