public import X509

/// A certificate serial number as a status-lookup key: its big-endian magnitude with leading zero octets
/// stripped, so that `00 8A` (a DER INTEGER's content), `8A` (OpenSSL's `index.txt`) and `0x8a` name the same
/// certificate.
///
/// RFC 5280 §4.1.2.2 makes serials positive integers of at most 20 octets. Keys of up to 24 octets are stored
/// inline (no allocation, so building one from a request's CertID costs nothing on the heap); longer ones, which
/// no conforming CA issues, are kept in an array. Negative serials have no key (see ``init(integerBytes:)``).
public struct SerialNumberKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    private enum Storage: Hashable, Sendable {
        /// Up to 24 octets, left-aligned in three big-endian words, with the octet count.
        case inline(UInt64, UInt64, UInt64, count: UInt8)
        /// More than 24 octets.
        case heap([UInt8])
    }

    private static let inlineCapacity = 24

    private let storage: Storage

    /// A key from a big-endian magnitude; leading zero octets are ignored. The empty sequence is zero.
    public init(magnitude: some Collection<UInt8>) {
        let significant = magnitude.drop { $0 == 0 }
        if significant.count > Self.inlineCapacity {
            self.storage = .heap(Array(significant))
            return
        }
        var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var index = 0
        for octet in significant {
            let shift = UInt64(56 - 8 * (index % 8))
            let value = UInt64(octet) << shift
            switch index / 8 {
            case 0: words.0 |= value
            case 1: words.1 |= value
            default: words.2 |= value
            }
            index += 1
        }
        self.storage = .inline(words.0, words.1, words.2, count: UInt8(index))
    }

    /// A key from the content octets of a DER INTEGER (two's complement, as in a CertID's `serialNumber` or a
    /// CRL entry's `userCertificate`); `nil` when the integer is negative or has no content octets.
    ///
    /// RFC 5280 §4.1.2.2 forbids negative serials, and OpenSSL's `ca` never writes one to `index.txt`, so such
    /// a request can only be answered `unknown`.
    public init?(integerBytes: some Collection<UInt8>) {
        guard let first = integerBytes.first, first & 0x80 == 0 else { return nil }
        self.init(magnitude: integerBytes)
    }

    /// The key of a certificate's serial number. swift-certificates keeps a serial as its magnitude (it reads the
    /// INTEGER as unsigned and strips leading zero octets).
    public init(_ serialNumber: Certificate.SerialNumber) {
        self.init(magnitude: serialNumber.bytes)
    }

    /// A key from hexadecimal digits (either case, any length, no sign or prefix), as `index.txt` holds them;
    /// `nil` when `hex` is empty or holds anything else.
    public init?(hex: some StringProtocol) {
        guard let magnitude = Self.parseHex(hex.utf8) else { return nil }
        self.init(magnitude: magnitude)
    }

    /// The magnitude, big-endian, without leading zero octets (empty for zero).
    public var bytes: [UInt8] {
        switch self.storage {
        case .heap(let bytes):
            return bytes
        case .inline(let w0, let w1, let w2, let count):
            var bytes: [UInt8] = []
            bytes.reserveCapacity(Int(count))
            for index in 0..<Int(count) {
                let word = index < 8 ? w0 : (index < 16 ? w1 : w2)
                bytes.append(UInt8(truncatingIfNeeded: word >> UInt64(56 - 8 * (index % 8))))
            }
            return bytes
        }
    }

    /// The content octets of the DER INTEGER with this value (a leading `00` when the top bit is set).
    public var integerBytes: [UInt8] {
        let magnitude = self.bytes
        guard let first = magnitude.first else { return [0] }
        return first & 0x80 == 0 ? magnitude : [0] + magnitude
    }

    /// The serial as OpenSSL's `BN_bn2hex` writes it into `index.txt`: upper-case, whole octets, `00` for zero.
    public var hexString: String {
        let magnitude = self.bytes
        guard !magnitude.isEmpty else { return "00" }
        let digits = Array("0123456789ABCDEF".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(magnitude.count * 2)
        for octet in magnitude {
            text.append(digits[Int(octet >> 4)])
            text.append(digits[Int(octet & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    public var description: String { self.hexString }

    /// Numeric order.
    public static func < (lhs: SerialNumberKey, rhs: SerialNumberKey) -> Bool {
        let left = lhs.bytes
        let right = rhs.bytes
        if left.count != right.count { return left.count < right.count }
        return left.lexicographicallyPrecedes(right)
    }

    /// The octets of hexadecimal digits, a leading nibble for an odd count; `nil` on any other character.
    static func parseHex(_ digits: some Collection<UInt8>) -> [UInt8]? {
        guard !digits.isEmpty else { return nil }
        var octets: [UInt8] = []
        octets.reserveCapacity((digits.count + 1) / 2)
        var pending: UInt8? = digits.count % 2 == 1 ? 0 : nil
        for digit in digits {
            let value: UInt8
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = digit - UInt8(ascii: "0")
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = digit - UInt8(ascii: "A") + 10
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = digit - UInt8(ascii: "a") + 10
            default: return nil
            }
            if let high = pending {
                octets.append(high << 4 | value)
                pending = nil
            } else {
                pending = value
            }
        }
        return octets
    }
}
