/// The DER `ECDSA-Sig-Value` of a raw `r ‖ s` signature.
///
/// `CKM_ECDSA` returns `r` and `s` as two big-endian octet strings of the field length, one after
/// the other (PKCS#11 Current Mechanisms v2.40 §2.3.1, "ECDSA"); CMS and X.509 want
///
/// ```
/// ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }
/// ```
///
/// (RFC 5480 §2.2 via RFC 5753 §2.1.1, RFC 3279 §2.2.3). DER INTEGERs are minimal two's complement
/// (X.690 §8.3.2): leading zero octets are dropped, and one zero octet is put back in front when the
/// first remaining octet has its high bit set, since `r` and `s` are positive.
package enum ECDSASignatureValue {
    /// Encodes `raw` (`r ‖ s`, both halves of equal length) as a DER `ECDSA-Sig-Value`.
    ///
    /// - Returns: `nil` when `raw` is empty or of odd length, or when `r` or `s` is zero (no valid
    ///   signature has either).
    package static func derEncoded(rawSignature raw: [UInt8]) -> [UInt8]? {
        guard !raw.isEmpty, raw.count % 2 == 0 else { return nil }
        let half = raw.count / 2
        guard let r = self.integerContent(raw[..<half]), let s = self.integerContent(raw[half...]) else {
            return nil
        }
        var content: [UInt8] = []
        content.reserveCapacity(r.count + s.count + 8)
        self.appendNode(tag: 0x02, content: r, to: &content)
        self.appendNode(tag: 0x02, content: s, to: &content)
        var sequence: [UInt8] = []
        sequence.reserveCapacity(content.count + 4)
        self.appendNode(tag: 0x30, content: content, to: &sequence)
        return sequence
    }

    /// The content octets of a positive INTEGER with the magnitude `magnitude`, or `nil` for zero.
    private static func integerContent(_ magnitude: ArraySlice<UInt8>) -> [UInt8]? {
        guard let first = magnitude.firstIndex(where: { $0 != 0 }) else { return nil }
        let trimmed = magnitude[first...]
        guard let leading = trimmed.first, leading & 0x80 != 0 else { return Array(trimmed) }
        return [0] + trimmed
    }

    /// Appends a DER node: tag, definite length (short form below 128, else long form), content.
    private static func appendNode(tag: UInt8, content: [UInt8], to output: inout [UInt8]) {
        output.append(tag)
        let length = content.count
        if length < 0x80 {
            output.append(UInt8(length))
        } else {
            var octets: [UInt8] = []
            var remaining = length
            while remaining > 0 {
                octets.insert(UInt8(remaining & 0xFF), at: 0)
                remaining >>= 8
            }
            output.append(0x80 | UInt8(octets.count))
            output.append(contentsOf: octets)
        }
        output.append(contentsOf: content)
    }
}
