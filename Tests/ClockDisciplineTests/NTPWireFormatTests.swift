import ClockDiscipline
import Testing

/// Unix seconds of a few instants that matter for NTP eras.
private enum Instant {
    /// 1900-01-01T00:00:00Z, the start of NTP era 0.
    static let era0Start: Int64 = -2_208_988_800
    /// 1950-01-01T00:00:00Z.
    static let year1950: Int64 = -631_152_000
    /// 2036-02-07T06:28:16Z, the start of NTP era 1 (2^32 s after 1900).
    static let era1Start: Int64 = 2_085_978_496
    /// 2026-11-25T00:00:00Z.
    static let year2026: Int64 = 1_795_564_800
}

private let nanosecondsPerSecond: Int64 = 1_000_000_000

@Suite struct NTPTimestampTests {
    @Test func theUnixEpochIsSeventyYearsIntoEraZero() {
        let stamp = NTPTimestamp(unixNanoseconds: 0)
        #expect(stamp.seconds == 2_208_988_800)
        #expect(stamp.fraction == 0)
        #expect(stamp.unixNanoseconds(near: 0) == 0)
    }

    @Test func halfASecondIsHalfTheFraction() {
        let stamp = NTPTimestamp(unixNanoseconds: 1_500_000_000)
        #expect(stamp.seconds == 2_208_988_801)
        #expect(stamp.fraction == 0x8000_0000)
        #expect(stamp.description == "83aa7e81.80000000")
    }

    @Test(arguments: [
        Int64(0), 1, 999_999_999, 1_000_000_000, 123_456_789_012_345_678, -1, -999_999_999,
        Instant.year2026 * nanosecondsPerSecond + 987_654_321,
    ])
    func nanosecondsSurviveARoundTrip(_ unixNanoseconds: Int64) {
        // 2^-32 s is finer than a nanosecond, so rounding both ways gives the same nanosecond back.
        let stamp = NTPTimestamp(unixNanoseconds: unixNanoseconds)
        #expect(stamp.unixNanoseconds(near: unixNanoseconds) == unixNanoseconds)
        #expect(stamp.unixNanoseconds(near: unixNanoseconds + 3_600 * nanosecondsPerSecond) == unixNanoseconds)
    }

    @Test func era1StartsAtZeroSeconds() {
        let instant = Instant.era1Start * nanosecondsPerSecond + 500_000_000
        let stamp = NTPTimestamp(unixNanoseconds: instant)
        #expect(stamp.seconds == 0)
        #expect(stamp.fraction == 0x8000_0000)
        // A reference before the wrap (2026) still lands in era 1, the nearer one.
        #expect(stamp.unixNanoseconds(near: Instant.year2026 * nanosecondsPerSecond) == instant)
        #expect(stamp.unixNanoseconds(near: instant + 10 * nanosecondsPerSecond) == instant)
    }

    @Test func theLastSecondOfEraZeroStaysThereWhenTheReferenceIsPastTheWrap() {
        let instant = (Instant.era1Start - 1) * nanosecondsPerSecond
        let stamp = NTPTimestamp(unixNanoseconds: instant)
        #expect(stamp.seconds == UInt32.max)
        #expect(stamp.unixNanoseconds(near: (Instant.era1Start + 86_400) * nanosecondsPerSecond) == instant)
    }

    @Test func zeroSecondsMeans1900NearA1950ReferenceAnd2036NearToday() {
        let stamp = NTPTimestamp(seconds: 0, fraction: 0)
        #expect(
            stamp.unixNanoseconds(near: Instant.year1950 * nanosecondsPerSecond) == Instant.era0Start * 1_000_000_000)
        #expect(
            stamp.unixNanoseconds(near: Instant.year2026 * nanosecondsPerSecond) == Instant.era1Start * 1_000_000_000)
    }

    @Test func shortFormatCoversRootDelayAndDispersion() {
        #expect(NTPShort(rawValue: 0x0001_0000).nanoseconds == 1_000_000_000)
        #expect(NTPShort(rawValue: 0x0000_8000).nanoseconds == 500_000_000)
        #expect(NTPShort(rawValue: 1).nanoseconds == 15_259)  // 2^-16 s
        #expect(NTPShort(nanoseconds: 250_000_000).rawValue == 0x0000_4000)
        #expect(NTPShort(nanoseconds: -5).rawValue == 0)
        #expect(NTPShort(nanoseconds: .max).rawValue == UInt32.max)
    }
}

@Suite struct NTPPacketTests {
    @Test func aPacketSurvivesEncodingAndDecoding() throws {
        let packet = NTPPacket(
            leap: .insertSecond,
            version: 4,
            mode: .server,
            stratum: 2,
            poll: 6,
            precision: -23,
            rootDelay: NTPShort(rawValue: 0x0000_1234),
            rootDispersion: NTPShort(rawValue: 0x0001_0002),
            referenceID: 0xC000_0201,
            referenceTimestamp: NTPTimestamp(rawValue: 0x83AA_7E80_0000_0001),
            originTimestamp: NTPTimestamp(rawValue: 0x0102_0304_0506_0708),
            receiveTimestamp: NTPTimestamp(rawValue: 0xEEB0_E1B7_3730_6F41),
            transmitTimestamp: NTPTimestamp(rawValue: 0xEEB0_E1B7_3733_DAF0)
        )
        let bytes = packet.encoded
        #expect(bytes.count == 48)
        #expect(bytes[0] == 0b01_100_100)
        #expect(bytes[1] == 2)
        #expect(bytes[2] == 6)
        #expect(bytes[3] == 0xE9)
        #expect(Array(bytes[12..<16]) == [192, 0, 2, 1])
        #expect(Array(bytes[24..<32]) == [1, 2, 3, 4, 5, 6, 7, 8])
        let decoded = try #require(NTPPacket(decoding: bytes))
        #expect(decoded == packet)
        #expect(decoded.referenceIDDotted == "192.0.2.1")
    }

    @Test func decodingIgnoresExtensionFieldsAndRejectsShortInput() throws {
        let packet = NTPPacket(mode: .server, stratum: 1, referenceID: 0x4750_5300)
        let decoded = try #require(NTPPacket(decoding: packet.encoded + [UInt8](repeating: 0xAA, count: 20)))
        #expect(decoded == packet)
        #expect(decoded.referenceIDText == "GPS")
        #expect(NTPPacket(decoding: packet.encoded.prefix(47)) == nil)
    }

    @Test func aClientRequestCarriesOnlyTheHeaderBitsAndTheCookie() {
        let cookie = NTPTimestamp(rawValue: 0xDEAD_BEEF_0BAD_F00D)
        let bytes = NTPPacket.clientRequest(cookie: cookie).encoded
        // LI 0, VN 4, mode 3; nothing else but the transmit timestamp (draft-ietf-ntp-data-minimization).
        #expect(bytes[0] == 0x23)
        #expect(bytes[1..<40].allSatisfy { $0 == 0 })
        #expect(Array(bytes[40..<48]) == [0xDE, 0xAD, 0xBE, 0xEF, 0x0B, 0xAD, 0xF0, 0x0D])
    }

    @Test func cookiesAreRandomAndNeverZero() {
        let cookies = (0..<64).map { _ in SNTPClient.makeCookie() }
        #expect(cookies.allSatisfy { !$0.isZero })
        #expect(Set(cookies).count == cookies.count)
    }
}

@Suite struct NTPServerAddressTests {
    @Test(arguments: [
        ("pool.ntp.org", "pool.ntp.org", 123),
        ("time.example:1123", "time.example", 1123),
        ("192.0.2.7", "192.0.2.7", 123),
        ("192.0.2.7:65535", "192.0.2.7", 65535),
        ("[2001:db8::1]:4123", "2001:db8::1", 4123),
        ("[::1]", "::1", 123),
        ("2001:db8::1", "2001:db8::1", 123),
        ("  127.0.0.1:20123 ", "127.0.0.1", 20123),
    ])
    func parses(_ text: String, host: String, port: Int) throws {
        let address = try NTPServerAddress(parsing: text)
        #expect(address.host == host)
        #expect(address.port == port)
        #expect(try NTPServerAddress(parsing: address.description) == address)
    }

    @Test(arguments: [
        "", "host:", "host:0", "host:65536", "host:12a", "host:-1", "[2001:db8::1", "[2001:db8::1]x", "[host]:123",
        ":123", "host:99999999999999999999",
    ])
    func rejects(_ text: String) {
        let error = #expect(throws: ClockError.self) { try NTPServerAddress(parsing: text) }
        #expect(error?.code == .invalidServerAddress)
    }

    @Test func aBadPortSaysSo() {
        let error = #expect(throws: ClockError.self) { try NTPServerAddress(parsing: "ntp.example:70000") }
        #expect(error?.reason.contains("70000 is outside 1…65535") == true)
    }

    @Test func descriptionBracketsIPv6() {
        #expect(NTPServerAddress(host: "::1", port: 20123).description == "[::1]:20123")
        #expect(NTPServerAddress(host: "127.0.0.1").description == "127.0.0.1:123")
    }
}
