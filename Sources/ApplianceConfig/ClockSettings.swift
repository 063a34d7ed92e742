/// The clock-discipline monitor that gates the TSA (the `clock` section).
public struct ClockSettings: Sendable, Hashable {
    /// Refuse tokens while UTC is not proven within ``maximumErrorSeconds``. The embedded development default
    /// turns it off (these machines have no disciplined clock); `--ntp-server` turns it on.
    public var enforce: Bool
    /// NTP servers probed with SNTP: `host`, `host:port`, `[v6]:port`.
    public var servers: [String]
    public var probeIntervalSeconds: Double
    public var probeTimeoutSeconds: Double
    /// The largest error bound under which tokens are issued (EN 319 421: 1 s at most).
    public var maximumErrorSeconds: Double
    /// K: consecutive good checks before a closed gate reopens.
    public var reopenAfter: Int
    /// No tokens this long before and after an announced leap second.
    public var leapMarginSeconds: Double
    /// `auto` reads `chronyc tracking` when chronyd answers; `off` never does.
    public var chrony: String
    /// chronyd's command socket (chronyc `-h`); nil for chronyc's default.
    public var chronySocket: String?

    public init(
        enforce: Bool = true,
        servers: [String] = [],
        probeIntervalSeconds: Double = 16,
        probeTimeoutSeconds: Double = 1,
        maximumErrorSeconds: Double = 1,
        reopenAfter: Int = 3,
        leapMarginSeconds: Double = 10,
        chrony: String = "auto",
        chronySocket: String? = nil
    ) {
        self.enforce = enforce
        self.servers = servers
        self.probeIntervalSeconds = probeIntervalSeconds
        self.probeTimeoutSeconds = probeTimeoutSeconds
        self.maximumErrorSeconds = maximumErrorSeconds
        self.reopenAfter = reopenAfter
        self.leapMarginSeconds = leapMarginSeconds
        self.chrony = chrony
        self.chronySocket = chronySocket
    }
}

extension ConfigurationLoader {
    static func validateClock(
        _ clock: ConfigurationFile.Clock?, overrides: ConfigurationOverrides, isDevelopment: Bool
    ) throws(ConfigError) -> ClockSettings {
        var settings = ClockSettings(enforce: clock?.enforce ?? !isDevelopment)
        settings.servers = clock?.servers ?? []
        if !overrides.ntpServers.isEmpty {
            // Servers named on the command line replace the file's and always enforce the gate.
            settings.servers = overrides.ntpServers
            settings.enforce = true
        }
        for (index, server) in settings.servers.enumerated() {
            let path = overrides.ntpServers.isEmpty ? "clock.servers[\(index)]" : "--ntp-server"
            try Self.checkServer(server, keyPath: path)
        }
        if Set(settings.servers).count != settings.servers.count {
            throw .invalid("clock.servers", "a server is listed twice; each must be an independent source")
        }
        settings.probeIntervalSeconds = overrides.probeIntervalSeconds ?? clock?.probeInterval ?? 16
        guard (0.2...3600).contains(settings.probeIntervalSeconds) else {
            throw .invalid("clock.probeInterval", "\(settings.probeIntervalSeconds) s is outside 0.2…3600")
        }
        settings.probeTimeoutSeconds = clock?.probeTimeout ?? min(1, settings.probeIntervalSeconds)
        guard settings.probeTimeoutSeconds > 0, settings.probeTimeoutSeconds <= settings.probeIntervalSeconds else {
            throw .invalid(
                "clock.probeTimeout",
                "\(settings.probeTimeoutSeconds) s must be above 0 and at most the probe interval")
        }
        settings.maximumErrorSeconds = overrides.maximumClockErrorSeconds ?? clock?.maxError ?? 1
        guard settings.maximumErrorSeconds >= 0.000_1, settings.maximumErrorSeconds <= 1 else {
            throw .invalid(
                overrides.maximumClockErrorSeconds == nil ? "clock.maxError" : "--max-clock-error",
                "\(settings.maximumErrorSeconds) s is outside 0.0001…1 (EN 319 421 asks for 1 s at most)")
        }
        settings.reopenAfter = clock?.reopenAfter ?? 3
        guard (1...100).contains(settings.reopenAfter) else {
            throw .invalid("clock.reopenAfter", "\(settings.reopenAfter) is outside 1…100")
        }
        settings.leapMarginSeconds = clock?.leapMargin ?? 10
        guard (0...3600).contains(settings.leapMarginSeconds) else {
            throw .invalid("clock.leapMargin", "\(settings.leapMarginSeconds) s is outside 0…3600")
        }
        settings.chrony = clock?.chrony ?? "auto"
        guard ["auto", "off"].contains(settings.chrony) else {
            throw .invalid("clock.chrony", "\"\(settings.chrony)\" is not one of: auto, off")
        }
        settings.chronySocket = clock?.chronySocket
        return settings
    }

    /// `host`, `host:port` or `[v6]:port`, port 1…65535.
    static func checkServer(_ text: String, keyPath: String) throws(ConfigError) {
        var host = Substring(text)
        var port: Substring? = nil
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw .invalid(keyPath, "\"\(text)\" lacks a ]") }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw .invalid(keyPath, "\"\(text)\" is not [IPv6]:PORT") }
                port = rest.dropFirst()
            }
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            host = text[..<colon]
            port = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, !host.contains(where: { $0 == " " || $0 == "/" }) else {
            throw .invalid(keyPath, "\"\(text)\" is not HOST[:PORT]")
        }
        if let port {
            guard let number = Int(port), (1...65535).contains(number) else {
                throw .invalid(keyPath, "\"\(text)\": the port must be 1…65535")
            }
        }
    }
}
