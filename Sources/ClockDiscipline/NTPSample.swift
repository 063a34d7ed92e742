/// One accepted SNTP exchange with a server: the on-wire offset and delay of RFC 5905 §8 and the header fields a
/// caller needs to judge the server.
///
/// With T1 the client's transmit time, T2 the server's receive time, T3 the server's transmit time and T4 the
/// client's receive time (all as Unix nanoseconds):
/// - offset θ = ((T2 − T1) + (T3 − T4)) / 2, positive when the server's clock is ahead of ours;
/// - delay δ = (T4 − T1) − (T3 − T2), the round trip less the server's processing time, never below 0.
///
/// The true offset lies within θ ± δ/2 (plus the server's own root distance), so a sample with a large delay says
/// little.
public struct NTPSample: Sendable, Hashable {
    public var server: NTPServerAddress
    /// θ: how far the server's clock is ahead of the local clock (negative: behind).
    public var offsetNanoseconds: Int64
    /// δ: the network round trip, clamped at 0.
    public var delayNanoseconds: Int64
    /// The server's total round-trip delay to its primary reference (RFC 5905 §7.3 "Root Delay").
    public var rootDelayNanoseconds: Int64
    /// The server's total dispersion to its primary reference (RFC 5905 §7.3 "Root Dispersion").
    public var rootDispersionNanoseconds: Int64
    /// 1 for a primary server, 2…15 for secondary ones.
    public var stratum: Int
    public var leap: NTPLeapIndicator
    /// Four ASCII characters for a stratum-1 server's reference clock (`GPS`, `PPS`…); otherwise, and for a
    /// stratum-1 ID that is not printable (chronyd's local reference is 127.127.1.1), the dotted IPv4 form.
    public var referenceID: String
    /// log2 of the server clock's precision in seconds (−20 is about a microsecond).
    public var precision: Int8
    /// The version of the reply: 3 or 4.
    public var version: Int
    /// T4: when the reply arrived, by the local clock.
    public var localReceiveNanoseconds: Int64
    /// T1: when the request left, by the local clock.
    public var localTransmitNanoseconds: Int64

    public init(
        server: NTPServerAddress,
        offsetNanoseconds: Int64,
        delayNanoseconds: Int64,
        rootDelayNanoseconds: Int64,
        rootDispersionNanoseconds: Int64,
        stratum: Int,
        leap: NTPLeapIndicator,
        referenceID: String,
        precision: Int8,
        version: Int,
        localReceiveNanoseconds: Int64,
        localTransmitNanoseconds: Int64
    ) {
        self.server = server
        self.offsetNanoseconds = offsetNanoseconds
        self.delayNanoseconds = delayNanoseconds
        self.rootDelayNanoseconds = rootDelayNanoseconds
        self.rootDispersionNanoseconds = rootDispersionNanoseconds
        self.stratum = stratum
        self.leap = leap
        self.referenceID = referenceID
        self.precision = precision
        self.version = version
        self.localReceiveNanoseconds = localReceiveNanoseconds
        self.localTransmitNanoseconds = localTransmitNanoseconds
    }
}

/// Why an SNTP probe produced no sample. Each case names the RFC 5905 / RFC 4330 check the reply failed.
public enum NTPProbeFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// No acceptable reply arrived in time.
    case timeout
    /// A stratum-0 reply carrying a kiss code (RFC 5905 §7.4): `RATE` (poll less often), `DENY` or `RSTR` (access
    /// refused), or another four-character code.
    case kissOfDeath(code: String)
    /// The reply's leap indicator is 3: the server says its own clock is not synchronised.
    case unsynchronized
    /// The reply's mode is not 4 (server).
    case badMode(Int)
    /// The reply's version is not 3 or 4.
    case badVersion(Int)
    /// The reply's stratum is outside 1…15 (16 means unsynchronised).
    case badStratum(Int)
    /// Replies came from the server's address, but none echoed our transmit value as its origin timestamp
    /// (RFC 5905 §8: a bogus or replayed packet).
    case originMismatch
    /// The reply's transmit timestamp is zero (RFC 4330 §5).
    case zeroTransmit
    /// The reply's timestamps contradict each other (e.g. a zero receive time or a transmit time before the receive
    /// time).
    case bogusTimestamps(String)
    /// A datagram too short for an NTP header (the length is attached) was the only reply.
    case shortPacket(Int)
    /// The host name did not resolve.
    case resolution(String)
    /// The socket could not be opened, or the network refused the request.
    case network(String)
    /// The task awaiting the probe was cancelled.
    case cancelled

    public var description: String {
        switch self {
        case .timeout:
            "no valid reply before the timeout"
        case .kissOfDeath(let code):
            "the server sent kiss-o'-death \(code)" + Self.kissMeaning(code)
        case .unsynchronized:
            "the server reports its clock as unsynchronised (leap indicator 3)"
        case .badMode(let mode):
            "the reply has mode \(mode), not 4 (server)"
        case .badVersion(let version):
            "the reply has NTP version \(version); only 3 and 4 are accepted"
        case .badStratum(let stratum):
            "the reply has stratum \(stratum), outside 1…15" + (stratum == 16 ? " (unsynchronised)" : "")
        case .originMismatch:
            "the reply's origin timestamp does not echo the request (bogus or spoofed packet)"
        case .zeroTransmit:
            "the reply's transmit timestamp is zero"
        case .bogusTimestamps(let reason):
            "the reply's timestamps are inconsistent: \(reason)"
        case .shortPacket(let length):
            "the reply is \(length) bytes, shorter than the 48-byte NTP header"
        case .resolution(let reason):
            "the host name could not be resolved: \(reason)"
        case .network(let reason):
            "network error: \(reason)"
        case .cancelled:
            "the probe was cancelled"
        }
    }

    private static func kissMeaning(_ code: String) -> String {
        switch code {
        case "RATE": " (polling too often; back off)"
        case "DENY", "RSTR": " (access denied; stop querying this server)"
        default: ""
        }
    }
}
