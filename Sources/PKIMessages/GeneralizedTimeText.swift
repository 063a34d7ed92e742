public import SwiftASN1

/// A GeneralizedTime kept as its exact text, `YYYYMMDDHHMMSS[.f+]Z`.
///
/// RFC 3161 §2.4.2 and RFC 5280 §4.1.2.5.2 require UTC with a trailing `Z`, no trailing zeros in the fraction, and
/// no decimal point when there is no fraction. swift-asn1's `GeneralizedTime` stores the fraction as a `Double`,
/// which cannot say how many digits a token carried; this type keeps the digits and validates the form.
public struct GeneralizedTimeText: DERImplicitlyTaggable, Hashable, Sendable, CustomStringConvertible {
    public static var defaultIdentifier: ASN1Identifier { .generalizedTime }

    /// The ASCII text, e.g. `20261125014500.123Z`.
    public let text: String

    /// Validates `text`: 14 digits, an optional `.` with 1–9 digits not ending in `0`, then `Z`.
    public init(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard Self.isValid(bytes) else {
            throw ASN1Error.invalidASN1Object(reason: "GeneralizedTime \(text) is not YYYYMMDDHHMMSS[.fff]Z")
        }
        self.text = text
        // The calendar fields must name a real instant (month 1–12, the month's days, ...).
        let fields = self.components
        _ = try GeneralizedTime(
            year: fields.year,
            month: fields.month,
            day: fields.day,
            hours: fields.hour,
            minutes: fields.minute,
            seconds: fields.second,
            fractionalSeconds: 0
        )
    }

    /// The calendar fields in UTC, with the fraction in nanoseconds.
    public var components: (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, nanoseconds: Int) {
        let bytes = Array(self.text.utf8)
        func number(_ range: Range<Int>) -> Int {
            bytes[range].reduce(0) { $0 * 10 + Int($1 - 48) }
        }
        var nanos = 0
        if bytes.count > 15, bytes[14] == UInt8(ascii: ".") {
            let digits = bytes[15..<(bytes.count - 1)]
            var scale = 100_000_000
            for digit in digits {
                nanos += Int(digit - 48) * scale
                scale /= 10
            }
        }
        return (number(0..<4), number(4..<6), number(6..<8), number(8..<10), number(10..<12), number(12..<14), nanos)
    }

    static func isValid(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 15, bytes.last == UInt8(ascii: "Z") else { return false }
        let isDigit = { (b: UInt8) in b >= 48 && b <= 57 }
        guard bytes[0..<14].allSatisfy(isDigit) else { return false }
        if bytes.count == 15 { return true }
        guard bytes[14] == UInt8(ascii: "."), bytes.count >= 17, bytes.count <= 25 else { return false }
        let fraction = bytes[15..<(bytes.count - 1)]
        return fraction.allSatisfy(isDigit) && fraction.last != UInt8(ascii: "0")
    }

    public init(derEncoded node: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        guard node.identifier == identifier, case .primitive(let content) = node.content else {
            throw ASN1Error.unexpectedFieldType(node.identifier)
        }
        // Let swift-asn1 check the calendar fields (month range, leap days...) too.
        _ = try GeneralizedTime(derEncoded: node, withIdentifier: identifier)
        try self.init(String(decoding: content, as: UTF8.self))
    }

    public func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        coder.appendPrimitiveNode(identifier: identifier) { bytes in
            bytes.append(contentsOf: self.text.utf8)
        }
    }

    public var description: String { self.text }
}
