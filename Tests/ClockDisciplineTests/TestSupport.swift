import Foundation

/// JSON round trips for the Codable reports.
enum JSONCoding {
    static func encode(_ value: some Encodable) throws -> Data {
        try JSONEncoder().encode(value)
    }

    static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try JSONDecoder().decode(type, from: data)
    }
}

/// An executable shell script in the temporary folder, standing in for chronyc.
///
/// The file is written by a `/bin/sh` child, never opened for writing in this process: a process that other tests
/// fork concurrently would otherwise inherit the write descriptor, and executing the script while any process
/// holds it open for writing fails with ETXTBSY.
struct TemporaryScript {
    let path: String

    init(_ text: String) async throws {
        self.path = NSTemporaryDirectory() + "sigillum-chronyc-\(UUID().uuidString.prefix(8)).sh"
        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: "/bin/sh")
        writer.arguments = ["-c", "printf '%s' \"$1\" > \"$2\" && chmod 700 \"$2\"", "sh", text, self.path]
        try writer.run()
        while writer.isRunning { try await Task.sleep(for: .milliseconds(5)) }
        guard writer.terminationStatus == 0 else {
            throw ScriptError(description: "sh could not write \(self.path): status \(writer.terminationStatus)")
        }
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: self.path)
    }
}

struct ScriptError: Error, CustomStringConvertible {
    var description: String
}
