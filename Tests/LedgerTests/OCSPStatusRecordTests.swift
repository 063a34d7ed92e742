import Foundation
import GRDB
import Ledger
import Testing

@Suite("OCSP status records in the ledger")
struct OCSPStatusRecordTests {
    static let issuer = "CN=Test CA,O=Sigillum Tests"

    @Test("set, unrevoke and read back; every change bumps the issuer's generation")
    func roundTrip() async throws {
        try await withTemporaryDirectory { directory in
            let ledger = try openLedger(directory.ledgerPath)
            #expect(try ledger.ocspStatusGeneration(issuer: Self.issuer) == 0)
            #expect(try ledger.ocspStatus(issuer: Self.issuer).records.isEmpty)

            let revoked = OCSPStatusRecord(
                issuer: Self.issuer, serial: [0x00, 0x8A], isRevoked: true, revocationTime: 1_700_000_000, reason: 1,
                invalidityTime: 1_699_000_000)
            try ledger.setOCSPStatus([.good(issuer: Self.issuer, serial: [0x01]), revoked])
            #expect(try ledger.ocspStatusGeneration(issuer: Self.issuer) == 1)
            var stored = try ledger.ocspStatus(issuer: Self.issuer)
            #expect(stored.generation == 1)
            let bySerial = Dictionary(uniqueKeysWithValues: stored.records.map { ($0.serial, $0) })
            #expect(bySerial.count == 2)
            // Leading zero octets are dropped: 00 8A and 8A are one serial.
            #expect(bySerial[[0x8A]]?.isRevoked == true)
            #expect(bySerial[[0x8A]]?.revocationTime == 1_700_000_000)
            #expect(bySerial[[0x8A]]?.reason == 1)
            #expect(bySerial[[0x8A]]?.invalidityTime == 1_699_000_000)
            #expect(bySerial[[0x01]]?.isRevoked == false)

            // Unrevoke keeps the row, good, without revocation fields.
            #expect(try ledger.removeOCSPStatus(issuer: Self.issuer, serial: [0x8A]) == true)
            stored = try ledger.ocspStatus(issuer: Self.issuer)
            #expect(stored.generation == 2)
            #expect(stored.records.count == 2)
            #expect(stored.records.allSatisfy { !$0.isRevoked && $0.revocationTime == nil && $0.reason == nil })
            #expect(try ledger.removeOCSPStatus(issuer: Self.issuer, serial: [0x8A]) == false)
            #expect(try ledger.ocspStatusGeneration(issuer: Self.issuer) == 3)

            // Another issuer has its own rows and generation.
            try ledger.setOCSPStatus([.good(issuer: "CN=Other", serial: [0x01])])
            #expect(try ledger.ocspStatusGeneration(issuer: "CN=Other") == 1)
            #expect(try ledger.ocspStatusGeneration(issuer: Self.issuer) == 3)

            // A read-only reader sees the same.
            let reader = try Ledger.openReadOnly(path: directory.ledgerPath)
            #expect(try reader.ocspStatusGeneration(issuer: Self.issuer) == 3)
            #expect(try reader.ocspStatus(issuer: Self.issuer).records.count == 2)
        }
    }

    @Test("a revoked record without a revocation time is refused and nothing is written")
    func revokedNeedsTime() async throws {
        try await withTemporaryDirectory { directory in
            let ledger = try openLedger(directory.ledgerPath)
            #expect(throws: LedgerError.self) {
                try ledger.setOCSPStatus([
                    .good(issuer: Self.issuer, serial: [0x02]),
                    OCSPStatusRecord(issuer: Self.issuer, serial: [0x01], isRevoked: true),
                ])
            }
            #expect(try ledger.ocspStatusGeneration(issuer: Self.issuer) == 0)
            #expect(try ledger.ocspStatus(issuer: Self.issuer).records.isEmpty)
        }
    }

    @Test("a second writer (the CLI) changes statuses while the first ledger (the daemon) has the file open")
    func secondWriter() async throws {
        try await withTemporaryDirectory { directory in
            let daemon = try openLedger(directory.ledgerPath)
            let cli = try openLedger(directory.ledgerPath)
            try cli.setOCSPStatus([.good(issuer: Self.issuer, serial: [0x05])])
            #expect(try daemon.ocspStatusGeneration(issuer: Self.issuer) == 1)
            #expect(try daemon.ocspStatus(issuer: Self.issuer).records.map(\.serial) == [[0x05]])
        }
    }
}
