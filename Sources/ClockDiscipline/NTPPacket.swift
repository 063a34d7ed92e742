/// The leap indicator of an NTP header (RFC 5905 §7.3, Figure 9): a warning of a leap second at the end of the
/// current UTC day, or the server's admission that its clock is not synchronised.
public enum NTPLeapIndicator: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// 0: no leap second pending.
    case noWarning = 0
    /// 1: the last minute of the day has 61 seconds.
    case insertSecond = 1
    /// 2: the last minute of the day has 59 seconds.
    case deleteSecond = 2
    /// 3: the server's clock is unsynchronised (alarm condition).
    case unsynchronized = 3

    public var description: String {
        switch self {
        case .noWarning: "no warning"
        case .insertSecond: "insert second"
        case .deleteSecond: "delete second"
        case .unsynchronized: "unsynchronized"
        }
    }
}

/// The association mode of an NTP header (RFC 5905 §7.3, Figure 10). SNTP clients send 3 and accept 4 only.
package enum NTPMode: UInt8, Sendable, Hashable {
    case reserved = 0
    case symmetricActive = 1
    case symmetricPassive = 2
    case client = 3
    case server = 4
    case broadcast = 5
    case control = 6
    case privateUse = 7
}

/// The 48-byte NTP header of RFC 5905 §7.3 (Figure 8), the whole of an SNTP packet (RFC 4330 §4).
///
/// Extension fields and a MAC may follow the header on the wire; `init(decoding:)` ignores them. No field is checked
/// here: deciding what a reply means is the client's job.
package struct NTPPacket: Sendable, Hashable {
    package static let headerLength = 48

    package var leap: NTPLeapIndicator
    /// The version number (3 bits).
    package var version: UInt8
    package var mode: NTPMode
    /// 0 is unspecified or a kiss-o'-death, 1 a primary server, 2…15 secondary, 16 unsynchronised (RFC 5905 §7.3).
    package var stratum: UInt8
    /// log2 of the poll interval in seconds.
    package var poll: Int8
    /// log2 of the server clock's precision in seconds.
    package var precision: Int8
    package var rootDelay: NTPShort
    package var rootDispersion: NTPShort
    /// Four ASCII characters (stratum 0 kiss codes, stratum 1 reference clocks) or an IPv4 address or hash.
    package var referenceID: UInt32
    package var referenceTimestamp: NTPTimestamp
    /// T1 of the request this reply answers, as the client sent it.
    package var originTimestamp: NTPTimestamp
    /// T2: when the server received the request.
    package var receiveTimestamp: NTPTimestamp
    /// T3: when the server sent the reply (in a request: whatever the client wants echoed as origin).
    package var transmitTimestamp: NTPTimestamp

    package init(
        leap: NTPLeapIndicator = .noWarning,
        version: UInt8 = 4,
        mode: NTPMode,
        stratum: UInt8 = 0,
        poll: Int8 = 0,
        precision: Int8 = 0,
        rootDelay: NTPShort = NTPShort(rawValue: 0),
        rootDispersion: NTPShort = NTPShort(rawValue: 0),
        referenceID: UInt32 = 0,
        referenceTimestamp: NTPTimestamp = .zero,
        originTimestamp: NTPTimestamp = .zero,
        receiveTimestamp: NTPTimestamp = .zero,
        transmitTimestamp: NTPTimestamp = .zero
    ) {
        self.leap = leap
        self.version = version
        self.mode = mode
        self.stratum = stratum
        self.poll = poll
        self.precision = precision
        self.rootDelay = rootDelay
        self.rootDispersion = rootDispersion
        self.referenceID = referenceID
        self.referenceTimestamp = referenceTimestamp
        self.originTimestamp = originTimestamp
        self.receiveTimestamp = receiveTimestamp
        self.transmitTimestamp = transmitTimestamp
    }

    /// A client request as draft-ietf-ntp-data-minimization asks for: LI 0, VN 4, mode 3, every other field zero
    /// except the transmit timestamp, which carries `cookie` (a random value, not the client's clock).
    package static func clientRequest(cookie: NTPTimestamp) -> NTPPacket {
        NTPPacket(mode: .client, transmitTimestamp: cookie)
    }

    /// Reads the header from the start of `bytes`; nil when fewer than 48 bytes are there.
    package init?(decoding bytes: some Collection<UInt8>) {
        guard bytes.count >= Self.headerLength else { return nil }
        let header = Array(bytes.prefix(Self.headerLength))
        func word(_ offset: Int) -> UInt32 {
            header[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
        }
        func timestamp(_ offset: Int) -> NTPTimestamp {
            NTPTimestamp(rawValue: UInt64(word(offset)) << 32 | UInt64(word(offset + 4)))
        }
        // Two bits of leap and three of mode cover every raw value, so neither conversion can fail.
        self.leap = NTPLeapIndicator(rawValue: header[0] >> 6) ?? .unsynchronized
        self.version = (header[0] >> 3) & 0x07
        self.mode = NTPMode(rawValue: header[0] & 0x07) ?? .reserved
        self.stratum = header[1]
        self.poll = Int8(bitPattern: header[2])
        self.precision = Int8(bitPattern: header[3])
        self.rootDelay = NTPShort(rawValue: word(4))
        self.rootDispersion = NTPShort(rawValue: word(8))
        self.referenceID = word(12)
        self.referenceTimestamp = timestamp(16)
        self.originTimestamp = timestamp(24)
        self.receiveTimestamp = timestamp(32)
        self.transmitTimestamp = timestamp(40)
    }

    /// The 48 header bytes in network byte order.
    package var encoded: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.headerLength)
        func append(_ value: UInt32) {
            bytes.append(contentsOf: [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) })
        }
        func append(_ value: NTPTimestamp) {
            append(value.seconds)
            append(value.fraction)
        }
        bytes.append(self.leap.rawValue << 6 | (self.version & 0x07) << 3 | self.mode.rawValue)
        bytes.append(self.stratum)
        bytes.append(UInt8(bitPattern: self.poll))
        bytes.append(UInt8(bitPattern: self.precision))
        append(self.rootDelay.rawValue)
        append(self.rootDispersion.rawValue)
        append(self.referenceID)
        append(self.referenceTimestamp)
        append(self.originTimestamp)
        append(self.receiveTimestamp)
        append(self.transmitTimestamp)
        return bytes
    }

    /// The reference ID as four ASCII characters when they are printable (trailing NULs dropped), else nil.
    package var referenceIDText: String? {
        let bytes = [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: self.referenceID >> $0) }
        let significant = bytes.reversed().drop { $0 == 0 }.reversed()
        guard !significant.isEmpty, significant.allSatisfy({ (0x20...0x7E).contains($0) }) else { return nil }
        return String(decoding: significant, as: UTF8.self)
    }

    /// The reference ID as a dotted quad (`127.127.1.1`).
    package var referenceIDDotted: String {
        [24, 16, 8, 0].map { String(UInt8(truncatingIfNeeded: self.referenceID >> $0)) }.joined(separator: ".")
    }
}
