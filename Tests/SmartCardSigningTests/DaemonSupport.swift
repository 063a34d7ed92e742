import Foundation
import PKIMessages
import SwiftASN1
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

// The daemon itself against the emulated card: the built `sigillumd` started from a configuration file, reached
// over HTTP with curl, its answers checked with openssl. `make test` (swift build --build-tests) builds the
// executable before the tests run; IntegrationTests/Support starts it the same way for the other signers.

/// The package's folder: the first one above this file that holds `Package.swift`.
let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    for _ in 0..<4 {
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
            return url.path
        }
        url.deleteLastPathComponent()
    }
    return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
}()

/// `.build/debug/sigillumd`, or a failure that says how to get it.
func builtSigillumd() throws -> String {
    let path = packageRoot + "/.build/debug/sigillumd"
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw TestFailure("\(path) is missing: run swift build first (make test builds before testing)")
    }
    return path
}

/// The URLs `sigillumd` announced in its banner.
struct DaemonEndpoints: Sendable {
    /// `http://127.0.0.1:PORT/tsa`
    var tsaURL: String
    /// `http://127.0.0.1:PORT/health`
    var healthURL: String

    /// Reads the banner's `public:` and `health:` lines once the banner is complete (its `state:` line is there).
    static func parse(_ text: String) -> DaemonEndpoints? {
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        func value(_ prefix: String) -> String? {
            lines.first { $0.hasPrefix(prefix) }?.split(separator: " ").last.map(String.init)
        }
        guard let base = value("public:"), base.hasPrefix("http://"), let health = value("health:"),
            health.hasPrefix("http://"), value("state:") != nil
        else { return nil }
        return DaemonEndpoints(tsaURL: base + "/tsa", healthURL: health)
    }
}

/// One `sigillumd --config FILE` child process, its stdout and stderr in one log file, stopped by its PID.
///
/// Started like pcscd (``spawn(_:_:output:)``: an empty signal mask, so SIGTERM stops it), with this process's
/// environment, which names this process's pcscd socket (`PCSCLITE_CSOCK_NAME`, see ``PCSCTestEnvironment``).
final class SigillumDaemon: Sendable {
    let pid: pid_t
    let logPath: String
    /// The exit status once the child has been reaped.
    private let exitStatus = Mutex<Int32?>(nil)

    private init(pid: pid_t, logPath: String) {
        self.pid = pid
        self.logPath = logPath
    }

    /// Starts `sigillumd --config configuration`.
    static func start(configuration: String, logPath: String) throws -> SigillumDaemon {
        let pid = try spawn(try builtSigillumd(), ["--config", configuration], output: logPath)
        return SigillumDaemon(pid: pid, logPath: logPath)
    }

    /// What the daemon wrote so far (stdout and stderr).
    var log: String {
        (try? String(contentsOfFile: self.logPath, encoding: .utf8)) ?? ""
    }

    /// Whether the process still runs; reaps it once it has ended.
    var isRunning: Bool {
        self.exitStatus.withLock { status in
            guard status == nil else { return false }
            var raw: Int32 = 0
            guard waitpid(self.pid, &raw, WNOHANG) == self.pid else { return true }
            status = raw
            return false
        }
    }

    /// Waits (60 s by default) for the banner; fails when the daemon exits first or the time runs out.
    func waitForBanner(timeout: Duration = .seconds(60)) async throws -> DaemonEndpoints {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let endpoints = DaemonEndpoints.parse(self.log) { return endpoints }
            guard self.isRunning else {
                throw TestFailure("sigillumd exited before printing its banner; its log:\n\(self.log)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("sigillumd printed no banner within \(timeout); its log:\n\(self.log)")
    }

    /// SIGTERM, up to 15 s, then SIGKILL; reaps the child.
    func stop() {
        guard self.isRunning else { return }
        self.exitStatus.withLock { status in
            stopChild(self.pid, grace: 15)
            status = 0
        }
    }
}

/// Runs `body` with `sigillumd --config configuration` serving; always stops it by its PID. When `body` throws,
/// the daemon's log is added to the error.
func withSigillumd<T>(
    configuration: String,
    logPath: String,
    _ body: (SigillumDaemon, DaemonEndpoints) async throws -> T
) async throws -> T {
    let daemon = try SigillumDaemon.start(configuration: configuration, logPath: logPath)
    defer { daemon.stop() }
    do {
        let endpoints = try await daemon.waitForBanner()
        return try await body(daemon, endpoints)
    } catch let failure as TestFailure where failure.description.contains("its log:") {
        throw failure
    } catch {
        throw TestFailure("\(error)\nsigillumd's log:\n\(daemon.log.suffix(6000))")
    }
}

/// A configuration file for `sigillumd` whose TSA signs with `signer` (a YAML flow mapping): loopback ports the
/// kernel picks, a SQLite ledger in `directory/state`, the clock gate off (build machines have no disciplined
/// clock), no OCSP responder.
func writeDaemonConfiguration(signer: String, in directory: String) throws -> String {
    let state = "\(directory)/state"
    try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
    let text = """
        stateDirectory: \(state)
        listen: 127.0.0.1:0
        adminListen: 127.0.0.1:0
        ledger: { path: ledger.sqlite }
        tsa:
          signer: \(signer)
          policies:
            - { oid: 1.3.6.1.4.1.32473.1.1, default: true, qualified: false }
          accuracy: { seconds: 0, millis: 500, micros: 0 }
          ordering: false
          includeTSAName: true
          includeChain: false
        clock:
          enforce: false
          servers: []
          chrony: off
          probeInterval: 1

        """
    let path = "\(directory)/sigillumd.yaml"
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    return path
}

/// One HTTP answer as curl received it.
struct HTTPAnswer: Sendable, CustomStringConvertible {
    var status: Int
    var body: [UInt8]
    var text: String { String(decoding: self.body, as: UTF8.self) }
    var description: String { "HTTP \(self.status): \(self.text.prefix(800))" }
}

/// HTTP over loopback with curl: GET, or POST of the file `upload` as `contentType`.
func curl(_ url: String, upload: String? = nil, contentType: String? = nil, in directory: String) throws -> HTTPAnswer {
    let bodyPath = "\(directory)/curl-\(UUID().uuidString).body"
    defer { try? FileManager.default.removeItem(atPath: bodyPath) }
    var arguments = ["-sS", "--max-time", "30", "-o", bodyPath, "-w", "\nsigillum-test-status %{http_code}\n"]
    if let upload {
        arguments += ["--data-binary", "@\(upload)"]
    }
    if let contentType {
        arguments += ["-H", "Content-Type: \(contentType)"]
    }
    let result = try run("/usr/bin/curl", arguments + [url], timeout: 45)
    guard result.status == 0,
        let line = result.output.split(separator: "\n").last(where: { $0.hasPrefix("sigillum-test-status ") }),
        let status = Int(line.dropFirst("sigillum-test-status ".count))
    else {
        throw TestFailure("curl \(url) failed: \(result.output)")
    }
    let body = (try? Data(contentsOf: URL(fileURLWithPath: bodyPath))).map { Array($0) } ?? []
    return HTTPAnswer(status: status, body: body)
}

/// One time-stamp over HTTP: a fresh document, `openssl ts -query -sha256 -cert`, POSTed to the TSA.
struct StampExchange {
    var document: String
    var query: String
    var reply: String
    var answer: HTTPAnswer
    /// The parsed TimeStampResp.
    var response: TimeStampResp

    /// Stamps a new random document in `directory`.
    static func make(_ endpoints: DaemonEndpoints, in directory: String) throws -> StampExchange {
        let name = UUID().uuidString.prefix(8)
        let document = "\(directory)/document-\(name).bin"
        let query = "\(directory)/query-\(name).tsq"
        let reply = "\(directory)/reply-\(name).tsr"
        try Data((0..<512).map { _ in UInt8.random(in: 0...255) }).write(to: URL(fileURLWithPath: document))
        let made = try run("/usr/bin/openssl", ["ts", "-query", "-data", document, "-sha256", "-cert", "-out", query])
        guard made.status == 0 else { throw TestFailure("openssl ts -query failed: \(made.output)") }
        let answer = try curl(
            endpoints.tsaURL, upload: query, contentType: "application/timestamp-query", in: directory)
        guard answer.status == 200 else { throw TestFailure("POST \(endpoints.tsaURL): \(answer)") }
        try Data(answer.body).write(to: URL(fileURLWithPath: reply))
        return StampExchange(
            document: document, query: query, reply: reply, answer: answer,
            response: try TimeStampResp(derEncoded: answer.body))
    }

    var status: PKIStatus { self.response.status.status }
    var failInfo: PKIFailureInfo? { self.response.status.failInfo }

    /// `openssl ts -verify -in REPLY -data DOCUMENT -CAfile caFile`.
    func opensslVerify(caFile: String) throws -> ProcessResult {
        try run("/usr/bin/openssl", ["ts", "-verify", "-in", self.reply, "-data", self.document, "-CAfile", caFile])
    }

    /// `openssl ts -reply -in REPLY -text`: the status as OpenSSL reads it.
    func opensslText() throws -> String {
        try run("/usr/bin/openssl", ["ts", "-reply", "-in", self.reply, "-text"]).output
    }
}

/// `GET /health`: its status, and the JSON document it answered.
func daemonHealth(_ endpoints: DaemonEndpoints, in directory: String) throws -> (
    answer: HTTPAnswer, document: [String: Any]
) {
    let answer = try curl(endpoints.healthURL, in: directory)
    let document = (try? JSONSerialization.jsonObject(with: Data(answer.body))) as? [String: Any] ?? [:]
    return (answer, document)
}

/// Runs `probe` every `interval` until it returns a value or `timeout` passes.
func poll<T>(
    timeout: Duration,
    interval: Duration = .milliseconds(250),
    _ probe: () throws -> T?
) async throws -> T? {
    let deadline = ContinuousClock.now + timeout
    while true {
        if let value = try probe() { return value }
        if ContinuousClock.now >= deadline { return nil }
        try await Task.sleep(for: interval)
    }
}
