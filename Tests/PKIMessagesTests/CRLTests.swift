import Foundation
import PKIMessages
import SwiftASN1
import Testing
import X509

/// Hand-built CRL vectors, written with the independent `tlv` writer of Support.swift.
enum CRLVector {
    static let ecdsaWithSHA256 = tlv(0x30, bytes(fromHex: "06 08 2A 86 48 CE 3D 04 03 02"))
    static let reasonOID = bytes(fromHex: "06 03 55 1D 15")
    static let invalidityDateOID = bytes(fromHex: "06 03 55 1D 18")
    static let crlNumberOID = bytes(fromHex: "06 03 55 1D 14")
    /// id-ce-certificateIssuer (2.5.29.29), an entry extension this parser does not support.
    static let certificateIssuerOID = bytes(fromHex: "06 03 55 1D 1D")
    static let issuer = OCSPVector.name

    static func utcTime(_ text: String) -> [UInt8] { tlv(0x17, Array(text.utf8)) }

    /// `Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }`.
    static func ext(_ oid: [UInt8], critical: Bool = false, value: [UInt8]) -> [UInt8] {
        tlv(0x30, oid, critical ? [0x01, 0x01, 0xFF] : [], tlv(0x04, value))
    }

    static func reason(_ value: UInt8) -> [UInt8] { Self.ext(Self.reasonOID, value: [0x0A, 0x01, value]) }

    static func entry(serial: [UInt8] = [0x10, 0x02], date: String = "261125024234Z", extensions: [[UInt8]]?)
        -> [UInt8]
    {
        tlv(0x30, tlv(0x02, serial), utcTime(date), extensions.map { tlv(0x30, $0.flatMap { $0 }) } ?? [])
    }

    static func tbsCertList(
        version: [UInt8]? = [0x02, 0x01, 0x01], entries: [[UInt8]]?, crlExtensions: [[UInt8]]? = nil,
        nextUpdate: [UInt8]? = utcTime("261202024234Z")
    ) -> [UInt8] {
        tlv(
            0x30, version ?? [], ecdsaWithSHA256, issuer, utcTime("261125024234Z"), nextUpdate ?? [],
            entries.map { tlv(0x30, $0.flatMap { $0 }) } ?? [],
            crlExtensions.map { tlv(0xA0, tlv(0x30, $0.flatMap { $0 })) } ?? [])
    }

    static func certificateList(_ tbs: [UInt8]) -> [UInt8] {
        tlv(0x30, tbs, ecdsaWithSHA256, [0x03, 0x03, 0x00, 0xAB, 0xCD])
    }
}

@Suite("CRLs, byte for byte")
struct CRLTests {
    // MARK: Time

    static let timeVectors: [(Int64, String)] = [
        (2_524_607_999, "17 0D " + hex(Array("491231235959Z".utf8))),
        (2_524_608_000, "18 0F " + hex(Array("20500101000000Z".utf8))),
        (-631_152_000, "17 0D " + hex(Array("500101000000Z".utf8))),
        (-631_152_001, "18 0F " + hex(Array("19491231235959Z".utf8))),
        (1_795_602_030, "17 0D " + hex(Array("261125102030Z".utf8))),
    ]

    @Test("Time: UTCTime from 1950 through 2049, GeneralizedTime outside", arguments: Self.timeVectors)
    func timeForms(seconds: Int64, der: String) throws {
        let time = try CRLTime(secondsSince1970: seconds)
        #expect(hex(try derBytes(time)) == der)
        #expect(time.secondsSince1970 == seconds)
        let parsed = try CRLTime(derEncoded: bytes(fromHex: der))
        #expect(parsed == time)
        #expect(parsed.secondsSince1970 == seconds)
    }

    @Test("Time: other tags, local times and a fraction")
    func timeParsing() throws {
        #expect(throws: ASN1Error.self) { try CRLTime(derEncoded: tlv(0x04, Array("261125102030Z".utf8))) }
        #expect(throws: ASN1Error.self) { try CRLTime(derEncoded: CRLVector.utcTime("2611251020Z")) }
        #expect(throws: ASN1Error.self) { try CRLTime(derEncoded: CRLVector.utcTime("261125102030+0100")) }
        let fractional = try CRLTime(derEncoded: tlv(0x18, Array("20261125102030.25Z".utf8)))
        #expect(fractional.secondsSince1970 == 1_795_602_030)
    }

    // MARK: Entries

    @Test("an entry with a reason code: parsed, built and re-encoded identically")
    func entryWithReason() throws {
        let vector = CRLVector.entry(extensions: [CRLVector.reason(0x01)])
        let entry = try assertReencodes(CRLEntry.self, vector)
        #expect(entry.userCertificate.contentOctets == [0x10, 0x02])
        #expect(
            entry.revocationDate
                == .utcTime(try UTCTime(year: 2026, month: 11, day: 25, hours: 2, minutes: 42, seconds: 34)))
        #expect(try entry.reasonCode == .keyCompromise)
        #expect(try entry.invalidityDate == nil)
        let built = try CRLEntry(
            userCertificate: entry.userCertificate, revocationDate: entry.revocationDate, reason: .keyCompromise)
        expectSameBytes(try derBytes(built), vector, "built entry")
    }

    @Test("an entry with an invalidity date, and one without extensions")
    func entryInvalidityDate() throws {
        let invalidity = tlv(0x18, Array("20260102030405Z".utf8))
        let vector = CRLVector.entry(
            extensions: [CRLVector.reason(0x01), CRLVector.ext(CRLVector.invalidityDateOID, value: invalidity)])
        let entry = try assertReencodes(CRLEntry.self, vector)
        #expect(try entry.invalidityDate?.secondsSince1970 == OpenSSLText.seconds(asn1Time: "20260102030405Z"))
        let built = try CRLEntry(
            userCertificate: entry.userCertificate, revocationDate: entry.revocationDate, reason: .keyCompromise,
            invalidityDate: GeneralizedTime(
                year: 2026, month: 1, day: 2, hours: 3, minutes: 4, seconds: 5, fractionalSeconds: 0))
        expectSameBytes(try derBytes(built), vector, "built entry with invalidity date")

        let bare = try assertReencodes(CRLEntry.self, CRLVector.entry(extensions: nil))
        #expect(bare.crlEntryExtensions == nil)
        #expect(try bare.reasonCode == nil)
    }

    @Test("entries that are refused: reason 7, a reason that is not ENUMERATED, doubled, empty, unknown critical")
    func refusedEntries() throws {
        let refused: [(String, [UInt8])] = [
            ("reason 7", CRLVector.entry(extensions: [CRLVector.reason(0x07)])),
            (
                "INTEGER reason",
                CRLVector.entry(extensions: [CRLVector.ext(CRLVector.reasonOID, value: [0x02, 0x01, 0x01])])
            ),
            ("reason twice", CRLVector.entry(extensions: [CRLVector.reason(0x01), CRLVector.reason(0x04)])),
            ("empty extensions", CRLVector.entry(extensions: [])),
            (
                "critical certificateIssuer",
                CRLVector.entry(extensions: [
                    CRLVector.ext(CRLVector.certificateIssuerOID, critical: true, value: [0x30, 0x00])
                ])
            ),
            ("no revocationDate", tlv(0x30, tlv(0x02, [0x01]))),
            (
                "invalidity date as UTCTime",
                CRLVector.entry(extensions: [
                    CRLVector.ext(CRLVector.invalidityDateOID, value: CRLVector.utcTime("260102030405Z"))
                ])
            ),
        ]
        for (name, vector) in refused {
            #expect(throws: ASN1Error.self, "\(name)") { try CRLEntry(derEncoded: vector) }
        }
        // An unknown non-critical extension is fine.
        let unknown = CRLVector.entry(extensions: [
            CRLVector.ext(bytes(fromHex: "06 03 2A 03 04"), value: [0x05, 0x00])
        ])
        try assertReencodes(CRLEntry.self, unknown)
        // Many extensions: distinct ones parse, a repeated one is refused wherever it sits.
        let many = (1...10).map { CRLVector.ext(tlv(0x06, [0x2A, 0x03, UInt8($0)]), value: [0x05, 0x00]) }
        #expect(try CRLEntry(derEncoded: CRLVector.entry(extensions: many)).crlEntryExtensions?.count == 10)
        #expect(throws: ASN1Error.self) { try CRLEntry(derEncoded: CRLVector.entry(extensions: many + [many[0]])) }
        #expect(throws: ASN1Error.self) {
            try CRLEntry(derEncoded: CRLVector.entry(extensions: [many[9]] + many))
        }
        // CRLReason 7 cannot be written into an entry either.
        #expect(throws: ASN1Error.self) {
            try CRLEntry(
                userCertificate: DERInteger(unsignedMagnitude: [1]), revocationDate: CRLTime(secondsSince1970: 0),
                reason: CRLReason(rawValue: 7))
        }
    }

    // MARK: TBSCertList and CertificateList

    @Test("a v1 CRL: no version, no nextUpdate, no entries, no extensions")
    func minimalCRL() throws {
        let tbs = CRLVector.tbsCertList(version: nil, entries: nil, nextUpdate: nil)
        let crl = try assertReencodes(CertificateList.self, CRLVector.certificateList(tbs))
        #expect(crl.tbsCertList.version == nil)
        #expect(crl.tbsCertList.nextUpdate == nil)
        #expect(crl.tbsCertList.revokedCertificates == nil)
        #expect(crl.revokedCertificates.isEmpty)
        #expect(try crl.tbsCertList.crlNumber == nil)
        expectSameBytes(crl.tbsCertListBytes.bytes, tbs, "tbsCertListBytes")
        #expect(crl.signatureValue.bytes == [0xAB, 0xCD])
    }

    @Test("a v2 CRL with entries and a CRL number, built and parsed to the same bytes")
    func fullCRL() throws {
        let entries = [
            CRLVector.entry(serial: [0x10, 0x02], extensions: [CRLVector.reason(0x01)]),
            CRLVector.entry(serial: [0x00, 0x80], extensions: nil),
            CRLVector.entry(serial: [0x10, 0x04], extensions: [CRLVector.reason(0x04)]),
        ]
        let tbs = CRLVector.tbsCertList(
            entries: entries, crlExtensions: [CRLVector.ext(CRLVector.crlNumberOID, value: [0x02, 0x01, 0x2A])])
        let vector = CRLVector.certificateList(tbs)
        let crl = try assertReencodes(CertificateList.self, vector)
        #expect(crl.tbsCertList.version == TBSCertList.v2)
        #expect(try crl.tbsCertList.crlNumber?.contentOctets == [0x2A])
        #expect(
            crl.revokedCertificates.map { Array($0.userCertificate.contentOctets) } == [
                [0x10, 0x02], [0x00, 0x80], [0x10, 0x04],
            ])
        #expect(try crl.revokedCertificates.map { try $0.reasonCode } == [.keyCompromise, nil, .superseded])
        let name = try DistinguishedName(derEncoded: DER.parse(CRLVector.issuer))
        #expect(crl.tbsCertList.issuer == name)

        // The same CRL built from its parts.
        let built = try CertificateList(
            tbsCertList: TBSCertList(
                signature: crl.tbsCertList.signature,
                issuer: name,
                thisUpdate: try CRLTime(secondsSince1970: crl.tbsCertList.thisUpdate.secondsSince1970),
                nextUpdate: crl.tbsCertList.nextUpdate,
                revokedCertificates: crl.revokedCertificates,
                crlExtensions: crl.tbsCertList.crlExtensions
            ),
            signatureAlgorithm: crl.signatureAlgorithm,
            signatureValue: crl.signatureValue
        )
        expectSameBytes(try derBytes(built), vector, "built CRL")
        #expect(built == crl)
    }

    @Test("CRLs that are refused: version 2 (v3), empty crlExtensions, a wrong order, trailing bytes")
    func refusedCRLs() throws {
        let entries = [CRLVector.entry(extensions: nil)]
        let refused: [(String, [UInt8])] = [
            ("version 2", CRLVector.certificateList(CRLVector.tbsCertList(version: [0x02, 0x01, 0x02], entries: nil))),
            ("empty crlExtensions", CRLVector.certificateList(CRLVector.tbsCertList(entries: nil, crlExtensions: []))),
            (
                "entries before nextUpdate",
                CRLVector.certificateList(
                    tlv(
                        0x30, [0x02, 0x01, 0x01], CRLVector.ecdsaWithSHA256, CRLVector.issuer,
                        CRLVector.utcTime("261125024234Z"), tlv(0x30, entries.flatMap { $0 }),
                        CRLVector.utcTime("261202024234Z")))
            ),
            ("trailing byte", CRLVector.certificateList(CRLVector.tbsCertList(entries: entries)) + [0x00]),
            ("no signature", tlv(0x30, CRLVector.tbsCertList(entries: entries), CRLVector.ecdsaWithSHA256)),
        ]
        for (name, vector) in refused {
            #expect(throws: ASN1Error.self, "\(name)") { try CertificateList(derEncoded: vector) }
            #expect(throws: ASN1Error.self, "\(name) through parse(bytes:)") {
                try CertificateList.parse(bytes: vector)
            }
        }
        // An empty revokedCertificates SEQUENCE is kept as sent, so that the CRL re-encodes byte for byte.
        let emptyList = try assertReencodes(
            CertificateList.self, CRLVector.certificateList(CRLVector.tbsCertList(entries: [])))
        #expect(emptyList.tbsCertList.revokedCertificates == [])
    }

    @Test("parse(bytes:) reads DER and PEM, and refuses other PEM labels and garbage")
    func parseBytes() throws {
        let der = CRLVector.certificateList(CRLVector.tbsCertList(entries: [CRLVector.entry(extensions: nil)]))
        let expected = try CertificateList(derEncoded: der)
        #expect(try CertificateList.parse(bytes: der) == expected)
        let pem = PEMDocument(type: "X509 CRL", derBytes: der).pemString
        #expect(try CertificateList.parse(bytes: Array(pem.utf8)) == expected)
        #expect(try CertificateList.parse(bytes: Array(("some text\n" + pem + "\n").utf8)) == expected)
        #expect(try CertificateList(pemEncoded: pem) == expected)
        #expect(try expected.serializeAsPEM().pemString == pem)
        let certificatePEM = PEMDocument(type: "CERTIFICATE", derBytes: der).pemString
        #expect(throws: ASN1Error.self) { try CertificateList.parse(bytes: Array(certificatePEM.utf8)) }
        #expect(throws: (any Error).self) { try CertificateList.parse(bytes: Array("not a CRL".utf8)) }
        #expect(throws: (any Error).self) { try CertificateList.parse(bytes: [UInt8]()) }
    }
}
