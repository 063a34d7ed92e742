import Foundation
import PKIMessages
import SwiftASN1
import Testing
import X509

@Suite("TSTInfo and the qualified time-stamp statement")
struct TSTInfoTests {
    /// `CN=Sigillum TSU, O=Sigillum`, both UTF8String, each in its own RDN.
    static func tsaName() throws -> DistinguishedName {
        try DistinguishedName {
            CommonName("Sigillum TSU")
            OrganizationName("Sigillum")
        }
    }

    /// The same Name written by hand.
    static let tsaNameDER = tlv(
        0x30,
        tlv(0x31, tlv(0x30, bytes(fromHex: "06 03 55 04 03"), tlv(0x0C, Array("Sigillum TSU".utf8)))),
        tlv(0x31, tlv(0x30, bytes(fromHex: "06 03 55 04 0A"), tlv(0x0C, Array("Sigillum".utf8))))
    )

    /// The qcStatements extension holding esi4-qtstStatement-1, from X.690 §8.19 by hand:
    /// id-pe-qcStatements 1.3.6.1.5.5.7.1.3 = 2B 06 01 05 05 07 01 03 (1*40+3 = 0x2B);
    /// esi4-qtstStatement-1 0.4.0.19422.1.1 = 04 (0*40+4) 00 81 97 5E (19422 = 1*128² + 23*128 + 94) 01 01,
    /// seven content octets, so the OID is `06 07 …`;
    /// extnValue = DER of SEQUENCE { SEQUENCE { OID } } = 30 0B 30 09 06 07 04 00 81 97 5E 01 01;
    /// critical is FALSE, its DEFAULT, so the BOOLEAN is absent.
    static let qcStatementsValue = "30 0B 30 09 06 07 04 00 81 97 5E 01 01"
    static let qcStatementsExtension =
        "30 19 06 08 2B 06 01 05 05 07 01 03 04 0D 30 0B 30 09 06 07 04 00 81 97 5E 01 01"

    static func fullTSTInfo(ordering: Bool = true) throws -> TSTInfo {
        TSTInfo(
            policy: .TimeStamping.bestPracticesPolicy,
            messageImprint: try MessageImprint(derEncoded: Vector.imprint()),
            serialNumber: DERInteger(unsignedMagnitude: [0x80, 0x01, 0x02, 0x03]),
            genTime: try GeneralizedTimeText("20261125014500.123Z"),
            accuracy: Accuracy(seconds: 1, millis: 500),
            ordering: ordering,
            nonce: try DERInteger(derIntegerBytes: [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08]),
            tsa: .directoryName(try tsaName()),
            extensions: [try .qualifiedTimeStampStatement()]
        )
    }

    /// The expected DER of `fullTSTInfo`, field by field.
    static func fullTSTInfoDER(ordering: Bool = true) -> [UInt8] {
        tlv(
            0x30,
            [0x02, 0x01, 0x01],  // version v1
            bytes(fromHex: "06 06 04 00 8F 67 01 01"),  // 0.4.0.2023.1.1
            Vector.imprint(),
            bytes(fromHex: "02 05 00 80 01 02 03"),  // serial: top bit set → leading 00
            tlv(0x18, Array("20261125014500.123Z".utf8)),
            bytes(fromHex: "30 07 02 01 01 80 02 01 F4"),  // seconds 1, [0] millis 500
            ordering ? [0x01, 0x01, 0xFF] : [],  // DEFAULT FALSE is absent
            bytes(fromHex: "02 08 01 02 03 04 05 06 07 08"),
            tlv(0xA0, tlv(0xA4, tsaNameDER)),  // tsa [0] EXPLICIT around directoryName [4] EXPLICIT Name
            tlv(0xA1, bytes(fromHex: qcStatementsExtension))  // extensions [1] IMPLICIT
        )
    }

    @Test("a TSTInfo with every field encodes byte for byte and round-trips", arguments: [true, false])
    func fullEncoding(ordering: Bool) throws {
        #expect(hex(try derBytes(try Self.tsaName())) == hex(Self.tsaNameDER))
        let info = try Self.fullTSTInfo(ordering: ordering)
        let encoded = try assertRoundTrips(info)
        #expect(hex(encoded) == hex(Self.fullTSTInfoDER(ordering: ordering)))
        // With ordering false, no BOOLEAN at all between accuracy and nonce.
        let accuracyThenNonce = bytes(fromHex: "80 02 01 F4 02 08 01")
        #expect(hex(encoded).contains(hex(accuracyThenNonce)) == !ordering)
        let parsed = try TSTInfo(derEncoded: encoded)
        #expect(parsed.ordering == ordering)
        #expect(parsed.serialNumber.contentOctets == [0x00, 0x80, 0x01, 0x02, 0x03])
        #expect(parsed.genTime.text == "20261125014500.123Z")
        #expect(parsed.tsa == .directoryName(try Self.tsaName()))
        #expect(
            try parsed.extensions?.first?.parsedQCStatements() == [
                QCStatement(statementID: .QCStatement.qualifiedTimeStamp)
            ])
    }

    @Test("a TSTInfo with only the mandatory fields")
    func minimalEncoding() throws {
        let info = TSTInfo(
            policy: [1, 2, 3, 4],
            messageImprint: try MessageImprint(derEncoded: Vector.imprint(nullParameters: false)),
            serialNumber: DERInteger(unsignedMagnitude: [0x01]),
            genTime: try GeneralizedTimeText("20261125014500Z")
        )
        let expected = tlv(
            0x30,
            [0x02, 0x01, 0x01],
            bytes(fromHex: "06 03 2A 03 04"),
            Vector.imprint(nullParameters: false),
            [0x02, 0x01, 0x01],
            tlv(0x18, Array("20261125014500Z".utf8))
        )
        #expect(hex(try assertRoundTrips(info)) == hex(expected))
    }

    @Test("tsa is [0] EXPLICIT for every kind of GeneralName")
    func tsaExplicit() throws {
        var info = try Self.fullTSTInfo()
        info.extensions = nil
        info.tsa = .dnsName("tsa.example")
        let encoded = try assertRoundTrips(info)
        #expect(hex(encoded).hasSuffix(hex(tlv(0xA0, tlv(0x82, Array("tsa.example".utf8))))))
        info.tsa = .uniformResourceIdentifier("https://tsa.example/")
        #expect(
            hex(try assertRoundTrips(info)).hasSuffix(hex(tlv(0xA0, tlv(0x86, Array("https://tsa.example/".utf8))))))
    }

    @Test("the qualifiedTimeStampStatement extension is byte-exact")
    func qcStatementBytes() throws {
        let statement = try Certificate.Extension.qualifiedTimeStampStatement()
        #expect(statement.oid == .QCStatement.extensionID)
        #expect(statement.oid == [1, 3, 6, 1, 5, 5, 7, 1, 3])
        #expect(statement.critical == false)
        #expect(hex(statement.value) == Self.qcStatementsValue)
        #expect(hex(try derBytes(statement)) == Self.qcStatementsExtension)
        #expect(hex(try derBytes(ASN1ObjectIdentifier.QCStatement.qualifiedTimeStamp)) == "06 07 04 00 81 97 5E 01 01")
        #expect(try statement.parsedQCStatements() == [QCStatement(statementID: .QCStatement.qualifiedTimeStamp)])
        #expect(
            hex(try assertRoundTrips(QCStatement(statementID: .QCStatement.qualifiedTimeStamp)))
                == "30 09 06 07 04 00 81 97 5E 01 01")
        // A statement with statementInfo keeps it.
        let withInfo = QCStatement(statementID: [0, 4, 0, 1862, 1, 6], statementInfo: try ASN1Any(erasing: ASN1Null()))
        // 0.4.0.1862.1.6 (esi4-qcStatement-6): 1862 = 14*128 + 70 → 8E 46.
        #expect(hex(try assertRoundTrips(withInfo)) == "30 0A 06 06 04 00 8E 46 01 06 05 00")
    }

    @Test("the qcStatements extension reads back in openssl asn1parse")
    func qcStatementInOpenSSL() throws {
        try withTemporaryDirectory { directory in
            let statement = try Certificate.Extension.qualifiedTimeStampStatement()
            try writeFile(try derBytes(statement), named: "ext.der", in: directory)
            let outer = try openssl(["asn1parse", "-inform", "DER", "-in", "ext.der"], in: directory)
            #expect(outer.contains(":qcStatements"))
            #expect(!outer.contains("BOOLEAN"))
            #expect(outer.contains("[HEX DUMP]:\(hex(statement.value, separator: ""))"))
            // The extnValue: a SEQUENCE holding one SEQUENCE holding the OID.
            try writeFile(statement.value, named: "value.der", in: directory)
            let inner = try openssl(["asn1parse", "-inform", "DER", "-in", "value.der", "-i"], in: directory)
            #expect(inner.split(separator: "\n").count == 3)
            #expect(inner.contains("d=2  hl=2 l=   7 prim:   OBJECT            :0.4.0.19422.1.1"))
            // And openssl encodes the OID as we do.
            try openssl(["asn1parse", "-genstr", "OID:0.4.0.19422.1.1", "-out", "oid.der", "-noout"], in: directory)
            #expect(hex(try readFile(named: "oid.der", in: directory)) == "06 07 04 00 81 97 5E 01 01")
            try openssl(["asn1parse", "-genstr", "OID:0.4.0.2023.1.1", "-out", "policy.der", "-noout"], in: directory)
            #expect(
                hex(try readFile(named: "policy.der", in: directory))
                    == hex(try derBytes(ASN1ObjectIdentifier.TimeStamping.bestPracticesPolicy)))
        }
    }

    @Test("openssl ts prints the fields of a TSTInfo we encoded")
    func tstInfoInOpenSSL() throws {
        // An unsigned token (SignedData with no SignerInfo) is enough for `openssl ts -reply -token_in -text`, which
        // decodes TSTInfo with OpenSSL's own ASN.1 templates.
        let tstInfo = try derBytes(try Self.fullTSTInfo())
        let signedData = SignedData(
            version: 3,
            digestAlgorithms: [],
            encapContentInfo: EncapsulatedContentInfo(eContentType: .CMSContentType.tstInfo, eContent: tstInfo[...]),
            signerInfos: []
        )
        let token = ContentInfo(contentType: .CMSContentType.signedData, content: try RawDER(encoding: signedData))
        try withTemporaryDirectory { directory in
            try writeFile(try derBytes(token), named: "token.der", in: directory)
            let text = opensslTextFields(
                try openssl(["ts", "-reply", "-in", "token.der", "-token_in", "-text"], in: directory))
            #expect(text["Version"] == "1")
            #expect(text["Policy OID"] == "0.4.0.2023.1.1")
            #expect(text["Hash Algorithm"] == "sha256")
            #expect(text["Serial number"] == "0x80010203")
            #expect(text["Time stamp"] == "Nov 25 01:45:00.123 2026 GMT")
            #expect(text["Accuracy"] == "0x01 seconds, 0x01F4 millis, unspecified micros")
            #expect(text["Ordering"] == "yes")
            #expect(text["Nonce"] == "0x0102030405060708")
            #expect(text["TSA"] == "DirName:/CN=Sigillum TSU/O=Sigillum")
        }
    }

    @Test(
        "malformed TSTInfo fails to parse",
        arguments: [
            // tsa as [4] without the [0] EXPLICIT wrapper
            tlv(
                0x30, [0x02, 0x01, 0x01], [0x06, 0x03, 0x2A, 0x03, 0x04], Vector.imprint(), [0x02, 0x01, 0x01],
                tlv(0x18, Array("20261125014500Z".utf8)), tlv(0xA4, TSTInfoTests.tsaNameDER)),
            // tsa [0] holding two GeneralNames
            tlv(
                0x30, [0x02, 0x01, 0x01], [0x06, 0x03, 0x2A, 0x03, 0x04], Vector.imprint(), [0x02, 0x01, 0x01],
                tlv(0x18, Array("20261125014500Z".utf8)), tlv(0xA0, tlv(0x82, [0x61]), tlv(0x82, [0x62]))),
            // nonce before ordering
            tlv(
                0x30, [0x02, 0x01, 0x01], [0x06, 0x03, 0x2A, 0x03, 0x04], Vector.imprint(), [0x02, 0x01, 0x01],
                tlv(0x18, Array("20261125014500Z".utf8)), [0x02, 0x01, 0x05], [0x01, 0x01, 0xFF]),
            // extensions before tsa
            tlv(
                0x30, [0x02, 0x01, 0x01], [0x06, 0x03, 0x2A, 0x03, 0x04], Vector.imprint(), [0x02, 0x01, 0x01],
                tlv(0x18, Array("20261125014500Z".utf8)), tlv(0xA1, bytes(fromHex: qcStatementsExtension)),
                tlv(0xA0, tlv(0x82, [0x61]))),
            // an unknown trailing field
            tlv(
                0x30, [0x02, 0x01, 0x01], [0x06, 0x03, 0x2A, 0x03, 0x04], Vector.imprint(), [0x02, 0x01, 0x01],
                tlv(0x18, Array("20261125014500Z".utf8)), [0x82, 0x00]),
            // genTime as UTCTime
            tlv(
                0x30, [0x02, 0x01, 0x01], [0x06, 0x03, 0x2A, 0x03, 0x04], Vector.imprint(), [0x02, 0x01, 0x01],
                tlv(0x17, Array("261125014500Z".utf8))),
            // genTime with a trailing zero
            tlv(
                0x30, [0x02, 0x01, 0x01], [0x06, 0x03, 0x2A, 0x03, 0x04], Vector.imprint(), [0x02, 0x01, 0x01],
                tlv(0x18, Array("20261125014500.10Z".utf8))),
            // no serialNumber
            tlv(
                0x30, [0x02, 0x01, 0x01], [0x06, 0x03, 0x2A, 0x03, 0x04], Vector.imprint(),
                tlv(0x18, Array("20261125014500Z".utf8))),
        ]
    )
    func malformed(encoded: [UInt8]) throws {
        #expect(throws: (any Error).self) { try TSTInfo(derEncoded: encoded) }
    }
}
