import Foundation
import Signing
import SwiftASN1
import Testing
import X509

#if canImport(Glibc)
    import Glibc
#endif

/// The result of an `openssl` run: exit status and stdout and stderr together.
struct OpenSSLResult {
    var status: Int32
    var output: String
}

/// Runs the `openssl` command line tool, which makes the fixtures and checks signatures independently.
@discardableResult
func openssl(_ arguments: [String], in directory: String) throws -> OpenSSLResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return OpenSSLResult(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
}

/// Runs `openssl` and fails the test when it fails.
@discardableResult
func requireOpenSSL(_ arguments: String..., in directory: String) throws -> String {
    try requireOpenSSL(arguments, in: directory)
}

/// Runs `openssl` with `arguments` and fails the test when it fails.
@discardableResult
func requireOpenSSL(_ arguments: [String], in directory: String) throws -> String {
    let result = try openssl(arguments, in: directory)
    try #require(result.status == 0, "openssl \(arguments.joined(separator: " ")): \(result.output)")
    return result.output
}

func writeFile(_ path: String, _ text: String) throws {
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
}

/// Writes a passphrase or PIN file private to the current user (mode 0600), as `SecretSource.file` requires.
func writeSecretFile(_ path: String, _ text: String) throws {
    try writeFile(path, text)
    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
}

func readText(_ path: String) throws -> String {
    String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
}

/// A temporary directory, removed when `body` returns.
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("sigillum-keyfile-tests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

/// Signs a message with `signer` and has `openssl dgst -verify` check it against the public key of the
/// signer's certificate.
func expectOpenSSLVerifies(_ signer: SoftwareSigner, in directory: String) throws {
    let message = Array("a message for openssl to verify \(UUID().uuidString)".utf8)
    let signature = try signer.sign(message)
    let stem = "\(directory)/verify-\(UUID().uuidString)"
    try Data(message).write(to: URL(fileURLWithPath: stem + ".msg"))
    try Data(signature).write(to: URL(fileURLWithPath: stem + ".sig"))
    try writeFile(stem + ".crt", try signer.certificate.serializeAsPEM().pemString + "\n")
    try requireOpenSSL("x509", "-in", stem + ".crt", "-pubkey", "-noout", "-out", stem + ".pub", in: directory)
    let result = try openssl(
        ["dgst", "-sha256", "-verify", stem + ".pub", "-signature", stem + ".sig", stem + ".msg"],
        in: directory
    )
    #expect(result.status == 0 && result.output.contains("Verified OK"), "\(result.output)")
}

/// A small PKI made with the openssl CLI, once per test run: a root CA, an intermediate CA, and leaf
/// certificates for an EC P-256 and an RSA-2048 key, plus an unrelated EC key and certificate.
///
/// Files: `root.pem`, `intermediate.pem`, `chain-root-first.pem` (root, then intermediate: the wrong
/// order on purpose), `ec.key`/`ec.pem`, `rsa.key`/`rsa.pem`, `other.key`/`other.pem`; every key
/// is unencrypted PKCS#8 PEM.
struct TestPKI: Sendable {
    var directory: String

    func path(_ name: String) -> String { "\(self.directory)/\(name)" }

    var root: Certificate { get throws { try self.certificate("root.pem") } }
    var intermediate: Certificate { get throws { try self.certificate("intermediate.pem") } }

    func certificate(_ name: String) throws -> Certificate {
        try Certificate(pemEncoded: try readText(self.path(name)))
    }

    /// The shared PKI, made on first use.
    static func shared() async throws -> TestPKI {
        try await self.made.value
    }

    private static let made = Task<TestPKI, any Error> {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("sigillum-keyfile-pki-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        atexit {
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("sigillum-keyfile-pki-\(getpid())").path
            try? FileManager.default.removeItem(atPath: directory)
        }
        try make(in: directory)
        return TestPKI(directory: directory)
    }

    private static func make(in directory: String) throws {
        try writeFile(
            "\(directory)/extensions.cnf",
            """
            [ca]
            basicConstraints = critical, CA:TRUE
            keyUsage = critical, keyCertSign, cRLSign
            subjectKeyIdentifier = hash
            authorityKeyIdentifier = keyid
            [leaf]
            basicConstraints = critical, CA:FALSE
            keyUsage = critical, digitalSignature
            extendedKeyUsage = critical, timeStamping
            subjectKeyIdentifier = hash
            authorityKeyIdentifier = keyid

            """
        )
        let ec = ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]
        try requireOpenSSL(ec + ["-out", "root.key"], in: directory)
        try requireOpenSSL(
            "req", "-new", "-x509", "-key", "root.key", "-subj", "/O=Sigillum Tests/CN=Key File Test Root",
            "-days", "3", "-extensions", "ca", "-config", "extensions.cnf", "-out", "root.pem",
            in: directory
        )
        try requireOpenSSL(ec + ["-out", "intermediate.key"], in: directory)
        try Self.issue(
            "intermediate", subject: "/O=Sigillum Tests/CN=Key File Test Issuing CA", by: "root", profile: "ca",
            in: directory)
        try requireOpenSSL(ec + ["-out", "ec.key"], in: directory)
        try Self.issue(
            "ec", subject: "/O=Sigillum Tests/CN=EC Signer", by: "intermediate", profile: "leaf", in: directory)
        try requireOpenSSL(
            "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "rsa.key", in: directory
        )
        try Self.issue(
            "rsa", subject: "/O=Sigillum Tests/CN=RSA Signer", by: "intermediate", profile: "leaf", in: directory)
        try requireOpenSSL(ec + ["-out", "other.key"], in: directory)
        try Self.issue(
            "other", subject: "/O=Sigillum Tests/CN=Other Signer", by: "intermediate", profile: "leaf", in: directory)
        let chain = try readText("\(directory)/root.pem") + readText("\(directory)/intermediate.pem")
        try writeFile("\(directory)/chain-root-first.pem", chain)
    }

    private static func requireOpenSSL(_ arguments: [String], in directory: String) throws {
        let result = try openssl(arguments, in: directory)
        guard result.status == 0 else {
            throw FixtureError("openssl \(arguments.joined(separator: " ")): \(result.output)")
        }
    }

    private static func requireOpenSSL(_ arguments: String..., in directory: String) throws {
        try self.requireOpenSSL(arguments, in: directory)
    }

    private static func issue(_ name: String, subject: String, by issuer: String, profile: String, in directory: String)
        throws
    {
        try requireOpenSSL("req", "-new", "-key", "\(name).key", "-subj", subject, "-out", "\(name).csr", in: directory)
        try requireOpenSSL(
            "x509", "-req", "-in", "\(name).csr", "-CA", "\(issuer).pem", "-CAkey", "\(issuer).key",
            "-set_serial", "0x\(UInt32.random(in: 1...UInt32.max))", "-days", "2", "-extfile", "extensions.cnf",
            "-extensions", profile, "-out", "\(name).pem",
            in: directory
        )
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
