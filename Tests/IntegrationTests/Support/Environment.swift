import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

// Where the end-to-end tests find the package, its built executables, the helper scripts and the external tools.
// The executables are NOT built here: `make test` (or `swift build --build-tests`) builds them first.

/// A failure of the test machinery itself (a tool that is missing, a daemon that never printed its banner…), with
/// the evidence needed to tell a daemon defect from a broken environment.
struct IntegrationError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

enum Environment {
    /// The package root: the first folder above this file that holds `Package.swift` (three levels above a file in
    /// `Tests/IntegrationTests/`, four above one in `Support/`).
    static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        for _ in 0..<6 {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
                return url.path
            }
            url.deleteLastPathComponent()
        }
        // Three levels up from Tests/IntegrationTests/Support: the layout of the repository.
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }()

    /// `.build/debug/NAME`, or a failure that says how to get it.
    static func executable(_ name: String) throws -> String {
        let path = repositoryRoot + "/.build/debug/" + name
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw IntegrationError("\(path) is missing: run swift build first (make test builds before testing)")
        }
        return path
    }

    static func sigillumd() throws -> String { try executable("sigillumd") }
    static func sigillum() throws -> String { try executable("sigillum") }

    /// A helper script of `Tests/IntegrationTests/Scripts`.
    static func script(_ name: String) throws -> String {
        let path = repositoryRoot + "/Tests/IntegrationTests/Scripts/" + name
        guard FileManager.default.fileExists(atPath: path) else {
            throw IntegrationError("missing test script \(path)")
        }
        return path
    }

    /// The absolute path of a tool on `$PATH` (openssl, curl, sqlite3, sh…).
    static func tool(_ name: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw IntegrationError("\(name) is not installed (scripts/install-deps.sh test installs it)")
    }

    /// True when the kernel reports its clock as unsynchronised (adjtimex: TIME_ERROR or STA_UNSYNC), the
    /// precondition of the `clockGate: kernel` test. Read here directly, not through the daemon's code.
    static let kernelClockIsUnsynchronised: Bool = {
        #if os(Linux)
            // Glibc's module map leaves out <sys/timex.h>; call adjtimex(2) through dlsym with a zeroed struct timex
            // (modes 0: read only). LP64 layout: modes (4 + 4 padding), offset, freq, maxerror, esterror (8 each),
            // then `int status` at byte 40. The return value 5 is TIME_ERROR; STA_UNSYNC is 0x0040.
            typealias AdjTimeX = @convention(c) (UnsafeMutableRawPointer) -> Int32
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "adjtimex") else { return false }
            let adjtimex = unsafeBitCast(symbol, to: AdjTimeX.self)
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: 512, alignment: 16)
            defer { buffer.deallocate() }
            buffer.initializeMemory(as: UInt8.self, repeating: 0, count: 512)
            let state = adjtimex(buffer)
            let status = buffer.load(fromByteOffset: 40, as: Int32.self)
            return state == 5 || (status & 0x0040) != 0
        #else
            return false
        #endif
    }()
}

/// A temporary folder for one test, removed afterwards (also when the body throws).
func withTemporaryDirectory<R>(
    _ label: String = "test",
    _ body: (String) async throws -> R
) async throws -> R {
    let directory = try makeTemporaryDirectory(label)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    return try await body(directory)
}

/// Creates `$TMPDIR/sigillum-it-LABEL-XXXXXX` (0700) and returns its real path (no trailing slash).
func makeTemporaryDirectory(_ label: String) throws -> String {
    let base =
        NSTemporaryDirectory().hasSuffix("/") ? String(NSTemporaryDirectory().dropLast()) : NSTemporaryDirectory()
    var template = Array("\(base)/sigillum-it-\(label)-XXXXXX".utf8CString)
    let created = template.withUnsafeMutableBufferPointer { buffer in mkdtemp(buffer.baseAddress!) }
    guard created != nil else { throw IntegrationError("mkdtemp failed in \(base): errno \(errno)") }
    return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}

// MARK: - Files

func writeFile(_ path: String, _ bytes: some Sequence<UInt8>) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

func writeFile(_ path: String, text: String) throws {
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
}

/// Writes a passphrase or PIN file private to the current user (mode 0600), as the daemon requires.
func writeSecretFile(_ path: String, text: String) throws {
    try writeFile(path, text: text)
    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
}

func readFile(_ path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else { throw IntegrationError("cannot read \(path)") }
    return Array(data)
}

func readText(_ path: String) -> String {
    FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? ""
}

/// The permission bits of a file (`0o600`…).
func permissions(_ path: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
}

/// Copies the SQLite ledger (with its -wal and -shm files, which hold committed but not yet checkpointed records)
/// into `directory`.
func copyLedger(from stateDirectory: String, to directory: String) throws {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    for suffix in ["", "-wal", "-shm"] {
        let source = "\(stateDirectory)/ledger.sqlite\(suffix)"
        guard FileManager.default.fileExists(atPath: source) else { continue }
        try FileManager.default.copyItem(atPath: source, toPath: "\(directory)/ledger.sqlite\(suffix)")
    }
}

// MARK: - Hex

func hex(_ bytes: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef")
    return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0F)]] })
}

func bytes(fromHex text: some StringProtocol) -> [UInt8]? {
    let digits = text.filter { !$0.isWhitespace && $0 != ":" }.compactMap(\.hexDigitValue)
    guard digits.count % 2 == 0, digits.count == text.filter({ !$0.isWhitespace && $0 != ":" }).count else {
        return nil
    }
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(digits[$0] << 4 | digits[$0 + 1]) }
}

func randomBytes(_ count: Int) -> [UInt8] {
    (0..<count).map { _ in UInt8.random(in: 0...255) }
}
