import Foundation
import Signing
import SwiftASN1
import X509

/// A temporary directory, removed when `body` returns.
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("sigillum-signing-tests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

/// The result of an `openssl` run: exit status and stdout and stderr together.
struct OpenSSLResult {
    var status: Int32
    var output: String
}

/// Runs the `openssl` command line tool, an independent checker.
@discardableResult
func openssl(_ arguments: String..., in directory: String? = nil) throws -> OpenSSLResult {
    try openssl(arguments, in: directory)
}

/// Runs the `openssl` command line tool with `arguments`.
@discardableResult
func openssl(_ arguments: [String], in directory: String? = nil) throws -> OpenSSLResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
    process.arguments = arguments
    if let directory {
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
    }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return OpenSSLResult(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
}

func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

func writeFile(_ path: String, _ text: String) throws {
    try writeFile(path, Array(text.utf8))
}

/// Writes a passphrase or PIN file private to the current user (mode 0600), as `SecretSource.file` requires.
func writeSecretFile(_ path: String, _ text: String) throws {
    try writeFile(path, text)
    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
}

func readFile(_ path: String) throws -> [UInt8] {
    Array(try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// The permission bits of `path`.
func mode(of path: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
}

/// A self-signed certificate for `key`, signed with `signatureAlgorithm`.
func selfSignedCertificate(
    for key: SoftwareKey,
    commonName: String = "Sigillum Test Signer",
    signatureAlgorithm: Certificate.SignatureAlgorithm
) throws -> Certificate {
    let name = try DistinguishedName {
        CountryName("DE")
        OrganizationName("Sigillum Tests")
        CommonName(commonName)
    }
    let now = Date()
    return try Certificate(
        version: .v3,
        serialNumber: Certificate.SerialNumber(),
        publicKey: key.publicKey,
        notValidBefore: now.addingTimeInterval(-3600),
        notValidAfter: now.addingTimeInterval(86400),
        issuer: name,
        subject: name,
        signatureAlgorithm: signatureAlgorithm,
        extensions: Certificate.Extensions(),
        issuerPrivateKey: key.certificatePrivateKey
    )
}

/// The certificate's public key as a PEM `PUBLIC KEY` document, for `openssl -verify`.
func publicKeyPEM(_ certificate: Certificate) throws -> String {
    try certificate.publicKey.serializeAsPEM().pemString + "\n"
}
