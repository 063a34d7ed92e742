import CZlib
import SwiftASN1
import X509

/// A PIV X.509 certificate data object (SP 800-73-4 Part 1, Appendix A, Table 10–15): the content of
/// the `53` answer to GET DATA.
///
/// ```
/// 70  Certificate         the DER certificate, or its gzip compression
/// 71  CertInfo            one octet; bit 0 set: the certificate is gzip-compressed
/// 72  MSCUID              optional, ignored
/// FE  Error detection     empty
/// ```
enum PIVCertificateObject {
    /// The largest certificate inflated from a compressed object; more means a broken object.
    static let maximumCertificateLength = 64 * 1024

    /// The certificate in `content`.
    ///
    /// - Throws: ``SmartCardError/ErrorCode/malformedResponse`` for a broken object or a compressed
    ///   certificate that does not inflate; ``SmartCardError/ErrorCode/certificateNotFound`` for an
    ///   empty one.
    static func certificate(from content: [UInt8], key: PIVKeyReference, reader: String) throws(SmartCardError)
        -> Certificate
    {
        guard let objects = BERTLV.parseAll(content[...]) else {
            throw SmartCardError(
                code: .malformedResponse,
                reason: "the certificate object of key \(key) on the card in \"\(reader)\" is not BER-TLV"
            )
        }
        guard var der = BERTLV.first([0x70], in: objects), !der.isEmpty else {
            throw SmartCardError(
                code: .certificateNotFound,
                reason: """
                    the certificate object of key \(key) on the card in "\(reader)" holds no certificate; \
                    load the certificate onto the card or configure a certificate file
                    """
            )
        }
        let info = BERTLV.first([0x71], in: objects)?.first ?? 0
        if info & 0x01 != 0 {
            guard let inflated = Gzip.inflate(der, limit: Self.maximumCertificateLength) else {
                throw SmartCardError(
                    code: .malformedResponse,
                    reason: """
                        the certificate of key \(key) on the card in "\(reader)" is marked gzip-compressed \
                        (CertInfo 01) but does not inflate
                        """
                )
            }
            der = inflated
        }
        do {
            return try Certificate(derEncoded: der)
        } catch {
            throw SmartCardError(
                code: .malformedResponse,
                reason: "the certificate of key \(key) on the card in \"\(reader)\" is not a DER X.509 certificate",
                cause: error
            )
        }
    }
}

/// gzip and zlib decompression through zlib.
package enum Gzip {
    /// Inflates a gzip (RFC 1952) or zlib (RFC 1950) stream.
    ///
    /// - Returns: `nil` when the input is not a complete stream or inflates to more than `limit` octets.
    package static func inflate(_ input: [UInt8], limit: Int) -> [UInt8]? {
        var stream = z_stream()
        // 15 window bits + 32: detect a gzip or zlib header.
        guard inflateInit2_(&stream, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            return nil
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        var input = input
        return input.withUnsafeMutableBufferPointer { source -> [UInt8]? in
            stream.next_in = source.baseAddress
            stream.avail_in = uInt(source.count)
            while true {
                let (status, produced) = chunk.withUnsafeMutableBufferPointer { buffer -> (Int32, Int) in
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = uInt(buffer.count)
                    let status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    return (status, buffer.count - Int(stream.avail_out))
                }
                output.append(contentsOf: chunk.prefix(produced))
                guard output.count <= limit else { return nil }
                switch status {
                case Z_STREAM_END:
                    return output
                case Z_OK:
                    if stream.avail_in == 0, produced == 0 { return nil }
                default:
                    return nil
                }
            }
        }
    }
}
