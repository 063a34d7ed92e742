import PKIMessages
import Signing
import Synchronization
import Testing
import X509

@testable import OCSPResponder

/// `respondWithoutSuspending(to:)`, what the event loop calls: the same answers as `respond(to:)` whenever it
/// answers, nil exactly when a signer must be awaited; and the memo of parsed requests never changes an answer.
@Suite("Responder service: answers without suspending")
struct ResponderServiceImmediateTests {
    /// A service whose responder key is in-process (a `SoftwareSigner`, signed on the caller's thread).
    func softwareService(_ configuration: OCSPResponderConfiguration = OCSPResponderConfiguration()) throws
        -> (OCSPResponderService, ResponderPKI)
    {
        let pki = try ResponderPKI.shared()
        let issuer = try OCSPIssuer(
            certificate: pki.issuingCA, signer: pki.delegatedSigner, responderID: .byKey,
            status: MutableStatusLookup(pki.snapshot()), nonIssuedIsRevoked: false)
        let service = OCSPResponderService(
            issuers: [issuer], configuration: configuration, logger: silentLogger, now: ResponderTestClock().now)
        return (service, pki)
    }

    @Test("with an awaited signer: cached answers and errors at once, live signatures left to respond(to:)")
    func awaitedSigner() async throws {
        let harness = try ResponderHarness()
        await harness.service.presignAll()
        let certID = try harness.certID(harness.pki.eeGood)
        let cachedBytes = try makeRequest([certID])
        let immediate = try #require(harness.service.respondWithoutSuspending(to: cachedBytes[...]))
        #expect(immediate.fromCache)
        #expect(immediate.response == (await harness.respond(cachedBytes)).response)

        let malformed = try #require(harness.service.respondWithoutSuspending(to: [0x30, 0x00][...]))
        #expect(malformed.response == errorResponse(1))

        let signed = harness.signer.count
        let withNonce = try makeRequest([certID], nonce: randomOctets(16))
        #expect(harness.service.respondWithoutSuspending(to: withNonce[...]) == nil)
        #expect(harness.signer.count == signed, "nothing was signed by the refused immediate call")
        let live = await harness.respond(withNonce)
        #expect(!live.fromCache)
        #expect(harness.signer.count == signed + 1)
    }

    @Test("with a software signer: a nonce is signed and echoed on the caller's thread")
    func softwareSignerSignsLive() throws {
        let (service, pki) = try self.softwareService()
        let certID = try makeCertID(for: pki.eeGood, issuer: pki.issuingCA, hash: .sha256, parameters: .null)
        let nonce = randomOctets(32)
        let outcome = try #require(service.respondWithoutSuspending(to: try makeRequest([certID], nonce: nonce)[...]))
        #expect(outcome.status == .successful)
        #expect(!outcome.fromCache)
        let data = try basicResponse(of: outcome).tbsResponseData
        #expect(try data.nonce == OCSPNonce(octets: nonce))
        #expect(data.responses.first?.certStatus == .good)
        #expect(try data.responses.first.map { try derBytes($0.certID) } == derBytes(certID))
        #expect(signatureVerifies(try basicResponse(of: outcome), with: pki.ocsp, algorithm: .ecdsaWithSHA256))
    }

    @Test("a remembered request is answered as a parsed one, after a revocation too")
    func rememberedRequestFollowsTheStatus() async throws {
        let harness = try ResponderHarness()
        await harness.service.presignAll()
        let bytes = try makeRequest([try harness.certID(harness.pki.eeGood)])
        let first = try #require(harness.service.respondWithoutSuspending(to: bytes[...]))
        #expect(try harness.singleResponse(first).certStatus == .good)
        #expect(harness.service.parsedRequests.withLock { $0[bytes] } != nil, "nonce-less request not remembered")
        // The status changes: the remembered request must not bring back the old answer.
        harness.status.replace(
            with: try harness.pki.snapshot(
                harness.pki.indexText(revoking: harness.pki.eeGood, at: "261125100000Z", reason: "keyCompromise"),
                generation: 2))
        let after = await harness.respond(bytes)
        #expect(isRevoked(try harness.singleResponse(after).certStatus))
    }

    @Test("with signed requests required, an unsigned request is never remembered into an answer")
    func memoKeepsSigRequired() async throws {
        let harness = try ResponderHarness(configuration: OCSPResponderConfiguration(requireSignedRequests: true))
        await harness.service.presignAll()
        let bytes = try makeRequest([try harness.certID(harness.pki.eeGood)])
        for _ in 0..<2 {
            let outcome = try #require(harness.service.respondWithoutSuspending(to: bytes[...]))
            #expect(outcome.status == .sigRequired)
        }
        #expect(harness.service.parsedRequests.withLock { $0.isEmpty })
    }

    @Test("requests with a nonce are not remembered (each nonce is new)")
    func noncesAreNotRemembered() throws {
        let (service, pki) = try self.softwareService(OCSPResponderConfiguration(nonces: .ignore))
        let certID = try makeCertID(for: pki.eeGood, issuer: pki.issuingCA, hash: .sha1, parameters: .null)
        for _ in 0..<3 {
            _ = try #require(
                service.respondWithoutSuspending(to: try makeRequest([certID], nonce: randomOctets(16))[...]))
        }
        #expect(service.parsedRequests.withLock { $0.isEmpty })
    }
}
