/// Definite-length DER headers (X.690 §8.1.3), for assembling a message in one buffer.
///
/// swift-asn1's serializer writes a constructed node's content first and then moves it to make room for a longer
/// length field, once per nesting level; a time-stamp token or an OCSP response nests several levels around
/// kilobytes of certificates, so the hot paths compute every length first and write each byte once.
public enum DERLength {
    /// The size of a header (tag + length octets) for `contentLength` content octets.
    @inline(__always)
    public static func headerSize(_ contentLength: Int) -> Int {
        if contentLength < 0x80 { return 2 }
        if contentLength <= 0xFF { return 3 }
        if contentLength <= 0xFFFF { return 4 }
        if contentLength <= 0xFF_FFFF { return 5 }
        return 6
    }

    /// The size of a whole element with `contentLength` content octets.
    @inline(__always)
    public static func elementSize(_ contentLength: Int) -> Int {
        self.headerSize(contentLength) + contentLength
    }

    /// Appends `tag` and the length octets of `contentLength`.
    @inline(__always)
    public static func appendHeader(tag: UInt8, contentLength: Int, to bytes: inout [UInt8]) {
        bytes.append(tag)
        if contentLength < 0x80 {
            bytes.append(UInt8(contentLength))
            return
        }
        var lengthOctets = 0
        var rest = contentLength
        while rest > 0 {
            lengthOctets += 1
            rest >>= 8
        }
        bytes.append(0x80 | UInt8(lengthOctets))
        for index in stride(from: lengthOctets - 1, through: 0, by: -1) {
            bytes.append(UInt8(truncatingIfNeeded: contentLength >> (index * 8)))
        }
    }
}
