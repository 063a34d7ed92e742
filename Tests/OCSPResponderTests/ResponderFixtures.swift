import Crypto
import DevelopmentPKI
import Foundation
import Ledger
import Logging
import PKIMessages
import Signing
import SwiftASN1
import Synchronization
import Testing
import X509

@testable import OCSPResponder

// Fixtures for the responder-core tests (ResponderService*Tests.swift): a development PKI, a settable clock, a
// swappable status source, a counting signer, an in-memory store of pre-signed answers, and builders for requests
// and CertIDs that compute every hash here, independently of OCSPIssuer.

// MARK: - Clock

/// A settable clock, seconds since 1970; `now` is what the responder reads.
final class ResponderTestClock: Sendable {
    private let seconds: Mutex<Int64>

    init(_ start: Int64 = ResponderTestClock.start) {
        self.seconds = Mutex(start)
    }

    /// 2026-01-02T03:04:05Z: not a round value, so that unit mistakes show.
    static let start: Int64 = 1_767_323_045

    var value: Int64 { self.seconds.withLock { $0 } }

    func set(_ value: Int64) { self.seconds.withLock { $0 = value } }

    func advance(by seconds: Int64) { self.seconds.withLock { $0 += seconds } }

    var now: @Sendable () -> Int64 { { self.value } }
}

// MARK: - Status

/// A status source whose snapshot a test swaps.
final class MutableStatusLookup: StatusLookup {
    private let snapshot: Mutex<StatusSnapshot>

    init(_ snapshot: StatusSnapshot) {
        self.snapshot = Mutex(snapshot)
    }

    var currentSnapshot: StatusSnapshot { self.snapshot.withLock { $0 } }

    func replace(with snapshot: StatusSnapshot) {
        self.snapshot.withLock { $0 = snapshot }
    }
}

/// A status source that hands out `snapshots` in turn, one per read of `currentSnapshot`, then the last one forever:
/// models a source that changes between two reads of one request.
final class SequencedStatusLookup: StatusLookup {
    private let state: Mutex<(remaining: [StatusSnapshot], last: StatusSnapshot)>

    init(_ snapshots: [StatusSnapshot]) {
        precondition(!snapshots.isEmpty)
        self.state = Mutex((Array(snapshots.dropLast()), snapshots[snapshots.count - 1]))
    }

    var currentSnapshot: StatusSnapshot {
        self.state.withLock { state in
            state.remaining.isEmpty ? state.last : state.remaining.removeFirst()
        }
    }
}

// MARK: - Signer

/// Forwards to a software signer and counts the signatures.
final class CountingSigner: Signer {
    let base: SoftwareSigner
    private let signatures = Mutex(0)

    init(_ base: SoftwareSigner) {
        self.base = base
    }

    var scheme: SignatureScheme { self.base.scheme }
    var certificate: Certificate { self.base.certificate }
    var chain: [Certificate] { self.base.chain }
    var kind: String { "counting" }
    var health: SignerHealth { .available }

    func sign(_ message: [UInt8]) async throws -> [UInt8] {
        self.signatures.withLock { $0 += 1 }
        return try self.base.sign(message)
    }

    /// How many signatures were made so far.
    var count: Int { self.signatures.withLock { $0 } }
}

// MARK: - Store

/// Keeps pre-signed answers in memory, as the ledger does (one record per CertID, replaced on store), and records
/// every batch it was given.
final class InMemoryPresignedStore: PresignedAnswerStore {
    private struct State {
        var records: [[UInt8]: PresignedOCSPRecord] = [:]
        var batches: [[PresignedOCSPRecord]] = []
    }

    private let state = Mutex(State())

    func storePresignedOCSP(_ records: [PresignedOCSPRecord]) async throws {
        self.state.withLock { state in
            state.batches.append(records)
            for record in records {
                state.records[record.certID] = record
            }
        }
    }

    /// Like `Ledger.presignedOCSP(issuer:validAt:)`: the issuer's records whose nextUpdate is after `now`.
    func presignedOCSP(issuer: String, validAt now: Int64) throws -> [PresignedOCSPRecord] {
        self.state.withLock { state in
            state.records.values.filter { $0.issuer == issuer && $0.nextUpdate > now }
        }
    }

    var records: [PresignedOCSPRecord] { self.state.withLock { Array($0.records.values) } }

    /// How many records were handed to `storePresignedOCSP`, over all batches.
    var storedRecordCount: Int { self.state.withLock { $0.batches.reduce(0) { $0 + $1.count } } }

    func record(serial: [UInt8]) -> PresignedOCSPRecord? {
        self.state.withLock { $0.records.values.first { $0.serial == serial } }
    }
}

// MARK: - PKI

/// The development PKI, read into memory once for all tests (its temporary directory is removed right away).
struct ResponderPKI: Sendable {
    let rootCA: Certificate
    let issuingCA: Certificate
    let ocsp: Certificate
    let tsa: Certificate
    let eeGood: Certificate
    let eeRevoked: Certificate

    let rootCAKey: SoftwareKey
    let issuingCAKey: SoftwareKey
    let ocspKey: SoftwareKey
    let tsaKey: SoftwareKey
    /// The CA keys as swift-certificates private keys, for issuing test certificates.
    let rootCAPrivateKey: Certificate.PrivateKey
    let issuingCAPrivateKey: Certificate.PrivateKey

    /// The text of `index.txt`.
    let indexText: String

    private static let loaded: Result<ResponderPKI, any Error> = Result { try ResponderPKI.load() }

    /// The shared PKI.
    static func shared() throws -> ResponderPKI {
        try self.loaded.get()
    }

    private static func load() throws -> ResponderPKI {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("sigillum-responder-tests-\(UUID().uuidString)", isDirectory: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let (paths, _) = try DevelopmentPKI.ensure(stateDirectory: directory.path)
        func certificate(_ path: String) throws -> Certificate {
            try CertificateFileReader.readCertificates(atPath: path)[0]
        }
        return ResponderPKI(
            rootCA: try certificate(paths.rootCA),
            issuingCA: try certificate(paths.issuingCA),
            ocsp: try certificate(paths.ocsp),
            tsa: try certificate(paths.tsa),
            eeGood: try certificate(paths.eeGood),
            eeRevoked: try certificate(paths.eeRevoked),
            rootCAKey: try KeyFileReader.readKey(atPath: paths.rootCAKey),
            issuingCAKey: try KeyFileReader.readKey(atPath: paths.issuingCAKey),
            ocspKey: try KeyFileReader.readKey(atPath: paths.ocspKey),
            tsaKey: try KeyFileReader.readKey(atPath: paths.tsaKey),
            rootCAPrivateKey: Certificate.PrivateKey(
                try P384.Signing.PrivateKey(pemRepresentation: String(contentsOfFile: paths.rootCAKey, encoding: .utf8))
            ),
            issuingCAPrivateKey: Certificate.PrivateKey(
                try P384.Signing.PrivateKey(
                    pemRepresentation: String(contentsOfFile: paths.issuingCAKey, encoding: .utf8))
            ),
            indexText: try String(contentsOfFile: paths.index, encoding: .utf8)
        )
    }

    /// The delegated responder: the OCSP key and certificate.
    var delegatedSigner: SoftwareSigner { SoftwareSigner(key: self.ocspKey, certificate: self.ocsp) }

    /// The issuing CA signing its own answers.
    var issuingCASigner: SoftwareSigner { SoftwareSigner(key: self.issuingCAKey, certificate: self.issuingCA) }

    /// The root CA signing its own answers (a second issuer).
    var rootCASigner: SoftwareSigner { SoftwareSigner(key: self.rootCAKey, certificate: self.rootCA) }

    // MARK: Index

    /// The fields of the `index.txt` line listing `certificate`.
    func indexFields(of certificate: Certificate) throws -> [String] {
        let serial = hexSerial(certificate)
        for line in self.indexText.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            if fields.count == 6, fields[3] == serial { return fields }
        }
        throw TestFailure("index.txt does not list serial \(serial)")
    }

    /// `index.txt` with `certificate`'s line turned into a revocation at `time` (`YYMMDDHHMMSSZ`) for `reason`.
    func indexText(revoking certificate: Certificate, at time: String, reason: String) throws -> String {
        let serial = hexSerial(certificate)
        var found = false
        let lines = self.indexText.split(separator: "\n").map { line -> String in
            var fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 6, fields[3] == serial else { return String(line) }
            found = true
            fields[0] = "R"
            fields[2] = "\(time),\(reason)"
            return fields.joined(separator: "\t")
        }
        guard found else { throw TestFailure("index.txt does not list serial \(serial)") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A snapshot of `text` (the PKI's index unless given).
    func snapshot(_ text: String? = nil, generation: UInt64 = 1) throws -> StatusSnapshot {
        StatusSnapshot(
            try OpenSSLIndexFile.parse(Array((text ?? self.indexText).utf8), path: "index.txt"),
            sourceKind: .openSSLIndex,
            sourcePath: "index.txt",
            generation: generation,
            loadedAt: Date()
        )
    }

    /// The number of serials `index.txt` lists.
    var indexedSerialCount: Int { self.indexText.split(separator: "\n").count }

    // MARK: Test certificates

    /// A certificate for a fresh P-256 key, issued by `issuer` with `issuerKey` (or self-signed when `issuer` is
    /// nil), valid from an hour ago for `days`.
    func issueCertificate(
        commonName: String,
        issuer: Certificate?,
        issuerKey: Certificate.PrivateKey?,
        ocspSigning: Bool,
        noCheck: Bool,
        notValidBefore: Date = Date().addingTimeInterval(-3600),
        days: Double = 30
    ) throws -> (certificate: Certificate, key: P256.Signing.PrivateKey) {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName {
            CommonName(commonName)
        }
        var extensions = Certificate.Extensions()
        if ocspSigning {
            try extensions.append(Certificate.Extension(ExtendedKeyUsage([.ocspSigning]), critical: false))
        }
        if noCheck {
            try extensions.append(Certificate.Extension(oid: .OCSP.noCheck, critical: false, value: [0x05, 0x00]))
        }
        let signingKey = issuerKey ?? Certificate.PrivateKey(key)
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: notValidBefore,
            notValidAfter: notValidBefore.addingTimeInterval(days * 86_400),
            issuer: issuer?.subject ?? subject,
            subject: subject,
            signatureAlgorithm: issuerKey == nil ? .ecdsaWithSHA256 : .ecdsaWithSHA384,
            extensions: extensions,
            issuerPrivateKey: signingKey
        )
        return (certificate, key)
    }
}

/// A certificate's serial as `index.txt` writes it: upper-case hex, whole octets.
func hexSerial(_ certificate: Certificate) -> String {
    hexString(Array(certificate.serialNumber.bytes.drop { $0 == 0 }))
}

func hexString(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { String(format: "%02X", $0) }.joined()
}

// MARK: - CertIDs

/// The hash algorithms a CertID may name.
enum CertIDHash: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sha1, sha256, sha384, sha512

    var oid: ASN1ObjectIdentifier {
        switch self {
        case .sha1: [1, 3, 14, 3, 2, 26]
        case .sha256: [2, 16, 840, 1, 101, 3, 4, 2, 1]
        case .sha384: [2, 16, 840, 1, 101, 3, 4, 2, 2]
        case .sha512: [2, 16, 840, 1, 101, 3, 4, 2, 3]
        }
    }

    func hash(_ input: [UInt8]) -> [UInt8] {
        switch self {
        case .sha1: Array(Insecure.SHA1.hash(data: input))
        case .sha256: Array(SHA256.hash(data: input))
        case .sha384: Array(SHA384.hash(data: input))
        case .sha512: Array(SHA512.hash(data: input))
        }
    }

    var testDescription: String { self.rawValue }
}

/// How a CertID's hash AlgorithmIdentifier writes its parameters.
enum HashParameters: String, Sendable, CaseIterable {
    case null
    case absent
}

/// The subject DER of `certificate` (swift-certificates keeps the attribute values as received).
func subjectDER(of certificate: Certificate) throws -> [UInt8] {
    var coder = DER.Serializer()
    try coder.serialize(certificate.subject)
    return coder.serializedBytes
}

/// The subjectPublicKey BIT STRING value of `certificate`, read from its SubjectPublicKeyInfo here (not with
/// PKIMessages' helper).
func subjectPublicKeyBits(of certificate: Certificate) throws -> [UInt8] {
    let spki = try DER.parse(try derBytes(certificate.publicKey))
    return try DER.sequence(spki, identifier: .sequence) { nodes in
        guard nodes.next() != nil else { throw TestFailure("SubjectPublicKeyInfo without algorithm") }
        let bits = try ASN1BitString(derEncoded: &nodes)
        return Array(bits.bytes)
    }
}

/// A CertID naming `serial` (big-endian magnitude) of `issuer`.
func makeCertID(
    issuer: Certificate,
    serial: [UInt8],
    hash: CertIDHash = .sha1,
    parameters: HashParameters = .null
) throws -> CertID {
    CertID(
        hashAlgorithm: AlgorithmIdentifier(
            algorithm: hash.oid,
            parameters: parameters == .null ? try ASN1Any(erasing: ASN1Null()) : nil
        ),
        issuerNameHash: ArraySlice(hash.hash(try subjectDER(of: issuer))),
        issuerKeyHash: ArraySlice(hash.hash(try subjectPublicKeyBits(of: issuer))),
        serialNumber: DERInteger(unsignedMagnitude: serial)
    )
}

/// A CertID naming `certificate`, issued by `issuer`.
func makeCertID(
    for certificate: Certificate,
    issuer: Certificate,
    hash: CertIDHash = .sha1,
    parameters: HashParameters = .null
) throws -> CertID {
    try makeCertID(issuer: issuer, serial: Array(certificate.serialNumber.bytes), hash: hash, parameters: parameters)
}

func derBytes(_ value: some DERSerializable) throws -> [UInt8] {
    var coder = DER.Serializer()
    try coder.serialize(value)
    return coder.serializedBytes
}

// MARK: - Requests

func makeTBSRequest(_ certIDs: [CertID], nonce: [UInt8]? = nil) -> TBSRequest {
    TBSRequest(
        requestList: certIDs.map { OCSPSingleRequest(reqCert: $0) },
        requestExtensions: nonce.map { [OCSPNonce(octets: $0).makeCertificateExtension()] }
    )
}

/// The DER of an OCSPRequest for `certIDs`, with a nonce extension when `nonce` is given.
func makeRequest(_ certIDs: [CertID], nonce: [UInt8]? = nil, signature: OCSPSignature? = nil) throws -> [UInt8] {
    try derBytes(try OCSPRequest(tbsRequest: makeTBSRequest(certIDs, nonce: nonce), optionalSignature: signature))
}

/// `count` pseudo-random octets.
func randomOctets(_ count: Int) -> [UInt8] {
    (0..<count).map { _ in UInt8.random(in: 0...255) }
}

// MARK: - Responses

/// The error response RFC 6960 §2.3 prescribes: `30 03 0A 01 nn`.
func errorResponse(_ status: UInt8) -> [UInt8] { [0x30, 0x03, 0x0A, 0x01, status] }

/// The BasicOCSPResponse of a successful outcome.
func basicResponse(of outcome: OCSPOutcome, sourceLocation: SourceLocation = #_sourceLocation) throws
    -> BasicOCSPResponse
{
    let response = try OCSPResponse(derEncoded: outcome.response)
    #expect(response.responseStatus == .successful, sourceLocation: sourceLocation)
    #expect(outcome.status == .successful, sourceLocation: sourceLocation)
    let bytes = try #require(response.responseBytes, sourceLocation: sourceLocation)
    #expect(bytes.responseType == .OCSP.basicResponse, sourceLocation: sourceLocation)
    return try bytes.basicResponse()
}

/// GeneralizedTime text, `YYYYMMDDHHMMSSZ`, of `seconds` since 1970 (with Foundation, not PKIMessages).
func generalizedTime(_ seconds: Int64) -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyyMMddHHmmss'Z'"
    return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
}

/// `YYMMDDHHMMSSZ` (index.txt, UTCTime) as GeneralizedTime text.
func generalizedTime(fromIndexTime text: String) -> String {
    guard text.count == 13, let year = Int(text.prefix(2)) else { return text }
    return (year < 50 ? "20" : "19") + text
}

/// Whether `status` is revoked, whatever the details.
func isRevoked(_ status: CertStatus?) -> Bool {
    if case .revoked? = status { return true }
    return false
}

/// Whether `basic` is signed by `certificate`'s key.
func signatureVerifies(
    _ basic: BasicOCSPResponse,
    with certificate: Certificate,
    algorithm: Certificate.SignatureAlgorithm
) -> Bool {
    certificate.publicKey.isValidSignature(
        Array(basic.signature.bytes),
        for: Array(basic.tbsResponseDataBytes.bytes),
        signatureAlgorithm: algorithm
    )
}

/// The SHA-1 key hash RFC 6960 §4.2.1 names a responder by.
func responderKeyHash(_ certificate: Certificate) throws -> [UInt8] {
    Array(Insecure.SHA1.hash(data: try subjectPublicKeyBits(of: certificate)))
}

// MARK: - Harness

/// One issuer, its status source, a counting signer, a clock and the responder.
struct ResponderHarness {
    let pki: ResponderPKI
    let clock: ResponderTestClock
    let status: MutableStatusLookup
    let signer: CountingSigner
    let issuer: OCSPIssuer
    let configuration: OCSPResponderConfiguration
    let store: InMemoryPresignedStore?
    let service: OCSPResponderService

    /// - Parameters:
    ///   - caSigns: The issuing CA signs its own answers instead of the delegated responder.
    ///   - status: The status source; the PKI's index unless given.
    init(
        configuration: OCSPResponderConfiguration = OCSPResponderConfiguration(),
        responderID: OCSPIssuer.ResponderIDForm = .byKey,
        caSigns: Bool = false,
        nonIssuedIsRevoked: Bool = false,
        store: InMemoryPresignedStore? = nil,
        status: MutableStatusLookup? = nil,
        clock: ResponderTestClock = ResponderTestClock()
    ) throws {
        let pki = try ResponderPKI.shared()
        let status = try status ?? MutableStatusLookup(pki.snapshot())
        let signer = CountingSigner(caSigns ? pki.issuingCASigner : pki.delegatedSigner)
        let issuer = try OCSPIssuer(
            certificate: pki.issuingCA,
            signer: signer,
            responderID: responderID,
            status: status,
            nonIssuedIsRevoked: nonIssuedIsRevoked
        )
        self.pki = pki
        self.clock = clock
        self.status = status
        self.signer = signer
        self.issuer = issuer
        self.configuration = configuration
        self.store = store
        self.service = OCSPResponderService(
            issuers: [issuer],
            configuration: configuration,
            store: store,
            logger: silentLogger,
            now: clock.now
        )
    }

    /// Answers `request`.
    func respond(_ request: [UInt8]) async -> OCSPOutcome {
        await self.service.respond(to: request[...])
    }

    /// Answers a request for `certIDs`.
    func respond(to certIDs: [CertID], nonce: [UInt8]? = nil) async throws -> OCSPOutcome {
        await self.respond(try makeRequest(certIDs, nonce: nonce))
    }

    /// A CertID naming `certificate` of the issuing CA.
    func certID(_ certificate: Certificate, hash: CertIDHash = .sha1, parameters: HashParameters = .null) throws
        -> CertID
    {
        try makeCertID(for: certificate, issuer: self.pki.issuingCA, hash: hash, parameters: parameters)
    }

    /// A CertID naming a serial the index does not list.
    func unknownCertID(hash: CertIDHash = .sha1) throws -> CertID {
        var serial = randomOctets(16)
        serial[0] = 0x42  // positive, and never one of the PKI's (random 20-octet) serials
        return try makeCertID(issuer: self.pki.issuingCA, serial: serial, hash: hash)
    }

    /// The single response of a successful single-CertID outcome.
    func singleResponse(_ outcome: OCSPOutcome, sourceLocation: SourceLocation = #_sourceLocation) throws
        -> SingleResponse
    {
        let basic = try basicResponse(of: outcome, sourceLocation: sourceLocation)
        let responses = basic.tbsResponseData.responses
        try #require(responses.count == 1, sourceLocation: sourceLocation)
        return responses[0]
    }
}
