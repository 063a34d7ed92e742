import CPKCS11
import Crypto
import Foundation
import Logging
import PKCS11Signing
import Signing
import SwiftASN1
import Synchronization
import Testing
import X509

/// The SoftHSM2 module Debian's libsofthsm2 installs.
let softHSMModulePath = "/usr/lib/softhsm/libsofthsm2.so"

/// Whether SoftHSM2 and its tool are installed (scripts/install-deps.sh test installs them).
let softHSMAvailable =
    FileManager.default.fileExists(atPath: softHSMModulePath)
    && FileManager.default.isExecutableFile(atPath: "/usr/bin/softhsm2-util")

/// The user PIN of every test token.
let testPIN = "1234"

/// A SoftHSM2 installation of one test: a temporary folder with its own `softhsm2.conf` and token
/// directory, named by `SOFTHSM2_CONF` for this process.
///
/// SoftHSM2 reads `SOFTHSM2_CONF` and scans the token directory at `C_Initialize`, so the variable is
/// set before the test loads the module; the PKCS#11 suites run one test at a time (`.serialized`)
/// because the variable is process-wide.
struct SoftHSM: Sendable {
    let directory: String

    var tokenDirectory: String { "\(self.directory)/tokens" }
    var configurationPath: String { "\(self.directory)/softhsm2.conf" }
    var pinFile: String { "\(self.directory)/user.pin" }

    /// The PIN source tests configure: the PIN in a file, with the trailing newline an editor leaves.
    var pin: SecretSource { .file(path: self.pinFile) }

    /// Runs `body` with a fresh installation, removed afterwards.
    static func with<T>(_ body: (SoftHSM) async throws -> T) async throws -> T {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("sigillum-pkcs11-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: "\(directory)/tokens", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let hsm = SoftHSM(directory: directory)
        try Data(
            """
            directories.tokendir = \(hsm.tokenDirectory)
            objectstore.backend = file
            log.level = ERROR
            slots.removable = false

            """.utf8
        ).write(to: URL(fileURLWithPath: hsm.configurationPath))
        try writeSecretFile(hsm.pinFile, "\(testPIN)\n")
        setenv("SOFTHSM2_CONF", hsm.configurationPath, 1)
        return try await body(hsm)
    }

    /// `softhsm2-util --init-token --free`: a new token with user PIN `pin` and SO PIN 5678.
    ///
    /// - Returns: The folder SoftHSM2 keeps the token in (one folder per token, named by a UUID).
    @discardableResult
    func initializeToken(label: String, pin: String = testPIN) throws -> String {
        let before = Set(try FileManager.default.contentsOfDirectory(atPath: self.tokenDirectory))
        let result = try run(
            "/usr/bin/softhsm2-util",
            ["--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", "5678"],
            environment: ["SOFTHSM2_CONF": self.configurationPath]
        )
        guard result.status == 0 else {
            throw TestFailure("softhsm2-util --init-token failed: \(result.output)")
        }
        let added = Set(try FileManager.default.contentsOfDirectory(atPath: self.tokenDirectory)).subtracting(before)
        guard added.count == 1, let folder = added.first else {
            throw TestFailure("softhsm2-util made \(added.count) token folders in \(self.tokenDirectory)")
        }
        return "\(self.tokenDirectory)/\(folder)"
    }

    /// A signer configuration for the token `label` and the key `key`, with fast reconnection.
    func configuration(
        token label: String,
        key: PKCS11KeySelector,
        certificate: PKCS11CertificateSource = .token,
        rsaPadding: SignatureScheme.Family = .rsaPKCS1v15
    ) -> PKCS11SignerConfiguration {
        var configuration = PKCS11SignerConfiguration(
            modulePath: softHSMModulePath,
            token: .label(label),
            key: key,
            pin: self.pin,
            certificate: certificate,
            rsaPadding: rsaPadding
        )
        configuration.reconnectInitialDelay = .milliseconds(100)
        configuration.reconnectMaximumDelay = .seconds(1)
        configuration.healthCheckInterval = .milliseconds(500)
        return configuration
    }
}

/// A test's own failure.
struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A logger that drops everything: the signer takes a logger, tests do not read it.
let quietLogger = Logger(label: "sigillum.tests.pkcs11", factory: { _ in SwiftLogNoOpLogHandler() })

/// A small test CA: a software P-256 key that issues certificates for token keys.
struct TestCA: Sendable {
    let key = P256.Signing.PrivateKey()
    let name: DistinguishedName

    init() throws {
        self.name = try DistinguishedName {
            CountryName("DE")
            OrganizationName("Sigillum Tests")
            CommonName("Sigillum PKCS#11 Test CA")
        }
    }

    /// A certificate for `publicKey` (a key made on the token) with the common name `commonName`.
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

/// Runs `executable` with `arguments`, adding `environment` to this process's.
func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessResult(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
}

/// Verifies `signature` over `message` with `openssl dgst -verify` against `publicKey`: an independent check.
///
/// - Parameter options: `-sigopt` values, such as the PSS padding and salt length.
func opensslVerifies(
    _ signature: [UInt8],
    message: [UInt8],
    publicKey: Certificate.PublicKey,
    digest: String,
    options: [String] = [],
    in directory: String
) throws -> Bool {
    let base = "\(directory)/verify-\(UUID().uuidString)"
    try Data((try publicKey.serializeAsPEM().pemString + "\n").utf8).write(to: URL(fileURLWithPath: "\(base).pub"))
    try Data(message).write(to: URL(fileURLWithPath: "\(base).msg"))
    try Data(signature).write(to: URL(fileURLWithPath: "\(base).sig"))
    var arguments = ["dgst", "-\(digest)", "-verify", "\(base).pub", "-signature", "\(base).sig"]
    for option in options {
        arguments += ["-sigopt", option]
    }
    arguments.append("\(base).msg")
    let result = try run("/usr/bin/openssl", arguments)
    return result.status == 0 && result.output.contains("Verified OK")
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
func withRunningSigner<T>(_ signer: PKCS11Signer, _ body: () async throws -> T) async throws -> T {
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

/// Makes a key on the token with our generator and stores a certificate for it from `ca` under the
/// key's CKA_ID.
@discardableResult
func provisionKey(
    _ hsm: SoftHSM,
    module: PKCS11Module,
    token: String,
    label: String,
    type: PKCS11KeyType,
    ca: TestCA,
    storeCertificate: Bool = true,
    alwaysAuthenticate: Bool = false
) throws -> (key: PKCS11GeneratedKey, certificate: Certificate) {
    let key = try PKCS11TokenAdministration.generateKeyPair(
        module: module,
        token: .label(token),
        pin: hsm.pin,
        label: label,
        type: type,
        alwaysAuthenticate: alwaysAuthenticate
    )
    let certificate = try ca.issue(for: key.publicKey, commonName: "Sigillum \(label)")
    if storeCertificate {
        try PKCS11TokenAdministration.storeCertificate(
            certificate,
            module: module,
            token: .label(token),
            pin: hsm.pin,
            label: label,
            id: key.id
        )
    }
    return (key, certificate)
}

/// Entries of the module's function table replaced by tests: a counting `C_Login` (that can refuse context logins) and a
/// `C_GetMechanismList` that can hide mechanisms. The real entries are kept here, since a C
/// function pointer carries no context.
enum Interposed {
    nonisolated(unsafe) static var realLogin: CK_C_Login?
    nonisolated(unsafe) static var realMechanismList: CK_C_GetMechanismList?
    static let logins = Atomic<Int>(0)
    static let hiddenMechanisms = Mutex<Set<CK_MECHANISM_TYPE>>([])
    /// When set, `C_Login(CKU_CONTEXT_SPECIFIC)` answers `CKR_PIN_INCORRECT` without reaching the token, as a
    /// token whose PIN was changed under a running signer would.
    static let refusesContextLogins = Atomic<Bool>(false)

    /// The number of `C_Login` calls since the last ``resetLogins()``.
    static var loginCount: Int { self.logins.load(ordering: .relaxed) }

    /// Makes `C_Login(CKU_CONTEXT_SPECIFIC)` answer `CKR_PIN_INCORRECT` (or reach the token again).
    static func refuseContextLogins(_ refuse: Bool) {
        self.refusesContextLogins.store(refuse, ordering: .relaxed)
    }

    static func resetLogins() {
        self.logins.store(0, ordering: .relaxed)
    }

    /// Hides `mechanisms` from `C_GetMechanismList`.
    static func hide(_ mechanisms: Set<CK_MECHANISM_TYPE>) {
        self.hiddenMechanisms.withLock { $0 = mechanisms }
    }

    /// Replaces `C_Login` and `C_GetMechanismList` in `table`, resetting the count and hiding nothing.
    static func install(_ table: inout CK_FUNCTION_LIST) {
        self.realLogin = table.C_Login
        self.realMechanismList = table.C_GetMechanismList
        self.logins.store(0, ordering: .relaxed)
        self.hiddenMechanisms.withLock { $0 = [] }
        self.refusesContextLogins.store(false, ordering: .relaxed)
        table.C_Login = countingLogin
        table.C_GetMechanismList = filteringMechanismList
    }
}

private let countingLogin: CK_C_Login = { session, userType, pin, length in
    Interposed.logins.add(1, ordering: .relaxed)
    if userType == CKU_CONTEXT_SPECIFIC, Interposed.refusesContextLogins.load(ordering: .relaxed) {
        return CKR_PIN_INCORRECT
    }
    guard let real = Interposed.realLogin else { return CKR_GENERAL_ERROR }
    return real(session, userType, pin, length)
}

private let filteringMechanismList: CK_C_GetMechanismList = { slot, list, count in
    guard let real = Interposed.realMechanismList, let count else { return CKR_ARGUMENTS_BAD }
    var total: CK_ULONG = 0
    var value = real(slot, nil, &total)
    guard value == CKR_OK else { return value }
    var all = [CK_MECHANISM_TYPE](repeating: 0, count: Int(total))
    value = all.withUnsafeMutableBufferPointer { real(slot, $0.baseAddress, &total) }
    guard value == CKR_OK else { return value }
    let hidden = Interposed.hiddenMechanisms.withLock { $0 }
    let kept = all.prefix(Int(total)).filter { !hidden.contains($0) }
    guard let list else {
        count.pointee = CK_ULONG(kept.count)
        return CKR_OK
    }
    guard count.pointee >= CK_ULONG(kept.count) else {
        count.pointee = CK_ULONG(kept.count)
        return CKR_BUFFER_TOO_SMALL
    }
    for (index, mechanism) in kept.enumerated() {
        list[index] = mechanism
    }
    count.pointee = CK_ULONG(kept.count)
    return CKR_OK
}

/// Loads SoftHSM2 with the interposed entries.
func loadInterposedModule() throws -> PKCS11Module {
    try PKCS11Module(path: softHSMModulePath, interposing: Interposed.install)
}

/// Writes a PIN file private to the current user (mode 0600), as `SecretSource.file` requires.
func writeSecretFile(_ path: String, _ text: String) throws {
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
}
