import Foundation

/// Reading key and certificate files, shared by ``KeyFileReader`` and ``CertificateFileReader``.
enum FileInput {
    /// The whole content of the file at `path`.
    ///
    /// - Parameter what: What the file should hold, for the message: "key", "certificate".
    static func read(path: String, what: String) throws -> [UInt8] {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw SignerError.unreadableFile(
                reason: "the \(what) file \(path) is a directory; point the setting at the \(what) file itself"
            )
        }
        do {
            // Key files are secret: clear Foundation's copy once the bytes are out.
            var data = try Data(contentsOf: URL(fileURLWithPath: path))
            defer { data.resetBytes(in: 0..<data.count) }
            return Array(data)
        } catch {
            throw SignerError.unreadableFile(
                reason: """
                    cannot read the \(what) file \(path): check that it exists and that the user running \
                    Sigillum may read it
                    """,
                cause: error
            )
        }
    }

    /// Whether `bytes` look like PEM text: they hold a `-----BEGIN ` marker.
    static func looksLikePEM(_ bytes: [UInt8]) -> Bool {
        let marker = Array("-----BEGIN ".utf8)
        guard bytes.count >= marker.count else { return false }
        return bytes.indices.dropLast(marker.count - 1).contains { start in
            bytes[start..<(start + marker.count)].elementsEqual(marker)
        }
    }
}
