import ArgumentParser
import ClockDiscipline
import Foundation
import NIOCore

/// `sigillum clock`: the clock monitor's view, from the admin listener's `/status`.
struct ClockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clock",
        abstract: "Show the clock gate, the error bound and every clock source of a running sigillumd.",
        discussion: """
            Reads GET /status from the admin listener. Offsets are UTC minus the local clock (positive: the local \
            clock is behind). Exit status: 0 when the gate is open (or disabled), 1 when it is closed, 2 on errors.
            """
    )

    @Option(name: .long, help: "The admin listener's base URL.")
    var admin = "http://127.0.0.1:9090"

    @Flag(name: .long, help: "Redraw the table every --interval seconds until interrupted.")
    var watch = false

    @Option(name: .long, help: "Seconds between refreshes with --watch.")
    var interval: Double = 2

    @Flag(name: .long, help: "Print the clock status as JSON (the `clock` object of /status).")
    var json = false

    @Option(name: .long, help: "Seconds to wait for the admin listener.")
    var timeout: Double = 5

    func validate() throws {
        guard self.interval >= 0.2 else { throw ValidationError("--interval must be at least 0.2 seconds") }
        guard self.timeout > 0 else { throw ValidationError("--timeout must be positive") }
    }

    func run() async throws {
        do {
            repeat {
                let report = try await self.fetch()
                if self.json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                    let data = (try? encoder.encode(report)) ?? Data()
                    Console.print([String(decoding: data, as: UTF8.self)])
                } else {
                    if self.watch { FileHandle.standardOutput.write(Data("\u{1B}[H\u{1B}[2J".utf8)) }
                    Console.print(ClockTable.render(report))
                }
                if !self.watch {
                    if report.gate.enforced && !report.gate.open { throw ExitCode(1) }
                    return
                }
                try await Task.sleep(for: .seconds(self.interval))
            } while true
        } catch let error as CLIError {
            Console.error("sigillum clock: \(error.message)")
            throw ExitCode(error.exitCode)
        }
    }

    func fetch() async throws(CLIError) -> ClockReport {
        let base = self.admin.hasSuffix("/") ? String(self.admin.dropLast()) : self.admin
        let url = try HTTPURL(base + "/status")
        let response = try await HTTPPost.get(
            url, accept: "application/json", timeout: .milliseconds(Int64(self.timeout * 1000)),
            service: "sigillumd admin listener")
        try response.requireOK(
            mediaType: "application/json", from: url, pathHint: "--admin is the admin listener's base URL",
            service: "the sigillumd admin listener")
        struct Status: Decodable { var clock: ClockReport? }
        let status: Status
        do {
            status = try JSONDecoder().decode(Status.self, from: Data(response.body))
        } catch {
            throw CLIError("\(url) did not answer with a sigillumd status document (\(error))", exitCode: 2)
        }
        guard let clock = status.clock else {
            throw CLIError("\(url) reports no clock monitor (an older sigillumd?)", exitCode: 2)
        }
        return clock
    }
}

/// The text table of `sigillum clock`.
enum ClockTable {
    static func render(_ report: ClockReport) -> [String] {
        var lines: [String] = []
        let gate = !report.gate.enforced ? "DISABLED" : (report.gate.open ? "OPEN" : "CLOSED")
        lines.append("Clock gate:   \(gate)" + (report.gate.reason.map { " — \($0)" } ?? ""))
        lines.append(
            "Error bound:  \(Self.duration(report.boundSeconds)) (maximum \(Self.duration(report.maximumBoundSeconds)))"
                + (report.basis.isEmpty ? "" : " from \(report.basis)"))
        lines.append("Offset:       \(Self.duration(report.offsetSeconds)) (UTC − local)")
        if report.configuredServers > 0 {
            lines.append(
                "Agreement:    \(report.agreeing) of \(report.configuredServers) servers agree "
                    + "(\(report.requiredAgreement) needed)")
        }
        lines.append(
            "Checks:       \(report.checks) every \(Self.duration(report.probeIntervalSeconds)); good in a row "
                + "\(report.gate.consecutiveGood) (reopen after \(report.gate.reopenAfter)); last good "
                + "\(report.lastGood ?? "never")")
        if report.leap.announced != .none {
            lines.append(
                "Leap second:  \(report.leap.announced) at \(report.leap.at ?? "?") by "
                    + "\(report.leap.sources.joined(separator: ", "))\(report.leap.inWindow ? " — inside the window" : "")"
            )
        }
        lines.append("")
        var rows: [[String]] = [["SOURCE", "OFFSET", "DELAY", "BOUND", "STRATUM", "AGREES", "NOTE"]]
        let kernel = report.kernel
        rows.append([
            "kernel", Self.duration(kernel.offsetSeconds), "-", Self.duration(kernel.maxErrorSeconds), "-",
            kernel.counted ? "counted" : "reported",
            kernel.error ?? (kernel.synchronized ? kernel.state : "STA_UNSYNC \(kernel.state)"),
        ])
        if let chrony = report.chrony {
            rows.append([
                "chrony", Self.duration(chrony.offsetSeconds), Self.duration(chrony.rootDelaySeconds),
                Self.duration(chrony.boundSeconds), chrony.stratum.map(String.init) ?? "-",
                chrony.counted ? "counted" : "reported",
                chrony.error ?? (chrony.reference.map { "ref \($0)" } ?? ""),
            ])
        }
        for source in report.sources {
            rows.append([
                source.name, Self.duration(source.offsetSeconds), Self.duration(source.delaySeconds),
                Self.duration(source.boundSeconds), source.stratum.map(String.init) ?? "-",
                source.agrees ? "yes" : "no", source.error ?? (source.referenceID.map { "ref \($0)" } ?? ""),
            ])
        }
        var widths = [Int](repeating: 0, count: rows[0].count)
        for row in rows {
            for (index, value) in row.enumerated() { widths[index] = max(widths[index], value.count) }
        }
        for row in rows {
            let padded = row.enumerated().map { index, value in
                index == row.count - 1 ? value : value + String(repeating: " ", count: widths[index] - value.count)
            }
            lines.append(padded.joined(separator: "  "))
        }
        return lines
    }

    static func duration(_ seconds: Double?) -> String {
        guard let seconds else { return "-" }
        let magnitude = abs(seconds)
        if magnitude < 1e-3 { return String(format: "%.1f µs", seconds * 1e6) }
        if magnitude < 1 { return String(format: "%.3f ms", seconds * 1e3) }
        return String(format: "%.3f s", seconds)
    }
}
