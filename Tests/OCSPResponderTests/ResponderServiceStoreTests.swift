import Ledger
import PKIMessages
import SwiftASN1
import Testing
import X509

@testable import OCSPResponder

/// Pre-signed answers kept in a store across restarts: reused while they state the current status and are not due.
@Suite("Responder service: pre-signed answers in a store")
struct ResponderServiceStoreTests {
    /// The serials index.txt lists, as big-endian magnitudes.
    func indexedSerials(_ pki: ResponderPKI) -> Set<[UInt8]> {
        Set([pki.tsa, pki.ocsp, pki.eeGood, pki.eeRevoked].map { Array($0.serialNumber.bytes.drop { $0 == 0 }) })
    }

    @Test("presignAll stores one record per serial the source lists, each the answer the cache serves")
    func presignAllStores() async throws {
        let store = InMemoryPresignedStore()
        let harness = try ResponderHarness(store: store)
        await harness.service.presignAll()
        let records = store.records
        #expect(records.count == harness.pki.indexedSerialCount)
        #expect(store.storedRecordCount == harness.pki.indexedSerialCount)
        #expect(Set(records.map(\.serial)) == self.indexedSerials(harness.pki))
        for record in records {
            // Stored under the issuer and the responder certificate, so a rotated responder's answers are not reused.
            #expect(record.issuer.hasPrefix(harness.issuer.label + "|"))
            #expect(record.thisUpdate == harness.clock.value)
            #expect(record.nextUpdate == harness.clock.value + harness.configuration.validitySeconds)
            let response = try OCSPResponse(derEncoded: record.response)
            let basic = try #require(try response.basicResponse())
            #expect(signatureVerifies(basic, with: harness.pki.ocsp, algorithm: .ecdsaWithSHA256))
            #expect(try basic.tbsResponseData.responses.map { try derBytes($0.certID) } == [record.certID])
        }

        let good = try #require(store.record(serial: Array(harness.pki.eeGood.serialNumber.bytes)))
        let certID = try harness.certID(harness.pki.eeGood)
        #expect(good.certID == (try derBytes(certID)))
        #expect(good.status == "good")
        let outcome = try await harness.respond(to: [certID])
        #expect(outcome.fromCache)
        #expect(outcome.response == good.response)
        #expect(outcome.validity?.entityTag == good.entityTag)

        let revoked = try #require(store.record(serial: Array(harness.pki.eeRevoked.serialNumber.bytes)))
        #expect(revoked.status.hasPrefix("revoked:"))
        #expect(revoked.status.hasSuffix(":1:issued"), "reason keyCompromise (1), an issued certificate")
    }

    @Test("a second responder over the same store and an unchanged status reuses every answer: no signature")
    func reusedAfterRestart() async throws {
        let store = InMemoryPresignedStore()
        let first = try ResponderHarness(store: store)
        await first.service.presignAll()
        #expect(first.signer.count == first.pki.indexedSerialCount)

        first.clock.advance(by: 600)
        let second = try ResponderHarness(store: store, clock: first.clock)
        await second.service.presignAll()
        #expect(second.signer.count == 0)
        #expect(second.service.cachedAnswerCount == second.pki.indexedSerialCount)
        #expect(store.storedRecordCount == first.pki.indexedSerialCount, "nothing new was stored")

        let stored = try #require(store.record(serial: Array(second.pki.eeRevoked.serialNumber.bytes)))
        let outcome = try await second.respond(to: [second.certID(second.pki.eeRevoked)])
        #expect(outcome.fromCache)
        #expect(outcome.response == stored.response)
        #expect(outcome.validity?.thisUpdate == stored.thisUpdate)
        #expect(second.signer.count == 0)
    }

    @Test("a second responder whose source changed for one serial re-signs exactly that one")
    func changedStatusResigned() async throws {
        let store = InMemoryPresignedStore()
        let first = try ResponderHarness(store: store)
        await first.service.presignAll()

        let changed = try MutableStatusLookup(
            first.pki.snapshot(
                first.pki.indexText(revoking: first.pki.eeGood, at: "260102030000Z", reason: "cessationOfOperation")))
        first.clock.advance(by: 600)
        let second = try ResponderHarness(store: store, status: changed, clock: first.clock)
        await second.service.presignAll()
        #expect(second.signer.count == 1)
        #expect(store.storedRecordCount == first.pki.indexedSerialCount + 1)
        let record = try #require(store.record(serial: Array(second.pki.eeGood.serialNumber.bytes)))
        #expect(record.status.hasPrefix("revoked:"))
        #expect(record.status.hasSuffix(":5:issued"))
        #expect(record.thisUpdate == first.clock.value)

        let outcome = try await second.respond(to: [second.certID(second.pki.eeGood)])
        #expect(outcome.fromCache)
        #expect(outcome.response == record.response)
        guard case .revoked(let info) = try second.singleResponse(outcome).certStatus else {
            Issue.record("expected revoked")
            return
        }
        #expect(info.revocationReason == .cessationOfOperation)
    }

    @Test("stored answers due for refresh are signed anew; those that are not are reused")
    func dueRecordsResigned() async throws {
        let store = InMemoryPresignedStore()
        let configuration = OCSPResponderConfiguration(validitySeconds: 3600, refreshFraction: 0.5)
        let first = try ResponderHarness(configuration: configuration, store: store)
        let start = first.clock.value
        await first.service.presignAll()

        let beforeDue = try ResponderHarness(
            configuration: configuration, store: store, clock: ResponderTestClock(start + 1799))
        await beforeDue.service.presignAll()
        #expect(beforeDue.signer.count == 0)

        let due = try ResponderHarness(
            configuration: configuration, store: store, clock: ResponderTestClock(start + 1800))
        await due.service.presignAll()
        #expect(due.signer.count == first.pki.indexedSerialCount)
    }

    // MARK: Known defects

    @Test("stored answers signed by another responder are not reused when the responder changed")
    func responderChanged() async throws {
        let store = InMemoryPresignedStore()
        let first = try ResponderHarness(store: store)  // the delegated responder signs
        await first.service.presignAll()

        first.clock.advance(by: 600)
        // Restart with the CA signing its own answers (e.g. the delegated responder's key was retired).
        let second = try ResponderHarness(caSigns: true, store: store, clock: first.clock)
        await second.service.presignAll()
        let outcome = try await second.respond(to: [second.certID(second.pki.eeGood)])
        let basic = try basicResponse(of: outcome)
        let signedByCurrentResponder = signatureVerifies(basic, with: second.pki.issuingCA, algorithm: .ecdsaWithSHA384)
        let carriesCertificates = basic.certs != nil
        do {
            #expect(second.signer.count == second.pki.indexedSerialCount)
            #expect(signedByCurrentResponder, "the answer must be signed by the configured signer, the CA")
            #expect(!carriesCertificates, "the CA signing itself sends no certificates")
        }
    }
}
