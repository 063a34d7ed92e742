public import SwiftASN1

/// Why a time-stamp request was rejected.
///
/// ```
/// PKIFailureInfo ::= BIT STRING {
///     badAlg               (0),
///     badRequest           (2),
///     badDataFormat        (5),
///     timeNotAvailable    (14),
///     unacceptedPolicy    (15),
///     unacceptedExtension (16),
///     addInfoNotAvailable (17),
///     systemFailure       (25) }
/// ```
/// RFC 3161 §2.4.2. A named BIT STRING: bit N is the (N mod 8)-th most significant bit of octet N / 8, and the
/// encoding drops trailing zero bits (X.690 §11.2.2), so timeNotAvailable alone is `03 03 01 00 02`.
public struct PKIFailureInfo: OptionSet, Hashable, Sendable, DERImplicitlyTaggable, CustomStringConvertible {
    public static var defaultIdentifier: ASN1Identifier { .bitString }

    /// Bit N of the ASN.1 value is bit N of this mask.
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// The failure with ASN.1 bit number `bit`.
    public init(bit: Int) { self.rawValue = bit >= 0 && bit < 64 ? 1 << UInt64(bit) : 0 }

    public static let badAlg = PKIFailureInfo(bit: 0)
    public static let badRequest = PKIFailureInfo(bit: 2)
    public static let badDataFormat = PKIFailureInfo(bit: 5)
    public static let timeNotAvailable = PKIFailureInfo(bit: 14)
    public static let unacceptedPolicy = PKIFailureInfo(bit: 15)
    public static let unacceptedExtension = PKIFailureInfo(bit: 16)
    public static let addInfoNotAvailable = PKIFailureInfo(bit: 17)
    public static let systemFailure = PKIFailureInfo(bit: 25)

    static let names: [(Int, String)] = [
        (0, "badAlg"), (2, "badRequest"), (5, "badDataFormat"), (14, "timeNotAvailable"),
        (15, "unacceptedPolicy"), (16, "unacceptedExtension"), (17, "addInfoNotAvailable"), (25, "systemFailure"),
    ]

    /// The ASN.1 bit numbers that are set, ascending.
    public var bits: [Int] { (0..<64).filter { self.rawValue & (1 << UInt64($0)) != 0 } }

    /// A stable label for metrics and logs: the names of the set bits joined by `+`.
    public var description: String {
        let labels = self.bits.map { bit in Self.names.first { $0.0 == bit }?.1 ?? "bit\(bit)" }
        return labels.isEmpty ? "none" : labels.joined(separator: "+")
    }

    public init(derEncoded node: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        let bitString = try ASN1BitString(derEncoded: node, withIdentifier: identifier)
        var value: UInt64 = 0
        for (octetIndex, octet) in bitString.bytes.enumerated() {
            for bitInOctet in 0..<8 where octet & (0x80 >> UInt8(bitInOctet)) != 0 {
                let bit = octetIndex * 8 + bitInOctet
                guard bit < 64 else {
                    throw ASN1Error.invalidASN1Object(reason: "PKIFailureInfo bit \(bit) is beyond any defined value")
                }
                value |= 1 << UInt64(bit)
            }
        }
        self.rawValue = value
    }

    public func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        guard let highest = self.bits.last else {
            try ASN1BitString(bytes: []).serialize(into: &coder, withIdentifier: identifier)
            return
        }
        var octets = [UInt8](repeating: 0, count: highest / 8 + 1)
        for bit in self.bits {
            octets[bit / 8] |= 0x80 >> UInt8(bit % 8)
        }
        let padding = 7 - highest % 8
        try ASN1BitString(bytes: octets[...], paddingBits: padding).serialize(into: &coder, withIdentifier: identifier)
    }
}
