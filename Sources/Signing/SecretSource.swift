import Foundation

/// Where a secret comes from: a token PIN, a key-file passphrase.
///
/// Configuration names a source, never the secret, so the main configuration file holds no PIN in
/// clear. The secret is read when it is needed (``resolve()``), not kept by this value.
///
/// - ``file(path:)``: a file readable only by the service user (mode 0400 or 0600);
/// - ``environment(name:)``: an environment variable, for containers and development;
/// - ``credential(name:)``: a systemd credential (`systemd.exec(5)`, `LoadCredential=NAME:PATH` or
///   `LoadCredentialEncrypted=`), read from `$CREDENTIALS_DIRECTORY/NAME`. The preferred form under
///   systemd: the file lives on a private, non-swappable mount that only the service sees.
public enum SecretSource: Sendable, Hashable, CustomStringConvertible {
    /// The whole content of the file at `path`.
    case file(path: String)

    /// The value of the environment variable `name`.
    case environment(name: String)

    /// The systemd credential `name`: the file `$CREDENTIALS_DIRECTORY/name`.
    case credential(name: String)

    /// Reads the secret.
    ///
    /// Trailing line breaks (`\n`, `\r\n`) are removed, since `echo` and editors add one; every
    /// other octet, spaces included, is part of the secret.
    ///
    /// - Returns: The secret's octets; never empty.
    /// - Throws: ``SignerError`` with code ``SignerError/ErrorCode/secretUnavailable`` naming the
    ///   source (never the secret) when it is missing, unreadable or empty.
    public func resolve() throws -> [UInt8] {
        let bytes: [UInt8]
        switch self {
        case .file(let path):
            bytes = try self.read(path: path)
        case .environment(let name):
            guard !name.isEmpty, !name.contains("=") else {
                throw SignerError.secretUnavailable(
                    reason: "\(self) is not a valid variable name; name the variable that holds the secret"
                )
            }
            guard let value = getenv(name) else {
                throw SignerError.secretUnavailable(
                    reason: "\(self) is not set; set it in the service's environment or use a file or credential"
                )
            }
            bytes = Array(String(cString: value).utf8)
        case .credential(let name):
            guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
                throw SignerError.secretUnavailable(
                    reason: "\(self) is not a valid credential name (a plain file name, without '/')"
                )
            }
            guard let directoryValue = getenv("CREDENTIALS_DIRECTORY") else {
                throw SignerError.secretUnavailable(
                    reason: """
                        \(self) is not available: $CREDENTIALS_DIRECTORY is not set, so the process was not \
                        started by systemd with credentials; add LoadCredential=\(name):/path/to/secret (or \
                        LoadCredentialEncrypted=) to the service unit
                        """
                )
            }
            let directory = String(cString: directoryValue)
            guard !directory.isEmpty else {
                throw SignerError.secretUnavailable(
                    reason: "\(self) is not available: $CREDENTIALS_DIRECTORY is empty"
                )
            }
            bytes = try self.read(path: directory.hasSuffix("/") ? directory + name : "\(directory)/\(name)")
        }
        var end = bytes.endIndex
        while end > bytes.startIndex, bytes[end - 1] == UInt8(ascii: "\n") || bytes[end - 1] == UInt8(ascii: "\r") {
            end -= 1
        }
        guard end > bytes.startIndex else {
            throw SignerError.secretUnavailable(reason: "\(self) is empty; put the secret in it")
        }
        return Array(bytes[..<end])
    }

    /// Where the secret comes from, for messages: never the secret itself.
    public var description: String {
        switch self {
        case .file(let path): "the secret file \(path)"
        case .environment(let name): "the environment variable \(name)"
        case .credential(let name): "the systemd credential \(name)"
        }
    }

    private func read(path: String) throws -> [UInt8] {
        do {
            return try FileInput.read(path: path, what: "secret")
        } catch let error as SignerError {
            throw SignerError.secretUnavailable(
                reason: "\(self) cannot be read: \(error.reason)",
                cause: error.cause
            )
        }
    }
}
