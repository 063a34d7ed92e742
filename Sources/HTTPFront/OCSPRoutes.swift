import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import OCSPResponder
import Synchronization

/// `POST /ocsp` and `GET /ocsp/{request}` (RFC 6960 App. A, RFC 5019 §5–6).
enum OCSPRoutes {
    static let requestMediaType = "application/ocsp-request"
    static let responseMediaType = "application/ocsp-response"
    /// The longest GET path accepted (a request with ten CertIDs and a nonce is about 1 KiB of base64).
    static let maxGETPathLength = 4096

    static func register(on router: Router<SigillumRequestContext>, slot: ServingSlot, limit: Int) {
        // Hummingbird matches "/ocsp/" to the same route.
        router.post("/ocsp") { request, _ -> Response in
            try await slot.serve { serving in
                try await Self.post(request: request, responder: try Self.responder(serving), limit: limit)
            }
        }
        let headerCache = CachingHeaderCache()
        router.get("/ocsp/**") { request, _ -> Response in
            try await slot.serve { serving in
                try await Self.get(request: request, responder: try Self.responder(serving), headerCache: headerCache)
            }
        }
    }

    /// The responder of the current set; routes exist only when OCSP is enabled, and a reload cannot disable it.
    static func responder(_ serving: ServingSet) throws -> OCSPResponderService {
        guard let ocsp = serving.ocsp else { throw HTTPError(.notFound) }
        return ocsp
    }

    static func post(request: Request, responder: OCSPResponderService, limit: Int) async throws -> Response {
        let body = try await ProtocolBody.collect(
            request, expecting: Self.requestMediaType, message: "OCSPRequest", limit: limit)
        let outcome = await responder.respond(to: ArraySlice(body.readableBytesView))
        // RFC 5019 §5: answers to POST are not meant for caches; no caching headers.
        return Response(
            status: .ok,
            headers: [.contentType: Self.responseMediaType],
            body: .init(byteBuffer: ByteBuffer(bytes: outcome.response))
        )
    }

    static func get(
        request: Request,
        responder: OCSPResponderService,
        headerCache: CachingHeaderCache
    ) async throws -> Response {
        let path = request.uri.path
        guard path.utf8.count <= Self.maxGETPathLength else {
            throw HTTPError(
                .uriTooLong, message: "the GET request is longer than \(Self.maxGETPathLength) bytes; use POST\n")
        }
        // Everything after /ocsp/ is the request, '/' included: base64 may contain it, and many clients do not
        // percent-encode it (RFC 6960 App. A.1 asks for url-encoding; RFC 5019 §5 the same).
        let encoded = String(path.dropFirst("/ocsp/".count))
        let outcome: OCSPOutcome
        if let der = Self.decodeGETRequest(encoded) {
            outcome = await responder.respond(to: der[...])
        } else {
            outcome = await responder.respond(to: [][...])  // malformedRequest, as an OCSP answer
        }
        var headers: HTTPFields = [.contentType: Self.responseMediaType]
        if let validity = outcome.validity {
            // RFC 5019 §6.2: caching headers that never let a cache keep the answer past nextUpdate.
            let now = Int64(Date().timeIntervalSince1970)
            let maxAge = max(0, validity.nextUpdate - now)
            let dates = headerCache.dates(for: validity)
            headers[.lastModified] = dates.lastModified
            headers[.expires] = dates.expires
            headers[.eTag] = validity.entityTag
            headers[.cacheControl] = "max-age=\(maxAge), public, no-transform, must-revalidate"
            if let match = request.headers[.ifNoneMatch], Self.matches(match, validity.entityTag) {
                return Response(status: .notModified, headers: headers)
            }
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: outcome.response)))
    }

    /// Percent-decodes and base64-decodes in one pass: the standard and the URL-safe alphabet, padding optional,
    /// `%2B`/`%2F`/`%3D` and any other escapes accepted; nil for anything else.
    static func decodeGETRequest(_ encoded: String) -> [UInt8]? {
        var output: [UInt8] = []
        output.reserveCapacity(encoded.utf8.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        var padding = 0
        var utf8 = encoded.utf8.makeIterator()
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
    private let entries = Mutex<[String: (lastModified: String, expires: String)]>([:])

    func dates(for validity: OCSPOutcome.Validity) -> (lastModified: String, expires: String) {
        if let cached = self.entries.withLock({ $0[validity.entityTag] }) { return cached }
        let dates = (
            lastModified: HTTPDate.format(secondsSince1970: validity.thisUpdate),
            expires: HTTPDate.format(secondsSince1970: validity.nextUpdate)
        )
        self.entries.withLock { entries in
            if entries.count >= 100_000 { entries.removeAll(keepingCapacity: true) }  // bounded: answers are re-signed
            entries[validity.entityTag] = dates
        }
        return dates
    }
}
