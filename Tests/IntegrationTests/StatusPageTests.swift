import ClockDiscipline
import Foundation
import Testing

/// The admin listener's status page, loaded in a real browser (Debian's headless Chromium).
@Suite(
    "Status page: the drift chart renders with data in a real browser",
    .enabled(if: StatusPageBrowser.path != nil && ChronyServer.isAvailable, "needs chromium and chronyd")
)
struct StatusPageTests {
    @Test func theChartShowsOffsetAndBoundPoints() async throws {
        let server = try await ChronyServer.start()
        do {
            try await self.check(server)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    func check(_ server: ChronyServer) async throws {
        let pki = try await SharedFixtures.shared.pki(.ecP256)
        try await withTemporaryDirectory("status-page") { directory in
            var configuration = DaemonConfiguration(stateDirectory: directory + "/state", pki: pki)
            configuration.clockEnforce = true
            configuration.clockServers = ["127.0.0.1:\(server.port)"]
            configuration.probeInterval = 0.5
            configuration.reopenAfter = 1
            try await withConfiguredDaemon(configuration) { _, banner in
                // A few checks give the chart its points.
                _ = try await ClockStatus.wait(banner, "five checks", timeout: .seconds(30)) { $0.checks >= 5 }
                _ = try await TSAClient.post(try Requests.make(), to: banner)
                let page = banner.adminBase + "/"
                let dom = try await StatusPageBrowser.run(["--dump-dom", page], directory: directory)
                #expect(dom.succeeded, "\(dom)")
                let html = dom.output
                let count = Self.attribute("data-point-count", in: html).flatMap { Int($0) } ?? 0
                #expect(count >= 5, "data-point-count=\(count)")
                #expect(html.components(separatedBy: "class=\"point\"").count - 1 >= 5, "offset points drawn")
                #expect(html.contains("id=\"offset-line\""))
                #expect(html.contains("id=\"bound-band\""))
                #expect(html.contains(">open<"), "the gate state is shown")
                #expect(html.contains("127.0.0.1:\(server.port)"), "the source is listed")
                // The screenshot is kept as an artifact of the test run.
                let artifacts = Environment.repositoryRoot + "/.test-artifacts"
                try FileManager.default.createDirectory(atPath: artifacts, withIntermediateDirectories: true)
                let screenshot = artifacts + "/status-page.png"
                try? FileManager.default.removeItem(atPath: screenshot)
                let shot = try await StatusPageBrowser.run(
                    ["--screenshot=\(screenshot)", "--window-size=900,1300", page], directory: directory)
                #expect(shot.succeeded, "\(shot)")
                let size = (try? FileManager.default.attributesOfItem(atPath: screenshot)[.size] as? Int) ?? 0
                #expect(size > 10_000, "screenshot of \(size) bytes at \(screenshot)")
            }
        }
    }

    static func attribute(_ name: String, in html: String) -> String? {
        guard let range = html.range(of: name + "=\"") else { return nil }
        let rest = html[range.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }
}

/// Headless Chromium with its own throw-away profile.
enum StatusPageBrowser {
    static let path: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    static func run(_ arguments: [String], directory: String) async throws -> ToolResult {
        guard let path = Self.path else { throw IntegrationError("chromium is not installed") }
        let profile = directory + "/chromium-profile-\(UUID().uuidString.prefix(8))"
        // --no-sandbox: the tests may run as root, where Chromium's sandbox refuses to start. The page is our own,
        // served from loopback. The virtual-time budget lets the page's fetches and drawing finish before the dump.
        return try await Tool.run(
            path,
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--user-data-dir=\(profile)", "--virtual-time-budget=4000",
            ] + arguments,
            environment: ["HOME": directory],
            timeout: .seconds(90)
        )
    }
}
