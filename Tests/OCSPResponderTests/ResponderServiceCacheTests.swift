import PKIMessages
import Testing
import X509

@testable import OCSPResponder

/// The pre-signed cache (RFC 5019 §2.2, §4): single-CertID requests without a nonce are answered without signing;
/// an answer whose status changed or that reached nextUpdate is never served.
@Suite("Responder service: pre-signed cache")
struct ResponderServiceCacheTests {
    @Test("after presignAll a single-CertID request without nonce is answered from the cache, without signing")
    func servedFromCache() async throws {
        let harness = try ResponderHarness()
        let presignedAt = harness.clock.value
        await harness.service.presignAll()
        #expect(harness.signer.count == harness.pki.indexedSerialCount, "one signature per serial index.txt lists")
        #expect(harness.service.cachedAnswerCount == harness.pki.indexedSerialCount)

        harness.clock.advance(by: 60)
        let signed = harness.signer.count
        let certID = try harness.certID(harness.pki.eeGood)
        let first = try await harness.respond(to: [certID])
        #expect(first.fromCache)
        #expect(harness.signer.count == signed, "no signature on the request path")
        let single = try harness.singleResponse(first)
        #expect(single.certStatus == .good)
        #expect(single.thisUpdate.text == generalizedTime(presignedAt), "the pre-signed answer, not a new one")
        #expect(try derBytes(single.certID) == derBytes(certID))
        #expect(signatureVerifies(try basicResponse(of: first), with: harness.pki.ocsp, algorithm: .ecdsaWithSHA256))
        #expect(first.validity?.thisUpdate == presignedAt)
        #expect(first.validity?.nextUpdate == presignedAt + harness.configuration.validitySeconds)

        let second = try await harness.respond(to: [certID])
        #expect(second.fromCache)
        #expect(second.response == first.response)
        #expect(second.validity == first.validity)
        #expect(harness.signer.count == signed)
    }

    @Test("a CertID form other than SHA-1/NULL is signed once, then served from the cache")
    func otherFormCachedOnDemand() async throws {
        let harness = try ResponderHarness()
        await harness.service.presignAll()
        let signed = harness.signer.count
        let certID = try harness.certID(harness.pki.eeRevoked, hash: .sha256, parameters: .absent)
        let first = try await harness.respond(to: [certID])
        #expect(!first.fromCache)
        #expect(harness.signer.count == signed + 1)
        let second = try await harness.respond(to: [certID])
        #expect(second.fromCache)
        #expect(second.response == first.response)
        #expect(harness.signer.count == signed + 1)
        #expect(try derBytes(harness.singleResponse(second).certID) == derBytes(certID))
    }

    @Test(
        "a status change is answered at once by a re-signed answer, never the cached one; later requests hit the cache")
    func statusChangeOnRequestPath() async throws {
        let harness = try ResponderHarness()
        await harness.service.presignAll()
        let certID = try harness.certID(harness.pki.eeGood)
        let cachedGood = try await harness.respond(to: [certID])
        #expect(cachedGood.fromCache)
        #expect(try harness.singleResponse(cachedGood).certStatus == .good)

        harness.clock.advance(by: 5)
        try harness.status.replace(
            with: harness.pki.snapshot(
                harness.pki.indexText(revoking: harness.pki.eeGood, at: "260102030000Z", reason: "superseded"),
                generation: 2
            )
        )
        let signed = harness.signer.count
        let revoked = try await harness.respond(to: [certID])
        #expect(!revoked.fromCache)
        #expect(revoked.response != cachedGood.response)
        #expect(harness.signer.count == signed + 1)
        let single = try harness.singleResponse(revoked)
        #expect(single.thisUpdate.text == generalizedTime(harness.clock.value))
        guard case .revoked(let info) = single.certStatus else {
            Issue.record("expected revoked, got \(single.certStatus)")
            return
        }
        #expect(info.revocationReason == .superseded)
        #expect(info.revocationTime.text == "20260102030000Z")

        await harness.service.refresh()
        let signedAfterRefresh = harness.signer.count
        let again = try await harness.respond(to: [certID])
        #expect(again.fromCache)
        #expect(harness.signer.count == signedAfterRefresh)
        #expect(isRevoked(try harness.singleResponse(again).certStatus), "the cached answer must be revoked")
    }

    @Test("refresh re-signs exactly the serial whose status changed; the next request is served revoked from the cache")
    func statusChangeOnRefresh() async throws {
        let harness = try ResponderHarness()
        await harness.service.presignAll()
        let signed = harness.signer.count
        try harness.status.replace(
            with: harness.pki.snapshot(
                harness.pki.indexText(revoking: harness.pki.eeGood, at: "260102030000Z", reason: "keyCompromise"),
                generation: 2
            )
        )
        #expect(await harness.service.refresh() == 1)
        #expect(harness.signer.count == signed + 1)
        let outcome = try await harness.respond(to: [harness.certID(harness.pki.eeGood)])
        #expect(outcome.fromCache)
        #expect(harness.signer.count == signed + 1)
        guard case .revoked(let info) = try harness.singleResponse(outcome).certStatus else {
            Issue.record("expected revoked")
            return
        }
        #expect(info.revocationReason == .keyCompromise)
    }

    @Test("refresh re-signs once refreshFraction × validity has passed, not before")
    func refreshTime() async throws {
        let harness = try ResponderHarness(
            configuration: OCSPResponderConfiguration(validitySeconds: 3600, refreshFraction: 0.5))
        let start = harness.clock.value
        await harness.service.presignAll()
        let presigned = harness.signer.count
        #expect(presigned == harness.pki.indexedSerialCount)

        harness.clock.set(start + 1799)
        #expect(await harness.service.refresh() == 0)
        #expect(harness.signer.count == presigned)

        harness.clock.set(start + 1800)
        #expect(await harness.service.refresh() == harness.pki.indexedSerialCount)
        #expect(harness.signer.count == 2 * presigned)

        let outcome = try await harness.respond(to: [harness.certID(harness.pki.eeGood)])
        #expect(outcome.fromCache)
        #expect(outcome.validity?.thisUpdate == start + 1800)
        #expect(try harness.singleResponse(outcome).thisUpdate.text == generalizedTime(start + 1800))
        #expect(await harness.service.refresh() == 0, "a fresh pass has nothing left to do")
    }

    @Test("from nextUpdate on, a request never gets the old bytes, even without a refresh pass")
    func expiredNeverServed() async throws {
        let harness = try ResponderHarness(configuration: OCSPResponderConfiguration(validitySeconds: 3600))
        let start = harness.clock.value
        await harness.service.presignAll()
        let certID = try harness.certID(harness.pki.eeRevoked)

        harness.clock.set(start + 3599)
        let lastValid = try await harness.respond(to: [certID])
        #expect(lastValid.fromCache)
        #expect(lastValid.validity?.nextUpdate == start + 3600)

        harness.clock.set(start + 3600)
        let signed = harness.signer.count
        let renewed = try await harness.respond(to: [certID])
        #expect(!renewed.fromCache)
        #expect(renewed.response != lastValid.response)
        #expect(harness.signer.count == signed + 1)
        let single = try harness.singleResponse(renewed)
        #expect(single.thisUpdate.text == generalizedTime(start + 3600))
        #expect(single.nextUpdate?.text == generalizedTime(start + 7200))

        harness.clock.set(start + 7300)
        let later = try await harness.respond(to: [certID])
        #expect(!later.fromCache)
        #expect(later.response != renewed.response)
    }

    @Test("unknown serials are signed on every request and never cached")
    func unknownNotCached() async throws {
        let harness = try ResponderHarness()
        await harness.service.presignAll()
        let cached = harness.service.cachedAnswerCount
        let signed = harness.signer.count
        let certID = try harness.unknownCertID()
        for round in 1...3 {
            let outcome = try await harness.respond(to: [certID])
            #expect(!outcome.fromCache)
            #expect(try harness.singleResponse(outcome).certStatus == .unknown)
            #expect(harness.signer.count == signed + round)
        }
        #expect(harness.service.cachedAnswerCount == cached)
        #expect(await harness.service.refresh() == 0)
        #expect(harness.service.cachedAnswerCount == cached)
    }

    @Test("a serial removed from the source is dropped from the cache and answered unknown")
    func removedSerial() async throws {
        let harness = try ResponderHarness()
        await harness.service.presignAll()
        let serial = hexSerial(harness.pki.eeGood)
        let text =
            harness.pki.indexText.split(separator: "\n").filter { !$0.contains("\t\(serial)\t") }
            .joined(separator: "\n") + "\n"
        try harness.status.replace(with: harness.pki.snapshot(text, generation: 2))
        #expect(await harness.service.refresh() == 0)
        #expect(harness.service.cachedAnswerCount == harness.pki.indexedSerialCount - 1)
        let outcome = try await harness.respond(to: [harness.certID(harness.pki.eeGood)])
        #expect(!outcome.fromCache)
        #expect(try harness.singleResponse(outcome).certStatus == .unknown)
    }

    @Test("nonce policy ignore: a request with a nonce is served from the cache, without a nonce extension")
    func nonceIgnored() async throws {
        let harness = try ResponderHarness(configuration: OCSPResponderConfiguration(nonces: .ignore))
        await harness.service.presignAll()
        let signed = harness.signer.count
        let certID = try harness.certID(harness.pki.eeGood)
        let plain = try await harness.respond(to: [certID])
        let outcome = try await harness.respond(to: [certID], nonce: randomOctets(16))
        #expect(outcome.fromCache)
        #expect(outcome.response == plain.response)
        #expect(harness.signer.count == signed)
        let basic = try basicResponse(of: outcome)
        #expect(basic.tbsResponseData.responseExtensions == nil)
        #expect(try basic.tbsResponseData.nonce == nil)

        // Several CertIDs are signed live, still without the nonce.
        let several = try await harness.respond(
            to: [certID, harness.certID(harness.pki.eeRevoked)], nonce: randomOctets(32))
        #expect(!several.fromCache)
        #expect(try basicResponse(of: several).tbsResponseData.responseExtensions == nil)
    }

    @Test("nonce policy sign: a request with a nonce is never served from the cache")
    func nonceSigned() async throws {
        let harness = try ResponderHarness(configuration: OCSPResponderConfiguration(nonces: .sign))
        await harness.service.presignAll()
        let signed = harness.signer.count
        let outcome = try await harness.respond(to: [harness.certID(harness.pki.eeGood)], nonce: randomOctets(16))
        #expect(!outcome.fromCache)
        #expect(harness.signer.count == signed + 1)
    }

    // MARK: Known defects

    @Test("serials answered revoked as non-issued are not cached either (a client must not grow the cache)")
    func nonIssuedNotCached() async throws {
        let harness = try ResponderHarness(nonIssuedIsRevoked: true)
        await harness.service.presignAll()
        let cached = harness.service.cachedAnswerCount
        #expect(cached == harness.pki.indexedSerialCount)
        for _ in 0..<5 {
            let outcome = try await harness.respond(to: [harness.unknownCertID()])
            guard case .revoked = try harness.singleResponse(outcome).certStatus else {
                Issue.record("a non-issued serial must be answered revoked")
                return
            }
        }
        do {
            #expect(harness.service.cachedAnswerCount == cached)
        }
    }

    @Test("the status cached with an answer is the status the answer states, even when the source changes meanwhile")
    func cachedStatusMatchesSignedStatus() async throws {
        let pki = try ResponderPKI.shared()
        let revoked = try pki.snapshot(
            pki.indexText(revoking: pki.eeGood, at: "260102030000Z", reason: "keyCompromise"), generation: 1)
        let good = try pki.snapshot(generation: 2)
        // Each request reads the source once: revoked, then good, then revoked again (and revoked from then on).
        let status = SequencedStatusLookup([revoked, good, revoked])
        let clock = ResponderTestClock()
        let issuer = try OCSPIssuer(
            certificate: pki.issuingCA,
            signer: CountingSigner(pki.delegatedSigner),
            responderID: .byKey,
            status: status,
            nonIssuedIsRevoked: false
        )
        let service = OCSPResponderService(
            issuers: [issuer], configuration: OCSPResponderConfiguration(), logger: silentLogger, now: clock.now)
        let request = try makeRequest([makeCertID(for: pki.eeGood, issuer: pki.issuingCA)])

        // Every answer states the status the source gave for that request, and the cache never serves an answer
        // whose label differs from its bytes: after "good" was signed and cached, "revoked" must be re-signed.
        let first = try basicResponse(of: await service.respond(to: request[...]))
        #expect(isRevoked(first.tbsResponseData.responses.first?.certStatus))
        let second = try basicResponse(of: await service.respond(to: request[...]))
        #expect(second.tbsResponseData.responses.first?.certStatus == .good)
        let third = try basicResponse(of: await service.respond(to: request[...]))
        #expect(
            isRevoked(third.tbsResponseData.responses.first?.certStatus),
            "the answer must state revoked, the source's current status"
        )
    }
}
