import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A failed system call, kept as the `cause` of a ``DevelopmentPKIError``.
struct SystemCallError: Error, CustomStringConvertible {
    var call: String
    var errno: Int32

    var description: String {
        "\(self.call): \(String(cString: strerror(self.errno))) (errno \(self.errno))"
    }
}

/// File-system helpers with exact modes: files are written to a temporary file created with the
/// final mode, synced and renamed into place, so a reader never sees a half-written file and a key
/// is never readable by others, not even for a moment.
enum SecureFile {
    /// Whether a file exists at `path`.
    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// Creates `path` and missing parents (0755); the last component gets exactly `mode`.
    ///
    /// An existing directory is never opened up, only tightened: bits outside `mode` are
    /// cleared, so a keys directory left too open becomes 0700 before any key is written into it,
    /// while a state folder an administrator made 0750 stays 0750.
    static func makeDirectory(_ path: String, mode: mode_t) throws {
        var prefix = path.hasPrefix("/") ? "" : "."
        var created = false
        let components = path.split(separator: "/", omittingEmptySubsequences: true)
        for (index, component) in components.enumerated() {
            prefix += "/" + component
            let isLast = index == components.count - 1
            if mkdir(prefix, isLast ? mode : 0o755) == 0 {
                created = isLast
            } else {
                let error = errno
                guard error == EEXIST else {
                    throw DevelopmentPKIError.cannotCreateDirectory(
                        reason: "cannot create the directory \(prefix); check the permissions of its parent",
                        cause: SystemCallError(call: "mkdir", errno: error)
                    )
                }
            }
        }
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw DevelopmentPKIError.cannotCreateDirectory(
                reason: "\(path) exists but is not a usable directory; move it away",
                cause: SystemCallError(call: "open", errno: errno)
            )
        }
        defer { close(descriptor) }
        // mkdir's mode passes through the umask: set it exactly on a new directory.
        let target: mode_t
        if created {
            target = mode
        } else {
            let current = try self.permissions(of: path)
            target = current & mode
            guard target != current else { return }
        }
        if fchmod(descriptor, target) != 0 {
            throw DevelopmentPKIError.cannotCreateDirectory(
                reason: "cannot set the mode of \(path) to \(String(target, radix: 8)); check who owns it",
                cause: SystemCallError(call: "chmod", errno: errno)
            )
        }
    }

    /// The permission bits of `path`.
    private static func permissions(of path: String) throws -> mode_t {
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            guard let permissions = attributes[.posixPermissions] as? NSNumber else {
                throw SystemCallError(call: "stat", errno: EINVAL)
            }
            return mode_t(permissions.uint16Value & 0o7777)
        } catch {
            throw DevelopmentPKIError.cannotCreateDirectory(
                reason: "cannot read the mode of \(path); check who owns it",
                cause: error
            )
        }
    }

    /// Writes `bytes` to `path` atomically with exactly `mode`.
    static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t) throws {
        let temporary = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else {
            throw self.writeError(path, SystemCallError(call: "open", errno: errno))
        }
        var renamed = false
        defer {
            if !renamed {
                unlink(temporary)
            }
        }
        do {
            defer { close(descriptor) }
            // The umask may have cleared bits of `mode` (never added any): set it exactly, before
            // a single byte is written.
            guard fchmod(descriptor, mode) == 0 else {
                throw self.writeError(path, SystemCallError(call: "fchmod", errno: errno))
            }
            try bytes.withUnsafeBytes { buffer in
                guard let base = buffer.baseAddress else { return }
                var offset = 0
                while offset < buffer.count {
                    let written = write(descriptor, base + offset, buffer.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        throw self.writeError(path, SystemCallError(call: "write", errno: errno))
                    }
                    offset += written
                }
            }
            guard fsync(descriptor) == 0 else {
                throw self.writeError(path, SystemCallError(call: "fsync", errno: errno))
            }
        }
        guard rename(temporary, path) == 0 else {
            throw self.writeError(path, SystemCallError(call: "rename", errno: errno))
        }
        renamed = true
    }

    /// Removes `path` if it exists.
    static func remove(_ path: String) throws {
        if unlink(path) != 0, errno != ENOENT {
            throw DevelopmentPKIError.cannotWriteFile(
                reason: "cannot remove the incomplete file \(path); check the permissions of its directory",
                cause: SystemCallError(call: "unlink", errno: errno)
            )
        }
    }

    /// Syncs the directory `path`, so renames into it survive a crash.
    static func syncDirectory(_ path: String) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        close(descriptor)
    }

    private static func writeError(_ path: String, _ cause: SystemCallError) -> DevelopmentPKIError {
        DevelopmentPKIError.cannotWriteFile(
            reason: "cannot write \(path); check the permissions and free space of its directory",
            cause: cause
        )
    }
}
