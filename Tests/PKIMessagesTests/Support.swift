import Foundation
import SwiftASN1
import Testing

// Helpers shared by the PKIMessages tests: DER round trips, hex, a minimal independent DER writer for hand-built
// vectors, and running the `openssl` command line in a temporary directory (openssl 3.0 is on every machine of the
// project; a missing openssl fails the tests that need it, it does not skip them).

// MARK: - DER round trips

/// The DER encoding of `value`.
func derBytes(_ value: some DERSerializable) throws -> [UInt8] {
    var serializer = DER.Serializer()
    try serializer.serialize(value)
    return serializer.serializedBytes
}

/// Serializes `value`, parses the bytes back, expects an equal value that re-serializes to the same bytes, and
/// returns the encoding so the caller can check it byte for byte.
@discardableResult
func assertRoundTrips<T: DERParseable & DERSerializable & Equatable>(
    _ value: T,
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> [UInt8] {
    let encoded = try derBytes(value)
    let parsed = try T(derEncoded: encoded)
    #expect(parsed == value, "\(T.self) changed in a DER round trip", sourceLocation: sourceLocation)
    expectSameBytes(try derBytes(parsed), encoded, "\(T.self) re-encoded", sourceLocation: sourceLocation)
    return encoded
}

/// Parses `encoded` as `T`, expects re-serializing to give the identical bytes, and returns the parsed value.
@discardableResult
func assertReencodes<T: DERParseable & DERSerializable>(
    _ type: T.Type,
    _ encoded: [UInt8],
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> T {
    let parsed = try T(derEncoded: encoded)
    expectSameBytes(try derBytes(parsed), encoded, "\(T.self) re-encoded", sourceLocation: sourceLocation)
    return parsed
}

/// Expects `actual` to be `expected` byte for byte. Short values are compared as hex; for long ones (tokens,
/// certificates) the issue names the first differing offset and shows the octets around it.
func expectSameBytes(
    _ actual: some Collection<UInt8>,
    _ expected: some Collection<UInt8>,
    _ what: String = "bytes",
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let actual = Array(actual)
    let expected = Array(expected)
    guard actual != expected else { return }
    if actual.count + expected.count <= 200 {
        #expect(hex(actual) == hex(expected), "\(what)", sourceLocation: sourceLocation)
        return
    }
    let offset =
        zip(actual, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        ?? min(actual.count, expected.count)
    func window(_ bytes: [UInt8]) -> String {
        hex(bytes[max(0, offset - 8)..<min(bytes.count, offset + 24)])
    }
    Issue.record(
        """
        \(what): \(actual.count) octets where \(expected.count) were expected, first difference at offset \(offset)
          actual:   … \(window(actual)) …
          expected: … \(window(expected)) …
        """,
        sourceLocation: sourceLocation
    )
}

// MARK: - Hex

/// Upper-case hex, two digits per octet, joined by `separator` (a space by default, to read like X.690 examples).
func hex(_ bytes: some Sequence<UInt8>, separator: String = " ") -> String {
    let digits = Array("0123456789ABCDEF")
    return bytes.map { String([digits[Int($0 >> 4)], digits[Int($0 & 0x0F)]]) }.joined(separator: separator)
}

/// Octets from hex text; whitespace, `:` and a leading `0x` are ignored. Traps on malformed text (a test bug).
func bytes(fromHex text: String) -> [UInt8] {
    var digits = Substring(text)
    if digits.hasPrefix("0x") || digits.hasPrefix("0X") { digits = digits.dropFirst(2) }
    let nibbles: [UInt8] = digits.compactMap { character in
        if character.isWhitespace || character == ":" { return nil }
        guard let value = character.hexDigitValue else { preconditionFailure("not hex: \(text)") }
        return UInt8(value)
    }
    precondition(nibbles.count % 2 == 0, "odd number of hex digits: \(text)")
    return stride(from: 0, to: nibbles.count, by: 2).map { nibbles[$0] << 4 | nibbles[$0 + 1] }
}

// MARK: - A minimal DER writer for hand-built vectors

/// One TLV with a single-octet tag and a definite length (short form below 128, long form above), written
/// independently of swift-asn1 so that hand-built vectors do not depend on the code under test.
func tlv(_ tag: UInt8, _ parts: [UInt8]...) -> [UInt8] {
    let content = parts.flatMap { $0 }
    var length: [UInt8]
    if content.count < 0x80 {
        length = [UInt8(content.count)]
    } else {
        var count = content.count
        var octets: [UInt8] = []
        while count > 0 {
            octets.insert(UInt8(count & 0xFF), at: 0)
            count >>= 8
        }
        length = [0x80 | UInt8(octets.count)] + octets
    }
    return [tag] + length + content
}

/// Common encodings for hand-built vectors.
enum Vector {
    /// `OBJECT IDENTIFIER 2.16.840.1.101.3.4.2.1` (id-sha256).
    static let sha256OID = bytes(fromHex: "06 09 60 86 48 01 65 03 04 02 01")
    /// `OBJECT IDENTIFIER 2.16.840.1.101.3.4.2.2` (id-sha384).
    static let sha384OID = bytes(fromHex: "06 09 60 86 48 01 65 03 04 02 02")
    /// `NULL`.
    static let null: [UInt8] = [0x05, 0x00]

    /// A MessageImprint: SHA-256, with NULL or absent parameters, over `digest`.
    static func imprint(nullParameters: Bool = true, digest: [UInt8] = Array(repeating: 0xAB, count: 32)) -> [UInt8] {
        tlv(0x30, tlv(0x30, sha256OID, nullParameters ? null : []), tlv(0x04, digest))
    }
}

// MARK: - Files and temporary directories

/// Runs `body` with a fresh temporary directory that is removed afterwards.
func withTemporaryDirectory<Result>(_ body: (URL) throws -> Result) throws -> Result {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("sigillum-pkimessages-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try body(directory)
}

func writeFile(_ bytes: some Sequence<UInt8>, named name: String, in directory: URL) throws {
    try Data(bytes).write(to: directory.appendingPathComponent(name))
}

func writeFile(_ text: String, named name: String, in directory: URL) throws {
    try Data(text.utf8).write(to: directory.appendingPathComponent(name))
}

func readFile(named name: String, in directory: URL) throws -> [UInt8] {
    try Array(Data(contentsOf: directory.appendingPathComponent(name)))
}

// MARK: - openssl

struct OpenSSLFailure: Error, CustomStringConvertible {
    var arguments: [String]
    var status: Int32
    var stderr: String
    var description: String { "openssl \(self.arguments.joined(separator: " ")) exited \(self.status): \(self.stderr)" }
}

/// Runs `openssl` (found through `/usr/bin/env`) with `arguments` in `directory`; stdin is empty.
@discardableResult
func runOpenSSL(_ arguments: [String], in directory: URL) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["openssl"] + arguments
    process.currentDirectoryURL = directory
    // Output goes to files rather than pipes, so that a large output cannot block the child.
    let outputURL = FileManager.default.temporaryDirectory.appendingPathComponent("openssl-\(UUID().uuidString).out")
    let errorURL = FileManager.default.temporaryDirectory.appendingPathComponent("openssl-\(UUID().uuidString).err")
    _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)
    defer {
        try? FileManager.default.removeItem(at: outputURL)
        try? FileManager.default.removeItem(at: errorURL)
    }
    let output = try FileHandle(forWritingTo: outputURL)
    let error = try FileHandle(forWritingTo: errorURL)
    process.standardOutput = output
    process.standardError = error
    process.standardInput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    try output.close()
    try error.close()
    let stdout = String(decoding: try Data(contentsOf: outputURL), as: UTF8.self)
    let stderr = String(decoding: try Data(contentsOf: errorURL), as: UTF8.self)
    return (process.terminationStatus, stdout, stderr)
}

/// Runs `openssl` and returns its stdout, throwing `OpenSSLFailure` on a non-zero exit status.
@discardableResult
func openssl(_ arguments: [String], in directory: URL) throws -> String {
    let result = try runOpenSSL(arguments, in: directory)
    guard result.status == 0 else {
        throw OpenSSLFailure(arguments: arguments, status: result.status, stderr: result.stderr)
    }
    return result.stdout
}

/// `openssl dgst -<algorithm>` of `bytes`, as octets.
func opensslDigest(_ algorithm: String, of bytes: some Sequence<UInt8>, in directory: URL) throws -> [UInt8] {
    let name = "digest-input-\(UUID().uuidString).bin"
    try writeFile(bytes, named: name, in: directory)
    return try opensslDigest(algorithm, ofFile: name, in: directory)
}

/// `openssl dgst -<algorithm> -r FILE`, as octets.
func opensslDigest(_ algorithm: String, ofFile name: String, in directory: URL) throws -> [UInt8] {
    let output = try openssl(["dgst", "-\(algorithm)", "-r", name], in: directory)
    guard let digest = output.split(separator: " ").first else {
        throw OpenSSLFailure(arguments: ["dgst", "-\(algorithm)", "-r", name], status: 0, stderr: "no output")
    }
    return bytes(fromHex: String(digest))
}

/// The `Key: value` lines of `openssl ts ... -text` output (first occurrence of each key; lines without a value,
/// such as `Message data:`, and indented hex dump lines are skipped).
func opensslTextFields(_ text: String) -> [String: String] {
    var fields: [String: String] = [:]
    for line in text.split(separator: "\n") where !(line.first?.isWhitespace ?? true) {
        guard let separator = line.range(of: ": ") else { continue }
        let key = String(line[..<separator.lowerBound])
        if fields[key] == nil {
            fields[key] = String(line[separator.upperBound...])
        }
    }
    return fields
}

/// Big-endian magnitude octets without leading zeros (at least one octet): how OpenSSL's `0x…` INTEGER print
/// (BN_bn2hex) shows a non-negative INTEGER.
func minimalMagnitude(_ octets: some Collection<UInt8>) -> [UInt8] {
    let trimmed = Array(octets.drop { $0 == 0 })
    return trimmed.isEmpty ? [0] : trimmed
}
