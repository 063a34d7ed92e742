public import SwiftASN1

/// An INTEGER kept as its exact content octets (two's complement, big-endian, minimal as DER requires).
///
/// Used where a value must be echoed byte for byte whatever its sign or length: the TimeStampReq nonce
/// (RFC 3161 §2.4.2: "the same value as the similar field in TimeStampReq"), and serial numbers.
public struct DERInteger: ASN1IntegerRepresentable, Hashable, Sendable {
    public static var isSigned: Bool { true }

    /// The content octets of the INTEGER.
    public var contentOctets: ArraySlice<UInt8>

    public init(derIntegerBytes bytes: ArraySlice<UInt8>) throws {
        self.contentOctets = bytes
    }

    public init(berIntegerBytes bytes: ArraySlice<UInt8>) throws {
        self.contentOctets = bytes
    }

    /// A non-negative integer from big-endian magnitude octets; a leading 0x00 is added when the top bit is set,
    /// and excess leading zeros are removed, so that the encoding is minimal and positive.
    public init(unsignedMagnitude magnitude: some Collection<UInt8>) {
        var bytes = ArraySlice(magnitude.drop { $0 == 0 })
        if bytes.isEmpty {
            bytes = [0]
        } else if let first = bytes.first, first & 0x80 != 0 {
            bytes.insert(0, at: bytes.startIndex)
        }
        self.contentOctets = bytes
    }

    public func withBigEndianIntegerBytes<ReturnType>(
        _ body: (ArraySlice<UInt8>) throws -> ReturnType
    ) rethrows -> ReturnType {
        try body(self.contentOctets)
    }

    /// True when the value is negative (top bit of the first content octet set).
    public var isNegative: Bool { (self.contentOctets.first ?? 0) & 0x80 != 0 }

    /// The value in upper-case hex, two digits per content octet.
    public var hexString: String {
        let digits: [UInt8] = Array("0123456789ABCDEF".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(self.contentOctets.count * 2)
        for byte in self.contentOctets {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
