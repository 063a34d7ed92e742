import Crypto
import PKIMessages
import SwiftASN1
import Testing
import X509

@testable import OCSPResponder

/// The content of signed answers: status, times, CertID echo, signature, ResponderID and certificates
/// (RFC 6960 §4.2.1, §4.2.2.2, §4.2.2.3).
@Suite("Responder service: signed answers")
struct ResponderServiceAnswerTests {
    /// Checks everything a successful single answer for `certID` must hold, and returns its SingleResponse.
    func checkAnswer(
        _ outcome: OCSPOutcome,
        for certID: CertID,
        harness: ResponderHarness,
        responder: Certificate,
        algorithm: Certificate.SignatureAlgorithm,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> SingleResponse {
        let basic = try basicResponse(of: outcome, sourceLocation: sourceLocation)
        let data = basic.tbsResponseData
        let now = harness.clock.value
        let validity = harness.configuration.validitySeconds

        #expect(data.version == ResponseData.v1, sourceLocation: sourceLocation)
        try #require(data.responses.count == 1, sourceLocation: sourceLocation)
        let single = data.responses[0]
        #expect(
            try derBytes(single.certID) == derBytes(certID), "CertID echoed byte for byte",
            sourceLocation: sourceLocation)
        #expect(single.thisUpdate.text == generalizedTime(now), sourceLocation: sourceLocation)
        #expect(single.nextUpdate?.text == generalizedTime(now + validity), sourceLocation: sourceLocation)
        #expect(data.producedAt.text == generalizedTime(now), sourceLocation: sourceLocation)
        #expect(single.singleExtensions == nil, sourceLocation: sourceLocation)
        #expect(data.responseExtensions == nil, "no nonce was sent", sourceLocation: sourceLocation)

        #expect(
            signatureVerifies(basic, with: responder, algorithm: algorithm),
            "the signature verifies over tbsResponseData with the responder's key",
            sourceLocation: sourceLocation
        )

        let reported = try #require(outcome.validity, sourceLocation: sourceLocation)
        #expect(reported.thisUpdate == now, sourceLocation: sourceLocation)
        #expect(reported.producedAt == now, sourceLocation: sourceLocation)
        #expect(reported.nextUpdate == now + validity, sourceLocation: sourceLocation)
        #expect(
            reported.entityTag.hasPrefix("\"") && reported.entityTag.hasSuffix("\""), sourceLocation: sourceLocation)
        return single
    }

    @Test("good: the index's valid certificate, live-signed by the delegated responder")
    func good() async throws {
        let harness = try ResponderHarness(configuration: OCSPResponderConfiguration(validitySeconds: 7200))
        let certID = try harness.certID(harness.pki.eeGood)
        let outcome = try await harness.respond(to: [certID])
        #expect(!outcome.fromCache)
        let single = try self.checkAnswer(
            outcome, for: certID, harness: harness, responder: harness.pki.ocsp, algorithm: .ecdsaWithSHA256)
        #expect(single.certStatus == .good)
        #expect(harness.signer.count == 1)
    }

    @Test("revoked: keyCompromise at the revocation time index.txt gives")
    func revoked() async throws {
        let harness = try ResponderHarness()
        let fields = try harness.pki.indexFields(of: harness.pki.eeRevoked)
        #expect(fields[0] == "R")
        let revocationField = fields[2].split(separator: ",").map(String.init)
        try #require(revocationField.count == 2)
        #expect(revocationField[1] == "keyCompromise")

        let certID = try harness.certID(harness.pki.eeRevoked)
        let outcome = try await harness.respond(to: [certID])
        let single = try self.checkAnswer(
            outcome, for: certID, harness: harness, responder: harness.pki.ocsp, algorithm: .ecdsaWithSHA256)
        guard case .revoked(let info) = single.certStatus else {
            Issue.record("expected revoked, got \(single.certStatus)")
            return
        }
        #expect(info.revocationReason == .keyCompromise)
        #expect(info.revocationTime.text == generalizedTime(fromIndexTime: revocationField[0]))
    }

    @Test("unknown: a serial index.txt does not list")
    func unknown() async throws {
        let harness = try ResponderHarness()
        let certID = try harness.unknownCertID()
        let outcome = try await harness.respond(to: [certID])
        #expect(!outcome.fromCache)
        let single = try self.checkAnswer(
            outcome, for: certID, harness: harness, responder: harness.pki.ocsp, algorithm: .ecdsaWithSHA256)
        #expect(single.certStatus == .unknown)
    }

    @Test(
        "ResponderID byKey is the SHA-1 of the responder's subjectPublicKey; the signature algorithm has no parameters")
    func responderIDByKey() async throws {
        let harness = try ResponderHarness(responderID: .byKey)
        let outcome = try await harness.respond(to: [harness.certID(harness.pki.eeGood)])
        let basic = try basicResponse(of: outcome)
        let expected = try responderKeyHash(harness.pki.ocsp)
        #expect(expected == Array(Insecure.SHA1.hash(data: ResponderID.keyHashInput(of: harness.pki.ocsp))))
        #expect(basic.tbsResponseData.responderID == .byKey(ArraySlice(expected)))
        #expect(basic.signatureAlgorithm == AlgorithmIdentifier(algorithm: .SignatureAlgorithm.ecdsaWithSHA256))
    }

    @Test("ResponderID byName is the responder certificate's subject")
    func responderIDByName() async throws {
        let harness = try ResponderHarness(responderID: .byName)
        let outcome = try await harness.respond(to: [harness.certID(harness.pki.eeGood)])
        let basic = try basicResponse(of: outcome)
        #expect(basic.tbsResponseData.responderID == .byName(harness.pki.ocsp.subject))
        #expect(signatureVerifies(basic, with: harness.pki.ocsp, algorithm: .ecdsaWithSHA256))
    }

    @Test("a delegated responder sends its certificate in certs, and only it")
    func delegatedCerts() async throws {
        let harness = try ResponderHarness()
        #expect(harness.issuer.isDelegated)
        let basic = try basicResponse(of: await harness.respond(to: [harness.certID(harness.pki.eeGood)]))
        let certs = try #require(basic.certs)
        #expect(certs.count == 1)
        #expect(try Array(certs[0].bytes) == derBytes(harness.pki.ocsp))
        #expect(try basic.certificates() == [harness.pki.ocsp])
    }

    @Test("the CA signing its own answers sends no certs; ResponderID and signature are the CA's")
    func caSignsItself() async throws {
        let harness = try ResponderHarness(caSigns: true)
        #expect(!harness.issuer.isDelegated)
        let certID = try harness.certID(harness.pki.eeGood)
        let outcome = try await harness.respond(to: [certID])
        // The development CAs have P-384 keys: ecdsa-with-SHA384.
        let single = try self.checkAnswer(
            outcome, for: certID, harness: harness, responder: harness.pki.issuingCA, algorithm: .ecdsaWithSHA384)
        #expect(single.certStatus == .good)
        let basic = try basicResponse(of: outcome)
        #expect(basic.certs == nil)
        #expect(basic.tbsResponseData.responderID == .byKey(ArraySlice(try responderKeyHash(harness.pki.issuingCA))))
        #expect(basic.signatureAlgorithm == AlgorithmIdentifier(algorithm: .SignatureAlgorithm.ecdsaWithSHA384))
        #expect(!signatureVerifies(basic, with: harness.pki.ocsp, algorithm: .ecdsaWithSHA256))
    }

    @Test("the response is one DER OCSPResponse that re-encodes byte for byte")
    func reencodes() async throws {
        let harness = try ResponderHarness()
        let outcome = try await harness.respond(to: [harness.certID(harness.pki.eeRevoked)])
        let parsed = try OCSPResponse(derEncoded: outcome.response)
        #expect(try derBytes(parsed) == outcome.response)
    }
}
