import Foundation
import PKIMessages
import SwiftASN1
import Testing

/// OCSP over HTTP (RFC 6960 App. A, RFC 5019 §5–6): GET in every encoding clients use, the caching headers, 304,
/// and the HTTP-level refusals.
@Suite("OCSP over HTTP")
struct OCSPHTTPTests {
    /// The RFC 5019 §6.2 headers of a successful GET answer, checked against the answer's own thisUpdate and
    /// nextUpdate.
    static func expectCachingHeaders(
        _ exchange: HTTPExchange,
        response: ReceivedOCSPResponse,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let single = response.singles.first
        let headers = exchange.headers
        let lastModified = headers["last-modified"].flatMap(OCSPHTTP.parseDate)
        let expires = headers["expires"].flatMap(OCSPHTTP.parseDate)
        let date = headers["date"].flatMap(OCSPHTTP.parseDate)
        #expect(
            lastModified != nil && lastModified == single?.thisUpdate.date, "\(exchange)",
            sourceLocation: sourceLocation)
        #expect(expires != nil && expires == single?.nextUpdate?.date, "\(exchange)", sourceLocation: sourceLocation)
        #expect(date != nil, "no Date header: \(exchange)", sourceLocation: sourceLocation)
        let etag = headers["etag"] ?? ""
        #expect(
            etag.count > 2 && etag.hasPrefix("\"") && etag.hasSuffix("\""), "\(exchange)",
            sourceLocation: sourceLocation)
        let cacheControl = (headers["cache-control"] ?? "").lowercased()
        let directives = cacheControl.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        for directive in ["public", "no-transform", "must-revalidate"] {
            #expect(directives.contains(directive), "Cache-Control: \(cacheControl)", sourceLocation: sourceLocation)
        }
        #expect(
            !cacheControl.contains("no-cache") && !cacheControl.contains("no-store"),
            "an authoritative answer must be cacheable: \(cacheControl)", sourceLocation: sourceLocation)
        let maxAge = directives.first { $0.hasPrefix("max-age=") }.flatMap { Int($0.dropFirst("max-age=".count)) }
        #expect(maxAge != nil, "Cache-Control: \(cacheControl)", sourceLocation: sourceLocation)
        if let maxAge, let date, let expires {
            #expect(maxAge > 0, "\(cacheControl)", sourceLocation: sourceLocation)
            // RFC 5019 §6.2: max-age ends "earlier than nextUpdate" (here a minute before it), not at it.
            #expect(
                Double(maxAge) < expires.timeIntervalSince(date),
                "max-age \(maxAge) reaches nextUpdate (Date \(date), Expires \(expires))",
                sourceLocation: sourceLocation)
            #expect(
                Double(maxAge) >= expires.timeIntervalSince(date) - 61,
                "max-age \(maxAge) ends needlessly early (Date \(date), Expires \(expires))",
                sourceLocation: sourceLocation)
        }
    }

    /// A cached answer (good certificate, no nonce) fetched by POST and by GET with the path as raw base64,
    /// percent-encoded base64 and base64url: the same bytes each time, the caching headers on every GET, and
    /// `If-None-Match` with the ETag answered 304.
    @Test func getReturnsWhatPostReturnsWithCachingHeaders() async throws {
        try await OCSPStatusTests.withCA("ocsp-get") { directory, pki, endpoint in
            let request = try await OpenSSLOCSP.makeRequest(
                issuer: pki.a.certificate, certificates: [pki.a.good.certificate], out: directory + "/request.der")
            let post = try await OCSPHTTP.post(endpoint, body: request)
            #expect(post.status == 200 && post.contentType == OCSPMessages.responseType, "\(post)")
            try writeFile(directory + "/post.der", post.body)
            let verify = try await OpenSSLOCSP.run([
                "-respin", directory + "/post.der", "-issuer", pki.a.certificate, "-cert", pki.a.good.certificate,
                "-CAfile", pki.a.certificate, "-no_nonce",
            ])
            #expect(verify.verified && verify.status(pki.a.good.certificate) == "good", "\(verify)")
            let response = try ReceivedOCSPResponse(post.body)
            #expect(response.status == .successful)

            let base64 = OCSPHTTP.base64(request)
            let forms = [
                ("raw base64", base64),
                ("percent-encoded base64", OCSPHTTP.percentEncoded(base64)),
                ("base64url", OCSPHTTP.base64url(request)),
            ]
            var etags: Set<String> = []
            for (name, path) in forms {
                let get = try await HTTPClient.get(endpoint.getPrefix + path)
                #expect(get.status == 200, "\(name): \(get)")
                #expect(get.contentType == OCSPMessages.responseType, "\(name): \(get)")
                let isSame = get.body == post.body
                #expect(isSame, "\(name): GET and POST answers differ:\n\(get)\nPOST: \(post)")
                Self.expectCachingHeaders(get, response: response)
                etags.insert(get.headers["etag"] ?? "")
            }
            #expect(etags.count == 1, "one answer, one ETag: \(etags)")

            let etag = try #require(etags.first)
            let notModified = try await HTTPClient.request(
                endpoint.getPrefix + base64, ["-H", "If-None-Match: \(etag)"])
            #expect(notModified.status == 304, "\(notModified)")
            #expect(notModified.body.isEmpty, "\(notModified)")
            #expect(notModified.headers["etag"] == etag, "\(notModified)")
            let otherTag = try await HTTPClient.request(
                endpoint.getPrefix + base64, ["-H", "If-None-Match: \"0000000000000000\""])
            let isFullAnswer = otherTag.status == 200 && otherTag.body == post.body
            #expect(isFullAnswer, "\(otherTag)")

            // Another answer has another ETag.
            let revokedRequest = try await OpenSSLOCSP.makeRequest(
                issuer: pki.a.certificate, certificates: [pki.a.revoked.certificate], out: directory + "/revoked.der")
            let revoked = try await HTTPClient.get(
                endpoint.getPrefix + OCSPHTTP.percentEncoded(OCSPHTTP.base64(revokedRequest)))
            #expect(
                revoked.status == 200 && revoked.headers["etag"] != nil && revoked.headers["etag"] != etag, "\(revoked)"
            )
        }
    }

    /// A request whose base64 holds `//` and `+`, sent by GET unencoded (as many clients do), percent-encoded, and
    /// as base64url, and by POST: the same BasicOCSPResponse content (status, CertID, responder) each time, as
    /// OpenSSL reads it. The serial is not in the index, so each answer is signed anew (thisUpdate may differ).
    @Test func getWithSlashesAndPlusInTheRawPath() async throws {
        try await OCSPStatusTests.withCA("ocsp-get-raw") { directory, pki, endpoint in
            let template = try OCSPMessages.certIDs(
                ofRequest: try await OpenSSLOCSP.makeRequest(
                    issuer: pki.a.certificate, certificates: [pki.a.good.certificate],
                    out: directory + "/template.der"))[0]
            var request: [UInt8] = []
            for filler in 0..<3 {
                let serial: [UInt8] =
                    [0x7F] + Array(repeating: 0x11, count: filler) + Array(repeating: 0xFF, count: 6)
                    + [0xFB, 0xEF, 0xBE, 0xFB, 0xEF, 0xBE]
                let candidate = try OCSPMessages.request(certIDs: [OCSPMessages.certID(template, serial: serial)])
                let text = OCSPHTTP.base64(candidate)
                if text.contains("//") && text.contains("+") {
                    request = candidate
                    break
                }
            }
            let base64 = OCSPHTTP.base64(request)
            try #require(base64.contains("//") && base64.contains("+"), "no request with // and + in its base64")
            let sent = try OCSPMessages.certIDs(ofRequest: request).map { try OCSPMessages.der($0) }

            let post = try await OCSPHTTP.post(endpoint, body: request)
            var answers: [(String, [UInt8])] = [("POST", post.body)]
            for (name, path) in [
                ("raw", base64), ("percent-encoded", OCSPHTTP.percentEncoded(base64)),
                ("base64url", OCSPHTTP.base64url(request)),
            ] {
                let get = try await HTTPClient.get(endpoint.getPrefix + path)
                #expect(get.status == 200 && get.contentType == OCSPMessages.responseType, "\(name): \(get)")
                answers.append((name, get.body))
            }
            let reference = try ReceivedOCSPResponse(post.body)
            for (name, body) in answers {
                let response = try ReceivedOCSPResponse(body)
                #expect(response.status == .successful, "\(name): \(hex(body.prefix(16)))")
                #expect(try response.singles.map { hex(try OCSPMessages.der($0.certID)) } == sent.map(hex), "\(name)")
                #expect(response.singles.first?.certStatus == .unknown, "\(name)")
                #expect(response.basic?.tbsResponseData.responderID == reference.basic?.tbsResponseData.responderID)
                let this = response.singles.first?.thisUpdate.wholeSecondsSince1970 ?? 0
                let referenceThis = reference.singles.first?.thisUpdate.wholeSecondsSince1970 ?? 0
                #expect(abs(this - referenceThis) <= 5, "\(name): thisUpdate \(this) vs \(referenceThis)")
                // OpenSSL's reading, with the times and the signature left out.
                try writeFile(directory + "/answer.der", body)
                let text = try checked(try await OpenSSLOCSP.responseText(directory + "/answer.der")).output
                #expect(text.contains("Cert Status: unknown"), "\(name): \(text)")
                #expect(text.contains("Serial Number: 7F"), "\(name): \(text)")
            }
        }
    }

    /// 415 for another media type, 413 over `http.maxRequestBytes`, 405 for other methods (with Allow); no
    /// Content-Type at all is served; and the daemon answers afterwards.
    @Test func httpLevelRefusals() async throws {
        try await OCSPStatusTests.withCA("ocsp-http") { directory, pki, endpoint in
            let request = try await OpenSSLOCSP.makeRequest(
                issuer: pki.a.certificate, certificates: [pki.a.good.certificate], out: directory + "/request.der")
            for type in ["text/plain", "application/timestamp-query", "application/x-www-form-urlencoded"] {
                let exchange = try await OCSPHTTP.post(endpoint, body: request, contentType: type)
                #expect(exchange.status == 415, "\(type): \(exchange)")
                #expect(exchange.contentType != OCSPMessages.responseType, "\(type): \(exchange)")
            }
            for type in [nil, "application/ocsp-request; charset=binary", "Application/OCSP-Request"] {
                let exchange = try await OCSPHTTP.post(endpoint, body: request, contentType: type)
                #expect(exchange.status == 200, "\(type ?? "no Content-Type"): \(exchange)")
                #expect(
                    (try? ReceivedOCSPResponse(exchange.body))?.status == .successful,
                    "\(type ?? "no Content-Type"): \(exchange)")
            }

            let tooLarge = try await OCSPHTTP.post(endpoint, body: request + randomBytes(20 * 1024))
            #expect(tooLarge.status == 413, "\(tooLarge)")
            let chunked = try await HTTPClient.post(
                endpoint.url, body: request + randomBytes(20 * 1024), contentType: OCSPMessages.requestType,
                extraArguments: ["-H", "Transfer-Encoding: chunked", "-H", "Expect:"])
            #expect(chunked.status == 413, "chunked: \(chunked)")

            for method in ["PUT", "DELETE", "PATCH"] {
                let exchange = try await HTTPClient.request(endpoint.url, ["-X", method])
                #expect(exchange.status == 405, "\(method) /ocsp: \(exchange)")
                #expect(exchange.headers["allow"]?.contains("POST") == true, "\(method) /ocsp: \(exchange)")
            }
            let getBare = try await HTTPClient.get(endpoint.url)
            #expect(getBare.status == 405, "GET /ocsp without a request: \(getBare)")
            let putEncoded = try await HTTPClient.request(
                endpoint.getPrefix + OCSPHTTP.percentEncoded(OCSPHTTP.base64(request)), ["-X", "PUT"])
            #expect(putEncoded.status == 405, "PUT /ocsp/…: \(putEncoded)")
            #expect(putEncoded.headers["allow"]?.contains("GET") == true, "\(putEncoded)")

            let after = try await OpenSSLOCSP.query(
                url: endpoint.url, issuer: pki.a.certificate, certificates: [pki.a.good.certificate],
                caFile: pki.a.certificate)
            #expect(
                after.status(pki.a.good.certificate) == "good" && after.verified, "the daemon stopped serving: \(after)"
            )
        }
    }
}
