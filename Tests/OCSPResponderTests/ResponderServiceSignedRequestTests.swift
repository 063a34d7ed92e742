import Crypto
import Foundation
import PKIMessages
import SwiftASN1
import Testing
import X509

@testable import OCSPResponder

/// requireSignedRequests: unsigned requests get sigRequired, signatures that do not verify get unauthorized
/// (RFC 6960 §4.1.2, §2.3).
@Suite("Responder service: signed requests")
struct ResponderServiceSignedRequestTests {
    struct Requestor {
        let key: P256.Signing.PrivateKey
        let certificate: Certificate

        static func make() throws -> Requestor {
            let (certificate, key) = try ResponderPKI.shared().issueCertificate(
                commonName: "Sigillum test requestor", issuer: nil, issuerKey: nil, ocspSigning: false, noCheck: false)
            return Requestor(key: key, certificate: certificate)
        }
    }

    /// A request for `certIDs` signed over `signedBytes(tbsDER)` by `signer`, carrying `certificate`.
    func signedRequest(
        _ certIDs: [CertID],
        signer: P256.Signing.PrivateKey,
        certificate: Certificate?,
        nonce: [UInt8]? = nil,
        signedBytes: ([UInt8]) -> [UInt8] = { $0 },
        signature transform: ([UInt8]) -> [UInt8] = { $0 }
    ) throws -> [UInt8] {
        let tbs = makeTBSRequest(certIDs, nonce: nonce)
        let signature = try signer.signature(for: signedBytes(try derBytes(tbs))).derRepresentation
        let optionalSignature = OCSPSignature(
            signatureAlgorithm: AlgorithmIdentifier(algorithm: .SignatureAlgorithm.ecdsaWithSHA256),
            signature: ASN1BitString(bytes: ArraySlice(transform(Array(signature)))),
            certs: try certificate.map { [try RawDER(encoding: $0)] }
        )
        let request = try OCSPRequest(tbsRequest: tbs, optionalSignature: optionalSignature)
        #expect(try Array(request.tbsRequestBytes.bytes) == derBytes(tbs))
        return try derBytes(request)
    }

    func makeHarness() throws -> ResponderHarness {
        try ResponderHarness(configuration: OCSPResponderConfiguration(requireSignedRequests: true))
    }

    @Test("an unsigned request gets sigRequired")
    func unsigned() async throws {
        let harness = try self.makeHarness()
        let outcome = try await harness.respond(to: [harness.certID(harness.pki.eeGood)])
        #expect(outcome.response == errorResponse(5))
        #expect(outcome.status == .sigRequired)
        #expect(harness.signer.count == 0)
    }

    @Test("a request signed with the key of the certificate it carries is answered")
    func signed() async throws {
        let harness = try self.makeHarness()
        let requestor = try Requestor.make()
        let certID = try harness.certID(harness.pki.eeGood)
        let request = try self.signedRequest([certID], signer: requestor.key, certificate: requestor.certificate)
        let outcome = await harness.respond(request)
        #expect(outcome.status == .successful)
        let single = try harness.singleResponse(outcome)
        #expect(single.certStatus == .good)
        #expect(try derBytes(single.certID) == derBytes(certID))

        let nonce = randomOctets(16)
        let withNonce = try self.signedRequest(
            [certID], signer: requestor.key, certificate: requestor.certificate, nonce: nonce)
        let answered = try basicResponse(of: await harness.respond(withNonce))
        #expect(try answered.tbsResponseData.nonce == OCSPNonce(octets: nonce))
    }

    @Test("a signature over other bytes is unauthorized")
    func signatureOverOtherBytes() async throws {
        let harness = try self.makeHarness()
        let requestor = try Requestor.make()
        let request = try self.signedRequest(
            [harness.certID(harness.pki.eeGood)], signer: requestor.key, certificate: requestor.certificate,
            signedBytes: { $0 + [0x00] })
        let outcome = await harness.respond(request)
        #expect(outcome.response == errorResponse(6))
        #expect(harness.signer.count == 0)
    }

    @Test("a signature with a flipped bit is unauthorized")
    func flippedBit() async throws {
        let harness = try self.makeHarness()
        let requestor = try Requestor.make()
        let request = try self.signedRequest(
            [harness.certID(harness.pki.eeGood)], signer: requestor.key, certificate: requestor.certificate,
            signature: { signature in
                var tampered = signature
                tampered[tampered.count - 1] ^= 0x01
                return tampered
            })
        #expect(await harness.respond(request).response == errorResponse(6))
    }

    @Test("a signature by a key other than the carried certificate's is unauthorized")
    func wrongKey() async throws {
        let harness = try self.makeHarness()
        let requestor = try Requestor.make()
        let request = try self.signedRequest(
            [harness.certID(harness.pki.eeGood)], signer: P256.Signing.PrivateKey(),
            certificate: requestor.certificate)
        #expect(await harness.respond(request).response == errorResponse(6))
    }

    @Test("a signature without a certificate is unauthorized")
    func noCertificate() async throws {
        let harness = try self.makeHarness()
        let requestor = try Requestor.make()
        let request = try self.signedRequest(
            [harness.certID(harness.pki.eeGood)], signer: requestor.key, certificate: nil)
        #expect(await harness.respond(request).response == errorResponse(6))
    }
}
