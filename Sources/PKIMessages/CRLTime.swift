public import SwiftASN1

/// A point in time in a CRL (or a certificate).
///
/// ```
/// Time ::= CHOICE {
///     utcTime        UTCTime,
///     generalTime    GeneralizedTime }
/// ```
/// RFC 5280 §5.1.2.4 – §5.1.2.6 (and §4.1.2.5): UTCTime `YYMMDDHHMMSSZ` for 1950 through 2049 (two-digit years below
/// 50 are 20YY), GeneralizedTime `YYYYMMDDHHMMSSZ` from 2050. Named `CRLTime` because `Time` is too wide a name for
/// a module. A GeneralizedTime with a fraction parses (the fraction is dropped by ``secondsSince1970``).
public enum CRLTime: DERParseable, DERSerializable, Hashable, Sendable {
    case utcTime(UTCTime)
    case generalizedTime(GeneralizedTime)

    /// The RFC 5280 form for `seconds` since 1970-01-01T00:00:00Z: UTCTime through 2049, GeneralizedTime after.
    public init(secondsSince1970 seconds: Int64) throws {
        let (days, secondOfDay) = UTCCalendarArithmetic.split(seconds)
        let (year, month, day) = UTCCalendarArithmetic.civil(fromDays: days)
        guard (1...9999).contains(year) else {
            throw ASN1Error.invalidASN1Object(reason: "year \(year) does not fit a Time")
        }
        let hours = Int(secondOfDay / 3600)
        let minutes = Int(secondOfDay / 60 % 60)
        let secs = Int(secondOfDay % 60)
        if (1950...2049).contains(year) {
            self = .utcTime(
                try UTCTime(
                    year: Int(year), month: Int(month), day: Int(day), hours: hours, minutes: minutes, seconds: secs)
            )
        } else {
            self = .generalizedTime(
                try GeneralizedTime(
                    year: Int(year), month: Int(month), day: Int(day), hours: hours, minutes: minutes, seconds: secs,
                    fractionalSeconds: 0)
            )
        }
    }

    public init(derEncoded node: ASN1Node) throws {
        switch node.identifier {
        case .utcTime:
            self = .utcTime(try UTCTime(derEncoded: node))
        case .generalizedTime:
            self = .generalizedTime(try GeneralizedTime(derEncoded: node))
        default:
            throw ASN1Error.unexpectedFieldType(node.identifier)
        }
    }

    public func serialize(into coder: inout DER.Serializer) throws {
        switch self {
        case .utcTime(let time): try coder.serialize(time)
        case .generalizedTime(let time): try coder.serialize(time)
        }
    }

    /// Whole seconds since 1970-01-01T00:00:00Z (negative before); a GeneralizedTime fraction is dropped.
    public var secondsSince1970: Int64 {
        switch self {
        case .utcTime(let time):
            UTCCalendarArithmetic.seconds(
                year: Int64(time.year), month: Int64(time.month), day: Int64(time.day),
                hour: Int64(time.hours), minute: Int64(time.minutes), second: Int64(time.seconds))
        case .generalizedTime(let time):
            UTCCalendarArithmetic.seconds(
                year: Int64(time.year), month: Int64(time.month), day: Int64(time.day),
                hour: Int64(time.hours), minute: Int64(time.minutes), second: Int64(time.seconds))
        }
    }
}
