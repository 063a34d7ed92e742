import PKIMessages
import SwiftASN1
import Testing
import X509

@testable import OCSPResponder

/// Matching CertIDs to the configured issuer (RFC 6960 §4.1.1, RFC 5754 §2 parameter forms) and answering several.
@Suite("Responder service: CertIDs")
struct ResponderServiceCertIDTests {
    static let forms: [(CertIDHash, HashParameters)] = [
        (.sha1, .null), (.sha1, .absent), (.sha256, .null), (.sha256, .absent), (.sha384, .null), (.sha384, .absent),
        (.sha512, .null),
    ]

    @Test(
        "CertIDs with SHA-1, SHA-256, SHA-384, SHA-512, NULL or absent parameters match and are echoed",
        arguments: forms)
    func hashForms(hash: CertIDHash, parameters: HashParameters) async throws {
        let harness = try ResponderHarness()
        for (certificate, expected) in [(harness.pki.eeGood, CertStatus.good), (harness.pki.eeRevoked, nil)] {
            let certID = try harness.certID(certificate, hash: hash, parameters: parameters)
            let outcome = try await harness.respond(to: [certID])
            #expect(outcome.status == .successful)
            let single = try harness.singleResponse(outcome)
            #expect(try derBytes(single.certID) == derBytes(certID))
            if let expected {
                #expect(single.certStatus == expected)
            } else if case .revoked(let info) = single.certStatus {
                #expect(info.revocationReason == .keyCompromise)
            } else {
                Issue.record("expected revoked, got \(single.certStatus)")
            }
        }
    }

    @Test("a wrong issuerKeyHash is unauthorized")
    func wrongKeyHash() async throws {
        let harness = try ResponderHarness()
        var certID = try harness.certID(harness.pki.eeGood)
        certID.issuerKeyHash[certID.issuerKeyHash.startIndex] ^= 0x01
        let outcome = try await harness.respond(to: [certID])
        #expect(outcome.response == errorResponse(6))
        #expect(outcome.status == .unauthorized)
        #expect(outcome.validity == nil)
        #expect(harness.signer.count == 0)
    }

    @Test("a wrong issuerNameHash is unauthorized")
    func wrongNameHash() async throws {
        let harness = try ResponderHarness()
        var certID = try harness.certID(harness.pki.eeGood, hash: .sha256)
        certID.issuerNameHash[certID.issuerNameHash.startIndex] ^= 0x80
        #expect(try await harness.respond(to: [certID]).response == errorResponse(6))
    }

    @Test("the key hash of another issuer (the root) under this issuer's name is unauthorized")
    func mixedHashes() async throws {
        let harness = try ResponderHarness()
        let good = try harness.certID(harness.pki.eeGood)
        let root = try makeCertID(for: harness.pki.eeGood, issuer: harness.pki.rootCA)
        let mixed = CertID(
            hashAlgorithm: good.hashAlgorithm,
            issuerNameHash: good.issuerNameHash,
            issuerKeyHash: root.issuerKeyHash,
            serialNumber: good.serialNumber
        )
        #expect(try await harness.respond(to: [mixed]).response == errorResponse(6))
    }

    @Test("an unsupported hash algorithm (MD5) or non-NULL parameters are unauthorized")
    func unsupportedAlgorithm() async throws {
        let harness = try ResponderHarness()
        var md5 = try harness.certID(harness.pki.eeGood)
        md5.hashAlgorithm = AlgorithmIdentifier(
            algorithm: [1, 2, 840, 113_549, 2, 5], parameters: md5.hashAlgorithm.parameters)
        #expect(try await harness.respond(to: [md5]).response == errorResponse(6))

        var oddParameters = try harness.certID(harness.pki.eeGood, hash: .sha256)
        oddParameters.hashAlgorithm.parameters = try ASN1Any(erasing: ASN1OctetString(contentBytes: [1]))
        #expect(try await harness.respond(to: [oddParameters]).response == errorResponse(6))
    }

    @Test("CertIDs of two different configured issuers in one request are unauthorized; each alone is answered")
    func twoIssuers() async throws {
        let pki = try ResponderPKI.shared()
        let clock = ResponderTestClock()
        let issuing = try OCSPIssuer(
            certificate: pki.issuingCA,
            signer: CountingSigner(pki.delegatedSigner),
            responderID: .byKey,
            status: MutableStatusLookup(pki.snapshot()),
            nonIssuedIsRevoked: false
        )
        // The root CA as a second issuer, signing its own answers; it lists the issuing CA as issued.
        let rootIndex = indexLine("V", serial: hexSerial(pki.issuingCA))
        let root = try OCSPIssuer(
            certificate: pki.rootCA,
            signer: CountingSigner(pki.rootCASigner),
            responderID: .byKey,
            status: MutableStatusLookup(pki.snapshot(rootIndex)),
            nonIssuedIsRevoked: false
        )
        let service = OCSPResponderService(
            issuers: [issuing, root],
            configuration: OCSPResponderConfiguration(),
            logger: silentLogger,
            now: clock.now
        )
        let ee = try makeCertID(for: pki.eeGood, issuer: pki.issuingCA)
        let ca = try makeCertID(for: pki.issuingCA, issuer: pki.rootCA)

        let eeAlone = await service.respond(to: try makeRequest([ee])[...])
        #expect(eeAlone.status == .successful)
        let caAlone = await service.respond(to: try makeRequest([ca])[...])
        let caBasic = try basicResponse(of: caAlone)
        #expect(caBasic.tbsResponseData.responses.first?.certStatus == .good)
        #expect(signatureVerifies(caBasic, with: pki.rootCA, algorithm: .ecdsaWithSHA384))

        #expect(await service.respond(to: try makeRequest([ee, ca])[...]).response == errorResponse(6))
        #expect(await service.respond(to: try makeRequest([ca, ee])[...]).response == errorResponse(6))
    }

    @Test("three CertIDs of one issuer: one response, three SingleResponses in request order")
    func threeCertIDs() async throws {
        let harness = try ResponderHarness()
        let certIDs = [
            try harness.certID(harness.pki.eeRevoked, hash: .sha256),
            try harness.unknownCertID(),
            try harness.certID(harness.pki.eeGood, hash: .sha1, parameters: .absent),
        ]
        let outcome = try await harness.respond(to: certIDs)
        #expect(!outcome.fromCache)
        let basic = try basicResponse(of: outcome)
        let responses = basic.tbsResponseData.responses
        try #require(responses.count == 3)
        for (response, certID) in zip(responses, certIDs) {
            #expect(try derBytes(response.certID) == derBytes(certID))
            #expect(response.thisUpdate.text == generalizedTime(harness.clock.value))
            #expect(response.nextUpdate?.text == generalizedTime(harness.clock.value + 86_400))
        }
        if case .revoked(let info) = responses[0].certStatus {
            #expect(info.revocationReason == .keyCompromise)
        } else {
            Issue.record("the first answer should be revoked, got \(responses[0].certStatus)")
        }
        #expect(responses[1].certStatus == .unknown)
        #expect(responses[2].certStatus == .good)
        #expect(signatureVerifies(basic, with: harness.pki.ocsp, algorithm: .ecdsaWithSHA256))
        #expect(harness.signer.count == 1, "one signature for the whole response")
    }
}
