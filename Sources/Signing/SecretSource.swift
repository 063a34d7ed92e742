import Foundation

/// Where a secret — a key file's passphrase, a token PIN — comes from.
///
/// The secret never sits in the configuration itself: it comes from a file (mode 0600, owned by the
/// Sigillum user; a file open to other users is refused), from an environment variable, or from a systemd credential
/// (`LoadCredential=NAME:/path` or `SetCredentialEncrypted=` in the unit, read from
/// `$CREDENTIALS_DIRECTORY/NAME`; see systemd.exec(5), "Credentials").
///
/// ``resolve()`` reads the secret when it is needed, strips one trailing newline (`\n` or `\r\n`, as
/// `echo` and editors leave one), and refuses an empty secret. Call it once at start-up; the caller
/// zeroes the returned bytes when done with them.
public enum SecretSource: Sendable, Hashable {
    /// A file holding only the secret.
    case file(path: String)

    /// An environment variable holding the secret.
    case environment(name: String)

    /// A systemd credential: the file `NAME` in `$CREDENTIALS_DIRECTORY`.
    case credential(name: String)

    /// Reads the secret from the process environment and the file system.
    ///
    /// - Returns: The secret's octets, one trailing newline removed; never empty.
    /// - Throws: ``SignerError`` with code ``SignerError/ErrorCode/secretUnavailable`` (the variable is
    ///   unset, `CREDENTIALS_DIRECTORY` is unset, the credential or file is missing or unreadable, the
    ///   file is open to other users, the secret is empty or too long), naming the source.
    public func resolve() throws(SignerError) -> [UInt8] {
        try self.resolve(environment: ProcessInfo.processInfo.environment)
    }

    /// Reads the secret, looking variables (the secret's and `CREDENTIALS_DIRECTORY`) up in
    /// `environment` instead of the process environment.
    ///
    /// - Parameter environment: The variables to use, such as `ProcessInfo.processInfo.environment`.
    /// - Returns: The secret's octets, one trailing newline removed; never empty.
    /// - Throws: ``SignerError`` with code ``SignerError/ErrorCode/secretUnavailable``, naming the source.
    public func resolve(environment: [String: String]) throws(SignerError) -> [UInt8] {
        var secret: [UInt8]
        switch self {
        case .file(let path):
            try Self.checkProtection(path)
            secret = try Self.readSecretFile(path, what: "the secret file \(path)")
        case .environment(let name):
            guard !name.isEmpty else {
                throw SignerError.secretUnavailable(reason: "the secret's environment variable has an empty name")
            }
            guard let value = environment[name] else {
                throw SignerError.secretUnavailable(
                    reason: """
                        the environment variable \(name) that should hold the secret is not set; set it in the \
                        service's environment, or use a file or a systemd credential instead
                        """
                )
            }
            secret = Array(value.utf8)
        case .credential(let name):
            guard !name.isEmpty, name != ".", name != "..", !name.contains("/") else {
                throw SignerError.secretUnavailable(
                    reason: "\"\(name)\" is not a systemd credential name (a file name without \"/\")"
                )
            }
            guard let directory = environment["CREDENTIALS_DIRECTORY"], !directory.isEmpty else {
                throw SignerError.secretUnavailable(
                    reason: """
                        the secret is the systemd credential \(name), but CREDENTIALS_DIRECTORY is not set: \
                        run under systemd with LoadCredential=\(name):/path/to/secret (or \
                        SetCredentialEncrypted=) in the unit, or use a file or an environment variable instead
                        """
                )
            }
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            guard FileManager.default.fileExists(atPath: path) else {
                throw SignerError.secretUnavailable(
                    reason: """
                        the systemd credential \(name) is missing (no \(path)): add LoadCredential=\(name):/path \
                        to the unit, or correct the credential name in the configuration
                        """
                )
            }
            secret = try Self.readSecretFile(path, what: "the systemd credential \(name) (\(path))")
        }
        Self.stripOneTrailingNewline(&secret)
        guard !secret.isEmpty else {
            throw SignerError.secretUnavailable(reason: "\(self) is empty; put the secret there")
        }
        return secret
    }

    /// The longest secret read; more points to a wrong file (a key instead of its passphrase).
    static let maximumLength = 4096

    /// Refuses a secret file that users other than Sigillum's (and root) may read or change, the rule OpenSSH applies
    /// to private keys and PostgreSQL to its key file: owned by the user running Sigillum, with no group or other
    /// permission (0600 or 0400); or owned by root, with at most read for its group (0640, for a root-managed file
    /// shared through the Sigillum group).
    ///
    /// systemd credentials are not checked: systemd makes them readable by the service alone.
    static func checkProtection(_ path: String) throws(SignerError) {
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: path)
        } catch {
            // A missing or unreadable file is reported by the read, with its own advice.
            return
        }
        guard let permissions = (attributes[.posixPermissions] as? NSNumber)?.intValue,
            let owner = (attributes[.ownerAccountID] as? NSNumber)?.uint32Value
        else {
            return
        }
        let user = geteuid()
        let mode = String(permissions & 0o7777, radix: 8)
        if owner == user {
            guard permissions & 0o077 == 0 else {
                throw SignerError.secretUnavailable(
                    reason: """
                        the secret file \(path) is open to other users (mode \(mode)); make it private to the user \
                        running Sigillum: chmod 600 \(path)
                        """
                )
            }
        } else if owner == 0 {
            guard permissions & 0o037 == 0 else {
                throw SignerError.secretUnavailable(
                    reason: """
                        the secret file \(path) belongs to root and is open to more than its group's read (mode \
                        \(mode)); chmod 640 \(path) and give its group to the user running Sigillum, or chown it to \
                        that user with mode 600
                        """
                )
            }
        } else {
            throw SignerError.secretUnavailable(
                reason: """
                    the secret file \(path) belongs to user id \(owner), neither the user running Sigillum (\(user)) \
                    nor root; chown it to the user running Sigillum (mode 600)
                    """
            )
        }
    }

    private static func readSecretFile(_ path: String, what: String) throws(SignerError) -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw SignerError.secretUnavailable(
                reason: "\(what) does not exist; create it (mode 0600, owned by the Sigillum user) or fix the path"
            )
        }
        guard !isDirectory.boolValue else {
            throw SignerError.secretUnavailable(reason: "\(what) is a directory; point the setting at the file")
        }
        var data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw SignerError.secretUnavailable(
                reason: "cannot read \(what): check that the user running Sigillum may read it",
                cause: error
            )
        }
        defer { data.resetBytes(in: 0..<data.count) }
        guard data.count <= Self.maximumLength else {
            throw SignerError.secretUnavailable(
                reason: """
                    \(what) holds \(data.count) bytes, more than a passphrase or PIN (at most \
                    \(Self.maximumLength)); point the setting at the file that holds only the secret
                    """
            )
        }
        return Array(data)
    }

    private static func stripOneTrailingNewline(_ secret: inout [UInt8]) {
        guard secret.last == UInt8(ascii: "\n") else { return }
        secret[secret.count - 1] = 0
        secret.removeLast()
        if secret.last == UInt8(ascii: "\r") {
            secret[secret.count - 1] = 0
            secret.removeLast()
        }
    }
}

extension SecretSource: CustomStringConvertible {
    /// Where the secret comes from, such as `the secret file /etc/sigillum/tsa.pass`; never the secret.
    public var description: String {
        switch self {
        case .file(let path): "the secret file \(path)"
        case .environment(let name): "the environment variable \(name)"
        case .credential(let name): "the systemd credential \(name)"
        }
    }
}
