import Foundation
public import Ledger
import PKIMessages

/// Where pre-signed answers outlive a restart.
public protocol PresignedAnswerStore: Sendable {
    func storePresignedOCSP(_ records: [PresignedOCSPRecord]) async throws
    func presignedOCSP(issuer: String, validAt now: Int64) throws -> [PresignedOCSPRecord]
}

extension Ledger: PresignedAnswerStore {}

extension CertificateStatus {
    /// A canonical text of the status, stored with a pre-signed answer and compared with the source at start-up:
    /// `good`, `unknown`, or `revoked:<unix time>:<reason or ->:<issued|non-issued>`.
    public var canonicalText: String {
        switch self {
        case .good: return "good"
        case .unknown: return "unknown"
        case .revoked(let revocation):
            let time = Int64(revocation.time.timeIntervalSince1970.rounded(.down))
            let reason = revocation.reason.map { String($0.rawValue) } ?? "-"
            return "revoked:\(time):\(reason):\(revocation.isForNonIssuedCertificate ? "non-issued" : "issued")"
        }
    }
}
