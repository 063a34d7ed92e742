import PKIMessages
import SwiftASN1
import Testing
import X509

@testable import OCSPResponder

/// RFC 6960 §2.2 and §4.4.8: with an index source that lists every issued certificate, a serial it does not list may
/// be answered revoked (certificateHold, 1970-01-01T00:00:00Z) with the extended-revoke response extension.
@Suite("Responder service: non-issued certificates")
struct ResponderServiceNonIssuedTests {
    static let extendedRevokeOID: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 48, 1, 9]

    @Test("nonIssuedIsRevoked: an absent serial is revoked, certificateHold, 19700101000000Z, with extended-revoke")
    func nonIssuedRevoked() async throws {
        let harness = try ResponderHarness(nonIssuedIsRevoked: true)
        let certID = try harness.unknownCertID()
        let outcome = try await harness.respond(to: [certID])
        let basic = try basicResponse(of: outcome)
        let single = try harness.singleResponse(outcome)
        #expect(try derBytes(single.certID) == derBytes(certID))
        guard case .revoked(let info) = single.certStatus else {
            Issue.record("expected revoked, got \(single.certStatus)")
            return
        }
        #expect(info.revocationReason == .certificateHold)
        #expect(info.revocationTime.text == "19700101000000Z")

        let extensions = try #require(basic.tbsResponseData.responseExtensions)
        let extendedRevoke = try #require(extensions.first { $0.oid == Self.extendedRevokeOID })
        #expect(!extendedRevoke.critical)
        #expect(Array(extendedRevoke.value) == [0x05, 0x00], "extnValue is NULL")
        #expect(extensions.count == 1)
        #expect(OCSPExtendedRevoke.isPresent(in: extensions))
        #expect(signatureVerifies(basic, with: harness.pki.ocsp, algorithm: .ecdsaWithSHA256))
    }

    @Test("nonIssuedIsRevoked: listed serials keep their status and answers without non-issued ones carry no extension")
    func listedUnaffected() async throws {
        let harness = try ResponderHarness(nonIssuedIsRevoked: true)
        let good = try basicResponse(of: await harness.respond(to: [harness.certID(harness.pki.eeGood)]))
        #expect(good.tbsResponseData.responses.first?.certStatus == .good)
        #expect(good.tbsResponseData.responseExtensions == nil)

        let revoked = try basicResponse(of: await harness.respond(to: [harness.certID(harness.pki.eeRevoked)]))
        guard case .revoked(let info)? = revoked.tbsResponseData.responses.first?.certStatus else {
            Issue.record("expected revoked")
            return
        }
        #expect(info.revocationReason == .keyCompromise)
        #expect(revoked.tbsResponseData.responseExtensions == nil, "a real revocation is not extended revoke")
    }

    @Test("nonIssuedIsRevoked with several CertIDs: one extension, beside the nonce, statuses in order")
    func mixed() async throws {
        let harness = try ResponderHarness(nonIssuedIsRevoked: true)
        let nonce = randomOctets(16)
        let outcome = try await harness.respond(
            to: [harness.certID(harness.pki.eeGood), harness.unknownCertID(hash: .sha256)], nonce: nonce)
        let data = try basicResponse(of: outcome).tbsResponseData
        #expect(data.responses.first?.certStatus == .good)
        #expect(isRevoked(data.responses.last?.certStatus))
        let extensions = try #require(data.responseExtensions)
        #expect(extensions.filter { $0.oid == Self.extendedRevokeOID }.count == 1)
        #expect(try data.nonce == OCSPNonce(octets: nonce))
    }

    @Test("presigned: non-issued answers on the cached path carry the extension too")
    func cachedPath() async throws {
        let harness = try ResponderHarness(nonIssuedIsRevoked: true)
        await harness.service.presignAll()
        let certID = try harness.unknownCertID()
        for _ in 0..<2 {
            let data = try basicResponse(of: await harness.respond(to: [certID])).tbsResponseData
            #expect(isRevoked(data.responses.first?.certStatus))
            #expect(OCSPExtendedRevoke.isPresent(in: data.responseExtensions))
        }
    }

    @Test("without nonIssuedIsRevoked an absent serial is unknown, without extension")
    func withoutFlag() async throws {
        let harness = try ResponderHarness(nonIssuedIsRevoked: false)
        let basic = try basicResponse(of: await harness.respond(to: [harness.unknownCertID()]))
        #expect(basic.tbsResponseData.responses.first?.certStatus == .unknown)
        #expect(basic.tbsResponseData.responseExtensions == nil)
    }
}
