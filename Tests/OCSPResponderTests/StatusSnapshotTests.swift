import Foundation
import PKIMessages
import Testing

@testable import OCSPResponder

@Suite("Status snapshots and lookups")
struct StatusSnapshotTests {
    static let revokedLine = indexLine("R", serial: "02", revocation: "231125000000Z,keyCompromise")

    func snapshot(_ text: String, generation: UInt64 = 1) throws -> StatusSnapshot {
        StatusSnapshot(
            try OpenSSLIndexFile.parse(Array(text.utf8), path: "index.txt"),
            sourceKind: .openSSLIndex,
            sourcePath: "index.txt",
            generation: generation,
            loadedAt: Date()
        )
    }

    @Test("index source: listed serials answer their entry; others unknown, or non-issued revoked when enabled")
    func indexResolution() throws {
        let snapshot = try self.snapshot(indexLine("V", serial: "01") + Self.revokedLine)
        let good = SerialNumberKey(magnitude: [1])
        let revoked = SerialNumberKey(magnitude: [2])
        let absent = SerialNumberKey(magnitude: [3])

        #expect(snapshot.knowsAllIssued)
        #expect(snapshot.status(of: good) == .good)
        #expect(snapshot.status(of: absent) == nil)
        let revocation = CertificateStatus.Revocation(time: utc(2023, 11, 25), reason: .keyCompromise)
        #expect(snapshot.status(of: revoked) == .revoked(revocation))

        #expect(snapshot.resolve(good, nonIssuedIsRevoked: true) == .good)
        #expect(snapshot.resolve(revoked, nonIssuedIsRevoked: true) == .revoked(revocation))
        #expect(snapshot.resolve(absent, nonIssuedIsRevoked: false) == .unknown)
        #expect(snapshot.resolve(absent, nonIssuedIsRevoked: true) == .revoked(.nonIssued))

        #expect(snapshot.nonIssuedRevocation(for: good) == nil)
        #expect(snapshot.nonIssuedRevocation(for: revoked) == nil)
        let synthetic = try #require(snapshot.nonIssuedRevocation(for: absent))
        #expect(synthetic.time == Date(timeIntervalSince1970: 0))
        #expect(synthetic.reason == .certificateHold)
        #expect(synthetic.isForNonIssuedCertificate)
        #expect(synthetic.invalidityDate == nil)
        #expect(synthetic.holdInstruction == nil)
    }

    @Test("CRL source: an unlisted serial is good and never non-issued")
    func crlResolution() {
        let revocation = CertificateStatus.Revocation(time: utc(2023, 11, 25), reason: nil)
        let snapshot = StatusSnapshot(
            ParsedStatus(entries: [SerialNumberKey(magnitude: [2]): .revoked(revocation)], knowsAllIssued: false),
            sourceKind: .crl,
            sourcePath: "ca.crl",
            generation: 1,
            loadedAt: Date()
        )
        let absent = SerialNumberKey(magnitude: [3])
        #expect(snapshot.nonIssuedRevocation(for: absent) == nil)
        #expect(snapshot.resolve(absent, nonIssuedIsRevoked: true) == .good)
        #expect(snapshot.resolve(SerialNumberKey(magnitude: [2]), nonIssuedIsRevoked: true) == .revoked(revocation))
    }

    @Test("revocation times are whole seconds")
    func wholeSeconds() {
        let revocation = CertificateStatus.Revocation(
            time: Date(timeIntervalSince1970: 1_700_000_000.75),
            reason: nil,
            invalidityDate: Date(timeIntervalSince1970: 1_600_000_000.2)
        )
        #expect(revocation.time == Date(timeIntervalSince1970: 1_700_000_000))
        #expect(revocation.invalidityDate == Date(timeIntervalSince1970: 1_600_000_000))
    }

    @Test("changed serials: added, removed and changed entries; nothing else")
    func changedSerials() throws {
        let old = try self.snapshot(
            indexLine("V", serial: "01") + indexLine("V", serial: "02") + indexLine("V", serial: "03"))
        let new = try self.snapshot(
            indexLine("V", serial: "01") + Self.revokedLine + indexLine("V", serial: "04"),
            generation: 2
        )
        #expect(new.changedSerials(since: old) == Set(["02", "03", "04"].compactMap { SerialNumberKey(hex: $0) }))
        #expect(new.changedSerials(since: new).isEmpty)
        #expect(!new.hasSameContent(as: old))
        #expect(
            try self.snapshot(indexLine("V", serial: "01"), generation: 7).hasSameContent(
                as: try self.snapshot(indexLine("V", serial: "0001"))))
    }

    @Test("a 100 000-entry index: every serial looks up to its own entry, unlisted ones to nil")
    func largeSnapshot() throws {
        let count = 100_000
        var text = ""
        text.reserveCapacity(count * 80)
        for number in 0..<count {
            let serial = String(0x1000_0000 + number * 3, radix: 16, uppercase: true)
            if number % 7 == 0 {
                text += indexLine("R", serial: serial, revocation: "231125000000Z,superseded", subject: "/CN=\(number)")
            } else {
                text += indexLine("V", serial: serial, subject: "/CN=\(number)")
            }
        }
        let snapshot = try self.snapshot(text)
        #expect(snapshot.count == count)
        #expect(snapshot.revokedCount == (count + 6) / 7)

        var mismatches = 0
        for number in 0..<count {
            let value = 0x1000_0000 + number * 3
            let key = SerialNumberKey(magnitude: [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) })
            let expected: CertificateStatus.Entry =
                number % 7 == 0
                ? .revoked(CertificateStatus.Revocation(time: utc(2023, 11, 25), reason: .superseded)) : .good
            if snapshot.status(of: key) != expected { mismatches += 1 }
            // The serials in between were never issued.
            let between = SerialNumberKey(
                magnitude: [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: (value + 1) >> $0) })
            if snapshot.status(of: between) != nil { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }

    @Test("lookups from many tasks at once agree")
    func concurrentLookups() async throws {
        var text = ""
        for number in 1...1_000 {
            text += indexLine(
                number.isMultiple(of: 2) ? "V" : "R", serial: String(number, radix: 16),
                revocation: number.isMultiple(of: 2) ? "" : "231125000000Z")
        }
        let snapshot: any StatusLookup = try self.snapshot(text)
        let revokedCounts = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var revoked = 0
                    for number in 1...1_000 {
                        let key = SerialNumberKey(magnitude: [UInt8(number >> 8), UInt8(number & 0xFF)])
                        if case .revoked? = snapshot.status(of: key) { revoked += 1 }
                    }
                    return revoked
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(revokedCounts == Array(repeating: 500, count: 8))
    }
}
