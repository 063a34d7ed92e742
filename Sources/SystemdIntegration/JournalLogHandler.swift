import CSystemd
import Glibc
public import Logging

/// A swift-log handler that writes to the systemd journal with structured fields, through `sd_journal_sendv(3)`.
///
/// Every entry carries `MESSAGE`, `PRIORITY` (syslog levels, RFC 5424 §6.2.1), `SYSLOG_IDENTIFIER`, `CODE_FILE`,
/// `CODE_LINE`, `CODE_FUNC` and `SIGILLUM_LOGGER` (the logger's label), and one field per metadata entry:
/// - `sigillum.event` → `SIGILLUM_EVENT` (what happened, e.g. `tsa.granted`, `clock.gate.closed`);
/// - `tsa.serial` and `ocsp.serial` → `SIGILLUM_SERIAL` as well as their own fields;
/// - `client.address` → `SIGILLUM_CLIENT`;
/// - any other key `a.b_c` → `SIGILLUM_A_B_C` (journal field names are upper-case letters, digits and `_`).
///
/// `journalctl -u sigillumd SIGILLUM_EVENT=tsa.granted SIGILLUM_SERIAL=…` then finds one token's entries.
public struct JournalLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let identifier: String
    let send: @Sendable ([String]) -> Void

    /// A handler writing to the journal's native socket.
    public init(label: String, identifier: String, logLevel: Logger.Level = .info) {
        self.init(label: label, identifier: identifier, logLevel: logLevel, send: Self.sendToJournal)
    }

    /// A handler with its own transport (tests).
    public init(
        label: String, identifier: String, logLevel: Logger.Level, send: @escaping @Sendable ([String]) -> Void
    ) {
        self.label = label
        self.identifier = identifier
        self.logLevel = logLevel
        self.send = send
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = self.metadata
        if let provided = self.metadataProvider?.get() {
            merged.merge(provided) { _, new in new }
        }
        if let extra = event.metadata {
            merged.merge(extra) { _, new in new }
        }
        self.send(
            Self.fields(
                message: event.message.description,
                level: event.level,
                label: self.label,
                identifier: self.identifier,
                metadata: merged,
                file: event.file,
                function: event.function,
                line: event.line
            ))
    }

    /// The journal fields of one entry, each `NAME=value`.
    static func fields(
        message: String,
        level: Logger.Level,
        label: String,
        identifier: String,
        metadata: Logger.Metadata,
        file: String,
        function: String,
        line: UInt
    ) -> [String] {
        var fields = [
            "MESSAGE=\(message)",
            "PRIORITY=\(Self.priority(level))",
            "SYSLOG_IDENTIFIER=\(identifier)",
            "SIGILLUM_LOGGER=\(label)",
            "CODE_FILE=\(file)",
            "CODE_LINE=\(line)",
            "CODE_FUNC=\(function)",
        ]
        for key in metadata.keys.sorted() {
            guard let value = metadata[key] else { continue }
            let text = Self.text(value)
            for name in Self.fieldNames(forMetadataKey: key) {
                fields.append("\(name)=\(text)")
            }
        }
        return fields
    }

    /// Syslog severities (RFC 5424 §6.2.1), as the journal's `PRIORITY`.
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// The journal fields a metadata key fills.
    static func fieldNames(forMetadataKey key: String) -> [String] {
        switch key {
        case "sigillum.event": return ["SIGILLUM_EVENT"]
        case "client.address": return ["SIGILLUM_CLIENT"]
        case "tsa.serial", "ocsp.serial": return ["SIGILLUM_SERIAL", Self.fieldName("sigillum." + key)]
        default: return [Self.fieldName("sigillum." + key)]
        }
    }

    /// `a.b-c` → `A_B_C`, cut to the journal's 64 characters; never starts with `_` (trusted fields) or a digit.
    static func fieldName(_ key: String) -> String {
        var name = ""
        for scalar in key.unicodeScalars {
            switch scalar {
            case "a"..."z": name.unicodeScalars.append(Unicode.Scalar(scalar.value - 32) ?? "_")
            case "A"..."Z", "0"..."9": name.unicodeScalars.append(scalar)
            default: name.append("_")
            }
        }
        while name.hasPrefix("_") { name.removeFirst() }
        if name.isEmpty || name.first?.isNumber == true { name = "X" + name }
        return String(name.prefix(64))
    }

    static func text(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let string): string
        case .stringConvertible(let convertible): convertible.description
        case .array(let values): "[" + values.map(Self.text).joined(separator: ", ") + "]"
        case .dictionary(let entries):
            "{" + entries.keys.sorted().map { "\($0): \(entries[$0].map(Self.text) ?? "")" }.joined(separator: ", ")
                + "}"
        }
    }

    /// One entry to the journal. sd_journal_sendv frames values that hold a newline itself; a failure (no journal)
    /// drops the entry, as a log call must not fail.
    static let sendToJournal: @Sendable ([String]) -> Void = { fields in
        let pointers: [UnsafeMutablePointer<CChar>?] = fields.map { strdup($0) }
        defer { for pointer in pointers { free(pointer) } }
        let vectors = pointers.map { pointer in
            iovec(iov_base: UnsafeMutableRawPointer(pointer), iov_len: pointer.map { strlen($0) } ?? 0)
        }
        _ = vectors.withUnsafeBufferPointer { buffer in
            sd_journal_sendv(buffer.baseAddress, Int32(buffer.count))
        }
    }
}

/// Whether standard error is the journal stream systemd connected (`$JOURNAL_STREAM`, systemd.exec(5)).
public enum JournalStream {
    /// `$JOURNAL_STREAM` is `DEVICE:INODE` of the stream systemd connected; it counts only when standard error is
    /// still that stream (a child whose stderr was redirected inherits the variable but not the stream).
    public static func isStandardErrorConnected(environment: [String: String]) -> Bool {
        guard let value = environment["JOURNAL_STREAM"] else { return false }
        let parts = value.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var status = stat()
        guard fstat(STDERR_FILENO, &status) == 0 else { return false }
        return UInt64(status.st_dev) == device && UInt64(status.st_ino) == inode
    }
}
