import PKIMessages
import Synchronization

/// One pre-signed answer: for one CertID form of one serial.
struct CachedAnswer: Sendable {
    /// The CertID DER, the cache key (so a SHA-256 CertID and a SHA-1 one are separate answers, each echoed exactly).
    let key: [UInt8]
    let issuerIndex: Int
    let certID: CertID
    let serial: SerialNumberKey
    /// The status the answer states; compared with the source on every read.
    let status: CertificateStatus
    let response: [UInt8]
    let validity: OCSPOutcome.Validity
}

/// The pre-signed answers, keyed by CertID DER. Reads take a lock and a dictionary lookup.
final class PresignedCache: Sendable {
    private let entries = Mutex<[[UInt8]: CachedAnswer]>([:])

    func entry(for key: [UInt8]) -> CachedAnswer? {
        self.entries.withLock { $0[key] }
    }

    func store(_ answer: CachedAnswer) {
        self.entries.withLock { $0[answer.key] = answer }
    }

    func remove(key: [UInt8]) {
        _ = self.entries.withLock { $0.removeValue(forKey: key) }
    }

    func allEntries() -> [CachedAnswer] {
        self.entries.withLock { Array($0.values) }
    }

    var count: Int { self.entries.withLock { $0.count } }
}
