public import Ledger

/// Where granted tokens are recorded before they are handed out (ETSI EN 319 421 §7.10: audit records).
///
/// `append` returns only after the record is durable; if it throws, the token must not be handed out.
public protocol TimeStampAuditLog: Sendable {
    func append(_ record: TimeStampAuditRecord) async throws -> TimeStampAuditReceipt
    var isHealthy: Bool { get }
    /// The latest genTime already issued (µs since 1970), where the genTime sequence resumes after a restart.
    func lastGenTimeMicroseconds() throws -> Int64?
}

extension Ledger: TimeStampAuditLog {}
