import ClockDiscipline
import Crypto
import DevelopmentPKI
import Foundation
import Ledger
import PKIMessages
import Signing
import SmartCardSigning
import SwiftASN1
import Synchronization
import Testing
import TimeStampAuthority
import X509

/// An audit log in memory.
final class MemoryAuditLog: TimeStampAuditLog {
    let records = Mutex<[TimeStampAuditRecord]>([])

    func append(_ record: TimeStampAuditRecord) async throws -> TimeStampAuditReceipt {
        self.records.withLock { records in
            records.append(record)
            return TimeStampAuditReceipt(sequence: Int64(records.count), recordHash: [])
        }
    }

    var isHealthy: Bool { true }

    func lastGenTimeMicroseconds() throws -> Int64? {
        self.records.withLock { $0.compactMap(\.genTimeMicros).max() }
    }
}

extension PIVCardTests {
    @Suite("The TSA signing on the emulated card")
    struct TimeStamps {
        @Test("an RFC 3161 token signed on the card verifies with openssl ts; the card pulled: systemFailure")
        func tokenOnTheCard() async throws {
            try await PCSCWorld.with { world in
                // The development PKI's TSU certificate (critical timeStamping EKU), its key put on the card.
                let paths = try DevelopmentPKI.ensure(stateDirectory: "\(world.directory)/state", tsuKeyType: .ecP256)
                    .paths
                let key = try P256.Signing.PrivateKey(
                    pemRepresentation: String(contentsOfFile: paths.tsaKey, encoding: .utf8))
                let certificate = try #require(try CertificateFileReader.readCertificates(atPath: paths.tsa).first)
                let card = PIVCardEmulator(pin: testPIN)
                card.install(.p256(key), at: .digitalSignature, certificate: try certificate.derBytes)
                let reader = VirtualCardReader(card: card)
                defer { reader.stop() }
                try await waitForCard(in: firstVirtualReader, present: true)

                var configuration = world.configuration()
                configuration.chainFile = paths.issuingCA
                configuration.healthCheckInterval = .seconds(60)
                let signer = try await SmartCardSigner(configuration: configuration, logger: quietLogger)
                #expect(signer.chain.count == 1)
                let policy: ASN1ObjectIdentifier = [1, 3, 6, 1, 4, 1, 32473, 1, 1]
                let tsa = try await TimeStampAuthority(
                    configuration: TSAConfiguration(
                        policies: [TSAPolicy(oid: policy, qualified: false)],
                        defaultPolicy: policy,
                        includeChain: true
                    ),
                    signer: signer,
                    auditLog: MemoryAuditLog(),
                    clockGate: AlwaysOpenClockGate(),
                    serials: SerialNumberGenerator(instanceID: 1, epoch: 1),
                    logger: quietLogger
                )
                try await withRunningSigner(signer) {
                    let directory = world.directory
                    try Data("a document to stamp".utf8).write(to: URL(fileURLWithPath: "\(directory)/document"))
                    let query = try run(
                        "/usr/bin/openssl",
                        [
                            "ts", "-query", "-data", "\(directory)/document", "-sha256", "-cert", "-out",
                            "\(directory)/q.tsq",
                        ]
                    )
                    #expect(query.status == 0, "\(query.output)")
                    let request = try Array(Data(contentsOf: URL(fileURLWithPath: "\(directory)/q.tsq")))
                    let outcome = await tsa.respond(to: request[...], clientAddress: nil)
                    #expect(outcome.status == .granted)
                    try Data(outcome.response).write(to: URL(fileURLWithPath: "\(directory)/r.tsr"))
                    let anchors =
                        try String(contentsOfFile: paths.rootCA, encoding: .utf8)
                        + String(contentsOfFile: paths.issuingCA, encoding: .utf8)
                    try Data(anchors.utf8).write(to: URL(fileURLWithPath: "\(directory)/anchors.pem"))
                    let verify = try run(
                        "/usr/bin/openssl",
                        [
                            "ts", "-verify", "-in", "\(directory)/r.tsr", "-queryfile", "\(directory)/q.tsq", "-CAfile",
                            "\(directory)/anchors.pem",
                        ]
                    )
                    #expect(verify.status == 0 && verify.output.contains("Verification: OK"), "\(verify.output)")
                    #expect(card.authentications >= 2)

                    // The card pulled: the signature fails, the TSA answers systemFailure, then refuses at once.
                    reader.remove()
                    let failed = await tsa.respond(to: request[...], clientAddress: nil)
                    #expect(failed.status != .granted)
                    #expect(failed.failInfo == .systemFailure)
                    #expect(!tsa.health().isServing)
                    let refused = await tsa.respond(to: request[...], clientAddress: nil)
                    #expect(refused.failInfo == .systemFailure)

                    reader.insert()
                    let back = await eventually(timeout: .seconds(20)) { tsa.health().isServing }
                    #expect(back, "\(tsa.health())")
                    let again = await tsa.respond(to: request[...], clientAddress: nil)
                    #expect(again.status == .granted)
                }
            }
        }
    }
}
