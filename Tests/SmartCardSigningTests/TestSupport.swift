import Crypto
import Foundation
import Logging
import Signing
import SmartCardSigning
import SwiftASN1
import Synchronization
import Testing
import X509

#if canImport(Glibc)
    import Glibc
#endif

/// pcscd, vsmartcard's vpcd driver and OpenSC, as `scripts/install-deps.sh test` installs them.
let pcscdPath = "/usr/sbin/pcscd"
let vpcdDriverPath = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"
let openscModulePath = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"

/// Whether the real PC/SC stack can be run here.
let pcscStackAvailable =
    FileManager.default.isExecutableFile(atPath: pcscdPath) && FileManager.default.fileExists(atPath: vpcdDriverPath)

/// The names vpcd gives its two readers (ports 35963 and 35964).
let firstVirtualReader = "Virtual PCD 00 00"
let secondVirtualReader = "Virtual PCD 00 01"

/// The PIN of every emulated card.
let testPIN = "123456"

/// A test's own failure.
struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A pcscd of one test, run in the foreground (`-f`) as a child process and stopped by its PID.
///
/// pcscd serves one socket (`/run/pcscd/pcscd.comm`) and vpcd's ports for the whole machine, so the
/// suites that start it run one test at a time.
final class PCSCDaemon: Sendable {
    private let process = Mutex<Process?>(nil)
    let logPath: String

    init(logPath: String) {
        self.logPath = logPath
    }

    /// Starts pcscd and waits until it lists vpcd's readers.
    func start() throws {
        try Self.stopStrayDaemon()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: pcscdPath)
        process.arguments = ["-f", "-e"]
        _ = FileManager.default.createFile(atPath: self.logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: self.logPath))
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        self.process.withLock { $0 = process }
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let readers = try? SmartCardInventory.readers(), readers.contains(firstVirtualReader) {
                return
            }
            guard process.isRunning else { break }
            usleep(50_000)
        }
        let output = (try? String(contentsOfFile: self.logPath, encoding: .utf8)) ?? ""
        self.stop()
        throw TestFailure("pcscd did not come up with vpcd's readers within 10 s; its log:\n\(output)")
    }

    /// Stops pcscd by its PID (SIGTERM, then SIGKILL after 5 s) and waits for it.
    func stop() {
        guard
            let process = self.process.withLock({ state -> Process? in
                defer { state = nil }
                return state
            })
        else { return }
        let pid = process.processIdentifier
        if process.isRunning {
            kill(pid, SIGTERM)
        }
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning, Date() < deadline {
            usleep(20_000)
        }
        if process.isRunning {
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// Restarts pcscd (stop, then start): every PC/SC context of a client is dead afterwards.
    func restart() throws {
        self.stop()
        try self.start()
    }

    /// The daemon's log so far.
    var log: String {
        (try? String(contentsOfFile: self.logPath, encoding: .utf8)) ?? ""
    }

    /// A pcscd left behind by an earlier, killed test run holds the socket and vpcd's ports; stop it by
    /// the PID in its pid file (only a pcscd: the process name is checked).
    private static func stopStrayDaemon() throws {
        guard let text = try? String(contentsOfFile: "/run/pcscd/pcscd.pid", encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0,
            let name = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8),
            name.trimmingCharacters(in: .whitespacesAndNewlines) == "pcscd"
        else { return }
        kill(pid, SIGTERM)
        for _ in 0..<100 where kill(pid, 0) == 0 {
            usleep(50_000)
        }
    }
}

/// A test's PC/SC world: pcscd with vpcd, emulated cards in its readers, a temporary folder.
struct PCSCWorld: Sendable {
    let directory: String
    let daemon: PCSCDaemon
    let ca: TestCA

    var pinFile: String { "\(self.directory)/pin" }
    var pin: SecretSource { .file(path: self.pinFile) }

    /// Runs `body` with pcscd started and a fresh folder; stops pcscd and every reader afterwards.
    static func with<T>(_ body: (PCSCWorld) async throws -> T) async throws -> T {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("sigillum-piv-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let world = PCSCWorld(
            directory: directory, daemon: PCSCDaemon(logPath: "\(directory)/pcscd.log"), ca: try TestCA())
        try Data("\(testPIN)\n".utf8).write(to: URL(fileURLWithPath: world.pinFile))
        try world.daemon.start()
        defer { world.daemon.stop() }
        return try await body(world)
    }

    /// A card emulator with `key` in `slot` and a certificate for it from the test CA, in the vpcd
    /// reader of `port`, waited for until pcscd sees it.
    func insertCard(
        _ key: EmulatedKey,
        at slot: PIVKeyReference = .digitalSignature,
        port: UInt16 = 35963,
        compressed: Bool = false,
        commonName: String = "Sigillum PIV test"
    ) async throws -> (reader: VirtualCardReader, certificate: Certificate) {
        let card = PIVCardEmulator(pin: testPIN)
        let certificate = try self.ca.issue(for: key.publicKey, commonName: commonName)
        card.install(key, at: slot, certificate: try certificate.derBytes, compressed: compressed)
        let reader = VirtualCardReader(card: card, port: port)
        try await waitForCard(in: port == 35963 ? firstVirtualReader : secondVirtualReader, present: true)
        return (reader, certificate)
    }

    /// A signer configuration with fast recovery, for the reader `reader`.
    func configuration(
        readers: [SmartCardReaderSelector] = [.name(firstVirtualReader)],
        key: PIVKeyReference = .digitalSignature
    ) -> SmartCardSignerConfiguration {
        var configuration = SmartCardSignerConfiguration(readers: readers, keyReference: key, pin: self.pin)
        configuration.reconnectInitialDelay = .milliseconds(100)
        configuration.reconnectMaximumDelay = .milliseconds(500)
        configuration.healthCheckInterval = .milliseconds(300)
        return configuration
    }
}

/// Waits until pcscd reports a card (or none) in `reader`.
func waitForCard(in reader: String, present: Bool, timeout: Duration = .seconds(10)) async throws {
    let found = await eventually(timeout: timeout) {
        guard let summaries = try? SmartCardInventory.list(readCards: false) else { return false }
        return summaries.first { $0.reader == reader }.map { ($0.atr != nil) == present } ?? false
    }
    guard found else {
        throw TestFailure("pcscd did not see the card \(present ? "in" : "leave") \"\(reader)\" within \(timeout)")
    }
}

extension Certificate {
    var derBytes: [UInt8] {
        get throws {
            var serializer = DER.Serializer()
            try serializer.serialize(self)
            return serializer.serializedBytes
        }
    }
}

/// A logger that drops everything.
let quietLogger = Logger(label: "sigillum.tests.piv", factory: { _ in SwiftLogNoOpLogHandler() })

/// A small test CA: a software P-256 key that issues certificates for card keys.
struct TestCA: Sendable {
    let key = P256.Signing.PrivateKey()
    let name: DistinguishedName

    init() throws {
        self.name = try DistinguishedName {
            CountryName("DE")
            OrganizationName("Sigillum Tests")
            CommonName("Sigillum PIV Test CA")
        }
    }

    func issue(for publicKey: Certificate.PublicKey, commonName: String) throws -> Certificate {
        let now = Date()
        return try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: publicKey,
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(86400),
            issuer: self.name,
            subject: try DistinguishedName {
                CountryName("DE")
                OrganizationName("Sigillum Tests")
                CommonName(commonName)
            },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(KeyUsage(digitalSignature: true, nonRepudiation: true))
            },
            issuerPrivateKey: Certificate.PrivateKey(self.key)
        )
    }
}

/// The result of a child process: exit status and stdout and stderr together.
struct ProcessResult {
    var status: Int32
    var output: String
}

/// Runs `executable` with `arguments` and waits for it (at most `timeout`, then it is killed by PID).
func run(_ executable: String, _ arguments: [String], timeout: TimeInterval = 60) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let pid = process.processIdentifier
    let watchdog = DispatchWorkItem {
        if process.isRunning {
            kill(pid, SIGKILL)
        }
    }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    watchdog.cancel()
    return ProcessResult(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
}

/// Polls `condition` every 50 ms until it holds or `timeout` passes.
func eventually(timeout: Duration, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return condition()
}

/// Runs `body` with the signer's `run()` going in the background, then stops it (which closes the signer).
func withRunningSigner<T>(_ signer: SmartCardSigner, _ body: () async throws -> T) async throws -> T {
    let maintenance = Task { try await signer.run() }
    do {
        let result = try await body()
        maintenance.cancel()
        _ = await maintenance.result
        return result
    } catch {
        maintenance.cancel()
        _ = await maintenance.result
        throw error
    }
}

/// Verifies `signature` over `message` with `openssl dgst -verify` against `publicKey`.
func opensslVerifies(
    _ signature: [UInt8],
    message: [UInt8],
    publicKey: Certificate.PublicKey,
    digest: String,
    in directory: String
) throws -> Bool {
    let base = "\(directory)/verify-\(UUID().uuidString)"
    try Data((try publicKey.serializeAsPEM().pemString + "\n").utf8).write(to: URL(fileURLWithPath: "\(base).pub"))
    try Data(message).write(to: URL(fileURLWithPath: "\(base).msg"))
    try Data(signature).write(to: URL(fileURLWithPath: "\(base).sig"))
    let result = try run(
        "/usr/bin/openssl",
        ["dgst", "-\(digest)", "-verify", "\(base).pub", "-signature", "\(base).sig", "\(base).msg"]
    )
    return result.status == 0 && result.output.contains("Verified OK")
}
