import Foundation

/// The text forms of ASN.1 times that OpenSSL writes into `index.txt`: UTCTime `YYMMDDHHMMSSZ` and
/// GeneralizedTime `YYYYMMDDHHMMSSZ`, both in UTC with whole seconds (RFC 5280 §4.1.2.5.1 and §4.1.2.5.2).
enum ASN1TimeText {
    /// Either form, told apart by length (13 or 15 characters); `nil` for anything else.
    static func parse(_ text: ArraySlice<UInt8>) -> Date? {
        switch text.count {
        case 13: self.parseUTCTime(text)
        case 15: self.parseGeneralizedTime(text)
        default: nil
        }
    }

    /// `YYMMDDHHMMSSZ`; years 50–99 are 19YY, 00–49 are 20YY (RFC 5280 §4.1.2.5.1).
    static func parseUTCTime(_ text: ArraySlice<UInt8>) -> Date? {
        guard text.count == 13, text.last == UInt8(ascii: "Z"), let yy = self.number(text, at: 0, digits: 2) else {
            return nil
        }
        return self.date(year: yy >= 50 ? 1900 + yy : 2000 + yy, text, from: 2)
    }

    /// `YYYYMMDDHHMMSSZ`.
    static func parseGeneralizedTime(_ text: ArraySlice<UInt8>) -> Date? {
        guard text.count == 15, text.last == UInt8(ascii: "Z"), let year = self.number(text, at: 0, digits: 4) else {
            return nil
        }
        return self.date(year: year, text, from: 4)
    }

    /// The decimal number of `digits` characters at `offset`; `nil` if one is not a digit.
    private static func number(_ text: ArraySlice<UInt8>, at offset: Int, digits: Int) -> Int? {
        var value = 0
        var index = text.startIndex + offset
        for _ in 0..<digits {
            let character = text[index]
            guard character >= UInt8(ascii: "0"), character <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(character - UInt8(ascii: "0"))
            index += 1
        }
        return value
    }

    /// The date from the `MMDDHHMMSS` digits at `offset`, range-checked (no leap second: RFC 5280 times never
    /// hold 60).
    private static func date(year: Int, _ text: ArraySlice<UInt8>, from offset: Int) -> Date? {
        guard let month = self.number(text, at: offset, digits: 2),
            let day = self.number(text, at: offset + 2, digits: 2),
            let hour = self.number(text, at: offset + 4, digits: 2),
            let minute = self.number(text, at: offset + 6, digits: 2),
            let second = self.number(text, at: offset + 8, digits: 2),
            (1...12).contains(month), day >= 1, day <= self.daysInMonth(month, year: year), hour < 24, minute < 60,
            second < 60
        else { return nil }
        let days = self.daysFromCivil(year: year, month: month, day: day)
        let seconds = ((days * 24 + hour) * 60 + minute) * 60 + second
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    private static func daysInMonth(_ month: Int, year: Int) -> Int {
        switch month {
        case 2:
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
            return leap ? 29 : 28
        case 4, 6, 9, 11:
            return 30
        default:
            return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
