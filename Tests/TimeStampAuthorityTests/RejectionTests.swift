import Crypto
import DevelopmentPKI
import Foundation
import Ledger
import PKIMessages
import Signing
import SwiftASN1
import Synchronization
import Testing
import TimeStampAuthority
import X509

@Suite struct RejectionTests {
    func expectRejection(
        _ outcome: TimeStampOutcome, _ failure: PKIFailureInfo, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let (response, token) = try parse(outcome)
        #expect(response.status.status == .rejection, sourceLocation: sourceLocation)
        #expect(response.status.failInfo == failure, sourceLocation: sourceLocation)
        #expect(response.timeStampToken == nil, sourceLocation: sourceLocation)
        #expect(token == nil, sourceLocation: sourceLocation)
        #expect(!(response.status.statusString ?? []).isEmpty, sourceLocation: sourceLocation)
        #expect(outcome.failInfo == failure, sourceLocation: sourceLocation)
    }

    @Test func undecodableAndTrailingBytesAreBadDataFormat() async throws {
        let tsa = try await makeTSA(signer: try PKIFixtures.signer(.ecP256))
        let valid = try request()
        try expectRejection(await tsa.respond(to: [0x30, 0x03, 0x02][...], clientAddress: nil), .badDataFormat)
        try expectRejection(await tsa.respond(to: (valid + [0x00])[...], clientAddress: nil), .badDataFormat)
        try expectRejection(await tsa.respond(to: valid.dropLast(), clientAddress: nil), .badDataFormat)
        try expectRejection(await tsa.respond(to: [][...], clientAddress: nil), .badDataFormat)
    }

    @Test func imprintLengthMismatchIsBadDataFormat() async throws {
        let tsa = try await makeTSA(signer: try PKIFixtures.signer(.ecP256))
        let outcome = await tsa.respond(
            to: try request(digest: Array(repeating: 1, count: 31))[...], clientAddress: nil)
        try expectRejection(outcome, .badDataFormat)
    }

    @Test func unsupportedVersionIsBadRequest() async throws {
        let tsa = try await makeTSA(signer: try PKIFixtures.signer(.ecP256))
        try expectRejection(await tsa.respond(to: try request(version: 2)[...], clientAddress: nil), .badRequest)
    }

    @Test func hashAlgorithms() async throws {
        let tsa = try await makeTSA(signer: try PKIFixtures.signer(.ecP256))
        try expectRejection(
            await tsa.respond(
                to: try request(hash: [1, 2, 3, 4], digest: Array(repeating: 1, count: 32))[...], clientAddress: nil),
            .badAlg
        )
        try expectRejection(
            await tsa.respond(
                to: try request(hash: .HashAlgorithm.sha1, digest: Array(repeating: 1, count: 20))[...],
                clientAddress: nil),
            .badAlg
        )
        try expectRejection(
            await tsa.respond(
                to: try request(hash: .HashAlgorithm.md5, digest: Array(repeating: 1, count: 16))[...],
                clientAddress: nil),
            .badAlg
        )
        for (oid, length) in [
            (ASN1ObjectIdentifier.HashAlgorithm.sha384, 48), (.HashAlgorithm.sha512, 64), (.HashAlgorithm.sha3_256, 32),
            (.HashAlgorithm.sha3_384, 48), (.HashAlgorithm.sha3_512, 64),
        ] {
            for null in [false, true] {
                let outcome = await tsa.respond(
                    to: try request(hash: oid, nullParameters: null, digest: Array(repeating: 7, count: length))[...],
                    clientAddress: nil
                )
                #expect(outcome.status == .granted, "\(oid) null=\(null)")
            }
        }
        // Parameters other than NULL.
        var strange = try request()
        // Replace the absent parameters by an INTEGER: rebuild by hand.
        let imprint = MessageImprint(
            hashAlgorithm: AlgorithmIdentifier(algorithm: .HashAlgorithm.sha256, parameters: try ASN1Any(erasing: 5)),
            hashedMessage: Array(repeating: 1, count: 32)[...]
        )
        var coder = DER.Serializer()
        try coder.serialize(TimeStampReq(messageImprint: imprint))
        strange = coder.serializedBytes
        try expectRejection(await tsa.respond(to: strange[...], clientAddress: nil), .badAlg)
    }

    @Test func weakHashesWhenAllowed() async throws {
        let tsa = try await makeTSA(
            signer: try PKIFixtures.signer(.ecP256), configuration: makeConfiguration(hashes: [.sha256, .sha1]))
        let outcome = await tsa.respond(
            to: try request(hash: .HashAlgorithm.sha1, digest: Array(repeating: 1, count: 20))[...],
            clientAddress: nil
        )
        #expect(outcome.status == .granted)
    }

    @Test func unknownPolicyIsUnacceptedPolicy() async throws {
        let tsa = try await makeTSA(signer: try PKIFixtures.signer(.ecP256))
        try expectRejection(
            await tsa.respond(to: try request(policy: [1, 2, 3, 4, 5])[...], clientAddress: nil), .unacceptedPolicy)
    }

    @Test(arguments: [false, true])
    func anyExtensionIsUnacceptedExtension(critical: Bool) async throws {
        let tsa = try await makeTSA(signer: try PKIFixtures.signer(.ecP256))
        let ext = Certificate.Extension(oid: [1, 2, 3, 4, 99], critical: critical, value: [0x05, 0x00])
        try expectRejection(
            await tsa.respond(to: try request(extensions: [ext])[...], clientAddress: nil), .unacceptedExtension)
    }

    @Test func closedGateIsTimeNotAvailable() async throws {
        let gate = SwitchGate()
        let tsa = try await makeTSA(signer: try PKIFixtures.signer(.ecP256), gate: gate)
        gate.open.store(false, ordering: .relaxed)
        try expectRejection(await tsa.respond(to: try request()[...], clientAddress: nil), .timeNotAvailable)
        #expect(!tsa.health().isServing)
        gate.open.store(true, ordering: .relaxed)
        #expect(await tsa.respond(to: try request()[...], clientAddress: nil).status == .granted)
        #expect(tsa.health().isServing)
    }

    @Test func failedAuditCommitWithholdsTheToken() async throws {
        let log = MemoryAuditLog()
        let tsa = try await makeTSA(signer: try PKIFixtures.signer(.ecP256), log: log)
        log.failing.store(true, ordering: .relaxed)
        try expectRejection(await tsa.respond(to: try request()[...], clientAddress: nil), .systemFailure)
        #expect(log.records.withLock { $0.isEmpty })
        #expect(!tsa.health().isServing)
    }

    @Test func timeNotAvailableEncodingIsMinimal() async throws {
        let gate = SwitchGate()
        gate.open.store(false, ordering: .relaxed)
        let tsa = try await makeTSA(signer: try PKIFixtures.signer(.ecP256), gate: gate)
        let outcome = await tsa.respond(to: try request()[...], clientAddress: nil)
        // X.690 §11.2.2: bit 14 alone is two content octets with one unused bit.
        #expect(outcome.response.windowsContain([0x03, 0x03, 0x01, 0x00, 0x02]))
    }
}
