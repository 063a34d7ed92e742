import ClockDiscipline
import Testing

/// Output of chronyc 4.3 (Debian 12) captured from chronyd instances on loopback; see the comment of each sample.
private enum Captured {
    /// A client chronyd (`-x`) following a server that libfaketime shifted 3 s ahead. Plain `chronyc tracking` at the
    /// same moment said "System time : 3.000007391 seconds slow of NTP time" and "Frequency : 0.078 ppm slow".
    static let trackingBehind =
        "7F000001,127.0.0.1,2,1795580669.194198319,3.000007391,0.000000080,0.000002019,-0.078,0.000,0.531,"
        + "0.000035705,0.000007953,0.3,Normal\n"
    /// A chronyd with `local stratum 1` and no sources.
    static let trackingLocal =
        "7F7F0101,,1,1795580647.007632966,0.000000000,0.000000000,0.000000000,0.000,0.000,0.000,0.000000000,"
        + "0.000000000,0.0,Normal\n"
    /// A chronyd whose only source is `noselect`.
    static let trackingUnsynchronised =
        "00000000,,0,0.000000000,0.000000000,0.000000000,0.000000000,0.000,0.000,0.000,1.000000000,1.000000000,0.0,"
        + "Not synchronised\n"
    /// A reference clock that never delivered, a selected server, and a server that never answered.
    static let sources = """
        #,?,GPS0,0,0,0,4294967295,0.000000000,0.000000000,0.000000000
        ^,*,127.0.0.1,1,-2,377,0,-0.000000844,-0.000002147,0.000030017
        ^,?,127.0.0.3,0,0,0,4294967295,0.000000000,0.000000000,0.000000000

        """
    /// A `noselect` server shifted 3 s ahead of the local clock; plain `chronyc sources` printed `-3000ms[-3000ms]`.
    static let sourceAhead = "^,?,127.0.0.1,1,-2,377,0,-3.000020504,-3.000020504,0.000034328\n"
    /// The same report without `-c`, which the parser must refuse.
    static let humanTracking = """
        Reference ID    : 7F7F0101 ()
        Stratum         : 1
        Ref time (UTC)  : Wed Nov 25 04:24:07 2026
        System time     : 0.000000000 seconds fast of NTP time

        """
}

@Suite struct ChronyTrackingParsingTests {
    @Test func aClientBehindItsServer() throws {
        let tracking = try ChronyTracking.parse(csv: Captured.trackingBehind)
        #expect(tracking.referenceID == 0x7F00_0001)
        #expect(tracking.referenceIDHex == "7F000001")
        #expect(tracking.referenceName == "127.0.0.1")
        #expect(tracking.stratum == 2)
        #expect(tracking.referenceTimeNanoseconds == 1_795_580_669_194_198_319)
        // "3.000007391 seconds slow of NTP time": NTP time minus system time is +3 s.
        #expect(tracking.systemTimeOffsetNanoseconds == 3_000_007_391)
        #expect(tracking.lastOffsetNanoseconds == 80)
        #expect(tracking.rmsOffsetNanoseconds == 2_019)
        #expect(tracking.frequencyPPM == -0.078)
        #expect(tracking.residualFrequencyPPM == 0)
        #expect(tracking.skewPPM == 0.531)
        #expect(tracking.rootDelayNanoseconds == 35_705)
        #expect(tracking.rootDispersionNanoseconds == 7_953)
        #expect(tracking.updateIntervalNanoseconds == 300_000_000)
        #expect(tracking.leapStatus == .normal)
        #expect(tracking.isSynchronised)
    }

    @Test func theLocalReference() throws {
        let tracking = try ChronyTracking.parse(csv: Captured.trackingLocal)
        #expect(tracking.referenceID == 0x7F7F_0101)
        #expect(tracking.referenceName == "")
        #expect(tracking.stratum == 1)
        #expect(tracking.systemTimeOffsetNanoseconds == 0)
        #expect(tracking.isSynchronised)
    }

    @Test func anUnsynchronisedDaemon() throws {
        let tracking = try ChronyTracking.parse(csv: Captured.trackingUnsynchronised)
        #expect(tracking.referenceID == 0)
        #expect(tracking.stratum == 0)
        #expect(tracking.referenceTimeNanoseconds == 0)
        #expect(tracking.rootDispersionNanoseconds == 1_000_000_000)
        #expect(tracking.leapStatus == .notSynchronised)
        #expect(!tracking.isSynchronised)
    }

    @Test(arguments: ChronyTracking.LeapStatus.allCases)
    func everyLeapStatus(_ status: ChronyTracking.LeapStatus) throws {
        let line = Captured.trackingLocal.replacingNormal(with: status.rawValue)
        #expect(try ChronyTracking.parse(csv: line).leapStatus == status)
    }

    @Test func survivesAJSONRoundTrip() throws {
        let tracking = try ChronyTracking.parse(csv: Captured.trackingBehind)
        let encoded = try JSONCoding.encode(tracking)
        #expect(try JSONCoding.decode(ChronyTracking.self, from: encoded) == tracking)
    }

    @Test(arguments: [
        ("", "0 lines"),
        (Captured.humanTracking, "lines"),
        ("7F000001,127.0.0.1,2\n", "3 fields"),
        (Captured.trackingLocal + Captured.trackingLocal, "2 lines"),
        (Captured.trackingLocal.replacingNormal(with: "Invalid"), "leap status 'Invalid'"),
        (Captured.trackingLocal.replacingOccurrences("7F7F0101", "7F7F01G1"), "reference ID"),
        (Captured.trackingLocal.replacingOccurrences(",1,1795580647", ",one,1795580647"), "stratum"),
        (Captured.trackingLocal.replacingOccurrences("1795580647.007632966", "1.8e9"), "reference time"),
    ])
    func refusesOtherOutput(_ text: String, mentioning: String) {
        let error = #expect(throws: ClockError.self) { try ChronyTracking.parse(csv: text) }
        #expect(error?.code == .chronyOutputUnparsable)
        #expect(error?.reason.contains(mentioning) == true, "\(String(describing: error))")
    }
}

@Suite struct ChronySourcesParsingTests {
    @Test func threeKindsOfSource() throws {
        let sources = try ChronySourceEntry.parse(csv: Captured.sources)
        #expect(sources.count == 3)

        #expect(sources[0].mode == .referenceClock)
        #expect(sources[0].state == .unreachable)
        #expect(sources[0].name == "GPS0")
        #expect(sources[0].reach == 0)
        #expect(sources[0].lastSampleAgeSeconds == nil)

        #expect(sources[1].mode == .server)
        #expect(sources[1].state == .selected)
        #expect(sources[1].name == "127.0.0.1")
        #expect(sources[1].stratum == 1)
        #expect(sources[1].poll == -2)
        #expect(sources[1].reach == 0o377)
        #expect(sources[1].lastSampleAgeSeconds == 0)
        #expect(sources[1].adjustedOffsetNanoseconds == -844)
        #expect(sources[1].measuredOffsetNanoseconds == -2_147)
        #expect(sources[1].errorNanoseconds == 30_017)

        #expect(sources[2].name == "127.0.0.3")
        #expect(sources[2].lastSampleAgeSeconds == nil)
    }

    @Test func aSourceAheadHasANegativeOffset() throws {
        let source = try #require(try ChronySourceEntry.parse(csv: Captured.sourceAhead).first)
        #expect(source.adjustedOffsetNanoseconds == -3_000_020_504)
        #expect(source.measuredOffsetNanoseconds == -3_000_020_504)
    }

    @Test func noSourcesIsAnEmptyList() throws {
        #expect(try ChronySourceEntry.parse(csv: "").isEmpty)
        #expect(try ChronySourceEntry.parse(csv: "\n").isEmpty)
    }

    @Test(arguments: [
        "=,+,peer.example,3,6,17,12,0.001,0.001,0.002",
        "^,-,a,2,6,1,5,0.001,0.001,0.002",
        "^,x,b,2,6,1,5,0.001,0.001,0.002",
        "^,~,c,2,6,1,5,0.001,0.001,0.002",
    ])
    func everyModeAndState(_ line: String) throws {
        #expect(try ChronySourceEntry.parse(csv: line).count == 1)
    }

    @Test(arguments: [
        ("^,*,127.0.0.1,1,-2,377,0,-0.000000844,-0.000002147", "9 fields"),
        ("!,*,127.0.0.1,1,-2,377,0,0,0,0", "mode '!'"),
        ("^,%,127.0.0.1,1,-2,377,0,0,0,0", "state '%'"),
        ("^,*,,1,-2,377,0,0,0,0", "name is empty"),
        ("^,*,127.0.0.1,1,-2,378,0,0,0,0", "reach register '378'"),
        ("^,*,127.0.0.1,1,-2,377,-,0,0,0", "last sample age '-'"),
        ("^,*,127.0.0.1,1,-2,377,0,-844ns,0,0", "adjusted offset '-844ns'"),
    ])
    func refusesOtherOutput(_ line: String, mentioning: String) {
        let error = #expect(throws: ClockError.self) { try ChronySourceEntry.parse(csv: line) }
        #expect(error?.code == .chronyOutputUnparsable)
        #expect(error?.reason.contains(mentioning) == true, "\(String(describing: error))")
    }
}

@Suite struct ChronyClientTests {
    @Test func aMissingProgramIsUnavailable() async {
        let client = ChronyClient(executable: "/nonexistent/chronyc")
        let error = await #expect(throws: ClockError.self) { try await client.tracking() }
        #expect(error?.code == .chronyUnavailable)
        #expect(!ChronyClient.isInstalled(executable: "/nonexistent/chronyc"))
    }

    @Test func aDaemonThatIsNotThereIsUnavailable() async throws {
        try #require(ChronyClient.isInstalled(), "chronyc is not installed")
        let client = ChronyClient(socketPath: "/nonexistent/chronyd.sock")
        let error = await #expect(throws: ClockError.self) { try await client.sources() }
        #expect(error?.code == .chronyUnavailable)
        #expect(error?.reason.contains("exited with status") == true, "\(String(describing: error))")
    }

    @Test func aHangingProgramIsKilledAtTheTimeout() async throws {
        // A script that sleeps whatever its arguments stands in for a chronyc whose daemon never answers.
        let script = try await TemporaryScript("#!/bin/sh\nexec sleep 30\n")
        defer { script.remove() }
        let clock = ContinuousClock()
        let start = clock.now
        let client = ChronyClient(executable: script.path, timeout: .milliseconds(300))
        let error = await #expect(throws: ClockError.self) { try await client.tracking() }
        #expect(error?.code == .chronyUnavailable)
        #expect(error?.reason.contains("did not finish") == true, "\(String(describing: error))")
        #expect(clock.now - start < .seconds(5))
    }

    @Test func garbageOnStandardOutputIsUnparsable() async throws {
        let script = try await TemporaryScript("#!/bin/sh\necho 'hello, world'\n")
        defer { script.remove() }
        let client = ChronyClient(executable: script.path)
        let error = await #expect(throws: ClockError.self) { try await client.tracking() }
        #expect(error?.code == .chronyOutputUnparsable)
    }
}

extension String {
    fileprivate func replacingNormal(with status: String) -> String {
        self.replacingOccurrences(",Normal\n", ",\(status)\n")
    }

    fileprivate func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        self.split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
