import Foundation
import PKIMessages
import SwiftASN1
import Testing

/// Every protocol error gets its status, as an unsigned OCSPResponse with `responseStatus` alone (RFC 6960 §2.3,
/// §4.2.1): the whole answer is `30 03 0A 01 nn`.
@Suite("OCSP error statuses")
struct OCSPErrorTests {
    /// POSTs `body` and expects exactly the unsigned error answer `expected`, which OpenSSL must read as `words`.
    static func expectError(
        _ endpoint: OCSPEndpoint,
        body: [UInt8],
        expected: [UInt8],
        words: String,
        directory: String,
        _ label: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let exchange = try await OCSPHTTP.post(endpoint, body: body)
        #expect(exchange.status == 200, "\(label): \(exchange)", sourceLocation: sourceLocation)
        #expect(
            exchange.contentType == OCSPMessages.responseType, "\(label): \(exchange)", sourceLocation: sourceLocation)
        let isExpected = exchange.body == expected
        #expect(
            isExpected, "\(label): got \(hex(exchange.body.prefix(32))), expected \(hex(expected))",
            sourceLocation: sourceLocation)
        let path = "\(directory)/error-\(UUID().uuidString.prefix(8)).der"
        try writeFile(path, exchange.body)
        let text = try await OpenSSLOCSP.responseText(path)
        #expect(
            text.allOutput.contains("Responder Error: \(words)"), "\(label): \(text)", sourceLocation: sourceLocation)
    }

    /// malformedRequest: bytes that are no DER, a good request with a byte after it, an empty body, a GET path that
    /// is no base64 OCSPRequest, 11 CertIDs with the default maximum of 10 (while 10 get one response with 10
    /// SingleResponses), and nonces of 0 and 129 octets (while 1, 16, 32 and 128 octets are answered).
    @Test func malformedRequests() async throws {
        try await OCSPStatusTests.withCA("ocsp-malformed") { directory, pki, endpoint in
            let request = try await OpenSSLOCSP.makeRequest(
                issuer: pki.a.certificate, certificates: [pki.a.good.certificate], out: directory + "/request.der")
            let malformed = OCSPMessages.malformedRequest
            try await Self.expectError(
                endpoint, body: Array("this is not an OCSP request\n".utf8) + randomBytes(32), expected: malformed,
                words: "malformedrequest", directory: directory, "garbage")
            try await Self.expectError(
                endpoint, body: request + [0x00], expected: malformed, words: "malformedrequest", directory: directory,
                "trailing byte")
            try await Self.expectError(
                endpoint, body: request + request, expected: malformed, words: "malformedrequest",
                directory: directory, "two requests back to back")
            try await Self.expectError(
                endpoint, body: [], expected: malformed, words: "malformedrequest", directory: directory, "empty body")
            let get = try await HTTPClient.get(endpoint.getPrefix + "bm90IGFuIE9DU1AgcmVxdWVzdA")
            let getIsMalformed = get.status == 200 && get.body == malformed
            #expect(getIsMalformed, "GET garbage: \(get)")
            #expect(get.headers["etag"] == nil && get.headers["cache-control"]?.contains("public") != true, "\(get)")

            // CertIDs: 10 is the default maximum.
            let serials = (1...11).map { "0x\(String(0x2000 + $0, radix: 16))" }
            let eleven = try await OpenSSLOCSP.makeRequest(
                issuer: pki.a.certificate, serials: serials, out: directory + "/eleven.der")
            #expect(try OCSPMessages.certIDs(ofRequest: eleven).count == 11)
            try await Self.expectError(
                endpoint, body: eleven, expected: malformed, words: "malformedrequest", directory: directory,
                "11 CertIDs")
            let ten = try await OpenSSLOCSP.query(
                url: endpoint.url, issuer: pki.a.certificate, serials: Array(serials.prefix(10)),
                caFile: pki.a.certificate, responseOut: directory + "/ten.der")
            #expect(ten.succeeded && ten.verified, "\(ten)")
            for serial in serials.prefix(10) { #expect(ten.status(serial) == "unknown", "\(serial): \(ten)") }
            let tenResponse = try ReceivedOCSPResponse(try readFile(directory + "/ten.der"))
            #expect(tenResponse.singles.count == 10, "10 CertIDs, one response with 10 SingleResponses")

            // Nonces (RFC 9654 §2.1), hand-built around the CertID OpenSSL made.
            let certIDs = try OCSPMessages.certIDs(ofRequest: request)
            for length in [0, 129, 200] {
                try await Self.expectError(
                    endpoint, body: try OCSPMessages.request(certIDs: certIDs, nonce: randomBytes(length)),
                    expected: malformed, words: "malformedrequest", directory: directory, "nonce of \(length) octets")
            }
            for length in [1, 16, 32, 128] {
                let nonce = randomBytes(length)
                let requestPath = "\(directory)/nonce-\(length).der"
                let responsePath = "\(directory)/nonce-\(length)-response.der"
                try writeFile(requestPath, try OCSPMessages.request(certIDs: certIDs, nonce: nonce))
                // OpenSSL sends the request as built and checks the echoed nonce itself.
                let query = try await OpenSSLOCSP.run([
                    "-reqin", requestPath, "-url", endpoint.url, "-CAfile", pki.a.certificate, "-resp_text",
                    "-respout", responsePath,
                ])
                #expect(query.succeeded && query.verified, "nonce of \(length) octets: \(query)")
                #expect(query.text.contains("Cert Status: good"), "\(query)")
                #expect(!query.result.allOutput.contains("Nonce Verify error"), "\(query)")
                let response = try ReceivedOCSPResponse(try readFile(responsePath))
                if (16...32).contains(length) {
                    // RFC 9654 §2.1: MUST be accepted and echoed.
                    #expect(response.nonce == nonce, "the \(length)-octet nonce is not echoed: \(query)")
                    #expect(!query.nonceMissing, "\(query)")
                } else {
                    #expect(response.nonce == nil || response.nonce == nonce, "a nonce not ours: \(query)")
                }
            }
            // After all that, still serving.
            let good = try await OpenSSLOCSP.query(
                url: endpoint.url, issuer: pki.a.certificate, certificates: [pki.a.good.certificate],
                caFile: pki.a.certificate)
            #expect(good.status(pki.a.good.certificate) == "good" && good.verified, "\(good)")
        }
    }

    /// unauthorized: an issuer the daemon does not serve, and CertIDs of two issuers it does serve in one request
    /// (one answer has one signer). Each issuer alone is answered, each with its own status for the same serial.
    @Test func unauthorizedIssuers() async throws {
        let pki = try await OCSPFixtures.shared.pki()
        let development = try await SharedFixtures.shared.pki(.ecP256)
        try await withTemporaryDirectory("ocsp-unauthorized") { directory in
            let configuration = try await OCSPDaemonConfiguration(
                stateDirectory: directory + "/state",
                issuers: [
                    .delegated(pki.a, responder: pki.responder.certificate, key: pki.responder.key, index: pki.a.index),
                    .caKey(pki.b, index: pki.b.index),
                ])
            try await withOCSPDaemon(configuration) { _, endpoint in
                let notServed = try await OpenSSLOCSP.makeRequest(
                    issuer: development.issuingCA, serials: ["0x\(pki.a.good.serialHex)"],
                    out: directory + "/not-served.der")
                try await Self.expectError(
                    endpoint, body: notServed, expected: OCSPMessages.unauthorized, words: "unauthorized",
                    directory: directory, "an issuer not served")
                let query = try await OpenSSLOCSP.query(
                    url: endpoint.url, issuer: development.issuingCA, serials: ["0x1000"], caFile: pki.a.certificate)
                #expect(!query.succeeded && query.result.allOutput.contains("unauthorized"), "\(query)")

                // Each served issuer alone: A's and B's certificates with the same serial.
                #expect(pki.a.revoked.serialHex == pki.b.revoked.serialHex)
                let fromA = try await OpenSSLOCSP.query(
                    url: endpoint.url, issuer: pki.a.certificate, certificates: [pki.a.revoked.certificate],
                    caFile: pki.a.certificate, nonce: false)
                #expect(fromA.verified && fromA.reason(pki.a.revoked.certificate) == "keyCompromise", "\(fromA)")
                let fromB = try await OpenSSLOCSP.query(
                    url: endpoint.url, issuer: pki.b.certificate, certificates: [pki.b.revoked.certificate],
                    caFile: pki.b.certificate, nonce: false)
                #expect(fromB.verified && fromB.reason(pki.b.revoked.certificate) == "superseded", "\(fromB)")

                // Both in one request.
                let mixedPath = directory + "/mixed.der"
                let mixed = try await OpenSSLOCSP.run([
                    "-issuer", pki.a.certificate, "-cert", pki.a.good.certificate, "-issuer", pki.b.certificate,
                    "-cert", pki.b.good.certificate, "-no_nonce", "-reqout", mixedPath,
                ])
                #expect(mixed.succeeded, "\(mixed)")
                #expect(try OCSPMessages.certIDs(ofRequest: try readFile(mixedPath)).count == 2)
                try await Self.expectError(
                    endpoint, body: try readFile(mixedPath), expected: OCSPMessages.unauthorized,
                    words: "unauthorized", directory: directory, "CertIDs of two issuers")
            }
        }
    }

    /// `requireSignedRequests: true`: an unsigned request gets sigRequired; one signed with `openssl ocsp -signer
    /// -signkey` is answered; one whose signature does not verify is refused (unauthorized).
    @Test func signedRequestsWhenRequired() async throws {
        try await OCSPStatusTests.withCA(
            "ocsp-sigrequired", options: OCSPStatusTests.Options(requireSignedRequests: true)
        ) { directory, pki, endpoint in
            for nonce in [false, true] {
                let unsigned = try await OpenSSLOCSP.makeRequest(
                    issuer: pki.a.certificate, certificates: [pki.a.good.certificate], nonce: nonce,
                    out: directory + "/unsigned.der")
                try await Self.expectError(
                    endpoint, body: unsigned, expected: OCSPMessages.sigRequired, words: "sigrequired",
                    directory: directory, "unsigned, nonce \(nonce)")
            }
            let signer = ["-signer", pki.a.good.certificate, "-signkey", pki.a.good.key]
            for nonce in [true, false] {
                let signed = try await OpenSSLOCSP.query(
                    url: endpoint.url, issuer: pki.a.certificate, certificates: [pki.a.revoked.certificate],
                    caFile: pki.a.certificate, nonce: nonce, extra: signer)
                #expect(signed.succeeded && signed.verified, "signed, nonce \(nonce): \(signed)")
                #expect(signed.status(pki.a.revoked.certificate) == "revoked", "\(signed)")
            }

            // The same signed request with one bit of the signature changed.
            let signedDER = try await OpenSSLOCSP.makeRequest(
                issuer: pki.a.certificate, certificates: [pki.a.good.certificate], out: directory + "/signed.der",
                extra: signer)
            var request = try OCSPRequest(derEncoded: signedDER)
            var signature = try #require(request.optionalSignature, "openssl made no signed request")
            var bits = Array(signature.signature.bytes)
            bits[bits.count - 1] ^= 0x01
            signature.signature = ASN1BitString(bytes: bits[...])
            request.optionalSignature = signature
            try await Self.expectError(
                endpoint, body: try OCSPMessages.der(request), expected: OCSPMessages.unauthorized,
                words: "unauthorized", directory: directory, "a signature that does not verify")
        }
    }
}
