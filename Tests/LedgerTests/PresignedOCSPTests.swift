import Foundation
import Ledger
import Testing

@Suite("Pre-signed OCSP answers in the ledger")
struct PresignedOCSPTests {
    func record(_ id: UInt8, issuer: String = "CN=CA", nextUpdate: Int64) -> PresignedOCSPRecord {
        PresignedOCSPRecord(
            certID: [0x30, 0x03, 0x02, 0x01, id],
            issuer: issuer,
            serial: [id],
            status: "good",
            response: [0x30, 0x03, 0x0A, 0x01, id],
            thisUpdate: nextUpdate - 100,
            nextUpdate: nextUpdate,
            entityTag: "\"\(id)\""
        )
    }

    @Test("answers are stored, replaced by CertID, read per issuer while valid, and purged when expired")
    func storeReadPurge() async throws {
        try await withTemporaryDirectory { directory in
            let ledger = try openLedger(directory.ledgerPath)
            try await ledger.storePresignedOCSP([
                self.record(1, nextUpdate: 1000), self.record(2, nextUpdate: 2000),
                self.record(3, issuer: "CN=Other", nextUpdate: 2000),
            ])
            // Replacing the answer of CertID 1 with a later one.
            try await ledger.storePresignedOCSP([self.record(1, nextUpdate: 3000)])
            let valid = try ledger.presignedOCSP(issuer: "CN=CA", validAt: 1500)
            #expect(Set(valid.map(\.serial)) == [[1], [2]])
            #expect(valid.first { $0.serial == [1] }?.nextUpdate == 3000)
            #expect(try ledger.presignedOCSP(issuer: "CN=CA", validAt: 2500).map(\.serial) == [[1]])
            #expect(try await ledger.purgeExpiredPresignedOCSP(before: 2500) == 2)
            #expect(try ledger.presignedOCSP(issuer: "CN=Other", validAt: 0).isEmpty)
        }
    }
}
