/// One BER-TLV data object (ISO/IEC 7816-4 §5.2, as SP 800-73-4 Part 1 §3 uses it): a tag of one to
/// three octets and its value.
package struct BERTLV: Sendable, Hashable {
    /// The tag octets, such as `[0x7C]` or `[0x5F, 0xC1, 0x05]`.
    package var tag: [UInt8]
    package var value: [UInt8]

    package init(tag: [UInt8], value: [UInt8]) {
        self.tag = tag
        self.value = value
    }

    /// The encoding: tag, definite length (short form, or `81`/`82`/`83` and the length), value.
    package var encoded: [UInt8] {
        self.tag + Self.encodeLength(self.value.count) + self.value
    }

    /// A definite length field.
    package static func encodeLength(_ length: Int) -> [UInt8] {
        precondition(length >= 0 && length <= 0xFF_FFFF, "a BER-TLV length here is below 2^24")
        switch length {
        case 0..<0x80: return [UInt8(length)]
        case 0x80...0xFF: return [0x81, UInt8(length)]
        case 0x100...0xFFFF: return [0x82, UInt8(length >> 8), UInt8(length & 0xFF)]
        default: return [0x83, UInt8(length >> 16), UInt8((length >> 8) & 0xFF), UInt8(length & 0xFF)]
        }
    }

    /// Parses the data objects one after the other in `octets` (one nesting level).
    ///
    /// Padding octets `00` and `FF` between objects are skipped (ISO/IEC 7816-4 §5.2).
    ///
    /// - Returns: `nil` when a tag or length runs past the end or a length is indefinite.
    package static func parseAll(_ octets: ArraySlice<UInt8>) -> [BERTLV]? {
        var objects: [BERTLV] = []
        var index = octets.startIndex
        while index < octets.endIndex {
            let first = octets[index]
            if first == 0x00 || first == 0xFF {
                index += 1
                continue
            }
            var tag = [first]
            index += 1
            if first & 0x1F == 0x1F {
                // Subsequent tag octets while b8 is set; at most three octets in all here.
                while true {
                    guard index < octets.endIndex, tag.count < 3 else { return nil }
                    let next = octets[index]
                    tag.append(next)
                    index += 1
                    if next & 0x80 == 0 { break }
                }
            }
            guard index < octets.endIndex else { return nil }
            let lengthOctet = octets[index]
            index += 1
            var length = 0
            if lengthOctet < 0x80 {
                length = Int(lengthOctet)
            } else {
                let count = Int(lengthOctet & 0x7F)
                guard (1...3).contains(count), octets.endIndex - index >= count else { return nil }
                for _ in 0..<count {
                    length = length << 8 | Int(octets[index])
                    index += 1
                }
            }
            guard octets.endIndex - index >= length else { return nil }
            objects.append(BERTLV(tag: tag, value: Array(octets[index..<(index + length)])))
            index += length
        }
        return objects
    }

    /// The value of the first object tagged `tag` among `objects`.
    package static func first(_ tag: [UInt8], in objects: [BERTLV]) -> [UInt8]? {
        objects.first { $0.tag == tag }?.value
    }
}
