import Foundation
import PKIMessages
import SwiftASN1
import Testing
import X509

/// Who signs the answers for CA A.
enum OCSPSigner: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// A's delegated responder certificate (EKU OCSPSigning, id-pkix-ocsp-nocheck).
    case delegated = "delegated responder"
    /// A's own key.
    case caKey = "CA key"

    var testDescription: String { self.rawValue }

    func entry(_ pki: OCSPPKI, index: String) -> OCSPIssuerEntry {
        switch self {
        case .delegated:
            .delegated(pki.a, responder: pki.responder.certificate, key: pki.responder.key, index: index)
        case .caKey:
            .caKey(pki.a, index: index)
        }
    }

    func certificate(_ pki: OCSPPKI) -> String {
        self == .delegated ? pki.responder.certificate : pki.a.certificate
    }
}

/// The real client against the real binary: `openssl ocsp` asks about certificates a test CA issued with
/// `openssl ca`, and verifies every answer (RFC 6960 §2.2, §4.2).
@Suite("OCSP statuses")
struct OCSPStatusTests {
    /// A serial CA A never issued (its serials start at 0x1000).
    static func neverIssuedSerial() -> String { "0x5EED" + hex(randomBytes(6)).uppercased() }

    /// Settings a test changes from the defaults of `withCA`.
    struct Options: Sendable {
        /// Serve A's whole index.txt (default: without the unlisted certificate's line).
        var fullIndex = false
        var responderID: String? = nil
        var nonIssuedIsRevoked: Bool? = nil
        var nonces: String? = nil
        var requireSignedRequests: Bool? = nil
    }

    /// Starts a daemon answering for CA A from a copy of its index.txt in the state folder and runs `body`.
    static func withCA(
        _ label: String,
        signer: OCSPSigner = .delegated,
        options: Options = Options(),
        _ body: (_ directory: String, OCSPPKI, OCSPEndpoint) async throws -> Void
    ) async throws {
        let pki = try await OCSPFixtures.shared.pki()
        try await withTemporaryDirectory(label) { directory in
            let state = directory + "/state"
            try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
            let index = state + "/index.txt"
            try writeFile(
                index,
                text: options.fullIndex ? readText(pki.a.index) : pki.a.indexText(excluding: [pki.a.unlisted.serialHex])
            )
            var entry = signer.entry(pki, index: index)
            entry.responderID = options.responderID
            entry.nonIssuedIsRevoked = options.nonIssuedIsRevoked
            var configuration = try await OCSPDaemonConfiguration(stateDirectory: state, issuers: [entry])
            configuration.nonces = options.nonces
            configuration.requireSignedRequests = options.requireSignedRequests
            try await withOCSPDaemon(configuration) { _, endpoint in
                try await body(directory, pki, endpoint)
            }
        }
    }

    /// good / revoked (keyCompromise) / unknown (issued but left out of the served index.txt, and never issued),
    /// each asked alone with and without a nonce, each verified by OpenSSL; the delegated responder's certificate
    /// travels in the answer, the CA's does not; ResponderID byKey is the SHA-1 of the signer's key.
    @Test(arguments: OCSPSigner.allCases)
    func opensslReportsGoodRevokedAndUnknown(_ signer: OCSPSigner) async throws {
        try await Self.withCA("ocsp-status", signer: signer) { directory, pki, endpoint in
            let neverIssued = Self.neverIssuedSerial()
            let cases: [(label: String, certificate: String?, expected: String)] = [
                (pki.a.good.certificate, pki.a.good.certificate, "good"),
                (pki.a.revoked.certificate, pki.a.revoked.certificate, "revoked"),
                (pki.a.unlisted.certificate, pki.a.unlisted.certificate, "unknown"),
                (neverIssued, nil, "unknown"),
            ]
            let signerDER = try await OpenSSLOCSP.certificateDER(signer.certificate(pki))
            let keyHash = try await OpenSSLOCSP.keyHash(of: signer.certificate(pki), scratch: directory + "/keyhash")
            for nonce in [true, false] {
                for (index, item) in cases.enumerated() {
                    let responsePath = "\(directory)/response-\(index)-\(nonce).der"
                    let query = try await OpenSSLOCSP.query(
                        url: endpoint.url,
                        issuer: pki.a.certificate,
                        certificates: item.certificate.map { [$0] } ?? [],
                        serials: item.certificate == nil ? [item.label] : [],
                        caFile: pki.a.certificate,
                        nonce: nonce,
                        responseOut: responsePath
                    )
                    let context = "\(item.expected), nonce \(nonce):\n\(query)"
                    #expect(query.succeeded, "\(context)")
                    #expect(query.verified, "OpenSSL did not verify the answer; \(context)")
                    #expect(query.status(item.label) == item.expected, "\(context)")
                    #expect(!query.nonceMissing, "\(context)")
                    if item.expected == "revoked" {
                        #expect(query.reason(item.label) == "keyCompromise", "\(context)")
                        #expect(query.detail(item.label, "Revocation Time") != nil, "\(context)")
                    }
                    #expect(query.detail(item.label, "This Update") != nil, "\(context)")
                    #expect(query.detail(item.label, "Next Update") != nil, "\(context)")

                    let response = try ReceivedOCSPResponse(try readFile(responsePath))
                    #expect(response.status == .successful)
                    #expect(response.singles.count == 1, "\(context)")
                    #expect(
                        (response.nonce != nil) == nonce, "nonce in the answer: \(response.nonce.map(hex) ?? "none")")
                    if nonce { #expect(response.nonce?.count == 16, "OpenSSL sends 16 octets; \(context)") }
                    let certificates = response.basic?.certs?.map { Array($0.bytes) }
                    switch signer {
                    case .delegated:
                        let carriesResponder = certificates == [signerDER]
                        #expect(
                            carriesResponder,
                            "the responder's certificate must travel in the answer: \(certificates?.count ?? 0) certificates"
                        )
                    case .caKey:
                        #expect(
                            certificates == nil,
                            "a CA-signed answer needs no certificate: \(certificates?.count ?? 0) certificates")
                    }
                    guard case .byKey(let hash)? = response.basic?.tbsResponseData.responderID else {
                        Issue.record("ResponderID is not byKey: \(String(describing: response.basic))")
                        continue
                    }
                    #expect(hex(hash) == keyHash, "byKey is the SHA-1 of the subjectPublicKey BIT STRING value")
                    #expect(query.text.contains("Responder Id: \(keyHash.uppercased())"), "\(context)")
                    if signer == .delegated {
                        // The responder's SKI is planted: a byKey copied from the SKI would show here.
                        #expect(hex(hash) != OCSPPKI.responderSKI)
                    }
                }
            }
        }
    }

    /// The development default prints an `openssl ocsp` command that works as printed: ee-revoked.pem is revoked
    /// (keyCompromise) and the answer verifies; the same command for ee-good.pem says good.
    @Test func developmentDefaultBannerCommandWorksAsPrinted() async throws {
        try await withDevelopmentDaemon("ocsp-dev") { state, daemon, banner in
            let endpoint = try #require(OCSPEndpoint.parse(daemon.stdout, banner: banner), "\(daemon.stdout)")
            #expect(endpoint.url == banner.publicBase + "/ocsp")
            let commands = OCSPEndpoint.developmentCommands(daemon.stdout)
            #expect(commands.count == 1, "\(daemon.stdout)")
            let command = try #require(commands.first)
            #expect(command.hasPrefix("openssl ocsp ") && command.contains(endpoint.url), "\(command)")
            let revoked = OCSPQuery(result: try await Tool.shell(command, directory: state))
            let revokedLabel = state + "/pki/ee-revoked.pem"
            #expect(revoked.succeeded, "the banner's command failed as printed:\n\(revoked)")
            #expect(revoked.verified, "\(revoked)")
            #expect(revoked.status(revokedLabel) == "revoked", "\(revoked)")
            #expect(revoked.reason(revokedLabel) == "keyCompromise", "\(revoked)")

            let goodCommand = command.replacingOccurrences(of: "ee-revoked.pem", with: "ee-good.pem")
            for extra in ["", " -no_nonce"] {
                let good = OCSPQuery(result: try await Tool.shell(goodCommand + extra, directory: state))
                #expect(good.succeeded && good.verified, "\(good)")
                #expect(good.status(state + "/pki/ee-good.pem") == "good", "\(good)")
            }
        }
    }

    /// A SHA-256 CertID is answered with that CertID (hash algorithm included), from the cache and signed live.
    @Test func sha256CertIDIsAnsweredWithASHA256CertID() async throws {
        try await Self.withCA("ocsp-sha256") { directory, pki, endpoint in
            for (round, nonce) in [false, false, true].enumerated() {
                let requestPath = "\(directory)/request-\(round).der"
                let responsePath = "\(directory)/response-\(round).der"
                let query = try await OpenSSLOCSP.query(
                    url: endpoint.url, issuer: pki.a.certificate, certificates: [pki.a.revoked.certificate],
                    caFile: pki.a.certificate, nonce: nonce, digest: "sha256", requestOut: requestPath,
                    responseOut: responsePath)
                #expect(query.succeeded && query.verified, "\(query)")
                #expect(query.status(pki.a.revoked.certificate) == "revoked", "\(query)")
                #expect(query.text.contains("Hash Algorithm: sha256"), "\(query)")
                #expect(!query.text.contains("Hash Algorithm: sha1"), "\(query)")
                let sent = try OCSPMessages.certIDs(ofRequest: try readFile(requestPath))
                #expect(sent.first?.hashAlgorithm.algorithm == .HashAlgorithm.sha256)
                let response = try ReceivedOCSPResponse(try readFile(responsePath))
                #expect(
                    try response.singles.map { hex(try OCSPMessages.der($0.certID)) }
                        == sent.map { hex(try OCSPMessages.der($0)) },
                    "the SingleResponse does not echo the SHA-256 CertID")
            }
        }
    }

    /// CertIDs are echoed exactly, AlgorithmIdentifier parameters included: a SHA-1 and a SHA-256 CertID whose
    /// hash algorithm has no parameters (rather than NULL) come back without them, from the cache path (one
    /// CertID, no nonce) and the live path (nonce); OpenSSL matches and verifies each answer.
    @Test func certIDWithoutAlgorithmParametersIsEchoedExactly() async throws {
        try await Self.withCA("ocsp-noparams") { directory, pki, endpoint in
            for digest in ["sha1", "sha256"] {
                let template = try OCSPMessages.certIDs(
                    ofRequest: try await OpenSSLOCSP.makeRequest(
                        issuer: pki.a.certificate, certificates: [pki.a.revoked.certificate], digest: digest,
                        out: "\(directory)/\(digest)-template.der"))[0]
                #expect(template.hashAlgorithm.parameters != nil, "OpenSSL writes NULL parameters")
                var certID = template
                certID.hashAlgorithm = AlgorithmIdentifier(algorithm: template.hashAlgorithm.algorithm, parameters: nil)
                let sent = hex(try OCSPMessages.der(certID))
                for nonce in [nil, randomBytes(32)] {
                    let requestPath = "\(directory)/\(digest)-\(nonce == nil).der"
                    let responsePath = "\(directory)/\(digest)-\(nonce == nil)-response.der"
                    try writeFile(requestPath, try OCSPMessages.request(certIDs: [certID], nonce: nonce))
                    let query = try await OpenSSLOCSP.run([
                        "-reqin", requestPath, "-url", endpoint.url, "-CAfile", pki.a.certificate, "-resp_text",
                        "-respout", responsePath,
                    ])
                    #expect(query.succeeded && query.verified, "\(digest), nonce \(nonce != nil): \(query)")
                    #expect(query.text.contains("Cert Status: revoked"), "\(query)")
                    let response = try ReceivedOCSPResponse(try readFile(responsePath))
                    let echoed = try response.singles.map { hex(try OCSPMessages.der($0.certID)) }
                    #expect(echoed == [sent], "\(digest), nonce \(nonce != nil): the CertID is not echoed as sent")
                }
            }
        }
    }

    /// Four CertIDs (SHA-1, SHA-256, SHA-384, SHA-512) in one request: one response, one SingleResponse each,
    /// each echoing its CertID.
    @Test func severalCertIDsAreAnsweredInOneResponse() async throws {
        try await Self.withCA("ocsp-several") { directory, pki, endpoint in
            let neverIssued = Self.neverIssuedSerial()
            for nonce in [true, false] {
                let requestPath = "\(directory)/request-\(nonce).der"
                let responsePath = "\(directory)/response-\(nonce).der"
                let query = try await OpenSSLOCSP.run(
                    [
                        "-issuer", pki.a.certificate, "-sha1", "-cert", pki.a.good.certificate, "-sha256", "-cert",
                        pki.a.revoked.certificate, "-sha384", "-cert", pki.a.unlisted.certificate, "-sha512",
                        "-serial", neverIssued, "-url", endpoint.url, "-CAfile", pki.a.certificate, "-resp_text",
                        "-reqout", requestPath, "-respout", responsePath,
                    ] + (nonce ? [] : ["-no_nonce"]))
                #expect(query.succeeded && query.verified, "\(query)")
                #expect(query.status(pki.a.good.certificate) == "good", "\(query)")
                #expect(query.status(pki.a.revoked.certificate) == "revoked", "\(query)")
                #expect(query.reason(pki.a.revoked.certificate) == "keyCompromise", "\(query)")
                #expect(query.status(pki.a.unlisted.certificate) == "unknown", "\(query)")
                #expect(query.status(neverIssued) == "unknown", "\(query)")
                for algorithm in ["sha1", "sha256", "sha384", "sha512"] {
                    #expect(query.text.contains("Hash Algorithm: \(algorithm)\n"), "\(algorithm): \(query)")
                }
                let sent = try OCSPMessages.certIDs(ofRequest: try readFile(requestPath)).map {
                    hex(try OCSPMessages.der($0))
                }
                let response = try ReceivedOCSPResponse(try readFile(responsePath))
                let answered = try response.singles.map { hex(try OCSPMessages.der($0.certID)) }
                #expect(sent.count == 4)
                #expect(answered.count == 4, "one SingleResponse per CertID")
                #expect(Set(answered) == Set(sent), "every CertID echoed exactly")
                #expect(answered == sent, "the SingleResponses are not in request order")
            }
        }
    }

    /// `responderID: byName`: the responder's subject, which OpenSSL prints and uses to find the signer.
    @Test func responderIDByNameWhenConfigured() async throws {
        try await Self.withCA(
            "ocsp-byname",
            options: Options(responderID: "byName")
        ) { directory, pki, endpoint in
            let responsePath = directory + "/response.der"
            let query = try await OpenSSLOCSP.query(
                url: endpoint.url, issuer: pki.a.certificate, certificates: [pki.a.good.certificate],
                caFile: pki.a.certificate, responseOut: responsePath)
            #expect(query.succeeded && query.verified, "\(query)")
            #expect(query.status(pki.a.good.certificate) == "good", "\(query)")
            // OpenSSL prints the Name as `x509 -subject` does (`openssl ca` ordered it CN first, per its policy).
            let subject = try checked(
                try await Tool.openssl(["x509", "-in", pki.responder.certificate, "-noout", "-subject"])
            ).output.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "subject=", with: "")
            #expect(subject.contains("ee-responder"), "\(subject)")
            #expect(query.text.contains("Responder Id: \(subject)\n"), "expected \(subject):\n\(query)")
            let response = try ReceivedOCSPResponse(try readFile(responsePath))
            let responder = try Certificate(derEncoded: try await OpenSSLOCSP.certificateDER(pki.responder.certificate))
            guard case .byName(let name)? = response.basic?.tbsResponseData.responderID else {
                Issue.record("ResponderID is not byName")
                return
            }
            #expect(name == responder.subject)
            // The generic view: ResponseData's first element is [1] (byName), constructed, holding the Name.
            let generic = try DERWalk.children(of: Array(try #require(response.basic).tbsResponseDataBytes.bytes))
            #expect(generic.first?.identifier == ASN1Identifier(tagWithNumber: 1, tagClass: .contextSpecific))
        }
    }

    /// `nonIssuedIsRevoked: true` (index source): a serial A never issued is revoked, reason certificateHold,
    /// revocationTime 1970-01-01T00:00:00Z, and the answer carries the non-critical extended-revoke extension with
    /// a NULL value in responseExtensions (RFC 6960 §2.2, §4.4.8). Such answers are not kept in the pre-signed cache
    /// (`/health` `ocsp.cachedAnswers` does not grow). Issued certificates keep their status.
    @Test func nonIssuedSerialIsRevokedWhenConfigured() async throws {
        try await Self.withCA(
            "ocsp-nonissued",
            options: Options(fullIndex: true, nonIssuedIsRevoked: true)
        ) { directory, pki, endpoint in
            let neverIssued = Self.neverIssuedSerial()
            let cachedBefore = try await endpoint.cachedAnswers()
            for (round, nonce) in [false, true, false].enumerated() {
                let responsePath = "\(directory)/response-\(round).der"
                let query = try await OpenSSLOCSP.query(
                    url: endpoint.url, issuer: pki.a.certificate, serials: [neverIssued], caFile: pki.a.certificate,
                    nonce: nonce, responseOut: responsePath)
                #expect(query.succeeded && query.verified, "\(query)")
                #expect(query.status(neverIssued) == "revoked", "\(query)")
                #expect(query.reason(neverIssued) == "certificateHold", "\(query)")
                let time = query.detail(neverIssued, "Revocation Time").flatMap(OpenSSLOCSP.parseTime)
                #expect(time == Date(timeIntervalSince1970: 0), "\(query)")
                // OpenSSL 3.0 names id-pkix-ocsp-extended-revoke (1.3.6.1.5.5.7.48.1.9) "valid".
                let responseExtensions = query.text.components(separatedBy: "Response Extensions:").dropFirst().first
                #expect(
                    responseExtensions.map {
                        $0.contains("valid:") || $0.contains("Extended Revoke") || $0.contains("1.3.6.1.5.5.7.48.1.9")
                    } == true, "\(query)")

                let der = try readFile(responsePath)
                let extensions = try OCSPMessages.genericResponseExtensions(der)
                let extendedRevoke = extensions.filter { $0.0 == "1.3.6.1.5.5.7.48.1.9" }
                #expect(extendedRevoke.count == 1, "responseExtensions: \(extensions)")
                #expect(extendedRevoke.first?.1 == false, "the extension must not be critical")
                #expect(extendedRevoke.first.map { $0.2 } == [0x05, 0x00], "its value is NULL")
                let response = try ReceivedOCSPResponse(der)
                #expect(response.singles.first?.singleExtensions?.isEmpty ?? true, "not in singleExtensions")
                guard case .revoked(let info)? = response.singles.first?.certStatus else {
                    Issue.record("not revoked: \(response.singles)")
                    continue
                }
                #expect(info.revocationTime.wholeSecondsSince1970 == 0)
                #expect(info.revocationReason == .certificateHold)
            }
            // Made-up serials are answered revoked but not kept: a client cannot grow the pre-signed cache.
            let madeUp = (0..<8).map { _ in Self.neverIssuedSerial() }
            let several = try await OpenSSLOCSP.makeRequest(
                issuer: pki.a.certificate, serials: madeUp, out: directory + "/made-up.der")
            for certID in try OCSPMessages.certIDs(ofRequest: several) {
                let answer = try await OCSPHTTP.post(endpoint, body: try OCSPMessages.request(certIDs: [certID]))
                let single = try ReceivedOCSPResponse(answer.body).singles.first
                #expect(single?.certStatus != .good && single?.certStatus != .unknown, "\(answer)")
            }
            let cachedAfter = try await endpoint.cachedAnswers()
            #expect(cachedAfter == cachedBefore, "the cache grew from \(cachedBefore) to \(cachedAfter) answers")

            // Issued certificates are answered as the index says.
            let good = try await OpenSSLOCSP.query(
                url: endpoint.url, issuer: pki.a.certificate, certificates: [pki.a.good.certificate],
                caFile: pki.a.certificate, nonce: false)
            #expect(good.status(pki.a.good.certificate) == "good" && good.verified, "\(good)")
            let revoked = try await OpenSSLOCSP.query(
                url: endpoint.url, issuer: pki.a.certificate, certificates: [pki.a.revoked.certificate],
                caFile: pki.a.certificate, nonce: false)
            #expect(revoked.reason(pki.a.revoked.certificate) == "keyCompromise" && revoked.verified, "\(revoked)")
        }
    }

    /// `nonces: ignore` (RFC 5019 §4): a request with a nonce gets the pre-signed answer, without a nonce; OpenSSL
    /// warns and still verifies it.
    @Test func ignoredNonceGetsTheCachedAnswer() async throws {
        try await Self.withCA("ocsp-nonce-ignore", options: Options(nonces: "ignore")) { directory, pki, endpoint in
            let withoutNonce = try await OpenSSLOCSP.query(
                url: endpoint.url, issuer: pki.a.certificate, certificates: [pki.a.good.certificate],
                caFile: pki.a.certificate, nonce: false, responseOut: directory + "/plain.der")
            #expect(withoutNonce.succeeded && withoutNonce.verified, "\(withoutNonce)")
            let withNonce = try await OpenSSLOCSP.query(
                url: endpoint.url, issuer: pki.a.certificate, certificates: [pki.a.good.certificate],
                caFile: pki.a.certificate, nonce: true, responseOut: directory + "/nonce.der")
            #expect(withNonce.succeeded && withNonce.verified, "\(withNonce)")
            #expect(withNonce.nonceMissing, "OpenSSL should warn about the missing nonce:\n\(withNonce)")
            #expect(withNonce.status(pki.a.good.certificate) == "good", "\(withNonce)")
            let plain = try readFile(directory + "/plain.der")
            let answered = try readFile(directory + "/nonce.der")
            #expect(try ReceivedOCSPResponse(answered).nonce == nil)
            let isCached = answered == plain
            #expect(isCached, "the answer to the nonce request is not the pre-signed one")
        }
    }
}
