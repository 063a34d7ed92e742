import CSysClock
import Glibc

/// The real clock sources: `adjtimex`, `chronyc tracking`, SNTP probes, and the kernel's clocks.
public struct SystemClockSources: ClockSources {
    let sntp: SNTPClient
    let chronyClient: ChronyClient?
    let servers: [String: NTPServerAddress]
    /// Servers whose text did not parse; probing them reports the reason.
    let unparsable: [String: String]

    /// - Parameters:
    ///   - servers: the configured servers (`host`, `host:port`, `[v6]:port`).
    ///   - probeTimeout: how long each probe waits.
    ///   - chrony: whether to read chrony; `socketPath` for chronyc `-h`.
    public init(servers: [String], probeTimeout: Duration, chrony: Bool, chronySocket: String?) {
        self.sntp = SNTPClient(timeout: probeTimeout)
        var parsed: [String: NTPServerAddress] = [:]
        var failures: [String: String] = [:]
        for server in servers {
            do {
                parsed[server] = try NTPServerAddress(parsing: server)
            } catch {
                failures[server] = error.reason
            }
        }
        self.servers = parsed
        self.unparsable = failures
        self.chronyClient =
            chrony && (chronySocket != nil || ChronyClient.isInstalled())
            ? ChronyClient(socketPath: chronySocket, timeout: .seconds(2)) : nil
    }

    public func kernel() -> Result<KernelClockState, ClockError> {
        Result { () throws(ClockError) in try KernelClock.read() }
    }

    public func chrony() async -> Result<ChronyReading, ClockError>? {
        guard let client = self.chronyClient else { return nil }
        do {
            let tracking = try await client.tracking()
            return .success(Self.reading(tracking))
        } catch {
            return .failure(error)
        }
    }

    /// chrony's tracking data in the monitor's terms. In `chronyc -c tracking` a positive system-time offset means
    /// the system clock is *slow* of NTP time (checked on chrony 4.3 against a server shifted +3 s: "3.0 seconds
    /// slow" prints as +3.0), i.e. NTP − local: the monitor's convention (UTC − local), so no sign change.
    static func reading(_ tracking: ChronyTracking) -> ChronyReading {
        let leap: LeapAnnouncement =
            switch tracking.leapStatus {
            case .insertSecond: .insert
            case .deleteSecond: .delete
            default: .none
            }
        return ChronyReading(
            synchronized: tracking.isSynchronised,
            reference: tracking.referenceName,
            stratum: tracking.stratum,
            offsetNanoseconds: tracking.systemTimeOffsetNanoseconds,
            rootDelayNanoseconds: tracking.rootDelayNanoseconds,
            rootDispersionNanoseconds: tracking.rootDispersionNanoseconds,
            leap: leap
        )
    }

    public func probe(_ servers: [String], timeout: Duration) async -> [ProbeReading] {
        let addresses = servers.compactMap { self.servers[$0] }
        let results = await self.sntp.probe(addresses)
        var byAddress: [NTPServerAddress: Result<NTPSample, NTPProbeFailure>] = [:]
        for (address, result) in results { byAddress[address] = result }
        return servers.map { server in
            guard let address = self.servers[server], let result = byAddress[address] else {
                return ProbeReading(
                    server: server, outcome: .failed(reason: self.unparsable[server] ?? "not a server address"))
            }
            switch result {
            case .success(let sample):
                return ProbeReading(server: server, outcome: .answered(Self.sample(sample)))
            case .failure(let failure):
                return ProbeReading(server: server, outcome: .failed(reason: failure.description))
            }
        }
    }

    static func sample(_ sample: NTPSample) -> ProbeSample {
        let leap: LeapAnnouncement =
            switch sample.leap {
            case .insertSecond: .insert
            case .deleteSecond: .delete
            default: .none
            }
        return ProbeSample(
            offsetNanoseconds: sample.offsetNanoseconds,
            delayNanoseconds: sample.delayNanoseconds,
            rootDelayNanoseconds: sample.rootDelayNanoseconds,
            rootDispersionNanoseconds: sample.rootDispersionNanoseconds,
            stratum: sample.stratum,
            leap: leap,
            referenceID: sample.referenceID,
            precisionExponent: Int(sample.precision)
        )
    }

    public func now() -> ClockInstant {
        var realtime = timespec()
        var monotonic = timespec()
        clock_gettime(CLOCK_REALTIME, &realtime)
        clock_gettime(CLOCK_MONOTONIC, &monotonic)
        return ClockInstant(
            realtime: Int64(realtime.tv_sec) * 1_000_000_000 + Int64(realtime.tv_nsec),
            monotonic: Int64(monotonic.tv_sec) * 1_000_000_000 + Int64(monotonic.tv_nsec))
    }
}
