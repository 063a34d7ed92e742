import PKIMessages
import SwiftASN1
import Testing

@Suite("Accuracy")
struct AccuracyTests {
    static let encodings: [(Accuracy, String)] = [
        (Accuracy(seconds: 1), "30 03 02 01 01"),
        (Accuracy(millis: 500), "30 04 80 02 01 F4"),
        (Accuracy(micros: 1), "30 03 81 01 01"),
        (Accuracy(seconds: 1, millis: 500, micros: 1), "30 0A 02 01 01 80 02 01 F4 81 01 01"),
        (Accuracy(seconds: 300, micros: 999), "30 08 02 02 01 2C 81 02 03 E7"),
        (Accuracy(seconds: 128), "30 04 02 02 00 80"),
        (Accuracy(), "30 00"),
    ]

    @Test("Accuracy encodes byte for byte, millis and micros with IMPLICIT [0] and [1]", arguments: encodings)
    func encoding(accuracy: Accuracy, der: String) throws {
        #expect(hex(try assertRoundTrips(accuracy)) == der)
    }

    static let totals: [(Int64, Accuracy)] = [
        (1_500_001, Accuracy(seconds: 1, millis: 500, micros: 1)),
        (1_000_000, Accuracy(seconds: 1)),
        (500_000, Accuracy(millis: 500)),
        (999, Accuracy(micros: 999)),
        (1000, Accuracy(millis: 1)),
        (60_000_250, Accuracy(seconds: 60, micros: 250)),
        (0, Accuracy()),
        (-5, Accuracy()),
    ]

    @Test("init(totalMicroseconds:) leaves out zero parts", arguments: totals)
    func totalMicroseconds(total: Int64, expected: Accuracy) throws {
        let accuracy = Accuracy(totalMicroseconds: total)
        #expect(accuracy == expected)
        #expect(accuracy.seconds != 0 && accuracy.millis != 0 && accuracy.micros != 0)
        #expect(accuracy.totalMicroseconds == max(total, 0))
        try assertRoundTrips(accuracy)
    }

    @Test(
        "out-of-range, negative, misordered or mistagged components fail to parse",
        arguments: [
            "30 03 80 01 00",  // millis 0
            "30 04 80 02 03 E8",  // millis 1000
            "30 03 81 01 00",  // micros 0
            "30 04 81 02 03 E8",  // micros 1000
            "30 03 80 01 FF",  // millis -1
            "30 03 02 01 FF",  // seconds -1
            "30 06 81 01 01 80 01 01",  // micros before millis
            "30 06 80 01 01 02 01 01",  // millis before seconds
            "30 05 A0 03 02 01 05",  // millis as a constructed (EXPLICIT) tag
            "30 03 82 01 01",  // an unknown [2]
            "30 05 02 01 01 05 00",  // a trailing NULL
            "30 04 80 02 00 05",  // a non-minimal INTEGER
        ]
    )
    func malformed(der: String) throws {
        #expect(throws: (any Error).self) { try Accuracy(derEncoded: bytes(fromHex: der)) }
    }
}
