/// Where an NTP server answers: a host name or IP address literal and a UDP port.
///
/// RFC 5905 §7.2 assigns UDP port 123 to NTP; it is the default. The host is kept as written (without the brackets
/// of an IPv6 literal) and resolved only when a probe runs.
public struct NTPServerAddress: Sendable, Hashable, CustomStringConvertible {
    /// The NTP port (RFC 5905 §7.2).
    public static let defaultPort = 123

    /// A host name, an IPv4 literal or an IPv6 literal (without brackets).
    public var host: String
    /// The UDP port, 1…65535.
    public var port: Int

    /// An address from its parts; the caller vouches that `port` is in 1…65535.
    public init(host: String, port: Int = NTPServerAddress.defaultPort) {
        self.host = host
        self.port = port
    }

    /// Parses `host`, `host:port`, `v6addr` or `[v6addr]:port` (a bare IPv6 literal has at least two colons and
    /// takes the default port; an IPv6 literal with a port needs brackets).
    public init(parsing text: String) throws(ClockError) {
        let trimmed = text.trimmingASCIIWhitespace()
        guard !trimmed.isEmpty else {
            throw ClockError.invalidServerAddress(text, reason: "the address is empty")
        }
        var host: Substring
        var portText: Substring?
        if trimmed.hasPrefix("[") {
            guard let close = trimmed.firstIndex(of: "]") else {
                throw ClockError.invalidServerAddress(text, reason: "'[' opens an IPv6 literal that ']' never closes")
            }
            host = trimmed[trimmed.index(after: trimmed.startIndex)..<close]
            let rest = trimmed[trimmed.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else {
                    throw ClockError.invalidServerAddress(text, reason: "only ':PORT' may follow the bracketed address")
                }
                portText = rest.dropFirst()
            }
            guard host.contains(":") else {
                throw ClockError.invalidServerAddress(text, reason: "brackets are for IPv6 literals only")
            }
        } else {
            let colons = trimmed.count { $0 == ":" }
            if colons == 1, let colon = trimmed.firstIndex(of: ":") {
                host = trimmed[..<colon]
                portText = trimmed[trimmed.index(after: colon)...]
            } else {
                // No colon: a name or IPv4 literal. Two or more: a bare IPv6 literal on the default port.
                host = trimmed[...]
            }
        }
        guard !host.isEmpty else {
            throw ClockError.invalidServerAddress(text, reason: "the host part is empty")
        }
        if let bad = host.first(where: { $0.isWhitespace || $0 == "/" || $0 == "[" || $0 == "]" }) {
            throw ClockError.invalidServerAddress(text, reason: "the host contains '\(bad)'")
        }
        var port = Self.defaultPort
        if let portText {
            guard !portText.isEmpty, portText.allSatisfy({ $0.isASCII && $0.isNumber }), portText.count <= 5,
                let value = Int(portText)
            else {
                throw ClockError.invalidServerAddress(text, reason: "the port '\(portText)' is not a decimal number")
            }
            guard (1...65535).contains(value) else {
                throw ClockError.invalidServerAddress(text, reason: "the port \(value) is outside 1…65535")
            }
            port = value
        }
        self.init(host: String(host), port: port)
    }

    /// `host:port`, with brackets around an IPv6 literal; `init(parsing:)` reads it back.
    public var description: String {
        self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)"
    }
}

extension String {
    fileprivate func trimmingASCIIWhitespace() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = self.firstIndex(where: { !isSpace($0) }), let last = self.lastIndex(where: { !isSpace($0) })
        else { return "" }
        return self[first...last]
    }
}
