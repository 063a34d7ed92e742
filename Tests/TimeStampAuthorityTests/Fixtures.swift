import ClockDiscipline
import Crypto
import DevelopmentPKI
import Foundation
import Ledger
import Logging
import PKIMessages
import Signing
import SwiftASN1
import Synchronization
import TimeStampAuthority
import X509

/// An audit log in memory that can be told to fail.
final class MemoryAuditLog: TimeStampAuditLog {
    let records = Mutex<[TimeStampAuditRecord]>([])
    let failing = Atomic<Bool>(false)

    func append(_ record: TimeStampAuditRecord) async throws -> TimeStampAuditReceipt {
        if self.failing.load(ordering: .relaxed) {
            throw CancellationError()
        }
        return self.records.withLock { records in
            records.append(record)
            return TimeStampAuditReceipt(sequence: Int64(records.count), recordHash: [])
        }
    }

    var isHealthy: Bool { !self.failing.load(ordering: .relaxed) }

    /// The genTime a restarted TSA resumes after; set by tests, else the records' largest.
    let persistedGenTime = Mutex<Int64?>(nil)
    func lastGenTimeMicroseconds() throws -> Int64? {
        let stored = self.records.withLock { $0.compactMap(\.genTimeMicros).max() }
        return [self.persistedGenTime.withLock { $0 }, stored].compactMap { $0 }.max()
    }
}

/// A gate the test opens and closes, with the bound it reports.
final class SwitchGate: ClockGate {
    let open = Atomic<Bool>(true)
    /// The bound in nanoseconds; negative for none.
    let bound = Atomic<Int64>(-1)
    func decision() -> ClockGateDecision {
        let bound = self.bound.load(ordering: .relaxed)
        return ClockGateDecision(
            isOpen: self.open.load(ordering: .relaxed),
            reason: self.open.load(ordering: .relaxed) ? nil : "test gate closed",
            boundNanoseconds: bound < 0 ? nil : bound)
    }
    var gateDescription: String { "test" }
}

/// A wall clock for tests: starts where the test says and moves 1 µs per read, so that genTime (which strictly
/// increases) can be predicted; `set` steps it.
final class TestClock: Sendable {
    let nanoseconds: Mutex<Int64>

    init(_ time: (seconds: Int64, nanoseconds: Int64)) {
        // The TSA reads the clock once at start-up (certificate validity): the first token gets `time` itself.
        self.nanoseconds = Mutex(time.seconds * 1_000_000_000 + time.nanoseconds - 1000)
    }

    func read() -> (seconds: Int64, nanoseconds: Int64) {
        self.nanoseconds.withLock { value in
            let now = value
            value += 1000
            return (now / 1_000_000_000, now % 1_000_000_000)
        }
    }

    func set(_ time: (seconds: Int64, nanoseconds: Int64)) {
        self.nanoseconds.withLock { $0 = time.seconds * 1_000_000_000 + time.nanoseconds }
    }
}

/// Development PKIs per TSU key type, created once per test process.
enum PKIFixtures {
    static let cache = Mutex<[DevelopmentKeyType: DevelopmentPKI.Paths]>([:])

    static func paths(_ type: DevelopmentKeyType) throws -> DevelopmentPKI.Paths {
        if let cached = cache.withLock({ $0[type] }) { return cached }
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("sigillum-tsa-tests-\(type.rawValue)-\(UUID().uuidString)").path
        // Issued at the tests' fixed time (valid from an hour before it, for years), not at the real time: a PKI
        // issued now would not yet be valid at the fixed time once the real clock is an hour past it.
        let issued = Date(timeIntervalSince1970: TimeInterval(fixedTime.seconds))
        let paths = try DevelopmentPKI.ensure(stateDirectory: directory, tsuKeyType: type, now: issued).paths
        cache.withLock { $0[type] = paths }
        return paths
    }

    static func signer(_ type: DevelopmentKeyType, pss: Bool = false, includeChain: Bool = true) throws
        -> SoftwareSigner
    {
        let paths = try self.paths(type)
        return SoftwareSigner(
            key: try KeyFileReader.readKey(atPath: paths.tsaKey),
            certificate: try CertificateFileReader.readCertificates(atPath: paths.tsa)[0],
            chain: try CertificateFileReader.readCertificates(atPath: paths.issuingCA),
            rsaPadding: pss ? .pss : .pkcs1v15
        )
    }
}

/// Noon, 25 November 2026, plus 120 ms 456 µs.
let fixedTime: (seconds: Int64, nanoseconds: Int64) = (1_795_608_000, 120_456_000)

let developmentPolicy: ASN1ObjectIdentifier = [1, 3, 6, 1, 4, 1, 32473, 1, 1]
let qualifiedPolicy: ASN1ObjectIdentifier = [0, 4, 0, 2023, 1, 1]

func makeConfiguration(
    accuracyMicroseconds: Int64 = 500_000,
    includeChain: Bool = false,
    ordering: Bool = false,
    hashes: [ImprintHash] = [.sha256, .sha384, .sha512, .sha3_256, .sha3_384, .sha3_512]
) -> TSAConfiguration {
    TSAConfiguration(
        policies: [
            TSAPolicy(oid: developmentPolicy, qualified: false), TSAPolicy(oid: qualifiedPolicy, qualified: true),
        ],
        defaultPolicy: developmentPolicy,
        acceptedHashes: hashes,
        accuracyMicroseconds: accuracyMicroseconds,
        ordering: ordering,
        includeTSAName: true,
        includeChain: includeChain
    )
}

func makeTSA(
    signer: any Signer,
    configuration: TSAConfiguration = makeConfiguration(),
    log: MemoryAuditLog = MemoryAuditLog(),
    gate: SwitchGate = SwitchGate(),
    time: (seconds: Int64, nanoseconds: Int64) = fixedTime,
    clock: TestClock? = nil
) async throws -> TimeStampAuthority {
    let clock = clock ?? TestClock(time)
    return try await TimeStampAuthority(
        configuration: configuration,
        signer: signer,
        auditLog: log,
        clockGate: gate,
        serials: SerialNumberGenerator(instanceID: 0xA1B2_C3D4, epoch: 7),
        logger: Logger(label: "test"),
        now: { clock.read() }
    )
}

func request(
    hash: ASN1ObjectIdentifier = .HashAlgorithm.sha256,
    nullParameters: Bool = false,
    digest: [UInt8] = Array(SHA256.hash(data: Array("data".utf8))),
    policy: ASN1ObjectIdentifier? = nil,
    nonce: [UInt8]? = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08],
    certReq: Bool = true,
    version: Int = 1,
    extensions: [Certificate.Extension]? = nil
) throws -> [UInt8] {
    let imprint = MessageImprint(
        hashAlgorithm: AlgorithmIdentifier(
            algorithm: hash, parameters: nullParameters ? AlgorithmIdentifier.nullParameters : nil),
        hashedMessage: digest[...]
    )
    let request = TimeStampReq(
        version: version,
        messageImprint: imprint,
        reqPolicy: policy,
        nonce: try nonce.map { try DERInteger(derIntegerBytes: $0[...]) },
        certReq: certReq,
        extensions: extensions
    )
    var coder = DER.Serializer()
    try coder.serialize(request)
    return coder.serializedBytes
}

/// Parses a response and its token.
func parse(_ outcome: TimeStampOutcome) throws -> (TimeStampResp, TimeStampToken?) {
    let response = try TimeStampResp(derEncoded: outcome.response)
    return (response, try response.parsedToken())
}
