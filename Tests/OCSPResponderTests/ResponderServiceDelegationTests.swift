import Crypto
import Foundation
import PKIMessages
import Signing
import Testing
import X509

@testable import OCSPResponder

/// RFC 6960 §4.2.2.2: a delegated responder's certificate is issued directly by the CA, carries id-kp-OCSPSigning
/// and (§4.2.2.2.1) id-pkix-ocsp-nocheck. OCSPIssuer.init refuses any other.
@Suite("Responder service: delegated responder checks")
struct ResponderServiceDelegationTests {
    func makeIssuer(signer: any Signer, now: Date = Date()) throws -> OCSPIssuer {
        let pki = try ResponderPKI.shared()
        return try OCSPIssuer(
            certificate: pki.issuingCA,
            signer: signer,
            responderID: .byKey,
            status: MutableStatusLookup(pki.snapshot()),
            nonIssuedIsRevoked: false,
            now: now
        )
    }

    func expectUnauthorized(
        _ signer: any Signer,
        now: Date = Date(),
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let error = #expect(throws: OCSPResponderError.self, sourceLocation: sourceLocation) {
            try self.makeIssuer(signer: signer, now: now)
        }
        #expect(error?.code == .unauthorizedResponder, sourceLocation: sourceLocation)
    }

    @Test("the development PKI's responder certificate is accepted, and so is one issued here with the same profile")
    func accepted() async throws {
        let pki = try ResponderPKI.shared()
        #expect(try self.makeIssuer(signer: pki.delegatedSigner).isDelegated)

        let (certificate, key) = try pki.issueCertificate(
            commonName: "Test OCSP responder", issuer: pki.issuingCA, issuerKey: pki.issuingCAPrivateKey,
            ocspSigning: true, noCheck: true)
        let signer = SoftwareSigner(key: SoftwareKey(key), certificate: certificate)
        let issuer = try self.makeIssuer(signer: signer)
        let clock = ResponderTestClock()
        let service = OCSPResponderService(
            issuers: [issuer], configuration: OCSPResponderConfiguration(), logger: silentLogger, now: clock.now)
        let outcome = await service.respond(
            to: try makeRequest([makeCertID(for: pki.eeGood, issuer: pki.issuingCA)])[...])
        let basic = try basicResponse(of: outcome)
        #expect(signatureVerifies(basic, with: certificate, algorithm: .ecdsaWithSHA256))
        #expect(try basic.certificates() == [certificate])
    }

    @Test("a certificate without id-kp-OCSPSigning (the TSA's) is refused")
    func noOCSPSigning() throws {
        let pki = try ResponderPKI.shared()
        self.expectUnauthorized(SoftwareSigner(key: pki.tsaKey, certificate: pki.tsa))
    }

    @Test("a certificate without id-pkix-ocsp-nocheck is refused")
    func noNoCheck() throws {
        let pki = try ResponderPKI.shared()
        let (certificate, key) = try pki.issueCertificate(
            commonName: "Test OCSP responder without nocheck", issuer: pki.issuingCA,
            issuerKey: pki.issuingCAPrivateKey, ocspSigning: true, noCheck: false)
        self.expectUnauthorized(SoftwareSigner(key: SoftwareKey(key), certificate: certificate))
    }

    @Test("a responder certificate issued by another CA (the root) is refused")
    func otherIssuer() throws {
        let pki = try ResponderPKI.shared()
        let (certificate, key) = try pki.issueCertificate(
            commonName: "Root's OCSP responder", issuer: pki.rootCA, issuerKey: pki.rootCAPrivateKey,
            ocspSigning: true, noCheck: true)
        self.expectUnauthorized(SoftwareSigner(key: SoftwareKey(key), certificate: certificate))
    }

    @Test("a responder certificate naming the CA as issuer but signed by another key is refused")
    func forgedIssuerName() throws {
        let pki = try ResponderPKI.shared()
        let (certificate, key) = try pki.issueCertificate(
            commonName: "Forged OCSP responder", issuer: pki.issuingCA, issuerKey: pki.rootCAPrivateKey,
            ocspSigning: true, noCheck: true)
        #expect(certificate.issuer == pki.issuingCA.subject)
        self.expectUnauthorized(SoftwareSigner(key: SoftwareKey(key), certificate: certificate))
    }

    @Test("a responder certificate outside its validity is refused")
    func outsideValidity() throws {
        let pki = try ResponderPKI.shared()
        let (certificate, key) = try pki.issueCertificate(
            commonName: "Short-lived OCSP responder", issuer: pki.issuingCA, issuerKey: pki.issuingCAPrivateKey,
            ocspSigning: true, noCheck: true, days: 1)
        let signer = SoftwareSigner(key: SoftwareKey(key), certificate: certificate)
        _ = try self.makeIssuer(signer: signer)
        self.expectUnauthorized(signer, now: Date().addingTimeInterval(3 * 86_400))
        self.expectUnauthorized(signer, now: Date().addingTimeInterval(-2 * 86_400))
    }
}
