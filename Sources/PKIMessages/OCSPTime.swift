import SwiftASN1

/// Whole-second GeneralizedTime values for OCSP.
///
/// RFC 6960 §4.2.2.1 leaves the form of `producedAt`, `thisUpdate`, `nextUpdate` and `revocationTime` to
/// GeneralizedTime; clients expect the RFC 5280 §4.1.2.5.2 profile, `YYYYMMDDHHMMSSZ`: UTC, seconds present, no
/// fraction. These helpers produce that form; parsing keeps whatever text was received (a fraction included), so that a
/// response re-encodes byte for byte.
extension GeneralizedTimeText {
    /// `YYYYMMDDHHMMSSZ` for `seconds` since 1970-01-01T00:00:00Z; throws outside the years 0000–9999.
    public init(wholeSecondsSince1970 seconds: Int64) throws {
        let (days, secondOfDay) = UTCCalendarArithmetic.split(seconds)
        let (year, month, day) = UTCCalendarArithmetic.civil(fromDays: days)
        guard (0...9999).contains(year) else {
            throw ASN1Error.invalidASN1Object(reason: "year \(year) does not fit a GeneralizedTime")
        }
        let fields: [(Int64, Int)] = [
            (year, 4), (month, 2), (day, 2), (secondOfDay / 3600, 2), (secondOfDay / 60 % 60, 2), (secondOfDay % 60, 2),
        ]
        var text = ""
        text.reserveCapacity(15)
        for (value, width) in fields {
            let digits = String(value)
            text += String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        try self.init(text + "Z")
    }

    /// The instant in whole seconds since 1970-01-01T00:00:00Z; a fraction is dropped (rounded towards the past).
    public var wholeSecondsSince1970: Int64 {
        let fields = self.components
        return UTCCalendarArithmetic.seconds(
            year: Int64(fields.year), month: Int64(fields.month), day: Int64(fields.day),
            hour: Int64(fields.hour), minute: Int64(fields.minute), second: Int64(fields.second)
        )
    }

    /// True when the text carries no fraction, the RFC 5280 §4.1.2.5.2 form OCSP clients expect.
    public var isWholeSeconds: Bool { self.text.utf8.count == 15 }
}

/// Proleptic Gregorian calendar arithmetic in UTC, without Foundation (H. Hinnant's `days_from_civil` and
/// `civil_from_days`), shared by the OCSP and CRL time types, the TSA's genTime and the HTTP dates.
package enum UTCCalendarArithmetic {
    /// Days since 1970-01-01 of a calendar date.
    package static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The calendar date of a day count since 1970-01-01.
    package static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Seconds since 1970-01-01T00:00:00Z of calendar fields.
    package static func seconds(year: Int64, month: Int64, day: Int64, hour: Int64, minute: Int64, second: Int64)
        -> Int64
    {
        Self.days(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
    }

    /// Whole days since 1970-01-01 and the second of that day (0..<86400), also for instants before 1970.
    package static func split(_ seconds: Int64) -> (days: Int64, secondOfDay: Int64) {
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            days -= 1
            secondOfDay += 86_400
        }
        return (days, secondOfDay)
    }
}
