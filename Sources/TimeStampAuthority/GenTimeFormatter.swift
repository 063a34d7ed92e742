import PKIMessages

/// Formats genTime as GeneralizedTime text in UTC without Foundation's formatters (this runs once per token).
///
/// RFC 3161 §2.4.2: `YYYYMMDDhhmmss[.s...]Z`, the fraction only as far as `digits`, trailing zeros removed, and no
/// decimal point when the fraction is zero.
enum GenTimeFormatter {
    static func format(seconds: Int64, nanoseconds: Int64, digits: Int) -> String {
        let (days, secondOfDay) = UTCCalendarArithmetic.split(seconds)
        let (year, month, day) = UTCCalendarArithmetic.civil(fromDays: days)
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
}
