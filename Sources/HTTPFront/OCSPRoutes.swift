import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import OCSPResponder

/// `POST /ocsp` and `GET /ocsp/{request}` (RFC 6960 App. A, RFC 5019 §5–6).
enum OCSPRoutes {
    static let requestMediaType = "application/ocsp-request"
    static let responseMediaType = "application/ocsp-response"
    /// The longest GET path accepted (a request with ten CertIDs and a nonce is about 1 KiB of base64).
    static let maxGETPathLength = 4096

    static func register(on router: Router<SigillumRequestContext>, responder: OCSPResponderService, limit: Int) {
        // Hummingbird matches "/ocsp/" to the same route.
        router.post("/ocsp") { request, _ -> Response in
            try await Self.post(request: request, responder: responder, limit: limit)
        }
        router.get("/ocsp/**") { request, _ -> Response in
            try await Self.get(request: request, responder: responder)
        }
    }

    static func post(request: Request, responder: OCSPResponderService, limit: Int) async throws -> Response {
        if let contentType = request.headers[.contentType] {
            let mediaType = contentType.split(separator: ";", maxSplits: 1).first.map {
                $0.trimmingCharacters(in: .whitespaces).lowercased()
            }
            guard mediaType == Self.requestMediaType else {
                throw HTTPError(
                    .unsupportedMediaType,
                    message: "send the OCSPRequest as \(Self.requestMediaType), not \(contentType)\n"
                )
            }
        }
        if let lengthText = request.headers[.contentLength], let length = Int(lengthText), length > limit {
            throw HTTPError(
                .contentTooLarge, headers: [.connection: "close"],
                message: "the request is larger than \(limit) bytes\n")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw HTTPError(
                .contentTooLarge, headers: [.connection: "close"],
                message: "the request is larger than \(limit) bytes\n")
        }
        let outcome = await responder.respond(to: ArraySlice(body.readableBytesView))
        // RFC 5019 §5: answers to POST are not meant for caches; no caching headers.
        return Response(
            status: .ok,
            headers: [.contentType: Self.responseMediaType],
            body: .init(byteBuffer: ByteBuffer(bytes: outcome.response))
        )
    }

    static func get(request: Request, responder: OCSPResponderService) async throws -> Response {
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
            headers[.lastModified] = HTTPDate.format(secondsSince1970: validity.thisUpdate)
            headers[.expires] = HTTPDate.format(secondsSince1970: validity.nextUpdate)
            headers[.eTag] = validity.entityTag
            headers[.cacheControl] = "max-age=\(maxAge), public, no-transform, must-revalidate"
            if let match = request.headers[.ifNoneMatch], Self.matches(match, validity.entityTag) {
                return Response(status: .notModified, headers: headers)
            }
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: outcome.response)))
    }

    /// Percent-decodes, then base64-decodes in the standard or the URL-safe alphabet, with or without padding.
    static func decodeGETRequest(_ encoded: String) -> [UInt8]? {
        guard !encoded.isEmpty, let unescaped = encoded.removingPercentEncoding else { return nil }
        var base64 = String(unescaped.filter { !$0.isWhitespace })
        base64 = base64.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        let remainder = base64.utf8.count % 4
        if remainder == 1 { return nil }
        if remainder > 0 { base64 += String(repeating: "=", count: 4 - remainder) }
        return Data(base64Encoded: base64).map { Array($0) }
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
