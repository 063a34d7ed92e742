/// A command APDU (ISO/IEC 7816-4 §5.1) in the short form: at most 255 data octets, `Le` absent or
/// `00` (up to 256 octets of answer). Longer data is sent by command chaining (``PIVCardSession``).
package struct CommandAPDU: Sendable, Hashable {
    package var cla: UInt8
    package var ins: UInt8
    package var p1: UInt8
    package var p2: UInt8
    package var data: [UInt8]
    /// Whether the command expects data back (`Le` = `00`, "up to 256").
    package var expectsResponse: Bool

    package init(cla: UInt8 = 0x00, ins: UInt8, p1: UInt8, p2: UInt8, data: [UInt8] = [], expectsResponse: Bool) {
        self.cla = cla
        self.ins = ins
        self.p1 = p1
        self.p2 = p2
        self.data = data
        self.expectsResponse = expectsResponse
    }

    /// The octets on the wire: header, `Lc` and data when there is data, `Le` when an answer is expected.
    package var encoded: [UInt8] {
        precondition(self.data.count <= 255, "short APDUs carry at most 255 data octets; chain longer data")
        var octets = [self.cla, self.ins, self.p1, self.p2]
        if !self.data.isEmpty {
            octets.append(UInt8(self.data.count))
            octets.append(contentsOf: self.data)
        }
        if self.expectsResponse {
            octets.append(0x00)
        }
        return octets
    }
}

/// A response APDU: data, then the status word `SW1 SW2` (ISO/IEC 7816-4 §5.1.3).
package struct ResponseAPDU: Sendable, Hashable {
    package var data: [UInt8]
    package var statusWord: UInt16

    package init(data: [UInt8] = [], statusWord: UInt16) {
        self.data = data
        self.statusWord = statusWord
    }

    /// Splits a response received from the card.
    ///
    /// - Throws: ``SmartCardError/ErrorCode/malformedResponse`` when it is shorter than a status word.
    package init(received octets: [UInt8], reader: String) throws(SmartCardError) {
        guard octets.count >= 2 else {
            throw SmartCardError(
                code: .malformedResponse,
                reason: "the card in \"\(reader)\" answered \(octets.count) octets, less than a status word"
            )
        }
        self.data = Array(octets.dropLast(2))
        self.statusWord = UInt16(octets[octets.count - 2]) << 8 | UInt16(octets[octets.count - 1])
    }

    /// The octets on the wire.
    package var encoded: [UInt8] {
        self.data + [self.sw1, self.sw2]
    }

    package var sw1: UInt8 { UInt8(self.statusWord >> 8) }
    package var sw2: UInt8 { UInt8(self.statusWord & 0xFF) }

    /// `9000`: normal processing.
    package var isSuccess: Bool { self.statusWord == StatusWord.success }
}

/// The ISO/IEC 7816-4 status words a PIV card answers (SP 800-73-4 Part 2, §3 and Table 6).
package enum StatusWord {
    package static let success: UInt16 = 0x9000
    /// `61XX`: XX more octets wait for GET RESPONSE (00 = 256).
    package static let moreDataSW1: UInt8 = 0x61
    /// `6CXX`: wrong `Le`; send again with `Le` = XX.
    package static let wrongLengthSW1: UInt8 = 0x6C
    /// `63CX`: verification failed, X tries left (also the answer of VERIFY without data).
    package static let retriesMask: UInt16 = 0xFFF0
    package static let retries: UInt16 = 0x63C0
    package static let wrongLength: UInt16 = 0x6700
    package static let securityStatusNotSatisfied: UInt16 = 0x6982
    package static let authenticationBlocked: UInt16 = 0x6983
    package static let conditionsNotSatisfied: UInt16 = 0x6985
    package static let incorrectData: UInt16 = 0x6A80
    package static let functionNotSupported: UInt16 = 0x6A81
    package static let notFound: UInt16 = 0x6A82
    package static let incorrectParameters: UInt16 = 0x6A86
    package static let referencedDataNotFound: UInt16 = 0x6A88
    package static let instructionNotSupported: UInt16 = 0x6D00
    package static let classNotSupported: UInt16 = 0x6E00
    package static let lastCommandOfChainExpected: UInt16 = 0x6883

    /// A short meaning for messages, such as `6982 (security status not satisfied: PIN not verified)`.
    package static func describe(_ word: UInt16) -> String {
        let meaning: String
        switch word {
        case success: meaning = "success"
        case securityStatusNotSatisfied: meaning = "security status not satisfied: the PIN is not verified"
        case authenticationBlocked: meaning = "authentication method blocked: the PIN is blocked"
        case conditionsNotSatisfied: meaning = "conditions of use not satisfied"
        case incorrectData: meaning = "incorrect data"
        case functionNotSupported: meaning = "function not supported"
        case notFound: meaning = "file or application not found"
        case incorrectParameters: meaning = "incorrect P1/P2: key reference or algorithm not supported"
        case referencedDataNotFound: meaning = "referenced data not found: no key in the slot"
        case instructionNotSupported: meaning = "instruction not supported"
        case classNotSupported: meaning = "class not supported"
        case wrongLength: meaning = "wrong length"
        case lastCommandOfChainExpected: meaning = "last command of a chain expected"
        default:
            if word & retriesMask == retries {
                meaning = "verification failed, \(word & 0x0F) tries left"
            } else {
                meaning = "unexpected status"
            }
        }
        let digits = String(word, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits + " (\(meaning))"
    }
}
