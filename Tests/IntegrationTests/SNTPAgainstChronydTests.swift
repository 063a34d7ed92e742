import ClockDiscipline
import Foundation
import Testing

/// The SNTP client and the chronyc reader against real chronyd instances on loopback (see `ChronyServer`).
@Suite(
    "SNTP and chronyc against a real chronyd",
    .enabled(if: ChronyServer.isAvailable, "needs chronyd and chronyc (scripts/install-deps.sh test)")
)
struct SNTPAgainstChronydTests {
    private static let tolerance: Int64 = 100_000_000
    private let client = SNTPClient(timeout: .seconds(1))

    @Test func anUnshiftedChronydAgreesWithOurClock() async throws {
        try await withChronyServer { server in
            let sample = try await self.client.probe(server.address).get()
            #expect(abs(sample.offsetNanoseconds) < Self.tolerance, "offset \(sample.offsetNanoseconds) ns")
            #expect(sample.delayNanoseconds >= 0)
            #expect(sample.delayNanoseconds < 50_000_000, "delay \(sample.delayNanoseconds) ns")
            // `local stratum 1` answers as a primary server; its reference is the local clock 127.127.1.1, whose
            // ID bytes are not printable, so it is shown dotted.
            #expect(sample.stratum == 1)
            #expect(sample.referenceID == "127.127.1.1")
            #expect(sample.leap == .noWarning)
            #expect(sample.version == 4)
            #expect(sample.server == server.address)
        }
    }

    @Test(.enabled(if: ChronyServer.libfaketimeIsAvailable, "needs libfaketime"))
    func aChronydShiftedThreeSecondsAheadAndBack() async throws {
        try await withChronyServer(shift: "+3s") { server in
            let ahead = try await self.client.probe(server.address).get()
            #expect(
                abs(ahead.offsetNanoseconds - 3_000_000_000) < Self.tolerance,
                "offset \(ahead.offsetNanoseconds) ns"
            )

            // libfaketime re-reads the file on every clock call (FAKETIME_NO_CACHE), so the next reply is unshifted.
            try server.setShift("+0s")
            let back = try await self.probeUntil(server.address) { abs($0.offsetNanoseconds) < Self.tolerance }
            #expect(abs(back.offsetNanoseconds) < Self.tolerance, "offset \(back.offsetNanoseconds) ns")
            #expect(server.isRunning)
        }
    }

    @Test func probingAnUnshiftedAndAShiftedServerAtOnce() async throws {
        try #require(ChronyServer.libfaketimeIsAvailable, "needs libfaketime")
        try await withChronyServer { plain in
            try await withChronyServer(shift: "-2s") { behind in
                let results = await self.client.probe([plain.address, behind.address])
                #expect(results.map(\.0) == [plain.address, behind.address])
                let first = try results[0].1.get()
                let second = try results[1].1.get()
                #expect(abs(first.offsetNanoseconds) < Self.tolerance)
                #expect(abs(second.offsetNanoseconds + 2_000_000_000) < Self.tolerance)
            }
        }
    }

    @Test func chronycReadsALocalStratumOneServer() async throws {
        try await withChronyServer(commandSocket: true) { server in
            let tracking = try await server.chronyc.tracking()
            #expect(tracking.referenceID == 0x7F7F_0101)
            #expect(tracking.stratum == 1)
            #expect(tracking.leapStatus == .normal)
            #expect(tracking.isSynchronised)
            #expect(abs(tracking.systemTimeOffsetNanoseconds) < 1_000_000)
            // Its reference time is its own clock, refreshed as it runs.
            let now = SNTPClient.systemRealtimeNanoseconds()
            #expect(abs(tracking.referenceTimeNanoseconds - now) < 120_000_000_000)

            let sources = try await server.chronyc.sources()
            #expect(sources.isEmpty)
        }
    }

    /// A chronyd client following a server 3 s ahead: the live check of the sign conventions. The client cannot
    /// correct the clock (`-x`), so it reports the system clock 3 s slow of NTP time (`systemTimeOffsetNanoseconds`
    /// ≈ +3 s, the same sign as an SNTP offset), while its source's offset, measured against the NTP clock it already
    /// moved, is near zero.
    @Test(.enabled(if: ChronyServer.libfaketimeIsAvailable, "needs libfaketime"))
    func chronycReadsAClientBehindItsShiftedServer() async throws {
        try await withChronyServer(shift: "+3s") { upstream in
            try await withChronyServer(commandSocket: true, upstreamPort: upstream.port) { client in
                let tracking = try await client.chronyc.tracking()
                #expect(tracking.stratum == 2)
                #expect(tracking.referenceName == "127.0.0.1")
                #expect(tracking.referenceID == 0x7F00_0001)
                #expect(tracking.leapStatus == .normal)
                #expect(
                    abs(tracking.systemTimeOffsetNanoseconds - 3_000_000_000) < Self.tolerance,
                    "system time offset \(tracking.systemTimeOffsetNanoseconds) ns"
                )
                #expect(tracking.rootDelayNanoseconds >= 0)
                #expect(tracking.rootDelayNanoseconds < 50_000_000)
                #expect(tracking.skewPPM >= 0)

                let sources = try await client.chronyc.sources()
                let source = try #require(sources.first, "no source in \(sources)")
                #expect(sources.count == 1)
                #expect(source.mode == .server)
                #expect(source.name == "127.0.0.1")
                #expect(source.stratum == 1)
                #expect(source.state == .selected)
                #expect(source.reach != 0)
                #expect(source.lastSampleAgeSeconds != nil)
                #expect(abs(source.adjustedOffsetNanoseconds) < Self.tolerance)
                #expect(source.errorNanoseconds >= 0)

                // Our own probe of the same server agrees with chronyd's view of the system clock.
                let sample = try await self.client.probe(upstream.address).get()
                #expect(abs(sample.offsetNanoseconds - tracking.systemTimeOffsetNanoseconds) < Self.tolerance)
            }
        }
    }

    @Test func chronycWithoutADaemonIsUnavailable() async throws {
        try await withTemporaryDirectory("chronyc") { directory in
            let client = ChronyClient(socketPath: "\(directory)/chronyd.sock")
            let error = await #expect(throws: ClockError.self) { try await client.tracking() }
            #expect(error?.code == .chronyUnavailable)
        }
    }

    /// Probes until `accept` holds (at most 3 s), returning the last sample.
    private func probeUntil(
        _ address: NTPServerAddress,
        _ accept: (NTPSample) -> Bool
    ) async throws -> NTPSample {
        let deadline = ContinuousClock.now + .seconds(3)
        while true {
            let sample = try await self.client.probe(address).get()
            if accept(sample) || ContinuousClock.now >= deadline { return sample }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}
