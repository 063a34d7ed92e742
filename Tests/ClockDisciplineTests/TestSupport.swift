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
struct TemporaryScript {
    let path: String

    init(_ text: String) throws {
        self.path = NSTemporaryDirectory() + "sigillum-chronyc-\(UUID().uuidString.prefix(8)).sh"
        try Data(text.utf8).write(to: URL(fileURLWithPath: self.path))
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: self.path)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: self.path)
    }
}
