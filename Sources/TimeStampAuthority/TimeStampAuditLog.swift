public import Ledger

/// Where granted tokens are recorded before they are handed out (ETSI EN 319 421 §7.10: audit records).
///
/// `append` returns only after the record is durable; if it throws, the token must not be handed out.
public protocol TimeStampAuditLog: Sendable {
    func append(_ record: TimeStampAuditRecord) async throws -> TimeStampAuditReceipt
    /// The same, reporting to `completion` (exactly once, possibly on another thread) instead of suspending a task.
    func append(
        _ record: TimeStampAuditRecord,
        completion: @escaping @Sendable (Result<TimeStampAuditReceipt, any Error>) -> Void
    )
    var isHealthy: Bool { get }
    /// The latest genTime already issued (µs since 1970), where the genTime sequence resumes after a restart.
    func lastGenTimeMicroseconds() throws -> Int64?
}

extension TimeStampAuditLog {
    /// For logs that only have the `async` form: a task per record.
    public func append(
        _ record: TimeStampAuditRecord,
        completion: @escaping @Sendable (Result<TimeStampAuditReceipt, any Error>) -> Void
    ) {
        Task {
            do {
                completion(.success(try await self.append(record)))
            } catch {
                completion(.failure(error))
            }
        }
    }
}

extension Ledger: TimeStampAuditLog {}
