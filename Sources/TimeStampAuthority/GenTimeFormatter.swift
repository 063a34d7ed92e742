import PKIMessages

/// Formats genTime as GeneralizedTime text in UTC without Foundation's formatters (this runs once per token).
///
/// RFC 3161 §2.4.2: `YYYYMMDDhhmmss[.s...]Z`, the fraction only as far as `digits`, trailing zeros removed, and no
/// decimal point when the fraction is zero.
enum GenTimeFormatter {
    static func format(seconds: Int64, nanoseconds: Int64, digits: Int) -> String {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = Self.civil(fromDays: days)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        func append(_ value: Int64, width: Int) {
            var divisor: Int64 = 1
            for _ in 1..<width { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                bytes.append(UInt8(48 + (rest / divisor) % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        append(year, width: 4)
        append(month, width: 2)
        append(day, width: 2)
        append(secondOfDay / 3600, width: 2)
        append((secondOfDay / 60) % 60, width: 2)
        append(secondOfDay % 60, width: 2)
        if digits > 0 {
            var scale: Int64 = 1_000_000_000
            for _ in 0..<digits { scale /= 10 }
            var fraction = nanoseconds / scale
            var width = digits
            while width > 0 && fraction % 10 == 0 {
                fraction /= 10
                width -= 1
            }
            if width > 0 {
                bytes.append(UInt8(ascii: "."))
                append(fraction, width: width)
            }
        }
        bytes.append(UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Year, month, day of the proleptic Gregorian calendar for days since 1970-01-01 (H. Hinnant's algorithm).
    static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }
}
