/// Errors of the clock module.
public struct ClockError: Error, Hashable, CustomStringConvertible {
    /// A stable code for programs; compare errors by it.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public static let kernelUnreadable = Code(name: "kernelUnreadable")
        /// An NTP server address (`host`, `host:port`, `[v6]:port`) could not be parsed.
        public static let invalidServerAddress = Code(name: "invalidServerAddress")
        /// `chronyc` is missing, could not be started, or chronyd did not answer it.
        public static let chronyUnavailable = Code(name: "chronyUnavailable")
        /// `chronyc` answered, but not in the CSV layout this module reads.
        public static let chronyOutputUnparsable = Code(name: "chronyOutputUnparsable")
        public var description: String { self.name }
    }

    public let code: Code
    public let reason: String
    public let file: String
    public let line: UInt

    @inline(never)
    static func kernelUnreadable(errno: Int32, file: String = #fileID, line: UInt = #line) -> ClockError {
        ClockError(
            code: .kernelUnreadable,
            reason: "adjtimex failed with errno \(errno); the kernel clock state cannot be read "
                + "(a seccomp filter or container may deny it)",
            file: file,
            line: line
        )
    }

    @inline(never)
    static func invalidServerAddress(_ text: String, reason: String, file: String = #fileID, line: UInt = #line)
        -> ClockError
    {
        ClockError(
            code: .invalidServerAddress,
            reason: "NTP server address '\(text)': \(reason)",
            file: file,
            line: line
        )
    }

    @inline(never)
    static func chronyUnavailable(reason: String, file: String = #fileID, line: UInt = #line) -> ClockError {
        ClockError(code: .chronyUnavailable, reason: reason, file: file, line: line)
    }

    @inline(never)
    static func chronyOutputUnparsable(reason: String, file: String = #fileID, line: UInt = #line) -> ClockError {
        ClockError(code: .chronyOutputUnparsable, reason: reason, file: file, line: line)
    }

    public static func == (lhs: ClockError, rhs: ClockError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
    public var description: String { "ClockError.\(self.code): \(self.reason)" }
}
