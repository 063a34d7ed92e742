import PKIMessages
import SwiftASN1
import Testing

@Suite("GeneralizedTimeText")
struct GeneralizedTimeTextTests {
    @Test(
        "accepts UTC times with a fraction of 1 to 9 digits not ending in 0",
        arguments: ["20261125014500Z", "20261125014500.1Z", "20261125014500.123456Z", "20261125014500.000000001Z"]
    )
    func accepts(text: String) throws {
        let time = try GeneralizedTimeText(text)
        #expect(time.text == text)
        #expect(time.description == text)
        // 0x18 is the GeneralizedTime tag; the content is the text itself.
        let der = try assertRoundTrips(time)
        #expect(der == [0x18, UInt8(text.utf8.count)] + Array(text.utf8))
    }

    @Test(
        "rejects trailing zeros, a missing Z, offsets, a bare point and other forms",
        arguments: [
            "20261125014500.120Z",  // trailing zero
            "20261125014500.0Z",  // a zero fraction
            "20261125014500",  // no Z
            "20261125014500+0100",  // an offset
            "20261125014500.1+0100",
            "20261125014500.Z",  // a bare point
            "20261125014500.",
            "20261125014500,5Z",  // a comma
            "20261125014500z",  // lower-case z
            "202611250145Z",  // no seconds
            "2026112501450Z",
            "2026-11-25T01:45:00Z",
            "20261125014500.1234567891Z",  // 10 fraction digits
            "",
        ]
    )
    func rejects(text: String) throws {
        #expect(throws: (any Error).self) { try GeneralizedTimeText(text) }
        // The same text under the GeneralizedTime tag fails to parse.
        let der = [0x18, UInt8(text.utf8.count)] + Array(text.utf8)
        #expect(throws: (any Error).self) { try GeneralizedTimeText(derEncoded: der) }
    }

    @Test("the parser also checks the calendar and the tag")
    func calendarAndTag() throws {
        for text in ["20261325014500Z", "20261132014500Z", "20261125254500Z", "20270229000000Z"] {
            let der = [0x18, UInt8(text.utf8.count)] + Array(text.utf8)
            #expect(throws: (any Error).self) { try GeneralizedTimeText(derEncoded: der) }
        }
        let leapDay = "20280229000000Z"
        #expect(try GeneralizedTimeText(derEncoded: [0x18, 15] + Array(leapDay.utf8)).text == leapDay)
        // UTCTime (0x17) is not GeneralizedTime.
        let utc = "261125014500Z"
        #expect(throws: (any Error).self) { try GeneralizedTimeText(derEncoded: [0x17, 13] + Array(utc.utf8)) }
    }

    static let componentCases: [(String, Int)] = [
        ("20261125014500Z", 0),
        ("20261125014500.1Z", 100_000_000),
        ("20261125014500.123456Z", 123_456_000),
        ("20261125014500.000000001Z", 1),
    ]

    @Test("components", arguments: componentCases)
    func components(text: String, nanoseconds: Int) throws {
        let components = try GeneralizedTimeText(text).components
        #expect(components.year == 2026)
        #expect(components.month == 11)
        #expect(components.day == 25)
        #expect(components.hour == 1)
        #expect(components.minute == 45)
        #expect(components.second == 0)
        #expect(components.nanoseconds == nanoseconds)
    }

    @Test("the encoding matches openssl asn1parse -genstr GENTIME")
    func opensslGenerated() throws {
        try withTemporaryDirectory { directory in
            for text in ["20261125014500Z", "20261125014500.123456Z"] {
                try openssl(["asn1parse", "-genstr", "GENTIME:\(text)", "-out", "time.der", "-noout"], in: directory)
                let fromOpenSSL = try readFile(named: "time.der", in: directory)
                #expect(hex(try derBytes(try GeneralizedTimeText(text))) == hex(fromOpenSSL))
                #expect(try GeneralizedTimeText(derEncoded: fromOpenSSL).text == text)
            }
        }
    }
}
