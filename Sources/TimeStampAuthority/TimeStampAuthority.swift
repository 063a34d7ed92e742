public import ClockDiscipline
import CoreMetrics
import Crypto
import Foundation
import Ledger
public import Logging
public import PKIMessages
public import Signing
import SwiftASN1
import Synchronization
public import X509

/// What the TSA answered: the TimeStampResp DER and a summary for logs and metrics.
public struct TimeStampOutcome: Sendable {
    /// The TimeStampResp DER, always present: a protocol failure is an answer, not an error (RFC 3161 §2.4.2).
    public var response: [UInt8]
    public var status: PKIStatus
    public var failInfo: PKIFailureInfo?
    /// The serial of the token, when one was issued.
    public var serial: DERInteger?

    /// The serial in hex, when a token was issued.
    public var serialHex: String? { self.serial?.hexString }
}

/// Whether the TSA can serve, and why not.
public struct TSAHealth: Sendable, Hashable {
    public var isServing: Bool
    /// Why not, one line per cause.
    public var problems: [String]
    public var signer: String
    public var clockGate: String
}

/// The RFC 3161 Time-Stamp Authority: bytes in, a TimeStampResp out. It knows no HTTP.
///
/// The checks, in order (each failure is a rejection with the PKIFailureInfo RFC 3161 §2.4.2 names):
/// 1. the request is a DER TimeStampReq with nothing after it → else badDataFormat;
/// 2. version 1 → else badRequest (as OpenSSL's TSA answers);
/// 3. the imprint's hash algorithm is accepted, with absent or NULL parameters → else badAlg;
///    the imprint has that algorithm's length → else badDataFormat;
/// 4. a requested policy is one of ours → else unacceptedPolicy;
/// 5. no extensions, since this TSA recognises none (§2.4.1) → else unacceptedExtension;
/// 6. the clock gate is open → else timeNotAvailable;
/// 7. the signer is available → else systemFailure;
/// 8. genTime can be taken strictly after the last issued one (``GenTimeSequencer``), and the accuracy stated is
///    at least the clock's error bound at that moment → else timeNotAvailable;
/// 9. the signature succeeds and the audit record (with the clock bound and gate state the token was issued
///    under) commits → else systemFailure.
/// A granted token is returned only after its audit record is durable.
public final class TimeStampAuthority: Sendable {
    let configuration: TSAConfiguration
    let assembler: TokenAssembler
    let signer: any Signer
    let auditLog: any TimeStampAuditLog
    let clockGate: any ClockGate
    let serials: SerialNumberGenerator
    let sequencer: GenTimeSequencer
    let acceptedHashes: [ASN1ObjectIdentifier: ImprintHash]
    let logger: Logger
    let metrics: TSAMetrics
    let now: @Sendable () -> (seconds: Int64, nanoseconds: Int64)

    /// Validates the TSU certificate, proves the key matches it, and encodes the constant parts of tokens.
    public convenience init(
        configuration: TSAConfiguration,
        signer: any Signer,
        auditLog: any TimeStampAuditLog,
        clockGate: any ClockGate,
        serials: SerialNumberGenerator,
        logger: Logger,
        now: @escaping @Sendable () -> (seconds: Int64, nanoseconds: Int64) = TimeStampAuthority.systemTime,
        skipKeyProbe: Bool = false
    ) async throws {
        let lastGenTime: Int64?
        do {
            lastGenTime = try auditLog.lastGenTimeMicroseconds()
        } catch {
            throw TSAError.make(
                .configuration, "the last issued genTime cannot be read from the audit log", cause: error)
        }
        try await self.init(
            configuration: configuration,
            signer: signer,
            auditLog: auditLog,
            clockGate: clockGate,
            serials: serials,
            sequencer: GenTimeSequencer(
                after: lastGenTime, maximumWait: configuration.maximumOrderingWait, now: now),
            metrics: TSAMetrics(),
            logger: logger,
            now: now,
            skipKeyProbe: skipKeyProbe
        )
    }

    /// A TSA with a new configuration and signer (a configuration reload) that continues this one: the same serial
    /// number generator, genTime sequence, audit log, clock gate and counters. Tokens of both stay unique and in
    /// genTime order while the old one finishes its last requests.
    public func successor(configuration: TSAConfiguration, signer: any Signer, logger: Logger) async throws
        -> TimeStampAuthority
    {
        self.sequencer.maximumWait = configuration.maximumOrderingWait
        return try await TimeStampAuthority(
            configuration: configuration,
            signer: signer,
            auditLog: self.auditLog,
            clockGate: self.clockGate,
            serials: self.serials,
            sequencer: self.sequencer,
            metrics: self.metrics,
            logger: logger,
            now: self.now,
            skipKeyProbe: false
        )
    }

    init(
        configuration: TSAConfiguration,
        signer: any Signer,
        auditLog: any TimeStampAuditLog,
        clockGate: any ClockGate,
        serials: SerialNumberGenerator,
        sequencer: GenTimeSequencer,
        metrics: TSAMetrics,
        logger: Logger,
        now: @escaping @Sendable () -> (seconds: Int64, nanoseconds: Int64),
        skipKeyProbe: Bool
    ) async throws {
        guard !configuration.policies.isEmpty else {
            throw TSAError.make(.configuration, "no TSA policy is configured")
        }
        guard configuration.policies.contains(where: { $0.oid == configuration.defaultPolicy }) else {
            throw TSAError.make(
                .configuration, "the default policy \(configuration.defaultPolicy) is not in the policy list")
        }
        let current = now()
        let date = Date(timeIntervalSince1970: TimeInterval(current.seconds) + TimeInterval(current.nanoseconds) / 1e9)
        try TSUCertificateProfile.validate(signer.certificate, at: date)
        if !skipKeyProbe {
            try await signer.verifyKeyMatchesCertificate()
        }
        self.configuration = configuration
        self.assembler = try TokenAssembler(signer: signer, configuration: configuration)
        self.signer = signer
        self.auditLog = auditLog
        self.clockGate = clockGate
        self.serials = serials
        self.sequencer = sequencer
        var accepted: [ASN1ObjectIdentifier: ImprintHash] = [:]
        for hash in configuration.acceptedHashes { accepted[hash.oid] = hash }
        self.acceptedHashes = accepted
        self.logger = logger
        self.metrics = metrics
        self.now = now
    }

    /// The wall clock (CLOCK_REALTIME) in seconds and nanoseconds since 1970.
    public static let systemTime: @Sendable () -> (seconds: Int64, nanoseconds: Int64) = {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return (Int64(spec.tv_sec), Int64(spec.tv_nsec))
    }

    /// Answers one request. Never throws: every failure is a TimeStampResp.
    public func respond(to request: ArraySlice<UInt8>, clientAddress: String?) async -> TimeStampOutcome {
        let start = ContinuousClock.now
        let outcome = await self.process(request, clientAddress: clientAddress)
        self.account(outcome, since: start, clientAddress: clientAddress)
        return outcome
    }

    /// Answers one request and hands the answer to `completion`, without a task when it can: an event loop calls
    /// this and goes on serving other connections while the audit record commits.
    ///
    /// With an in-process signer and a clock past the last genTime, everything up to the ledger append runs on the
    /// caller's thread; the ledger calls back once the record is durable (the token is still never handed out
    /// before). A hardware signer, or a genTime that must wait for the clock, continues in a task. `completion` is
    /// called exactly once, on the caller's thread (rejections), the ledger's writer, or a task; it must not block.
    public func respond(
        to request: ArraySlice<UInt8>,
        clientAddress: String?,
        completion: @escaping @Sendable (TimeStampOutcome) -> Void
    ) {
        let start = ContinuousClock.now
        let finish: @Sendable (TimeStampOutcome) -> Void = { outcome in
            self.account(outcome, since: start, clientAddress: clientAddress)
            completion(outcome)
        }
        let admitted: Admitted
        switch self.admit(request) {
        case .answered(let outcome): return finish(outcome)
        case .admitted(let checked): admitted = checked
        }
        guard let time = self.sequencer.nextWithoutSleeping() else {
            Task { finish(await self.issue(admitted, clientAddress: clientAddress)) }
            return
        }
        let prepared: PreparedToken
        switch self.prepare(admitted, time: time) {
        case .answered(let outcome): return finish(outcome)
        case .prepared(let token): prepared = token
        }
        let signed: (response: [UInt8], token: Range<Int>)
        do {
            guard
                let inProcess = try self.assembler.grantedResponseWithoutSuspending(
                    tstInfo: prepared.tstInfo, includeCertificates: admitted.request.certReq)
            else {
                Task { finish(await self.signAndLog(prepared, clientAddress: clientAddress)) }
                return
            }
            signed = inProcess
        } catch {
            return finish(self.signingFailed(prepared, error))
        }
        let record = self.auditRecord(prepared, signed: signed, clientAddress: clientAddress)
        self.auditLog.append(record) { result in
            finish(self.logged(prepared, signed: signed, result))
        }
    }

    /// Metrics and the debug line of one answer.
    func account(_ outcome: TimeStampOutcome, since start: ContinuousClock.Instant, clientAddress: String?) {
        let elapsed = ContinuousClock.now - start
        self.metrics.duration.recordNanoseconds(
            elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        if let failInfo = outcome.failInfo {
            self.metrics.record(failure: failInfo)
        } else {
            self.metrics.granted.increment()
            self.metrics.tokens.increment()
            self.metrics.counters.granted.add(1, ordering: .relaxed)
        }
        // One line per answer, at debug (the ledger is the record; this is for following a client in the journal).
        self.logger.debug(
            outcome.failInfo == nil ? "token granted" : "request rejected",
            metadata: [
                "sigillum.event": outcome.failInfo == nil ? "tsa.granted" : "tsa.rejected",
                "tsa.serial": .string(outcome.serialHex ?? ""),
                "tsa.failinfo": .string(outcome.failInfo.map { "\($0)" } ?? ""),
                "client.address": .string(clientAddress ?? ""),
            ])
    }

    func process(_ bytes: ArraySlice<UInt8>, clientAddress: String?) async -> TimeStampOutcome {
        switch self.admit(bytes) {
        case .answered(let outcome): return outcome
        case .admitted(let admitted): return await self.issue(admitted, clientAddress: clientAddress)
        }
    }

    /// A request that passed the checks 1–7 (see the type's documentation).
    struct Admitted: Sendable {
        var request: TimeStampReq
        /// The client's MessageImprint encoding, copied into TSTInfo unchanged.
        var imprintDER: ArraySlice<UInt8>
        var hash: ImprintHash
        var policy: TokenAssembler.PolicyParts
        /// The clock gate's decision the token is issued under.
        var gate: ClockGateDecision
    }

    enum Admission {
        case answered(TimeStampOutcome)
        case admitted(Admitted)
    }

    /// Checks 1–7: the request itself, the clock gate and the signer's availability.
    func admit(_ bytes: ArraySlice<UInt8>) -> Admission {
        let request: TimeStampReq
        let imprintDER: ArraySlice<UInt8>
        do {
            let node = try DER.parse(bytes)  // rejects trailing bytes
            request = try TimeStampReq(derEncoded: node)
            // The client's MessageImprint bytes, copied into TSTInfo unchanged (present once the request parsed).
            guard let encoded = Self.messageImprintEncoding(in: node) else {
                throw ASN1Error.invalidASN1Object(reason: "TimeStampReq without a MessageImprint")
            }
            imprintDER = encoded
        } catch {
            // The parser's reason goes to the debug log only: it names source locations, not the client's mistake.
            self.logger.debug("undecodable request", metadata: ["error": "\(error)"])
            return .answered(self.reject(.badDataFormat, "the request is not a DER-encoded TimeStampReq"))
        }
        guard request.version == 1 else {
            return .answered(
                self.reject(.badRequest, "unsupported TimeStampReq version \(request.version); only v1 exists"))
        }
        let algorithm = request.messageImprint.hashAlgorithm
        guard let hash = self.acceptedHashes[algorithm.algorithm] else {
            let known = ImprintHash.known.first { $0.oid == algorithm.algorithm }
            let reason =
                known.map { "the hash algorithm \($0.name) is not accepted by this TSA" }
                ?? "the hash algorithm \(algorithm.algorithm) is unknown"
            return .answered(self.reject(.badAlg, reason))
        }
        guard algorithm.hasAbsentOrNullParameters else {
            return .answered(
                self.reject(.badAlg, "the \(hash.name) AlgorithmIdentifier carries parameters other than NULL"))
        }
        guard request.messageImprint.hashedMessage.count == hash.digestLength else {
            return .answered(
                self.reject(
                    .badDataFormat,
                    "the message imprint is \(request.messageImprint.hashedMessage.count) octets; \(hash.name) gives \(hash.digestLength)"
                ))
        }
        let policyOID = request.reqPolicy ?? self.configuration.defaultPolicy
        guard let policy = self.assembler.policies[policyOID] else {
            return .answered(self.reject(.unacceptedPolicy, "the policy \(policyOID) is not offered by this TSA"))
        }
        if let extensions = request.extensions {
            // RFC 3161 §2.4.1: an extension the TSA does not recognise, critical or not, is refused.
            let names = extensions.map { "\($0.oid)" }.joined(separator: ", ")
            return .answered(
                self.reject(
                    .unacceptedExtension,
                    "this TSA supports no request extension (got \(names.isEmpty ? "an empty list" : names))"))
        }
        let gate = self.clockGate.decision()
        guard gate.isOpen else {
            return .answered(self.refuseForTime(gate.reason ?? "the time source is not available"))
        }
        if case .unavailable(let reason) = self.signer.health {
            return .answered(self.reject(.systemFailure, "the signer is unavailable: \(reason)"))
        }
        return .admitted(
            Admitted(request: request, imprintDER: imprintDER, hash: hash, policy: policy, gate: gate))
    }

    /// Checks 8–9 in a task: genTime (waiting for the clock if need be), signature, audit record.
    func issue(_ admitted: Admitted, clientAddress: String?) async -> TimeStampOutcome {
        let time: (seconds: Int64, nanoseconds: Int64)
        do {
            time = try await self.sequencer.next()
        } catch {
            return self.refuseForTime(
                "the clock reads \(error.microseconds) µs before the last issued genTime; tokens resume when it "
                    + "passes it (genTime never goes backwards)")
        }
        switch self.prepare(admitted, time: time) {
        case .answered(let outcome): return outcome
        case .prepared(let prepared): return await self.signAndLog(prepared, clientAddress: clientAddress)
        }
    }

    /// A token's TSTInfo, ready to be signed.
    struct PreparedToken: Sendable {
        var admitted: Admitted
        var serial: DERInteger
        var genTime: String
        var genTimeMicros: Int64
        var accuracyMicros: Int64?
        var tstInfo: [UInt8]
    }

    enum Preparation {
        case answered(TimeStampOutcome)
        case prepared(PreparedToken)
    }

    /// The accuracy check at the moment of issue, the serial and the TSTInfo.
    func prepare(_ admitted: Admitted, time: (seconds: Int64, nanoseconds: Int64)) -> Preparation {
        let gate = admitted.gate
        // The accuracy stated is never less than the clock's error bound at the moment of issue.
        let accuracyDER: [UInt8]
        let accuracyMicros: Int64?
        if self.configuration.dynamicAccuracy {
            guard let bound = gate.boundNanoseconds else {
                return .answered(
                    self.refuseForTime("no clock error bound is proven, and the accuracy is the bound (dynamic)"))
            }
            let dynamic = TokenAssembler.dynamicAccuracy(boundNanoseconds: bound)
            guard !dynamic.der.isEmpty else {
                return .answered(self.reject(.systemFailure, "the accuracy could not be encoded"))
            }
            (accuracyDER, accuracyMicros) = (dynamic.der, dynamic.microseconds)
        } else {
            if gate.enforced, let bound = gate.boundNanoseconds, let stated = self.assembler.accuracyMicroseconds,
                bound > stated * 1000
            {
                return .answered(
                    self.refuseForTime(
                        "the clock error bound \(ClockEvaluation.seconds(bound)) exceeds the stated accuracy "
                            + "\(ClockEvaluation.seconds(stated * 1000))"))
            }
            (accuracyDER, accuracyMicros) = (self.assembler.accuracyDER, self.assembler.accuracyMicroseconds)
        }

        let serial = self.serials.next()
        // The formatter writes `YYYYMMDDhhmmss[.f]Z` by construction (RFC 3161 §2.4.2); it is not parsed back.
        let genTime = GenTimeFormatter.format(
            seconds: time.seconds, nanoseconds: time.nanoseconds, digits: self.assembler.fractionDigits)
        assert((try? GeneralizedTimeText(genTime)) != nil, "GenTimeFormatter wrote an invalid GeneralizedTime")
        let tstInfo = self.assembler.tstInfo(
            policy: admitted.policy,
            messageImprintDER: admitted.imprintDER,
            serial: serial,
            genTime: genTime,
            accuracyDER: accuracyDER,
            nonce: admitted.request.nonce
        )
        return .prepared(
            PreparedToken(
                admitted: admitted,
                serial: serial,
                genTime: genTime,
                genTimeMicros: time.seconds * 1_000_000 + time.nanoseconds / 1000,
                accuracyMicros: accuracyMicros,
                tstInfo: tstInfo
            ))
    }

    /// Signs (awaiting the signer) and logs a prepared token.
    func signAndLog(_ prepared: PreparedToken, clientAddress: String?) async -> TimeStampOutcome {
        let signed: (response: [UInt8], token: Range<Int>)
        do {
            signed = try await self.assembler.grantedResponse(
                tstInfo: prepared.tstInfo, includeCertificates: prepared.admitted.request.certReq)
        } catch {
            return self.signingFailed(prepared, error)
        }
        let record = self.auditRecord(prepared, signed: signed, clientAddress: clientAddress)
        let result: Result<TimeStampAuditReceipt, any Error>
        do {
            result = .success(try await self.auditLog.append(record))
        } catch {
            result = .failure(error)
        }
        return self.logged(prepared, signed: signed, result)
    }

    func signingFailed(_ prepared: PreparedToken, _ error: any Error) -> TimeStampOutcome {
        self.logger.error(
            "signing a time-stamp token failed",
            metadata: [
                "tsa.serial": "\(prepared.serial.hexString)", "error": "\(error)", "signer.kind": "\(self.signer.kind)",
            ]
        )
        return self.reject(.systemFailure, "the token could not be signed")
    }

    /// The audit record of a signed token, with the clock bound and gate state it was issued under.
    func auditRecord(
        _ prepared: PreparedToken, signed: (response: [UInt8], token: Range<Int>), clientAddress: String?
    ) -> TimeStampAuditRecord {
        let admitted = prepared.admitted
        return TimeStampAuditRecord(
            serialNumber: Array(prepared.serial.contentOctets),
            genTime: prepared.genTime,
            policy: admitted.policy.oidText,
            hashAlgorithm: admitted.hash.oidText,
            imprint: Array(admitted.request.messageImprint.hashedMessage),
            nonce: admitted.request.nonce.map { Array($0.contentOctets) },
            clientAddress: clientAddress,
            tokenSHA256: SHA256.hash(data: signed.response[signed.token]).withUnsafeBytes { Array($0) },
            accuracyMicros: prepared.accuracyMicros,
            genTimeMicros: prepared.genTimeMicros,
            clockBoundMicros: admitted.gate.boundNanoseconds.map { ($0 + 999) / 1000 },
            clockGate: admitted.gate.stateText
        )
    }

    /// The answer once the audit log reported on the record: the token only when the record is durable.
    func logged(
        _ prepared: PreparedToken, signed: (response: [UInt8], token: Range<Int>),
        _ result: Result<TimeStampAuditReceipt, any Error>
    ) -> TimeStampOutcome {
        if case .failure(let error) = result {
            self.logger.error(
                "the audit record could not be committed; the token is withheld",
                metadata: ["tsa.serial": "\(prepared.serial.hexString)", "error": "\(error)"]
            )
            return self.reject(.systemFailure, "the audit log is unavailable")
        }
        return TimeStampOutcome(response: signed.response, status: .granted, failInfo: nil, serial: prepared.serial)
    }

    /// The encoded MessageImprint inside a parsed TimeStampReq node (its second element).
    static func messageImprintEncoding(in node: ASN1Node) -> ArraySlice<UInt8>? {
        guard case .constructed(let children) = node.content else { return nil }
        var iterator = children.makeIterator()
        _ = iterator.next()
        return iterator.next()?.encodedBytes
    }

    /// A timeNotAvailable rejection, counted as a stamp refused for time.
    func refuseForTime(_ reason: String) -> TimeStampOutcome {
        self.metrics.refusedForTime.increment()
        self.metrics.counters.refusedForTime.add(1, ordering: .relaxed)
        return self.reject(.timeNotAvailable, reason)
    }

    func reject(_ failure: PKIFailureInfo, _ reason: String) -> TimeStampOutcome {
        self.logger.debug("rejected", metadata: ["tsa.failinfo": "\(failure)", "reason": "\(reason)"])
        let status = PKIStatusInfo(status: .rejection, statusString: [reason], failInfo: failure)
        let response = (try? RawDER(encoding: TimeStampResp(status: status)).bytes).map(Array.init)
        return TimeStampOutcome(
            // A rejection without text always encodes; this fallback is `rejection` + the failInfo alone.
            response: response ?? Self.minimalRejection(failure),
            status: .rejection,
            failInfo: failure,
            serial: nil
        )
    }

    static func minimalRejection(_ failure: PKIFailureInfo) -> [UInt8] {
        var coder = DER.Serializer()
        try? coder.serialize(TimeStampResp(status: PKIStatusInfo(status: .rejection, failInfo: failure)))
        return coder.serializedBytes
    }

    /// Whether the TSA can serve now.
    public func health() -> TSAHealth {
        var problems: [String] = []
        if case .unavailable(let reason) = self.signer.health {
            problems.append("signer: \(reason)")
        }
        if !self.auditLog.isHealthy {
            problems.append("ledger: the last commit failed or the ledger is not running")
        }
        let gate = self.clockGate.decision()
        if !gate.isOpen {
            problems.append("clock: \(gate.reason ?? "closed")")
        }
        if let last = self.sequencer.lastIssued {
            let time = self.now()
            let behind = last - (time.seconds * 1_000_000 + time.nanoseconds / 1000)
            if behind > self.sequencer.maximumWaitMicroseconds {
                problems.append(
                    "clock: the wall clock is \(ClockEvaluation.seconds(behind * 1000)) behind the last issued genTime")
            }
        }
        return TSAHealth(
            isServing: problems.isEmpty,
            problems: problems,
            signer: "\(self.signer.kind) \(self.signer.scheme)",
            clockGate: self.clockGate.gateDescription
        )
    }

    /// Tokens granted and requests rejected since start.
    public var counts: TSACounts { self.metrics.counters.snapshot }

    /// The TSU certificate.
    public var certificate: Certificate { self.signer.certificate }
    public var serialInstanceID: UInt32 { self.serials.instanceID }
    public var serialEpoch: UInt32 { self.serials.epoch }
}
