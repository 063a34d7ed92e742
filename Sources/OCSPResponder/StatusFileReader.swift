import Foundation

// In release builds the members of `struct stat` resolve to the copy of <sys/stat.h> that CoreFoundation's
// module map owns; with MemberImportVisibility that module must be imported explicitly.
#if canImport(CoreFoundation)
    import CoreFoundation
#endif
#if canImport(Glibc)
    import Glibc
    /// The C `struct stat`, named through its module.
    typealias PlatformStat = Glibc.stat
#elseif canImport(Musl)
    import Musl
    typealias PlatformStat = Musl.stat
#elseif canImport(Darwin)
    import Darwin
    typealias PlatformStat = Darwin.stat
#endif

/// What `stat` says about a file, enough to notice any change: an atomic rename-replace gives a new inode; a write
/// in place changes the size or the modification time (nanoseconds); `touch -m` back to an old time, or a write
/// that keeps size and time, still changes the status-change time.
struct FileIdentity: Hashable, Sendable, CustomStringConvertible {
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var modified: Timestamp
    var changed: Timestamp

    struct Timestamp: Hashable, Sendable {
        var seconds: Int64
        var nanoseconds: Int64
    }

    var description: String {
        "inode \(self.inode), \(self.size) bytes, mtime \(self.modified.seconds).\(self.modified.nanoseconds)"
    }
}

/// The one place this module calls the file system: `stat`, and reading a file whole together with the identity of
/// what was read. Each call retries `EINTR` and turns `errno` into an ``OCSPResponderError`` naming the call.
enum StatusFileReader {
    /// A file's content and the identity it had while being read.
    struct Contents: Sendable {
        var bytes: [UInt8]
        var identity: FileIdentity
        /// False when the file changed while it was read (its identity before and after differ, or the byte count is
        /// not the size): the bytes may mix two versions.
        var isConsistent: Bool
    }

    /// The identity of the file at `path`; `nil` when there is none (`ENOENT`, or a missing directory on the way).
    static func identity(path: String) throws(OCSPResponderError) -> FileIdentity? {
        var status = PlatformStat()
        let result = retryingEINTR { stat(path, &status) }
        if result != 0 {
            let code = errno
            if code == ENOENT || code == ENOTDIR { return nil }
            throw self.error(path: path, call: "stat", errno: code)
        }
        return FileIdentity(status)
    }

    /// Reads the whole file at `path`; `nil` when there is none.
    ///
    /// - Throws: ``OCSPResponderError`` with code ``OCSPResponderError/ErrorCode/sourceUnavailable`` when the file
    ///   is a directory or cannot be read.
    static func read(path: String) throws(OCSPResponderError) -> Contents? {
        let descriptor = retryingEINTR { open(path, O_RDONLY | O_CLOEXEC) }
        guard descriptor >= 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { return nil }
            throw self.error(path: path, call: "open", errno: code)
        }
        defer { _ = close(descriptor) }

        let before = try self.identity(descriptor: descriptor, path: path)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(clamping: max(0, before.size)) + 1)
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { buffer in
                retryingEINTR { systemRead(descriptor, buffer.baseAddress, buffer.count) }
            }
            if count < 0 {
                throw self.error(path: path, call: "read", errno: errno)
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        let after = try self.identity(descriptor: descriptor, path: path)
        return Contents(
            bytes: bytes,
            identity: before,
            isConsistent: before == after && Int64(bytes.count) == before.size
        )
    }

    private static func identity(descriptor: Int32, path: String) throws(OCSPResponderError) -> FileIdentity {
        var status = PlatformStat()
        guard retryingEINTR({ fstat(descriptor, &status) }) == 0 else {
            throw self.error(path: path, call: "fstat", errno: errno)
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw .sourceUnavailable(
                path: path, reason: "it is not a regular file; point the source at the file itself")
        }
        return FileIdentity(status)
    }

    private static func retryingEINTR<T: BinaryInteger>(_ call: () -> T) -> T {
        while true {
            let result = call()
            if result < 0, errno == EINTR { continue }
            return result
        }
    }

    private static func error(path: String, call: String, errno code: Int32) -> OCSPResponderError {
        let message = String(cString: strerror(code))
        return .sourceUnavailable(
            path: path,
            reason: "\(call) failed: \(message) (errno \(code))",
            cause: SystemCallError(call: call, errno: code)
        )
    }
}

/// The raw failure of a system call, kept as an ``OCSPResponderError/cause``.
struct SystemCallError: Error, Hashable, Sendable, CustomStringConvertible {
    var call: String
    var errno: Int32

    var description: String { "\(self.call): errno \(self.errno)" }
}

/// `read(2)`, named apart from ``StatusFileReader/read(path:)``.
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    #if canImport(Glibc)
        Glibc.read(descriptor, buffer, count)
    #elseif canImport(Musl)
        Musl.read(descriptor, buffer, count)
    #else
        Darwin.read(descriptor, buffer, count)
    #endif
}

extension FileIdentity {
    fileprivate init(_ status: PlatformStat) {
        #if canImport(Darwin)
            let modified = status.st_mtimespec
            let changed = status.st_ctimespec
        #else
            let modified = status.st_mtim
            let changed = status.st_ctim
        #endif
        self.init(
            device: UInt64(truncatingIfNeeded: status.st_dev),
            inode: UInt64(truncatingIfNeeded: status.st_ino),
            size: Int64(status.st_size),
            modified: Timestamp(seconds: Int64(modified.tv_sec), nanoseconds: Int64(modified.tv_nsec)),
            changed: Timestamp(seconds: Int64(changed.tv_sec), nanoseconds: Int64(changed.tv_nsec))
        )
    }
}
