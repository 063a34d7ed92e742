import Foundation
import PKIMessages
import SwiftASN1
import Testing
import X509

@Suite("CRLs from openssl ca -gencrl")
struct CRLOpenSSLTests {
    static let lastUpdate = "20261120101112Z"
    /// After 2049, so that nextUpdate is a GeneralizedTime while lastUpdate is a UTCTime.
    static let nextUpdate = "20500102030405Z"

    @Test("the PEM and DER forms parse to the same CRL: entries, reasons, dates, number, signature")
    func opensslCRL() throws {
        try withTemporaryDirectory { directory in
            let ca = try OpenSSLRevocationCA(in: directory)
            let (pem, der) = try ca.generateCRL(lastUpdate: Self.lastUpdate, nextUpdate: Self.nextUpdate)
            let crl = try CertificateList.parse(bytes: der)
            #expect(try CertificateList.parse(bytes: pem) == crl)
            try assertReencodes(CertificateList.self, der)
            expectSameBytes(crl.tbsCertListBytes.bytes, try derBytes(crl.tbsCertList), "TBSCertList re-encoded")

            let tbs = crl.tbsCertList
            #expect(tbs.version == TBSCertList.v2)
            #expect(tbs.signature.algorithm == .SignatureAlgorithm.ecdsaWithSHA256)
            #expect(crl.signatureAlgorithm == tbs.signature)
            #expect(tbs.issuer == (try ca.caCertificate().subject))
            guard case .utcTime = tbs.thisUpdate, case .generalizedTime = tbs.nextUpdate else {
                Issue.record("thisUpdate \(tbs.thisUpdate), nextUpdate \(String(describing: tbs.nextUpdate))")
                return
            }
            #expect(tbs.thisUpdate.secondsSince1970 == OpenSSLText.seconds(asn1Time: Self.lastUpdate))
            #expect(tbs.nextUpdate?.secondsSince1970 == OpenSSLText.seconds(asn1Time: Self.nextUpdate))
            // The empty CRL made first used number 01.
            let printedNumber = try openssl(["crl", "-in", "crl.pem", "-noout", "-crlnumber"], in: directory)
            #expect(printedNumber.trimmingCharacters(in: .whitespacesAndNewlines) == "crlNumber=0x02")
            #expect(try tbs.crlNumber?.contentOctets == [0x02])

            let revocations = try ca.revocations()
            #expect(
                crl.revokedCertificates.map { hex($0.userCertificate.contentOctets, separator: "") } == [
                    "1002", "1003", "1004",
                ])
            #expect(
                try crl.revokedCertificates.map { try $0.reasonCode } == [.keyCompromise, .keyCompromise, .superseded])
            #expect(
                try crl.revokedCertificates.map { try $0.invalidityDate?.secondsSince1970 }
                    == [nil, OpenSSLText.seconds(asn1Time: OpenSSLRevocationCA.compromiseTime), nil])
            for entry in crl.revokedCertificates {
                let serial = hex(entry.userCertificate.contentOctets, separator: "")
                #expect(entry.revocationDate.secondsSince1970 == revocations[serial]?.time, "\(serial)")
            }
            // The same dates as `openssl crl -text` prints them.
            let text = try openssl(["crl", "-in", "crl.pem", "-noout", "-text"], in: directory)
            #expect(
                OpenSSLText.values(of: "Revocation Date", in: text).compactMap { OpenSSLText.seconds(printed: $0) }
                    == crl.revokedCertificates.map(\.revocationDate.secondsSince1970))
            #expect(
                OpenSSLText.values(of: "Last Update", in: text).compactMap { OpenSSLText.seconds(printed: $0) }
                    == [tbs.thisUpdate.secondsSince1970])

            // The signature covers exactly the kept bytes.
            #expect(try ca.verifies(signature: crl.signatureValue.bytes, over: crl.tbsCertListBytes.bytes))
            var altered = Array(crl.tbsCertListBytes.bytes)
            altered[altered.count - 1] ^= 0x01
            #expect(try !ca.verifies(signature: crl.signatureValue.bytes, over: altered))
        }
    }

    @Test("a CRL with nothing revoked has no revokedCertificates; PEM after openssl's -text output parses")
    func emptyAndTextCRL() throws {
        try withTemporaryDirectory { directory in
            let ca = try OpenSSLRevocationCA(in: directory)
            let empty = try CertificateList.parse(bytes: readFile(named: "empty-crl.pem", in: directory))
            #expect(empty.tbsCertList.revokedCertificates == nil)
            #expect(empty.revokedCertificates.isEmpty)
            #expect(try empty.tbsCertList.crlNumber?.contentOctets == [0x01])
            // default_crl_days = 7
            let thisUpdate = empty.tbsCertList.thisUpdate.secondsSince1970
            #expect(empty.tbsCertList.nextUpdate?.secondsSince1970 == thisUpdate + 7 * 86_400)
            #expect(abs(thisUpdate - Int64(Date().timeIntervalSince1970)) < 600)
            try assertReencodes(CertificateList.self, try derBytes(empty))

            _ = try ca.generateCRL(lastUpdate: Self.lastUpdate, nextUpdate: Self.nextUpdate)
            let withText = try openssl(["crl", "-in", "crl.pem", "-text"], in: directory)
            #expect(withText.hasPrefix("Certificate Revocation List"))
            #expect(
                try CertificateList.parse(bytes: Array(withText.utf8))
                    == CertificateList.parse(bytes: readFile(named: "crl.der", in: directory)))
        }
    }

    @Test("a CRL built with PKIMessages is read by openssl crl -text")
    func builtCRLReadByOpenSSL() throws {
        try withTemporaryDirectory { directory in
            let ca = try OpenSSLRevocationCA(in: directory)
            let caCertificate = try ca.caCertificate()
            let revokedAt: Int64 = 1_795_602_030  // 2026-11-25T10:20:30Z
            let entries = [
                try CRLEntry(
                    userCertificate: DERInteger(unsignedMagnitude: [0x10, 0x02]),
                    revocationDate: CRLTime(secondsSince1970: revokedAt), reason: .keyCompromise),
                try CRLEntry(
                    userCertificate: DERInteger(unsignedMagnitude: [0xAB, 0xCD, 0xEF]),
                    revocationDate: CRLTime(secondsSince1970: revokedAt + 60), reason: .cessationOfOperation,
                    invalidityDate: GeneralizedTime(
                        year: 2026, month: 1, day: 2, hours: 3, minutes: 4, seconds: 5, fractionalSeconds: 0)),
            ]
            let tbs = TBSCertList(
                signature: AlgorithmIdentifier(algorithm: .SignatureAlgorithm.ecdsaWithSHA256),
                issuer: caCertificate.subject,
                thisUpdate: try CRLTime(secondsSince1970: revokedAt + 120),
                nextUpdate: try CRLTime(secondsSince1970: 2_524_608_000),
                revokedCertificates: entries,
                crlExtensions: [
                    Certificate.Extension(oid: .X509ExtensionID.crlNumber, critical: false, value: [0x02, 0x01, 0x07])
                ]
            )
            let tbsBytes = try RawDER(encoding: tbs)
            try writeFile(tbsBytes.bytes, named: "tbs.der", in: directory)
            try openssl(["dgst", "-sha256", "-sign", "ca.key", "-out", "tbs.sig", "tbs.der"], in: directory)
            let crl = try CertificateList(
                tbsCertList: tbs, signatureAlgorithm: tbs.signature,
                signatureValue: ASN1BitString(bytes: try readFile(named: "tbs.sig", in: directory)[...]))
            try writeFile(try derBytes(crl), named: "built.crl", in: directory)

            let text = try openssl(["crl", "-inform", "DER", "-in", "built.crl", "-noout", "-text"], in: directory)
            #expect(OpenSSLText.values(of: "Serial Number", in: text) == ["1002", "ABCDEF"])
            #expect(
                OpenSSLText.values(of: "Revocation Date", in: text)
                    == [OpenSSLText.printed(revokedAt), OpenSSLText.printed(revokedAt + 60)])
            #expect(OpenSSLText.values(of: "Last Update", in: text) == [OpenSSLText.printed(revokedAt + 120)])
            #expect(OpenSSLText.values(of: "Next Update", in: text) == ["Jan  1 00:00:00 2050 GMT"])
            #expect(text.contains("Key Compromise"))
            #expect(text.contains("Cessation Of Operation"))
            #expect(OpenSSLText.lines(after: "Invalidity Date:", in: text).first == "Jan  2 03:04:05 2026 GMT")
            #expect(OpenSSLText.lines(after: "X509v3 CRL Number:", in: text).first == "7")
            // The signature made over tbsCertListBytes verifies in openssl.
            let verify = try runOpenSSL(
                ["crl", "-inform", "DER", "-in", "built.crl", "-noout", "-CAfile", "ca.pem"], in: directory)
            #expect(verify.status == 0 && verify.stderr.contains("verify OK"), "\(verify.stderr)")
        }
    }

    /// 100 000 entries made by `openssl ca -gencrl` from a synthetic index.txt: five reason variants, serials
    /// 0x100000 upwards. Parsing must stay linear; the budget is generous for debug builds and tight for release.
    @Test("a CRL with 100 000 entries parses quickly, every entry intact")
    func bigCRL() throws {
        try withTemporaryDirectory { directory in
            _ = try OpenSSLRevocationCA(in: directory)
            let count = 100_000
            let reasons = ["keyCompromise", "superseded", "cessationOfOperation", "affiliationChanged", ""]
            let expectedReasons: [CRLReason?] = [
                .keyCompromise, .superseded, .cessationOfOperation, .affiliationChanged, nil,
            ]
            var index = ""
            index.reserveCapacity(count * 64)
            for number in 0..<count {
                let reason = reasons[number % reasons.count]
                index += "R\t301225024234Z\t261125024234Z\(reason.isEmpty ? "" : "," + reason)\t"
                index += String(0x10_0000 + number, radix: 16, uppercase: true) + "\tunknown\t/CN=entry \(number)\n"
            }
            try writeFile(index, named: "big-index.txt", in: directory)
            try writeFile(
                OpenSSLRevocationCA.configuration.replacingOccurrences(
                    of: "database = ./index.txt", with: "database = ./big-index.txt"),
                named: "big.cnf", in: directory)
            try openssl(["ca", "-config", "big.cnf", "-gencrl", "-out", "big.pem"], in: directory)
            try openssl(["crl", "-in", "big.pem", "-outform", "DER", "-out", "big.der"], in: directory)
            let der = try readFile(named: "big.der", in: directory)
            let pem = try readFile(named: "big.pem", in: directory)

            let clock = ContinuousClock()
            var crl: CertificateList?
            let derTime = try clock.measure { crl = try CertificateList.parse(bytes: der) }
            var fromPEM: CertificateList?
            let pemTime = try clock.measure { fromPEM = try CertificateList.parse(bytes: pem) }
            let parsed = try #require(crl)
            #if DEBUG
                let budget = Duration.seconds(20)
            #else
                let budget = Duration.seconds(1)
            #endif
            #expect(derTime < budget, "DER: \(derTime)")
            #expect(pemTime < budget, "PEM: \(pemTime)")
            print("100 000-entry CRL (\(der.count) octets): DER \(derTime), PEM \(pemTime)")

            let entries = parsed.revokedCertificates
            #expect(entries.count == count)
            var mismatches = 0
            var bySerial: [DERInteger: CRLEntry] = [:]
            bySerial.reserveCapacity(entries.count)
            let revocationTime = OpenSSLText.seconds(asn1Time: "261125024234Z")
            for (number, entry) in entries.enumerated() {
                let serial = DERInteger(
                    unsignedMagnitude: withUnsafeBytes(of: UInt32(0x10_0000 + number).bigEndian, Array.init))
                let reason = try entry.reasonCode
                if entry.userCertificate != serial || reason != expectedReasons[number % reasons.count]
                    || entry.revocationDate.secondsSince1970 != revocationTime
                {
                    mismatches += 1
                }
                bySerial[entry.userCertificate] = entry
            }
            #expect(mismatches == 0)
            #expect(bySerial.count == count)
            #expect(fromPEM == parsed)
            // 0x100007 is entry 7: reason variant 7 mod 5 = 2.
            let lookup = try #require(bySerial[DERInteger(unsignedMagnitude: [0x10, 0x00, 0x07])])
            #expect(try lookup.reasonCode == .cessationOfOperation)
        }
    }
}
