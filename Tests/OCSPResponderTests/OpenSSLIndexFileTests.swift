import DevelopmentPKI
import Foundation
import PKIMessages
import SwiftASN1
import Testing
import X509

@testable import OCSPResponder

@Suite("OpenSSL index.txt")
struct OpenSSLIndexFileTests {
    // MARK: - Real openssl ca

    @Test("index.txt written by openssl ca: statuses, reasons and times agree with OpenSSL's own reading")
    func realOpenSSLCA() async throws {
        try await withTemporaryDirectory { directory in
            let ca = try OpenSSLTestCA(in: directory.url)
            let good = try ca.issue("good")
            let keyCompromise = try ca.issue("key-compromise")
            let hold = try ca.issue("hold")
            let holdInstruction = try ca.issue("hold-instruction")
            let keyTime = try ca.issue("key-time")
            let before = Date().timeIntervalSince1970.rounded(.down)
            try ca.revoke("key-compromise", ["-crl_reason", "keyCompromise"])
            try ca.revoke("hold", ["-crl_reason", "certificateHold"])
            try ca.revoke("hold-instruction", ["-crl_hold", "holdInstructionReject"])
            try ca.revoke("key-time", ["-crl_compromise", "20261101120000Z"])
            let after = Date().timeIntervalSince1970.rounded(.up)

            let status = try OpenSSLIndexFile(path: ca.indexPath).parse(try readBytes(ca.indexPath))
            #expect(status.knowsAllIssued)
            #expect(status.entries.count == 5)

            func entry(_ certificate: Certificate) throws -> CertificateStatus.Entry {
                let key = SerialNumberKey(certificate.serialNumber)
                return try #require(status.entries[key], "serial \(key) missing")
            }
            func revocation(_ certificate: Certificate) throws -> CertificateStatus.Revocation {
                guard case .revoked(let revocation) = try entry(certificate) else {
                    throw TestFailure("\(certificate.subject) is not revoked")
                }
                return revocation
            }

            #expect(try entry(good) == .good)
            #expect(try revocation(keyCompromise).reason == .keyCompromise)
            #expect(try revocation(hold).reason == .certificateHold)
            #expect(try revocation(hold).holdInstruction == nil)
            #expect(try revocation(holdInstruction).reason == .certificateHold)
            #expect(try revocation(holdInstruction).holdInstruction == ASN1ObjectIdentifier.HoldInstruction.reject)
            #expect(try revocation(keyTime).reason == .keyCompromise)
            #expect(try revocation(keyTime).invalidityDate == utc(2026, 11, 1, 12))

            for (name, certificate) in [
                ("good", good), ("key-compromise", keyCompromise), ("hold", hold),
                ("hold-instruction", holdInstruction), ("key-time", keyTime),
            ] {
                let key = SerialNumberKey(certificate.serialNumber)
                #expect(key.hexString.hasPrefix("8A0B0C"))
                let openSSLStatus = try ca.openSSLStatus(serialHex: key.hexString)
                let answer = try ca.openSSLOCSPAnswer(for: name)
                switch try entry(certificate) {
                case .good:
                    #expect(openSSLStatus == "Valid", "\(name)")
                    #expect(answer.status == "good", "\(name)")
                case .revoked(let revocation):
                    #expect(openSSLStatus == "Revoked", "\(name)")
                    #expect(answer.status == "revoked", "\(name)")
                    #expect(answer.reason == revocation.reason?.description, "\(name)")
                    #expect(answer.revocationTime == revocation.time, "\(name)")
                    let seconds = revocation.time.timeIntervalSince1970
                    #expect(seconds >= before && seconds <= after, "\(name): \(revocation.time)")
                }
            }
        }
    }

    @Test("an E line (openssl ca -updatedb) is answered good")
    func expiredLine() async throws {
        try await withTemporaryDirectory { directory in
            let ca = try OpenSSLTestCA(in: directory.url)
            try openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "old.key"], in: directory.url)
            try openssl(
                ["req", "-new", "-key", "old.key", "-subj", "/CN=old", "-config", "ca.cnf", "-out", "old.csr"],
                in: directory.url
            )
            try openssl(
                [
                    "ca", "-batch", "-config", "ca.cnf", "-in", "old.csr", "-out", "old.pem", "-notext",
                    "-startdate", "20200101000000Z", "-enddate", "20200201000000Z",
                ],
                in: directory.url
            )
            try openssl(["ca", "-config", "ca.cnf", "-updatedb"], in: directory.url)
            let text = String(decoding: try readBytes(ca.indexPath), as: UTF8.self)
            #expect(text.hasPrefix("E\t200201000000Z\t\t8A0B0C0D\t"), "\(text)")
            #expect(try ca.openSSLStatus(serialHex: "8A0B0C0D") == "Expired")

            let rows = try OpenSSLIndexFile.rows(try readBytes(ca.indexPath), path: ca.indexPath)
            #expect(rows.map(\.status) == [.expired])
            #expect(rows.first?.expiry == utc(2020, 2, 1))
            let status = try OpenSSLIndexFile.parse(try readBytes(ca.indexPath), path: ca.indexPath)
            #expect(status.entries[try #require(SerialNumberKey(hex: "8A0B0C0D"))] == .good)
        }
    }

    @Test("the development PKI's index.txt: ee-revoked revoked (keyCompromise), ee-good good")
    func developmentPKI() async throws {
        try await withTemporaryDirectory { directory in
            let now = Date()
            let (paths, created) = try DevelopmentPKI.ensure(stateDirectory: directory.path("state"), now: now)
            #expect(created)
            let pki = try DevelopmentPKI.load(stateDirectory: directory.path("state"))
            let status = try OpenSSLIndexFile(path: paths.index).parse(try readBytes(paths.index))

            let good = SerialNumberKey(pki.eeGood.serialNumber)
            let revoked = SerialNumberKey(pki.eeRevoked.serialNumber)
            #expect(status.entries[good] == .good)
            guard case .revoked(let revocation)? = status.entries[revoked] else {
                Issue.record("ee-revoked is \(String(describing: status.entries[revoked]))")
                return
            }
            #expect(revocation.reason == .keyCompromise)
            #expect(abs(revocation.time.timeIntervalSince(now)) < 2 * 86_400)
            for certificate in [pki.tsa, pki.ocsp] {
                #expect(status.entries[SerialNumberKey(certificate.serialNumber)] == .good)
            }
        }
    }

    // MARK: - Format details

    @Test("OpenSSL's revocation forms: plain, reason, holdInstruction, keyTime, CAkeyTime; any case")
    func revocationForms() throws {
        let text =
            indexLine("R", serial: "01", revocation: "231125000000Z")
            + indexLine("R", serial: "02", revocation: "231125000000Z,KEYCOMPROMISE")
            + indexLine("R", serial: "03", revocation: "231125000000Z,CACompromise")
            + indexLine("R", serial: "04", revocation: "231125000000Z,holdInstruction,1.2.840.10040.2.2")
            + indexLine("R", serial: "05", revocation: "231125000000Z,CAkeyTime,20231101000000Z")
            + indexLine("R", serial: "06", revocation: "231125000000Z,removeFromCRL")
            + indexLine("R", serial: "07", revocation: "231125000000Z,privilegeWithdrawn")
            + indexLine("R", serial: "08", revocation: "231125000000Z,AACompromise")
            + indexLine("R", serial: "09", revocation: "20511125000000Z,superseded")
            + indexLine("R", serial: "0A", revocation: "231125000000Z,cessationOfOperation,ignored")
        let status = try OpenSSLIndexFile.parse(Array(text.utf8), path: "index.txt")
        func revocation(_ hex: String) throws -> CertificateStatus.Revocation {
            guard case .revoked(let revocation)? = status.entries[try #require(SerialNumberKey(hex: hex))] else {
                throw TestFailure("\(hex) not revoked")
            }
            return revocation
        }
        let date = utc(2023, 11, 25)
        #expect(try revocation("01") == CertificateStatus.Revocation(time: date, reason: nil))
        #expect(try revocation("02").reason == .keyCompromise)
        #expect(try revocation("03").reason == .caCompromise)
        #expect(try revocation("04").reason == .certificateHold)
        #expect(try revocation("04").holdInstruction == ASN1ObjectIdentifier.HoldInstruction.callIssuer)
        #expect(try revocation("05").reason == .caCompromise)
        #expect(try revocation("05").invalidityDate == utc(2023, 11, 1))
        #expect(try revocation("06").reason == .removeFromCRL)
        #expect(try revocation("07").reason == .privilegeWithdrawn)
        #expect(try revocation("08").reason == .aaCompromise)
        #expect(try revocation("09").time == utc(2051, 11, 25))
        #expect(try revocation("0A").reason == .cessationOfOperation)
    }

    @Test(
        "UTCTime years follow RFC 5280 (50–99 → 19YY, 00–49 → 20YY); GeneralizedTime has four digits",
        arguments: [
            ("491231235959Z", utc(2049, 12, 31, 23, 59, 59)),
            ("500101000000Z", utc(1950, 1, 1)),
            ("000229120000Z", utc(2000, 2, 29, 12)),
            ("20500101000000Z", utc(2050, 1, 1)),
            ("19991231235959Z", utc(1999, 12, 31, 23, 59, 59)),
        ]
    )
    func times(text: String, expected: Date) {
        #expect(ASN1TimeText.parse(ArraySlice(text.utf8)) == expected)
    }

    @Test(
        "malformed times are refused",
        arguments: [
            "231325000000Z", "230230000000Z", "230229000000Z", "231125240000Z", "231125006000Z", "231125000060Z",
            "2311250000Z", "231125000000", "23112500000Z0", "2311250000001Z", "+31125000000Z", "",
        ]
    )
    func badTimes(text: String) {
        #expect(ASN1TimeText.parse(ArraySlice(text.utf8)) == nil)
    }

    @Test("comments, empty lines, CRLF, a missing final newline and an escaped tab in the subject are read")
    func lenientParts() throws {
        let text =
            "# written by hand\n\n"
            + indexLine("V", serial: "0A", subject: "/CN=with\\\ttab").replacingOccurrences(of: "\n", with: "\r\n")
            + indexLine("R", serial: "0b", revocation: "231125000000Z,superseded").dropLast()
        let rows = try OpenSSLIndexFile.rows(Array(text.utf8), path: "index.txt")
        #expect(rows.map(\.lineNumber) == [3, 4])
        #expect(rows.map(\.serial) == [SerialNumberKey(magnitude: [0x0A]), SerialNumberKey(magnitude: [0x0B])])
        #expect(rows.map(\.status) == [.valid, .revoked])
    }

    @Test("an empty file lists nothing but still knows every issued certificate")
    func emptyFile() throws {
        let status = try OpenSSLIndexFile.parse([], path: "index.txt")
        #expect(status.entries.isEmpty)
        #expect(status.knowsAllIssued)
    }

    // MARK: - Malformed lines

    static let malformedLines: [(name: String, line: String, fragment: String)] = [
        ("five fields", "V\t271125000000Z\t\t0A\tunknown\n", "5 tab-separated fields"),
        ("seven fields", indexLine("V", serial: "0A", subject: "/CN=a\tb"), "7 tab-separated fields"),
        ("spaces for tabs", "V 271125000000Z  0A unknown /CN=a\n", "1 tab-separated fields"),
        ("unknown status", indexLine("X", serial: "0A"), "the status \"X\""),
        ("bad expiry month", indexLine("V", serial: "0A", expiry: "271325000000Z"), "the expiry date"),
        ("short expiry", indexLine("V", serial: "0A", expiry: "2711250000Z"), "the expiry date"),
        ("bad hex serial", indexLine("V", serial: "0G"), "the serial \"0G\""),
        ("empty serial", indexLine("V", serial: ""), "the serial \"\""),
        ("negative serial", indexLine("V", serial: "-0A"), "the serial \"-0A\""),
        ("revoked without date", indexLine("R", serial: "0A"), "no revocation date"),
        ("valid with revocation", indexLine("V", serial: "0A", revocation: "231125000000Z"), "has revocation data"),
        (
            "bad revocation date", indexLine("R", serial: "0A", revocation: "231125000000,keyCompromise"),
            "the revocation date"
        ),
        ("unknown reason", indexLine("R", serial: "0A", revocation: "231125000000Z,stolen"), "\"stolen\" is unknown"),
        ("empty reason", indexLine("R", serial: "0A", revocation: "231125000000Z,"), "\"\" is unknown"),
        (
            "hold without OID", indexLine("R", serial: "0A", revocation: "231125000000Z,holdInstruction"),
            "holdInstruction needs"
        ),
        (
            "hold with a bad OID", indexLine("R", serial: "0A", revocation: "231125000000Z,holdInstruction,nonsense"),
            "holdInstruction needs"
        ),
        ("keyTime without time", indexLine("R", serial: "0A", revocation: "231125000000Z,keyTime"), "keyTime needs"),
        (
            "keyTime with UTCTime", indexLine("R", serial: "0A", revocation: "231125000000Z,keyTime,231101000000Z"),
            "keyTime needs"
        ),
        ("duplicate serial", indexLine("V", serial: "000001"), "already listed on line 1"),
    ]

    @Test("a malformed line refuses the whole file, naming the file and the line", arguments: malformedLines)
    func malformed(name: String, line: String, fragment: String) {
        let text = indexLine("V", serial: "01") + "# a comment\n" + line + indexLine("V", serial: "02")
        #expect {
            try OpenSSLIndexFile.parse(Array(text.utf8), path: "/etc/ca/index.txt")
        } throws: { error in
            guard let error = error as? OCSPResponderError else { return false }
            return error.code == .malformedIndex && error.lineNumber == 3 && error.path == "/etc/ca/index.txt"
                && error.reason.hasPrefix("/etc/ca/index.txt, line 3: ") && error.reason.contains(fragment)
        }
    }
}
