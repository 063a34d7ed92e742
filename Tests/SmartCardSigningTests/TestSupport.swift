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

/// The names vpcd gives its two readers (Debian's ports 35963 and 35964, or this process's; see
/// ``PCSCTestEnvironment``).
let firstVirtualReader = "Virtual PCD 00 00"
let secondVirtualReader = "Virtual PCD 00 01"

/// The PIN of every emulated card.
let testPIN = "123456"

/// A test's own failure.
struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Where this test process's pcscd lives.
///
/// pcscd 1.9.9 always serves `/run/pcscd/pcscd.comm` (only the client library reads `PCSCLITE_CSOCK_NAME`),
/// and vpcd listens on the ports of its `reader.conf.d` entry (35963/35964 in Debian's). So that the tests
/// neither meet a system pcscd nor another test run on the same machine, each process gets a folder of its
/// own and two free ports: pcscd runs in a mount namespace of its own (`unshare --mount`) where that folder
/// is bind-mounted over `/run/pcscd`, with a `reader.conf.d` naming the ports (`-c`), and this process (and
/// every tool it starts: pkcs11-tool, opensc-tool, sigillum) finds its socket through
/// `PCSCLITE_CSOCK_NAME`. Where namespaces are not allowed, the tests use the machine's `/run/pcscd` and
/// Debian's ports, one pcscd at a time.
struct PCSCTestEnvironment: Sendable {
    /// Whether pcscd runs in a namespace of its own.
    let isolated: Bool
    /// The folder mounted over `/run/pcscd` for pcscd (isolated only).
    let runDirectory: String
    /// The `reader.conf.d` folder (isolated only).
    let configurationDirectory: String
    /// The TCP ports of "Virtual PCD 00 00" and "… 00 01".
    let firstPort: UInt16
    let secondPort: UInt16

    /// The pid file of the pcscd this process talks to.
    var pidFile: String { (self.isolated ? self.runDirectory : "/run/pcscd") + "/pcscd.pid" }

    /// pcscd's command line.
    var daemonCommand: (path: String, arguments: [String]) {
        guard self.isolated else { return (pcscdPath, ["-f", "-e"]) }
        return (
            unsharePath,
            [
                "--mount", "--propagation", "private", "/bin/sh", "-c",
                "mount --bind '\(self.runDirectory)' /run/pcscd && exec \(pcscdPath) -f -e -c '\(self.configurationDirectory)'",
            ]
        )
    }

    static let unsharePath = "/usr/bin/unshare"
    var unsharePath: String { Self.unsharePath }

    /// Sets the environment up once per process, before the first PC/SC call (PC/SC Lite reads
    /// `PCSCLITE_CSOCK_NAME` once).
    static let shared: PCSCTestEnvironment = {
        let temporary = FileManager.default.temporaryDirectory.path
        // Folders of earlier test processes that are gone.
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? [] {
            guard entry.hasPrefix("sigillum-piv-"), let pid = Int32(entry.dropFirst("sigillum-piv-".count)),
                kill(pid, 0) != 0, errno == ESRCH
            else { continue }
            try? FileManager.default.removeItem(atPath: "\(temporary)/\(entry)")
        }
        let base = "\(temporary)/sigillum-piv-\(getpid())"
        let run = "\(base)/run"
        let configuration = "\(base)/reader.conf.d"
        guard FileManager.default.isExecutableFile(atPath: unsharePath),
            (try? FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)) != nil,
            (try? FileManager.default.createDirectory(atPath: configuration, withIntermediateDirectories: true)) != nil,
            (try? FileManager.default.createDirectory(atPath: "/run/pcscd", withIntermediateDirectories: true)) != nil,
            let port = freePortPair(),
            (try? Data(
                """
                FRIENDLYNAME "Virtual PCD"
                DEVICENAME   /dev/null:\(port)
                LIBPATH      \(vpcdDriverPath)
                CHANNELID    \(port)

                """.utf8
            ).write(to: URL(fileURLWithPath: "\(configuration)/vpcd"))) != nil,
            namespacesAllowed()
        else {
            return PCSCTestEnvironment(
                isolated: false, runDirectory: "", configurationDirectory: "", firstPort: 35963, secondPort: 35964)
        }
        setenv("PCSCLITE_CSOCK_NAME", "\(run)/pcscd.comm", 1)
        return PCSCTestEnvironment(
            isolated: true,
            runDirectory: run,
            configurationDirectory: configuration,
            firstPort: port,
            secondPort: port + 1
        )
    }()

    /// Whether `unshare --mount` works here (root, or a container that allows it).
    private static func namespacesAllowed() -> Bool {
        guard
            let pid = try? spawn(
                unsharePath, ["--mount", "--propagation", "private", "/bin/true"], output: "/dev/null")
        else { return false }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return status == 0
    }

    /// Two consecutive free TCP ports on loopback, above 20000.
    private static func freePortPair() -> UInt16? {
        for _ in 0..<50 {
            let port = UInt16.random(in: 20000...60000)
            if portIsFree(port), portIsFree(port + 1) { return port }
        }
        return nil
    }

    private static func portIsFree(_ port: UInt16) -> Bool {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { return false }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = INADDR_ANY
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}

/// This process's PC/SC test environment.
var pcscEnvironment: PCSCTestEnvironment { PCSCTestEnvironment.shared }

/// A pcscd of one test, run in the foreground (`-f`) as a child process and stopped by its PID.
///
/// The suites that start it run one test at a time: one pcscd per process (see ``PCSCTestEnvironment``).
///
/// It is started with `posix_spawn` and an empty signal mask: Foundation's `Process` passes on the mask
/// of the spawning thread, and the test runner's threads block SIGTERM, so a pcscd started that way
/// ignores SIGTERM until it is killed.
final class PCSCDaemon: Sendable {
    private let pid = Mutex<pid_t?>(nil)
    let logPath: String

    init(logPath: String) {
        self.logPath = logPath
    }

    /// Starts pcscd and waits until it lists vpcd's readers.
    func start() throws {
        let environment = pcscEnvironment
        try Self.stopStrayDaemon(environment)
        let command = environment.daemonCommand
        let pid = try spawn(command.path, command.arguments, output: self.logPath)
        self.pid.withLock { $0 = pid }
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let readers = try? SmartCardInventory.readers(), readers.contains(firstVirtualReader) {
                return
            }
            var status: Int32 = 0
            guard waitpid(pid, &status, WNOHANG) == 0 else {
                self.pid.withLock { $0 = nil }
                throw TestFailure("pcscd exited at start-up; its log:\n\(self.log)")
            }
            usleep(50_000)
        }
        self.stop()
        throw TestFailure("pcscd did not come up with vpcd's readers within 10 s; its log:\n\(self.log)")
    }

    /// Stops pcscd by its PID (SIGTERM, then SIGKILL after 5 s) and reaps it.
    func stop() {
        guard
            let pid = self.pid.withLock({ state -> pid_t? in
                defer { state = nil }
                return state
            })
        else { return }
        stopChild(pid, grace: 5)
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

    /// A pcscd left behind by an earlier, killed test run holds the socket and vpcd's ports: stop it by the PID
    /// in its pid file, but only when it is one of ours (started with `-f -e`, orphaned). Any other pcscd (the
    /// system's, socket-activated, or another test run's) is left alone and the test fails saying so. With a
    /// namespace of its own, only this process's earlier pcscd can be there.
    private static func stopStrayDaemon(_ environment: PCSCTestEnvironment) throws {
        guard let text = try? String(contentsOfFile: environment.pidFile, encoding: .utf8),
            let pid = Int32(String(text.filter(\.isNumber))), pid > 0, kill(pid, 0) == 0,
            let name = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8),
            name.trimmingCharacters(in: .whitespacesAndNewlines) == "pcscd"
        else { return }
        let commandLine = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))) ?? Data()
        let arguments = commandLine.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let orphaned = status.split(separator: "\n").contains { $0.hasPrefix("PPid:") && $0.hasSuffix("\t1") }
        guard arguments.starts(with: [pcscdPath, "-f", "-e"]), orphaned || environment.isolated else {
            throw TestFailure(
                """
                a pcscd these tests did not start is running (pid \(pid): \(arguments.joined(separator: " "))); stop it \
                (systemctl stop pcscd.socket pcscd) so that the tests can run their own with vpcd
                """
            )
        }
        kill(pid, SIGTERM)
        for _ in 0..<100 where kill(pid, 0) == 0 {
            usleep(50_000)
        }
    }
}

/// Starts `path` with `arguments`, standard input from /dev/null and its output appended to `output`,
/// with an empty signal mask and default signal actions.
func spawn(_ path: String, _ arguments: [String], output: String) throws -> pid_t {
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var mask = sigset_t()
    sigemptyset(&mask)
    posix_spawnattr_setsigmask(&attributes, &mask)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGQUIT, SIGUSR1, SIGUSR2] {
        sigaddset(&defaults, signal)
    }
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    defer {
        for argument in argv {
            free(argument)
        }
    }
    var pid: pid_t = 0
    let status = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
    guard status == 0 else {
        throw TestFailure("cannot start \(path): \(String(cString: strerror(status)))")
    }
    return pid
}

/// Stops the child `pid`: SIGTERM, up to `grace` seconds, then SIGKILL; reaps it.
func stopChild(_ pid: pid_t, grace: TimeInterval) {
    var status: Int32 = 0
    kill(pid, SIGTERM)
    let deadline = Date().addingTimeInterval(grace)
    while Date() < deadline {
        if waitpid(pid, &status, WNOHANG) != 0 { return }
        usleep(10_000)
    }
    kill(pid, SIGKILL)
    waitpid(pid, &status, 0)
}

/// A test's PC/SC world: pcscd with vpcd, emulated cards in its readers, a temporary folder.
struct PCSCWorld: Sendable {
    let directory: String
    let daemon: PCSCDaemon
    let ca: TestCA

    var pinFile: String { "\(self.directory)/pin" }
    var pin: SecretSource { .file(path: self.pinFile) }

    /// Writes the PIN file (one trailing newline), private to the current user as `SecretSource.file` requires.
    func writePIN(_ pin: String) throws {
        try Data("\(pin)\n".utf8).write(to: URL(fileURLWithPath: self.pinFile))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: self.pinFile)
    }

    /// Runs `body` with pcscd started and a fresh folder; stops pcscd and every reader afterwards.
    static func with<T>(_ body: (PCSCWorld) async throws -> T) async throws -> T {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("sigillum-piv-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let world = PCSCWorld(
            directory: directory, daemon: PCSCDaemon(logPath: "\(directory)/pcscd.log"), ca: try TestCA())
        try world.writePIN(testPIN)
        try world.daemon.start()
        defer { world.daemon.stop() }
        return try await body(world)
    }

    /// A card emulator with `key` in `slot` and a certificate for it from the test CA, in the first vpcd
    /// reader (or the second), waited for until pcscd sees it.
    func insertCard(
        _ key: EmulatedKey,
        at slot: PIVKeyReference = .digitalSignature,
        second: Bool = false,
        compressed: Bool = false,
        commonName: String = "Sigillum PIV test"
    ) async throws -> (reader: VirtualCardReader, certificate: Certificate) {
        let card = PIVCardEmulator(pin: testPIN)
        let certificate = try self.ca.issue(for: key.publicKey, commonName: commonName)
        card.install(key, at: slot, certificate: try certificate.derBytes, compressed: compressed)
        let reader = VirtualCardReader(
            card: card, port: second ? pcscEnvironment.secondPort : pcscEnvironment.firstPort)
        try await waitForCard(in: second ? secondVirtualReader : firstVirtualReader, present: true)
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

/// A small test CA: a software P-256 key and a self-signed root certificate, which issues certificates for
/// card keys.
struct TestCA: Sendable {
    let key = P256.Signing.PrivateKey()
    let name: DistinguishedName
    /// The CA's own certificate (self-signed), for `openssl … -CAfile`.
    let certificate: Certificate

    init() throws {
        let name = try DistinguishedName {
            CountryName("DE")
            OrganizationName("Sigillum Tests")
            CommonName("Sigillum PIV Test CA")
        }
        let now = Date()
        self.name = name
        self.certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(self.key.publicKey),
            notValidBefore: now.addingTimeInterval(-7200),
            notValidAfter: now.addingTimeInterval(2 * 86400),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: Certificate.PrivateKey(self.key)
        )
    }

    /// A certificate for `publicKey`; with `timeStamping`, a TSU certificate (RFC 3161 §2.3: the extended key
    /// usage id-kp-timeStamping alone, critical).
    func issue(for publicKey: Certificate.PublicKey, commonName: String, timeStamping: Bool = false) throws
        -> Certificate
    {
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
                if timeStamping {
                    Critical(try ExtendedKeyUsage([.timeStamping]))
                }
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

/// Verifies `signature` over the SHA-256 `digest` with `openssl pkeyutl -verify` (the digest as input, as a
/// card signs it) against `publicKey`.
func pkeyutlVerifies(
    _ signature: [UInt8],
    digest: [UInt8],
    publicKey: Certificate.PublicKey,
    in directory: String
) throws -> Bool {
    let base = "\(directory)/pkeyutl-\(UUID().uuidString)"
    try Data((try publicKey.serializeAsPEM().pemString + "\n").utf8).write(to: URL(fileURLWithPath: "\(base).pub"))
    try Data(digest).write(to: URL(fileURLWithPath: "\(base).dgst"))
    try Data(signature).write(to: URL(fileURLWithPath: "\(base).sig"))
    let result = try run(
        "/usr/bin/openssl",
        [
            "pkeyutl", "-verify", "-pubin", "-inkey", "\(base).pub", "-in", "\(base).dgst", "-sigfile", "\(base).sig",
            "-pkeyopt", "digest:sha256",
        ]
    )
    return result.status == 0 && result.output.contains("Signature Verified Successfully")
}
