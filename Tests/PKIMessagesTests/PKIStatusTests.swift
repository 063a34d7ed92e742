import Foundation
import PKIMessages
import SwiftASN1
import Testing

/// A failure value, its DER (X.690 §11.2.2: trailing zero bits dropped), and the text `openssl ts -reply -text` prints.
struct FailureVector: Sendable, CustomTestStringConvertible {
    var info: PKIFailureInfo
    var der: String
    var opensslText: String

    var testDescription: String { "\(self.info) → \(self.der)" }

    // The texts are OpenSSL 3.0's (crypto/ts/ts_rsp_print.c), joined by ", " in bit order.
    static let all: [FailureVector] = [
        FailureVector(
            info: .badAlg, der: "03 02 07 80", opensslText: "unrecognized or unsupported algorithm identifier"),
        FailureVector(info: .badRequest, der: "03 02 05 20", opensslText: "transaction not permitted or supported"),
        FailureVector(info: .badDataFormat, der: "03 02 02 04", opensslText: "the data submitted has the wrong format"),
        FailureVector(
            info: .timeNotAvailable,
            der: "03 03 01 00 02",
            opensslText: "the TSA's time source is not available"
        ),
        FailureVector(
            info: .unacceptedPolicy,
            der: "03 03 00 00 01",
            opensslText: "the requested TSA policy is not supported by the TSA"
        ),
        FailureVector(
            info: .unacceptedExtension,
            der: "03 04 07 00 00 80",
            opensslText: "the requested extension is not supported by the TSA"
        ),
        FailureVector(
            info: .addInfoNotAvailable,
            der: "03 04 06 00 00 40",
            opensslText: "the additional information requested could not be understood or is not available"
        ),
        FailureVector(
            info: .systemFailure,
            der: "03 05 06 00 00 00 40",
            opensslText: "the request cannot be handled due to system failure"
        ),
        FailureVector(
            info: [.badAlg, .badRequest],
            der: "03 02 05 A0",
            opensslText: "unrecognized or unsupported algorithm identifier, transaction not permitted or supported"
        ),
        FailureVector(
            info: [.badAlg, .timeNotAvailable],
            der: "03 03 01 80 02",
            opensslText: "unrecognized or unsupported algorithm identifier, the TSA's time source is not available"
        ),
        FailureVector(
            info: [.unacceptedPolicy, .unacceptedExtension],
            der: "03 04 07 00 01 80",
            opensslText:
                "the requested TSA policy is not supported by the TSA, the requested extension is not supported by the TSA"
        ),
        FailureVector(
            info: [.badDataFormat, .systemFailure],
            der: "03 05 06 04 00 00 40",
            opensslText: "the data submitted has the wrong format, the request cannot be handled due to system failure"
        ),
    ]
}

@Suite("PKIStatus, PKIFailureInfo, PKIStatusInfo, TimeStampResp")
struct PKIStatusTests {
    // MARK: PKIFailureInfo

    @Test("PKIFailureInfo encodes byte for byte and parses back", arguments: FailureVector.all)
    func failureInfoBytes(_ vector: FailureVector) throws {
        #expect(hex(try assertRoundTrips(vector.info)) == vector.der)
        #expect(try PKIFailureInfo(derEncoded: bytes(fromHex: vector.der)) == vector.info)
    }

    @Test("an empty PKIFailureInfo is a BIT STRING with no bits")
    func emptyFailureInfo() throws {
        #expect(hex(try assertRoundTrips(PKIFailureInfo())) == "03 01 00")
        #expect(PKIFailureInfo().description == "none")
    }

    static let nonMinimal: [(String, PKIFailureInfo)] = [
        ("03 02 00 80", PKIFailureInfo.badAlg),  // no unused bits declared
        ("03 03 00 80 00", PKIFailureInfo.badAlg),  // a trailing zero octet
        ("03 04 00 00 02 00", PKIFailureInfo.timeNotAvailable),
        ("03 05 00 00 01 00 00", PKIFailureInfo.unacceptedPolicy),
        ("03 03 05 A0 00", PKIFailureInfo([.badAlg, .badRequest])),
        ("03 02 00 00", PKIFailureInfo()),
    ]

    @Test("a non-minimal encoding still yields the bits", arguments: nonMinimal)
    func nonMinimalFailureInfo(der: String, expected: PKIFailureInfo) throws {
        #expect(try PKIFailureInfo(derEncoded: bytes(fromHex: der)) == expected)
    }

    @Test(
        "malformed PKIFailureInfo fails to parse",
        arguments: [
            "03 02 07 81",  // a padding bit set
            "03 01 01",  // padding without octets
            "03 02 08 80",  // more than 7 padding bits
            "23 04 03 02 07 80",  // constructed
            "03 0A 07 00 00 00 00 00 00 00 00 80",  // bit 64, beyond any defined value
        ]
    )
    func malformedFailureInfo(der: String) throws {
        #expect(throws: (any Error).self) { try PKIFailureInfo(derEncoded: bytes(fromHex: der)) }
    }

    @Test("bit numbers, names and unknown bits")
    func failureInfoBits() throws {
        #expect(PKIFailureInfo.badAlg.bits == [0])
        #expect(PKIFailureInfo.systemFailure.bits == [25])
        #expect(PKIFailureInfo([.badAlg, .timeNotAvailable]).description == "badAlg+timeNotAvailable")
        let unknown = PKIFailureInfo(bit: 30)
        #expect(unknown.description == "bit30")
        #expect(hex(try assertRoundTrips(unknown)) == "03 05 01 00 00 00 02")
        #expect(PKIFailureInfo(bit: 64) == PKIFailureInfo())
    }

    // MARK: PKIStatus and PKIStatusInfo

    @Test("PKIStatus values, including unknown ones, round-trip as INTEGERs")
    func statusValues() throws {
        #expect(hex(try assertRoundTrips(PKIStatus.granted)) == "02 01 00")
        #expect(hex(try assertRoundTrips(PKIStatus.rejection)) == "02 01 02")
        #expect(hex(try assertRoundTrips(PKIStatus.revocationNotification)) == "02 01 05")
        #expect(hex(try assertRoundTrips(PKIStatus(rawValue: 200))) == "02 02 00 C8")
        #expect(PKIStatus(rawValue: 9).description == "unknown(9)")
        #expect(PKIStatus.granted.carriesToken && PKIStatus.grantedWithMods.carriesToken)
        #expect(!PKIStatus.rejection.carriesToken && !PKIStatus.waiting.carriesToken)
    }

    @Test("PKIStatusInfo encodes byte for byte")
    func statusInfoBytes() throws {
        #expect(hex(try assertRoundTrips(PKIStatusInfo(status: .granted))) == "30 03 02 01 00")
        #expect(
            hex(try assertRoundTrips(PKIStatusInfo(status: .rejection, failInfo: .badAlg)))
                == "30 07 02 01 02 03 02 07 80"
        )
        #expect(
            hex(
                try assertRoundTrips(
                    PKIStatusInfo(status: .rejection, statusString: ["x"], failInfo: .timeNotAvailable)))
                == "30 0D 02 01 02 30 03 0C 01 78 03 03 01 00 02"
        )
        #expect(
            hex(try assertRoundTrips(PKIStatusInfo(status: .waiting, statusString: ["a", "é"])))
                == "30 0C 02 01 03 30 07 0C 01 61 0C 02 C3 A9"
        )
    }

    @Test(
        "malformed PKIStatusInfo fails to parse",
        arguments: [
            "30 05 02 01 02 30 00",  // PKIFreeText must hold at least one string
            "30 09 02 01 02 03 02 07 80 05 00",  // a trailing field
            "30 09 02 01 02 03 02 07 80 30 00",  // failInfo before statusString
            "30 05 02 01 02 13 00",  // not a UTF8String SEQUENCE
            "30 00",  // no status
        ]
    )
    func malformedStatusInfo(der: String) throws {
        #expect(throws: (any Error).self) { try PKIStatusInfo(derEncoded: bytes(fromHex: der)) }
    }

    // MARK: TimeStampResp

    @Test("a rejection with failInfo reads back in openssl ts -reply -text", arguments: FailureVector.all)
    func rejectionInOpenSSL(_ vector: FailureVector) throws {
        let response = TimeStampResp(
            status: PKIStatusInfo(status: .rejection, statusString: ["Sigillum says no"], failInfo: vector.info)
        )
        let encoded = try assertRoundTrips(response)
        #expect(hex(encoded).hasSuffix(vector.der))
        try withTemporaryDirectory { directory in
            try writeFile(encoded, named: "resp.tsr", in: directory)
            let text = opensslTextFields(try openssl(["ts", "-reply", "-in", "resp.tsr", "-text"], in: directory))
            #expect(text["Status"] == "Rejected.")
            #expect(text["Status description"] == "Sigillum says no")
            #expect(text["Failure info"] == vector.opensslText)
            // And openssl asn1parse sees the BIT STRING where it belongs.
            let parsed = try openssl(["asn1parse", "-inform", "DER", "-in", "resp.tsr"], in: directory)
            #expect(parsed.contains("BIT STRING"))
        }
    }

    @Test("TimeStampResp rejection encodes byte for byte")
    func rejectionBytes() throws {
        let response = TimeStampResp(status: PKIStatusInfo(status: .rejection, failInfo: .timeNotAvailable))
        #expect(hex(try assertRoundTrips(response)) == "30 0A 30 08 02 01 02 03 03 01 00 02")
        #expect(try response.parsedToken() == nil)
    }

    @Test("a rejection or waiting response carrying a token fails to parse", arguments: [2, 3, 4, 5])
    func tokenWithoutGrant(status: Int) throws {
        let encoded = tlv(
            0x30, tlv(0x30, [0x02, 0x01, UInt8(status)]), tlv(0x30, bytes(fromHex: "06 09 2A 86 48 86 F7 0D 01 07 02")))
        #expect(throws: (any Error).self) { try TimeStampResp(derEncoded: encoded) }
    }

    @Test(
        "a granted response without a token fails to parse (RFC 3161 §2.4.2)",
        arguments: [0, 1]
    )
    func grantedWithoutToken(status: Int) throws {
        let encoded = tlv(0x30, tlv(0x30, [0x02, 0x01, UInt8(status)]))
        do {
            #expect(throws: (any Error).self) { try TimeStampResp(derEncoded: encoded) }
        }
    }

    @Test("trailing elements after the token fail to parse")
    func trailingElementInResponse() throws {
        let token = tlv(0x30, bytes(fromHex: "06 09 2A 86 48 86 F7 0D 01 07 02"))
        let encoded = tlv(0x30, tlv(0x30, [0x02, 0x01, 0x00]), token, [0x05, 0x00])
        #expect(throws: (any Error).self) { try TimeStampResp(derEncoded: encoded) }
        #expect(throws: (any Error).self) {
            try TimeStampResp(derEncoded: tlv(0x30, tlv(0x30, [0x02, 0x01, 0x00]), token) + [0x00])
        }
        // Without the extra element the structure parses and keeps the token bytes as they were.
        let response = try assertReencodes(TimeStampResp.self, tlv(0x30, tlv(0x30, [0x02, 0x01, 0x00]), token))
        #expect(response.timeStampToken.map { Array($0.bytes) } == token)
    }
}
