/// Errors that stop the TSA from starting, with what to fix.
public struct TSAError: Error, Hashable, CustomStringConvertible {
    /// A stable code for programs; errors compare by it.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        /// The TSU certificate breaks the RFC 3161 §2.3 / EN 319 422 profile.
        public static let certificateProfile = Code(name: "certificateProfile")
        /// The TSU certificate is not valid now.
        public static let certificateValidity = Code(name: "certificateValidity")
        /// The configuration handed to the TSA is inconsistent.
        public static let configuration = Code(name: "configuration")
        /// A constant part of the token could not be encoded.
        public static let encoding = Code(name: "encoding")
        public var description: String { self.name }
    }

    public let code: Code
    public let reason: String
    public let cause: (any Error & Sendable)?
    public let file: String
    public let line: UInt

    @inline(never)
    static func make(
        _ code: Code,
        _ reason: String,
        cause: (any Error & Sendable)? = nil,
        file: String = #fileID,
        line: UInt = #line
    ) -> TSAError {
        TSAError(code: code, reason: reason, cause: cause, file: file, line: line)
    }

    public static func == (lhs: TSAError, rhs: TSAError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }

    public var description: String {
        if let cause { return "\(self.reason) (\(cause))" }
        return self.reason
    }
}
