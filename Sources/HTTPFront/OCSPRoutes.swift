import Foundation
import OCSPResponder
import Synchronization

/// What `POST /ocsp` and `GET /ocsp/{request}` need beyond the responder (RFC 6960 App. A, RFC 5019 §5–6).
enum OCSPRoutes {
    static let requestMediaType = "application/ocsp-request"
    static let responseMediaType = "application/ocsp-response"
    /// The longest GET path accepted (a request with ten CertIDs and a nonce is about 1 KiB of base64).
    static let maxGETPathLength = 4096

    /// Percent-decodes and base64-decodes in one pass: the standard and the URL-safe alphabet, padding optional,
    /// `%2B`/`%2F`/`%3D` and any other escapes accepted; nil for anything else.
    static func decodeGETRequest<Encoded: Collection<UInt8>>(_ encoded: Encoded) -> [UInt8]? {
        var output: [UInt8] = []
        output.reserveCapacity(encoded.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        var padding = 0
        var utf8 = encoded.makeIterator()
        func hexValue(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        while var byte = utf8.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = utf8.next().flatMap(hexValue), let low = utf8.next().flatMap(hexValue) else {
                    return nil
                }
                byte = high << 4 | low
            }
            let value: UInt32
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(byte - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(byte - UInt8(ascii: "a") + 26)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(byte - UInt8(ascii: "0") + 52)
            case UInt8(ascii: "+"), UInt8(ascii: "-"): value = 62
            case UInt8(ascii: "/"), UInt8(ascii: "_"): value = 63
            case UInt8(ascii: "="):
                padding += 1
                continue
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"):
                continue
            default:
                return nil
            }
            guard padding == 0 else { return nil }  // data after padding
            accumulator = accumulator << 6 | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        // Leftover bits must be the zero fill of a final group of 2 or 3 characters.
        guard bits < 6, accumulator & ((1 << UInt32(bits)) - 1) == 0, padding <= 2, !output.isEmpty else { return nil }
        return output
    }

    /// `If-None-Match` (RFC 9110 §13.1.2): `*` or a list of entity tags, compared weakly.
    static func matches(_ header: String, _ tag: String) -> Bool {
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        if trimmed == "*" { return true }
        let bare = tag.hasPrefix("W/") ? String(tag.dropFirst(2)) : tag
        return trimmed.split(separator: ",").contains { candidate in
            var value = candidate.trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("W/") { value = String(value.dropFirst(2)) }
            return value == bare
        }
    }
}

/// The HTTP dates of answers, formatted once per answer (they only change when the answer is re-signed).
final class CachingHeaderCache: Sendable {
    /// The caching header fields of one answer, as rendered for one second (max-age counts down).
    struct Fields: Sendable {
        var second: Int64
        var fields: [(String, String)]
    }

    private let entries = Mutex<[String: Fields]>([:])

    /// Seconds a cache may keep the answer: until a minute before nextUpdate (a tenth of the validity when that is
    /// shorter than ten minutes).
    ///
    /// RFC 5019 §6.2 asks for a max-age "earlier than nextUpdate", not at it: a cache counts the age from when the
    /// answer reached it, so transit time would otherwise let it serve the answer past nextUpdate.
    static func maxAge(_ validity: OCSPOutcome.Validity, now: Int64) -> Int64 {
        let margin = max(1, min(60, (validity.nextUpdate - validity.thisUpdate) / 10))
        return max(0, validity.nextUpdate - margin - now)
    }

    /// `Last-Modified`, `Expires`, `ETag` and `Cache-Control` for an answer at `now` (RFC 5019 §6.2), rendered once
    /// per answer and second.
    func fields(for validity: OCSPOutcome.Validity, now: Int64) -> [(String, String)] {
        if let cached = self.entries.withLock({ $0[validity.entityTag] }), cached.second == now {
            return cached.fields
        }
        let maxAge = Self.maxAge(validity, now: now)
        let fields = [
            ("last-modified", HTTPDate.format(secondsSince1970: validity.thisUpdate)),
            ("expires", HTTPDate.format(secondsSince1970: validity.nextUpdate)),
            ("etag", validity.entityTag),
            ("cache-control", "max-age=\(maxAge), public, no-transform, must-revalidate"),
        ]
        self.entries.withLock { entries in
            if entries.count >= 100_000 { entries.removeAll(keepingCapacity: true) }  // bounded: answers are re-signed
            entries[validity.entityTag] = Fields(second: now, fields: fields)
        }
        return fields
    }
}
