import PKIMessages
import SwiftASN1
import Testing
import X509

@testable import OCSPResponder

/// Requests that are not well-formed get `malformedRequest` (RFC 6960 §2.3, §4.2.1); nonces of accepted lengths are
/// echoed (RFC 6960 §4.4.1, RFC 9654 §2.1).
@Suite("Responder service: malformed requests and nonces")
struct ResponderServiceMalformedTests {
    static let malformed = errorResponse(1)

    func expectMalformed(
        _ outcome: OCSPOutcome,
        _ harness: ResponderHarness,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(outcome.response == Self.malformed, sourceLocation: sourceLocation)
        #expect(outcome.status == .malformedRequest, sourceLocation: sourceLocation)
        #expect(outcome.validity == nil, sourceLocation: sourceLocation)
        #expect(!outcome.fromCache, sourceLocation: sourceLocation)
        #expect(harness.signer.count == 0, "nothing is signed for a malformed request", sourceLocation: sourceLocation)
    }

    @Test("garbage, an empty body and a truncated request are malformed")
    func garbage() async throws {
        let harness = try ResponderHarness()
        let valid = try makeRequest([harness.certID(harness.pki.eeGood)])
        let inputs: [[UInt8]] = [
            [0x01, 0x02, 0x03], [], Array("GET / HTTP/1.1\r\n".utf8), [0x30, 0x80, 0x00, 0x00], Array(valid.dropLast()),
        ]
        for bytes in inputs {
            self.expectMalformed(await harness.respond(bytes), harness)
        }
    }

    @Test("a byte after a valid request is malformed")
    func trailingByte() async throws {
        let harness = try ResponderHarness()
        let valid = try makeRequest([harness.certID(harness.pki.eeGood)])
        #expect(await harness.respond(valid).status == .successful)
        let before = harness.signer.count
        let outcome = await harness.respond(valid + [0x00])
        #expect(outcome.response == Self.malformed)
        #expect(harness.signer.count == before)
    }

    @Test("a request without CertIDs is malformed")
    func noCertIDs() async throws {
        let harness = try ResponderHarness()
        self.expectMalformed(await harness.respond(try makeRequest([])), harness)
    }

    @Test("maxCertIDs CertIDs are answered, one more is malformed")
    func tooManyCertIDs() async throws {
        let harness = try ResponderHarness(configuration: OCSPResponderConfiguration(maxCertIDs: 3))
        let certID = try harness.certID(harness.pki.eeGood)
        self.expectMalformed(await harness.respond(try makeRequest(Array(repeating: certID, count: 4))), harness)
        let atLimit = await harness.respond(try makeRequest(Array(repeating: certID, count: 3)))
        #expect(try basicResponse(of: atLimit).tbsResponseData.responses.count == 3)
    }

    @Test("a version other than v1 is malformed")
    func version() async throws {
        let harness = try ResponderHarness()
        var tbs = makeTBSRequest([try harness.certID(harness.pki.eeGood)])
        tbs.version = 1
        self.expectMalformed(await harness.respond(try derBytes(OCSPRequest(tbsRequest: tbs))), harness)
    }

    @Test("a nonce of 0 or 129 octets is malformed (RFC 9654 §2.1)", arguments: [0, 129, 200])
    func nonceLengthRefused(length: Int) async throws {
        let harness = try ResponderHarness()
        let request = try makeRequest([harness.certID(harness.pki.eeGood)], nonce: randomOctets(length))
        self.expectMalformed(await harness.respond(request), harness)
    }

    @Test("a nonce extension whose value is not an OCTET STRING, or two nonces, are malformed")
    func nonceEncoding() async throws {
        let harness = try ResponderHarness()
        let certID = try harness.certID(harness.pki.eeGood)
        let notOctets = Certificate.Extension(oid: .OCSP.nonce, critical: false, value: [0x02, 0x01, 0x05])
        let tbs = TBSRequest(requestList: [OCSPSingleRequest(reqCert: certID)], requestExtensions: [notOctets])
        self.expectMalformed(await harness.respond(try derBytes(OCSPRequest(tbsRequest: tbs))), harness)

        let twice = TBSRequest(
            requestList: [OCSPSingleRequest(reqCert: certID)],
            requestExtensions: [
                OCSPNonce(octets: randomOctets(16)).makeCertificateExtension(),
                OCSPNonce(octets: randomOctets(16)).makeCertificateExtension(),
            ]
        )
        self.expectMalformed(await harness.respond(try derBytes(OCSPRequest(tbsRequest: twice))), harness)
    }

    /// An extension value: the DER of `NULL`, which no extension of RFC 6960 has.
    static let nullValue: ArraySlice<UInt8> = [0x05, 0x00]

    /// The AcceptableResponses extension (RFC 6960 §4.4.3) listing `types`.
    func acceptableResponses(_ types: [ASN1ObjectIdentifier], critical: Bool) throws -> Certificate.Extension {
        var coder = DER.Serializer()
        try coder.appendConstructedNode(identifier: .sequence) { coder in
            for type in types { try coder.serialize(type) }
        }
        return Certificate.Extension(
            oid: .OCSP.acceptableResponses, critical: critical, value: coder.serializedBytes[...])
    }

    @Test("a critical request extension it does not understand is malformed; a non-critical one is ignored (§4.4)")
    func criticalRequestExtension() async throws {
        let harness = try ResponderHarness()
        let certID = try harness.certID(harness.pki.eeGood)
        let unknownOID: ASN1ObjectIdentifier = [1, 3, 6, 1, 4, 1, 99999, 1]
        func request(_ extensions: [Certificate.Extension], single: [Certificate.Extension]? = nil) throws -> [UInt8] {
            let tbs = TBSRequest(
                requestList: [OCSPSingleRequest(reqCert: certID, singleRequestExtensions: single)],
                requestExtensions: extensions)
            return try derBytes(OCSPRequest(tbsRequest: tbs))
        }
        let critical = Certificate.Extension(oid: unknownOID, critical: true, value: Self.nullValue)
        self.expectMalformed(await harness.respond(try request([critical])), harness)
        // The service locator (§4.4.6) asks for a proxy; marked critical, it cannot be ignored either.
        let locator = Certificate.Extension(
            oid: [1, 3, 6, 1, 5, 5, 7, 48, 1, 7], critical: true, value: Self.nullValue)
        self.expectMalformed(await harness.respond(try request([], single: [locator])), harness)
        self.expectMalformed(
            await harness.respond(try request([self.acceptableResponses([unknownOID], critical: true)])), harness)

        let ignored = Certificate.Extension(oid: unknownOID, critical: false, value: Self.nullValue)
        for extensions in [
            [ignored], [try self.acceptableResponses([.OCSP.basicResponse], critical: true)],
            [try self.acceptableResponses([unknownOID], critical: false)],
        ] {
            let outcome = await harness.respond(try request(extensions))
            #expect(try basicResponse(of: outcome).tbsResponseData.responses.first?.certStatus == .good)
        }
        let outcome = await harness.respond(try request([], single: [locator.withCritical(false)]))
        #expect(try basicResponse(of: outcome).tbsResponseData.responses.first?.certStatus == .good)

        // A nonce marked critical is understood: it is echoed.
        var nonce = OCSPNonce(octets: randomOctets(16)).makeCertificateExtension()
        nonce.critical = true
        let echoed = try basicResponse(of: await harness.respond(try request([nonce]))).tbsResponseData
        #expect(try echoed.nonce?.octets == OCSPNonce(nonce).octets)
    }

    @Test("nonces of 1, 16, 32 and 128 octets are echoed in a live-signed answer", arguments: [1, 16, 32, 128])
    func nonceEchoed(length: Int) async throws {
        let harness = try ResponderHarness()
        await harness.service.presignAll()
        let signedBefore = harness.signer.count
        let nonce = randomOctets(length)
        let certID = try harness.certID(harness.pki.eeGood)
        let outcome = try await harness.respond(to: [certID], nonce: nonce)
        #expect(!outcome.fromCache)
        #expect(harness.signer.count == signedBefore + 1)
        let basic = try basicResponse(of: outcome)
        let data = basic.tbsResponseData
        #expect(try data.nonce == OCSPNonce(octets: nonce))
        let extensions = try #require(data.responseExtensions)
        #expect(extensions.count == 1)
        #expect(extensions.first?.oid == .OCSP.nonce)
        #expect(extensions.first?.critical == false)
        // extnValue is the DER of the OCTET STRING holding the nonce.
        #expect(try Array(extensions.first?.value ?? []) == derBytes(ASN1OctetString(contentBytes: nonce[...])))
        #expect(data.responses.first?.certStatus == .good)
        #expect(try data.responses.first.map { try derBytes($0.certID) } == derBytes(certID))
        #expect(signatureVerifies(basic, with: harness.pki.ocsp, algorithm: .ecdsaWithSHA256))
    }

    @Test("two requests with different nonces get different answers, each with its own nonce")
    func nonceNotReused() async throws {
        let harness = try ResponderHarness()
        let certID = try harness.certID(harness.pki.eeGood)
        let first = try basicResponse(of: await harness.respond(to: [certID], nonce: Array(repeating: 1, count: 16)))
        let second = try basicResponse(of: await harness.respond(to: [certID], nonce: Array(repeating: 2, count: 16)))
        #expect(try first.tbsResponseData.nonce?.octets == ArraySlice(repeating: 1, count: 16))
        #expect(try second.tbsResponseData.nonce?.octets == ArraySlice(repeating: 2, count: 16))
    }
}

extension Certificate.Extension {
    fileprivate func withCritical(_ critical: Bool) -> Certificate.Extension {
        var copy = self
        copy.critical = critical
        return copy
    }
}
