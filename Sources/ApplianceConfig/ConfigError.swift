/// A configuration that cannot be used, with the place and what to change.
public struct ConfigError: Error, Hashable, CustomStringConvertible {
    /// A stable code for programs; errors compare by it.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public static let unreadableFile = Code(name: "unreadableFile")
        public static let syntax = Code(name: "syntax")
        public static let unknownKey = Code(name: "unknownKey")
        public static let invalidValue = Code(name: "invalidValue")
        public static let conflictingOptions = Code(name: "conflictingOptions")
        public var description: String { self.name }
    }

    public let code: Code
    /// The setting, as a dotted key path (`tsa.policies[1].oid`), when the error is about one.
    public let keyPath: String?
    public let reason: String
    public let file: String
    public let line: UInt

    init(code: Code, keyPath: String?, reason: String, file: String, line: UInt) {
        self.code = code
        self.keyPath = keyPath
        self.reason = reason
        self.file = file
        self.line = line
    }

    @inline(never)
    static func invalid(_ keyPath: String, _ reason: String, file: String = #fileID, line: UInt = #line) -> ConfigError
    {
        ConfigError(code: .invalidValue, keyPath: keyPath, reason: reason, file: file, line: line)
    }

    @inline(never)
    static func unknownKey(_ keyPath: String, known: [String], file: String = #fileID, line: UInt = #line)
        -> ConfigError
    {
        ConfigError(
            code: .unknownKey,
            keyPath: keyPath,
            reason: "unknown setting; the settings here are: \(known.sorted().joined(separator: ", "))",
            file: file,
            line: line
        )
    }

    @inline(never)
    static func make(_ code: Code, _ reason: String, file: String = #fileID, line: UInt = #line) -> ConfigError {
        ConfigError(code: code, keyPath: nil, reason: reason, file: file, line: line)
    }

    public static func == (lhs: ConfigError, rhs: ConfigError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }

    public var description: String {
        if let keyPath { return "configuration error at \(keyPath): \(self.reason)" }
        return "configuration error: \(self.reason)"
    }
}
