import Crypto
import Foundation
import Ledger
public import Logging
import Metrics
public import PKIMessages
public import ServiceLifecycle
import Signing
import SwiftASN1
import Synchronization
import X509

/// What the responder answered: the OCSPResponse DER and what HTTP caching needs.
public struct OCSPOutcome: Sendable {
    /// The OCSPResponse DER, always present: protocol failures are answers (RFC 6960 §2.3).
    public var response: [UInt8]
    public var status: OCSPResponseStatus
    /// For successful answers: thisUpdate and nextUpdate (seconds since 1970, the earliest nextUpdate when several
    /// SingleResponses), producedAt, and a strong entity tag of the bytes (RFC 5019 §6.2).
    public var validity: Validity?
    /// True when the answer came from the pre-signed cache (no signing on the request path).
    public var fromCache: Bool

    public struct Validity: Sendable, Hashable {
        public var thisUpdate: Int64
        public var nextUpdate: Int64
        public var producedAt: Int64
        public var entityTag: String
    }
}

/// The RFC 6960 / RFC 5019 OCSP responder: bytes in, an OCSPResponse out. It knows no HTTP.
///
/// Checks, in order (each failure an unsigned OCSPResponse with that status, RFC 6960 §2.3):
/// 1. a DER OCSPRequest with nothing after it, version v1, 1 to `maxCertIDs` CertIDs, a nonce of 1 to 128 octets
///    when present (RFC 9654 §2.1), no critical extension the responder does not understand (RFC 6960 §4.4)
///    → else malformedRequest;
/// 2. when signed requests are required: a signature → else sigRequired; it must verify → else unauthorized;
/// 3. every CertID names one configured issuer, the same for all → else unauthorized.
/// A request with one CertID and no nonce (or with a nonce when nonces are ignored) is answered from the pre-signed
/// cache; everything else is signed live. A cached answer whose status no longer matches the status source, or
/// that reached its nextUpdate, is never served: it is re-signed first.
public final class OCSPResponderService: Service, Sendable {
    let issuers: [OCSPIssuer]
    let configuration: OCSPResponderConfiguration
    let logger: Logger
    let now: @Sendable () -> Int64
    let cache: PresignedCache
    let metrics: OCSPMetrics
    let store: (any PresignedAnswerStore)?
    /// Request bytes already parsed into a cacheable single-CertID question, so that a relying party asking the same
    /// question again (clients send identical bytes for one certificate) skips the DER parse.
    let parsedRequests = Mutex<[[UInt8]: ParsedQuestion]>([:])
    /// The last thisUpdate/nextUpdate formatted (``updateTimes(now:nextUpdate:)``).
    let formattedTimes = Mutex<
        (now: Int64, nextUpdate: Int64, thisText: GeneralizedTimeText, nextText: GeneralizedTimeText)?
    >(nil)
    /// How many parsed requests are remembered before the memo starts over.
    static let parsedRequestLimit = 10_000

    /// - Parameter store: where pre-signed answers are kept across restarts (the ledger), so that a restart re-signs
    ///   only what is due instead of everything at once.
    public init(
        issuers: [OCSPIssuer],
        configuration: OCSPResponderConfiguration,
        store: (any PresignedAnswerStore)? = nil,
        logger: Logger,
        now: @escaping @Sendable () -> Int64 = OCSPResponderService.systemTime
    ) {
        self.issuers = issuers
        self.configuration = configuration
        self.store = store
        self.logger = logger
        self.now = now
        self.cache = PresignedCache()
        self.metrics = OCSPMetrics()
    }

    /// Whole seconds since 1970 from the wall clock.
    public static let systemTime: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }

    // MARK: Answering

    /// Answers one request. Never throws.
    public func respond(to bytes: ArraySlice<UInt8>) async -> OCSPOutcome {
        let outcome = await self.process(bytes)
        self.metrics.record(outcome)
        return outcome
    }

    /// Answers one request on the caller's thread when that needs no waiting: from the cache, or signed live by an
    /// in-process (software) signer. Nil when the answer needs a signer that must be awaited (a token, a card): the
    /// caller then uses ``respond(to:)``. An event loop calls this and writes the answer without leaving its thread.
    public func respondWithoutSuspending(to bytes: ArraySlice<UInt8>) -> OCSPOutcome? {
        let outcome: OCSPOutcome
        switch self.decide(bytes) {
        case .answer(let answer):
            outcome = answer
        case .sign(let job):
            guard let signer = job.issuer.softwareSigner else { return nil }
            outcome = self.perform(job) { message in try signer.sign(message) }
        }
        self.metrics.record(outcome)
        return outcome
    }

    func process(_ bytes: ArraySlice<UInt8>) async -> OCSPOutcome {
        switch self.decide(bytes) {
        case .answer(let outcome):
            return outcome
        case .sign(let job):
            do {
                let unsigned = try self.responseData(job)
                let signature = try await job.issuer.signer.sign(unsigned.tbsResponseData)
                return try self.completed(job, unsigned, signature: signature)
            } catch {
                return self.signingFailure(error, issuer: job.issuer)
            }
        }
    }

    /// A response that must be signed now.
    struct SigningJob: Sendable {
        var issuer: OCSPIssuer
        var certIDs: [CertID]
        var nonce: OCSPNonce?
        /// The status snapshot the answer is built from, when the caller already read one.
        var snapshot: StatusSnapshot?
        /// Where the signed answer goes in the cache (only for serials the source lists).
        var cacheEntry: (key: [UInt8], issuerIndex: Int, serial: SerialNumberKey, status: CertificateStatus)?
    }

    enum Decision: Sendable {
        case answer(OCSPOutcome)
        case sign(SigningJob)
    }

    /// Whether every extension marked critical in the request is one this responder acts on.
    ///
    /// RFC 6960 §4.4: unrecognised extensions are ignored "unless they have the critical flag set and are not
    /// understood"; answering such a request as if the extension were absent would claim a service the client made a
    /// condition. Understood: the nonce (§4.4.1), and AcceptableResponses (§4.4.3) when it lists
    /// id-pkix-ocsp-basic, the only type this responder answers with. No singleRequestExtension is understood
    /// (the service locator of §4.4.6 asks for a proxy, which this responder is not).
    static func understandsCriticalExtensions(of tbs: TBSRequest) -> Bool {
        for requestExtension in tbs.requestExtensions ?? [] where requestExtension.critical {
            switch requestExtension.oid {
            case .OCSP.nonce:
                continue
            case .OCSP.acceptableResponses:
                let types = try? DER.sequence(
                    of: ASN1ObjectIdentifier.self, identifier: .sequence, rootNode: DER.parse(requestExtension.value))
                guard let types, types.contains(.OCSP.basicResponse) else { return false }
            default:
                return false
            }
        }
        return tbs.requestList.allSatisfy { single in
            !(single.singleRequestExtensions ?? []).contains(where: \.critical)
        }
    }

    /// The checks of the type's documentation, then the cached answer or what must be signed.
    func decide(_ bytes: ArraySlice<UInt8>) -> Decision {
        let requestBytes = Array(bytes)  // the memo's key
        if let question = self.parsedRequests.withLock({ $0[requestBytes] }) {
            return self.cachedAnswer(for: question)
        }
        let request: OCSPRequest
        do {
            request = try OCSPRequest(derEncoded: try DER.parse(bytes))  // DER.parse rejects trailing bytes
        } catch {
            self.logger.debug("undecodable OCSP request", metadata: ["error": "\(error)"])
            return .answer(Self.failure(.malformedRequest))
        }
        let tbs = request.tbsRequest
        guard tbs.version == TBSRequest.v1 else { return .answer(Self.failure(.malformedRequest)) }
        guard !tbs.requestList.isEmpty, tbs.requestList.count <= self.configuration.maxCertIDs else {
            return .answer(Self.failure(.malformedRequest))
        }
        let nonce: OCSPNonce?
        do {
            nonce = try OCSPNonce.find(in: tbs.requestExtensions)
        } catch {
            return .answer(Self.failure(.malformedRequest))
        }
        // RFC 9654 §2.1: a nonce of 0 octets or more than 128 is malformed; 16–32 must be accepted and echoed.
        if let nonce, !nonce.hasAcceptedLength {
            return .answer(Self.failure(.malformedRequest))
        }
        guard Self.understandsCriticalExtensions(of: tbs) else { return .answer(Self.failure(.malformedRequest)) }
        if self.configuration.requireSignedRequests {
            guard let signature = request.optionalSignature else { return .answer(Self.failure(.sigRequired)) }
            guard Self.verify(signature, over: request.tbsRequestBytes) else {
                return .answer(Self.failure(.unauthorized))
            }
        }

        // Every CertID must name the same configured issuer: one response has one signer.
        guard let issuerIndex = self.issuers.firstIndex(where: { $0.matches(tbs.requestList[0].reqCert) }),
            tbs.requestList.allSatisfy({ self.issuers[issuerIndex].matches($0.reqCert) })
        else {
            return .answer(Self.failure(.unauthorized))
        }
        let issuer = self.issuers[issuerIndex]

        let echoNonce = self.configuration.nonces == .sign ? nonce : nil
        if tbs.requestList.count == 1, echoNonce == nil {
            let certID = tbs.requestList[0].reqCert
            guard let key = try? Array(RawDER(encoding: certID).bytes) else {
                return .answer(Self.failure(.malformedRequest))
            }
            let question = ParsedQuestion(key: key, certID: certID, issuerIndex: issuerIndex)
            // Only the exact bytes of a request without nonce or signature are remembered, and only when signatures
            // are not required: then the same bytes are the same question, and nothing in them but the CertID
            // changes the answer.
            if nonce == nil, request.optionalSignature == nil, !self.configuration.requireSignedRequests {
                self.parsedRequests.withLock { memo in
                    if memo.count >= Self.parsedRequestLimit { memo.removeAll(keepingCapacity: true) }
                    memo[requestBytes] = question
                }
            }
            return self.cachedAnswer(for: question)
        }
        return .sign(SigningJob(issuer: issuer, certIDs: tbs.requestList.map(\.reqCert), nonce: echoNonce))
    }

    /// A single-CertID question: the CertID, its DER (the cache key) and the issuer it names.
    struct ParsedQuestion: Sendable {
        var key: [UInt8]
        var certID: CertID
        var issuerIndex: Int
    }

    /// The cached answer for one CertID, or the job that re-signs it when missing, stale or due.
    func cachedAnswer(for question: ParsedQuestion) -> Decision {
        let (key, certID, issuerIndex) = (question.key, question.certID, question.issuerIndex)
        let issuer = self.issuers[issuerIndex]
        let serial = SerialNumberKey(integerBytes: certID.serialNumber.contentOctets)
        let snapshot = issuer.status.currentSnapshot  // read once: the status checked, signed and cached agree
        let current = serial.map { snapshot.resolve($0, nonIssuedIsRevoked: issuer.nonIssuedIsRevoked) } ?? .unknown
        let now = self.now()
        if let entry = self.cache.entry(for: key), entry.status == current, now < entry.validity.nextUpdate {
            return .answer(
                OCSPOutcome(response: entry.response, status: .successful, validity: entry.validity, fromCache: true))
        }
        // Only serials the source lists are kept in memory (the store gets them at the next refresh or start);
        // unknown and non-issued serials are not, so that a client cannot grow the cache with made-up serials.
        var job = SigningJob(issuer: issuer, certIDs: [certID], nonce: nil, snapshot: snapshot)
        if let serial, snapshot.status(of: serial) != nil {
            job.cacheEntry = (key, issuerIndex, serial, current)
        }
        return .sign(job)
    }

    /// Signs a job with a signer that answers on this thread.
    func perform(_ job: SigningJob, signing: ([UInt8]) throws -> [UInt8]) -> OCSPOutcome {
        do {
            let unsigned = try self.responseData(job)
            return try self.completed(job, unsigned, signature: try signing(unsigned.tbsResponseData))
        } catch {
            return self.signingFailure(error, issuer: job.issuer)
        }
    }

    /// The answer to a signed job, cached when the job says so.
    func completed(_ job: SigningJob, _ unsigned: UnsignedResponse, signature: [UInt8]) throws -> OCSPOutcome {
        let signed = try self.signedResponse(unsigned, signature: signature, issuer: job.issuer)
        if let entry = job.cacheEntry {
            self.cache.store(
                CachedAnswer(
                    key: entry.key,
                    issuerIndex: entry.issuerIndex,
                    certID: job.certIDs[0],
                    serial: entry.serial,
                    status: entry.status,
                    response: signed.response,
                    validity: signed.validity
                )
            )
        }
        return signed.outcome(fromCache: false)
    }

    // MARK: Signing

    struct SignedResponse: Sendable {
        var response: [UInt8]
        var validity: OCSPOutcome.Validity

        func outcome(fromCache: Bool) -> OCSPOutcome {
            OCSPOutcome(response: self.response, status: .successful, validity: self.validity, fromCache: fromCache)
        }
    }

    /// ResponseData before its signature, and the times it states.
    struct UnsignedResponse: Sendable {
        var tbsResponseData: [UInt8]
        var thisUpdate: Int64
        var nextUpdate: Int64
    }

    /// Signs a BasicOCSPResponse for `certIDs` (each echoed exactly, RFC 6960 §4.2.1) with the issuer's responder.
    ///
    /// The statuses come from `snapshot` (the issuer's current one when nil): callers that label a cache entry with a
    /// status pass the snapshot they read it from, so that the label and the signed bytes always agree.
    func sign(
        issuer: OCSPIssuer,
        certIDs: [CertID],
        nonce: OCSPNonce?,
        snapshot given: StatusSnapshot? = nil
    ) async throws -> SignedResponse {
        let job = SigningJob(issuer: issuer, certIDs: certIDs, nonce: nonce, snapshot: given)
        let unsigned = try self.responseData(job)
        let signature = try await issuer.signer.sign(unsigned.tbsResponseData)
        return try self.signedResponse(unsigned, signature: signature, issuer: issuer)
    }

    /// The DER ResponseData of a job (RFC 6960 §4.2.1), the value the responder signs.
    func responseData(_ job: SigningJob) throws -> UnsignedResponse {
        let issuer = job.issuer
        let now = self.now()
        let nextUpdate = now + self.configuration.validitySeconds
        let (thisUpdateText, nextUpdateText) = try self.updateTimes(now: now, nextUpdate: nextUpdate)
        let snapshot = job.snapshot ?? issuer.status.currentSnapshot
        var extendedRevoke = false
        var responses: [SingleResponse] = []
        responses.reserveCapacity(job.certIDs.count)
        for certID in job.certIDs {
            let status: CertificateStatus =
                SerialNumberKey(integerBytes: certID.serialNumber.contentOctets).map {
                    snapshot.resolve($0, nonIssuedIsRevoked: issuer.nonIssuedIsRevoked)
                } ?? .unknown
            let certStatus: CertStatus
            switch status {
            case .good:
                certStatus = .good
            case .unknown:
                certStatus = .unknown
            case .revoked(let revocation):
                certStatus = .revoked(
                    RevokedInfo(
                        revocationTime: try GeneralizedTimeText(
                            wholeSecondsSince1970: Int64(revocation.time.timeIntervalSince1970.rounded(.down))
                        ),
                        revocationReason: revocation.reason
                    )
                )
                if revocation.isForNonIssuedCertificate { extendedRevoke = true }
            }
            responses.append(
                SingleResponse(
                    certID: certID, certStatus: certStatus, thisUpdate: thisUpdateText, nextUpdate: nextUpdateText))
        }
        var extensions: [Certificate.Extension] = []
        if let nonce = job.nonce { extensions.append(nonce.makeCertificateExtension()) }
        // RFC 6960 §4.4.8: a "revoked" answer for a non-issued certificate carries the extended-revoke extension.
        if extendedRevoke { extensions.append(OCSPExtendedRevoke().makeCertificateExtension()) }

        // ResponseData (version v1 is the DEFAULT and not written), assembled around the parts that are encoded
        // on their own: the pre-encoded ResponderID, producedAt, the SingleResponses, the extensions.
        var singlesCoder = DER.Serializer()
        try singlesCoder.serializeSequenceOf(responses)
        let singles = singlesCoder.serializedBytes
        var extensionsDER: [UInt8] = []
        if !extensions.isEmpty {
            var coder = DER.Serializer()
            try coder.serializeSequenceOf(extensions)
            DERLength.appendHeader(tag: 0xA1, contentLength: coder.serializedBytes.count, to: &extensionsDER)
            extensionsDER.append(contentsOf: coder.serializedBytes)
        }
        let producedAt = Array(thisUpdateText.text.utf8)
        let content =
            issuer.responderIDDER.count + DERLength.elementSize(producedAt.count) + singles.count + extensionsDER.count
        var data: [UInt8] = []
        data.reserveCapacity(DERLength.elementSize(content))
        DERLength.appendHeader(tag: 0x30, contentLength: content, to: &data)
        data.append(contentsOf: issuer.responderIDDER)
        DERLength.appendHeader(tag: 0x18, contentLength: producedAt.count, to: &data)  // GeneralizedTime
        data.append(contentsOf: producedAt)
        data.append(contentsOf: singles)
        data.append(contentsOf: extensionsDER)
        return UnsignedResponse(tbsResponseData: data, thisUpdate: now, nextUpdate: nextUpdate)
    }

    /// thisUpdate (also producedAt) and nextUpdate as GeneralizedTime, formatted once per second.
    func updateTimes(now: Int64, nextUpdate: Int64) throws -> (GeneralizedTimeText, GeneralizedTimeText) {
        if let cached = self.formattedTimes.withLock({ $0 }), cached.now == now, cached.nextUpdate == nextUpdate {
            return (cached.thisText, cached.nextText)
        }
        let thisText = try GeneralizedTimeText(wholeSecondsSince1970: now)
        let nextText = try GeneralizedTimeText(wholeSecondsSince1970: nextUpdate)
        self.formattedTimes.withLock { $0 = (now, nextUpdate, thisText, nextText) }
        return (thisText, nextText)
    }

    /// The OCSPResponse around a signed ResponseData (RFC 6960 §4.2.1), with its strong entity tag.
    ///
    /// ```
    /// OCSPResponse { successful, [0] EXPLICIT ResponseBytes { id-pkix-ocsp-basic,
    ///   OCTET STRING { BasicOCSPResponse { tbsResponseData, signatureAlgorithm, BIT STRING signature,
    ///     [0] EXPLICIT certs (delegated responders only) } } } }
    /// ```
    /// Every length is computed first, then each byte is written once (``DERLength``).
    func signedResponse(_ unsigned: UnsignedResponse, signature: [UInt8], issuer: OCSPIssuer) throws
        -> SignedResponse
    {
        let tbsResponseData = unsigned.tbsResponseData
        let bitString = 1 + signature.count  // no unused bits
        let basicContent =
            tbsResponseData.count + issuer.signatureAlgorithmDER.count + DERLength.elementSize(bitString)
            + issuer.certsDER.count
        let basic = DERLength.elementSize(basicContent)
        let responseBytesContent = Self.basicResponseTypeDER.count + DERLength.elementSize(basic)
        let responseBytes = DERLength.elementSize(responseBytesContent)
        let responseContent = Self.successfulStatusDER.count + DERLength.elementSize(responseBytes)

        var response: [UInt8] = []
        response.reserveCapacity(DERLength.elementSize(responseContent))
        DERLength.appendHeader(tag: 0x30, contentLength: responseContent, to: &response)  // OCSPResponse
        response.append(contentsOf: Self.successfulStatusDER)
        DERLength.appendHeader(tag: 0xA0, contentLength: responseBytes, to: &response)
        DERLength.appendHeader(tag: 0x30, contentLength: responseBytesContent, to: &response)  // ResponseBytes
        response.append(contentsOf: Self.basicResponseTypeDER)
        DERLength.appendHeader(tag: 0x04, contentLength: basic, to: &response)
        DERLength.appendHeader(tag: 0x30, contentLength: basicContent, to: &response)  // BasicOCSPResponse
        response.append(contentsOf: tbsResponseData)
        response.append(contentsOf: issuer.signatureAlgorithmDER)
        DERLength.appendHeader(tag: 0x03, contentLength: bitString, to: &response)
        response.append(0)
        response.append(contentsOf: signature)
        response.append(contentsOf: issuer.certsDER)  // [0] EXPLICIT SEQUENCE OF Certificate, or nothing
        return SignedResponse(
            response: response,
            validity: .init(
                thisUpdate: unsigned.thisUpdate, nextUpdate: unsigned.nextUpdate, producedAt: unsigned.thisUpdate,
                entityTag: Self.entityTag(of: response))
        )
    }

    /// `responseStatus successful` (ENUMERATED 0).
    static let successfulStatusDER: [UInt8] = [0x0A, 0x01, 0x00]

    /// `responseType id-pkix-ocsp-basic` (RFC 6960 §4.2.1).
    static let basicResponseTypeDER: [UInt8] = {
        var coder = DER.Serializer()
        // An OBJECT IDENTIFIER constant always encodes.
        try? coder.serialize(ASN1ObjectIdentifier.OCSP.basicResponse)
        return coder.serializedBytes
    }()

    /// A strong entity tag of an answer (RFC 9110 §8.8.3): the first 16 octets of its SHA-256, in hex, quoted.
    static func entityTag(of response: [UInt8]) -> String {
        let digits: StaticString = "0123456789abcdef"
        var text: [UInt8] = [UInt8(ascii: "\"")]
        text.reserveCapacity(34)
        SHA256.hash(data: response).withUnsafeBytes { digest in
            digits.withUTF8Buffer { digits in
                for byte in digest.prefix(16) {
                    text.append(digits[Int(byte >> 4)])
                    text.append(digits[Int(byte & 0x0F)])
                }
            }
        }
        text.append(UInt8(ascii: "\""))
        return String(decoding: text, as: UTF8.self)
    }

    static func failure(_ status: OCSPResponseStatus) -> OCSPOutcome {
        OCSPOutcome(response: OCSPResponse.unsuccessful(status), status: status, validity: nil, fromCache: false)
    }

    /// Verifies a request signature over the TBSRequest bytes with the first certificate it carries.
    static func verify(_ signature: OCSPSignature, over tbs: RawDER) -> Bool {
        guard let first = signature.certs?.first, let certificate = try? Certificate(derEncoded: Array(first.bytes)),
            let algorithm = Self.certificateSignatureAlgorithm(signature.signatureAlgorithm)
        else { return false }
        return certificate.publicKey.isValidSignature(
            Array(signature.signature.bytes),
            for: Array(tbs.bytes),
            signatureAlgorithm: algorithm
        )
    }

    static func certificateSignatureAlgorithm(_ identifier: AlgorithmIdentifier) -> Certificate.SignatureAlgorithm? {
        switch identifier.algorithm {
        case .SignatureAlgorithm.ecdsaWithSHA256: .ecdsaWithSHA256
        case .SignatureAlgorithm.ecdsaWithSHA384: .ecdsaWithSHA384
        case .SignatureAlgorithm.ecdsaWithSHA512: .ecdsaWithSHA512
        case .SignatureAlgorithm.sha256WithRSAEncryption: .sha256WithRSAEncryption
        case .SignatureAlgorithm.sha384WithRSAEncryption: .sha384WithRSAEncryption
        case .SignatureAlgorithm.sha512WithRSAEncryption: .sha512WithRSAEncryption
        case .SignatureAlgorithm.ed25519: .ed25519
        default: nil
        }
    }

    // MARK: Pre-signing

    /// Fills the cache: answers kept in the store that still state the current status and are not due are taken
    /// as they are; every other serial the sources know is signed now (SHA-1 CertID, the form most clients send).
    public func presignAll() async {
        let now = self.now()
        for (index, issuer) in self.issuers.enumerated() {
            let snapshot = issuer.status.currentSnapshot
            var reused = 0
            if let store = self.store {
                do {
                    for record in try store.presignedOCSP(issuer: self.storeKey(issuer), validAt: now) {
                        guard let certID = try? CertID(derEncoded: record.certID),
                            let serial = SerialNumberKey(integerBytes: certID.serialNumber.contentOctets)
                        else { continue }
                        let current = snapshot.resolve(serial, nonIssuedIsRevoked: issuer.nonIssuedIsRevoked)
                        guard current != .unknown, current.canonicalText == record.status,
                            now < record.thisUpdate + self.configuration.refreshAfterSeconds
                        else { continue }
                        self.cache.store(
                            CachedAnswer(
                                key: record.certID,
                                issuerIndex: index,
                                certID: certID,
                                serial: serial,
                                status: current,
                                response: record.response,
                                validity: .init(
                                    thisUpdate: record.thisUpdate,
                                    nextUpdate: record.nextUpdate,
                                    producedAt: record.thisUpdate,
                                    entityTag: record.entityTag
                                )
                            )
                        )
                        reused += 1
                    }
                } catch {
                    self.logger.warning(
                        "the stored pre-signed OCSP answers could not be read; signing them anew",
                        metadata: ["error": "\(error)"]
                    )
                }
            }
            var signed: [CachedAnswer] = []
            for serial in snapshot.entries.keys {
                let certID = issuer.defaultCertID(serial: serial)
                guard let key = try? Array(RawDER(encoding: certID).bytes), self.cache.entry(for: key) == nil else {
                    continue
                }
                if let answer = await self.presign(serial: serial, issuerIndex: index, certID: certID) {
                    signed.append(answer)
                }
            }
            await self.persist(signed)
            self.logger.info(
                "pre-signed OCSP answers",
                metadata: [
                    "ocsp.issuer": "\(issuer.label)", "ocsp.signed": "\(signed.count)", "ocsp.reused": "\(reused)",
                ]
            )
        }
    }

    /// Signs and caches one answer; returns it for the store.
    func presign(serial: SerialNumberKey, issuerIndex: Int, certID: CertID) async -> CachedAnswer? {
        let issuer = self.issuers[issuerIndex]
        do {
            let key = Array(try RawDER(encoding: certID).bytes)
            let snapshot = issuer.status.currentSnapshot
            let status = snapshot.resolve(serial, nonIssuedIsRevoked: issuer.nonIssuedIsRevoked)
            let signed = try await self.sign(issuer: issuer, certIDs: [certID], nonce: nil, snapshot: snapshot)
            let answer = CachedAnswer(
                key: key,
                issuerIndex: issuerIndex,
                certID: certID,
                serial: serial,
                status: status,
                response: signed.response,
                validity: signed.validity
            )
            self.cache.store(answer)
            self.metrics.presigned.increment()
            return answer
        } catch {
            self.logger.error(
                "pre-signing an OCSP answer failed", metadata: ["error": "\(error)", "ocsp.serial": "\(serial)"])
            return nil
        }
    }

    /// The store key of an issuer's answers under this configuration: a changed validity is a new key, so answers
    /// signed with the old one are not reused.
    func storeKey(_ issuer: OCSPIssuer) -> String {
        "\(issuer.storeKey)|validity=\(self.configuration.validitySeconds)"
    }

    /// Writes answers to the store; a failure is logged (the answers are still served from memory).
    func persist(_ answers: [CachedAnswer]) async {
        guard let store = self.store, !answers.isEmpty else { return }
        let records = answers.map { answer in
            PresignedOCSPRecord(
                certID: answer.key,
                issuer: self.storeKey(self.issuers[answer.issuerIndex]),
                serial: answer.serial.bytes,
                status: answer.status.canonicalText,
                response: answer.response,
                thisUpdate: answer.validity.thisUpdate,
                nextUpdate: answer.validity.nextUpdate,
                entityTag: answer.validity.entityTag
            )
        }
        do {
            try await store.storePresignedOCSP(records)
        } catch {
            self.logger.warning("pre-signed OCSP answers could not be stored", metadata: ["error": "\(error)"])
        }
    }

    /// One refresh pass: re-signs answers whose status changed or whose refresh time came, drops answers for serials
    /// the source no longer knows, and pre-signs serials that appeared. Returns how many answers it signed.
    @discardableResult
    public func refresh() async -> Int {
        let now = self.now()
        var signed: [CachedAnswer] = []
        for entry in self.cache.allEntries() {
            let issuer = self.issuers[entry.issuerIndex]
            let current = issuer.status.currentSnapshot.resolve(
                entry.serial, nonIssuedIsRevoked: issuer.nonIssuedIsRevoked)
            if current == .unknown {
                self.cache.remove(key: entry.key)
                continue
            }
            if current != entry.status || now >= entry.validity.thisUpdate + self.configuration.refreshAfterSeconds {
                if let answer = await self.presign(
                    serial: entry.serial, issuerIndex: entry.issuerIndex, certID: entry.certID)
                {
                    signed.append(answer)
                }
            }
        }
        for (index, issuer) in self.issuers.enumerated() {
            for serial in issuer.status.currentSnapshot.entries.keys {
                let certID = issuer.defaultCertID(serial: serial)
                guard let key = try? Array(RawDER(encoding: certID).bytes), self.cache.entry(for: key) == nil else {
                    continue
                }
                if let answer = await self.presign(serial: serial, issuerIndex: index, certID: certID) {
                    signed.append(answer)
                }
            }
        }
        await self.persist(signed)
        return signed.count
    }

    /// Keeps the cache fresh: a refresh pass every second until shutdown.
    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: .seconds(1))
            await self.refresh()
        }
    }

    /// The answer when a live signature fails: `tryLater` while the signer is unavailable (a token taken away, an
    /// HSM restarting: RFC 6960 §2.3 "the responder is temporarily unable to respond"), `internalError` otherwise.
    /// Pre-signed answers are still served from the cache meanwhile.
    func signingFailure(_ error: any Error, issuer: OCSPIssuer) -> OCSPOutcome {
        if case .unavailable(let reason) = issuer.signer.health {
            self.logger.warning(
                "OCSP signer unavailable; answering tryLater",
                metadata: ["ocsp.issuer": "\(issuer.label)", "reason": "\(reason)", "error": "\(error)"])
            return Self.failure(.tryLater)
        }
        self.logger.error(
            "signing an OCSP response failed", metadata: ["error": "\(error)", "ocsp.issuer": "\(issuer.label)"])
        return Self.failure(.internalError)
    }

    /// Health: every issuer's signer available.
    public func problems() -> [String] {
        self.issuers.compactMap { issuer in
            if case .unavailable(let reason) = issuer.signer.health {
                return "OCSP signer for \(issuer.label): \(reason)"
            }
            return nil
        }
    }

    /// How many answers the cache holds.
    public var cachedAnswerCount: Int { self.cache.count }
}
