import ArgumentParser
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import PKIMessages
import Signing
import SwiftASN1
import X509

/// `sigillum ocsp CERT --issuer ISSUER`: an RFC 6960 client (§4.1 request, App. A transport, §3.2 checks).
struct OCSPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Ask an OCSP responder for a certificate's status and verify the answer (RFC 6960).",
        discussion: """
            The OCSPRequest carries one CertID for CERT: the hash of ISSUER's subject and of its public key (SHA-1 \
            with NULL parameters by default, as OpenSSL sends; --hash sha256) and CERT's serial number; and a \
            random 32-octet nonce (RFC 9654 §2.1) unless --no-nonce. It is POSTed as application/ocsp-request, or \
            with --get sent as GET URL/<url-encoded base64 of the DER> (RFC 6960 App. A.1). The URL is --url, else \
            the certificate's AIA OCSP URL, else http://127.0.0.1:8080/ocsp.

            Before asking, CERT must name ISSUER as its issuer and its signature must verify with ISSUER's key; with \
            --trust (repeatable), ISSUER must also chain to one of the given certificates (RFC 5280 path \
            validation at the current time).

            The answer is verified as RFC 6960 §3.2 asks of a relying party: status successful, type \
            id-pkix-ocsp-basic, exactly one SingleResponse for the CertID sent (byte for byte), the nonce echoed \
            (a missing one is a warning, as RFC 5019 responders may answer from pre-signed responses; a different \
            one is a failure), the signature valid under the key of the responder, which is ISSUER itself or a \
            delegated responder certificate carried in the response, issued directly by ISSUER, valid now, with \
            id-kp-OCSPSigning (§4.2.2.2), thisUpdate not in the future and nextUpdate not in the past (5 minutes \
            of clock skew allowed), no critical extension this client does not understand.

            --response-file FILE verifies a saved DER OCSPResponse (from `openssl ocsp -respout`, curl or a cache) \
            instead of asking: nothing is sent, so the nonce is not checked, everything else is; the CertID is \
            rebuilt from CERT, ISSUER and --hash and must match the saved one byte for byte.

            Exit status: 0 good; 3 revoked; 4 unknown; 1 the responder answered an error status \
            (malformedRequest, internalError, tryLater, sigRequired, unauthorized); 2 any other failure \
            (unreadable certificate, network or HTTP error, a response that fails verification), with the reason \
            on stderr.
            """
    )

    static let defaultURL = "http://127.0.0.1:8080/ocsp"
    static let nonceLength = 32

    @Argument(help: ArgumentHelp("The certificate whose status to ask for (PEM or DER).", valueName: "cert.pem"))
    var certificateFile: String

    @Option(
        name: .customLong("issuer"),
        help: ArgumentHelp("The certificate of the CA that issued CERT (PEM or DER).", valueName: "issuer.pem")
    )
    var issuerFile: String

    @Option(
        help: ArgumentHelp(
            "The responder URL, http only (default: CERT's AIA OCSP URL, else \(OCSPCommand.defaultURL)).",
            valueName: "url"
        )
    )
    var url: String?

    @Flag(
        inversion: .prefixedNo,
        help: "Send a random 32-octet nonce, which the response must echo (default), or none."
    )
    var nonce = true

    @Option(help: ArgumentHelp("The CertID hash algorithm.", valueName: "alg"))
    var hash: OCSPCertIDHash = .sha1

    @Flag(name: .customLong("get"), help: "Send the request as GET URL/<base64> (RFC 6960 App. A.1), not POST.")
    var useGET = false

    @Option(
        name: .customLong("trust"),
        help: ArgumentHelp(
            "A trust anchor (PEM or DER, repeatable): ISSUER must chain to one of them.", valueName: "root.pem")
    )
    var trustFiles: [String] = []

    @Option(help: ArgumentHelp("Give up after this many seconds (connect, send and receive).", valueName: "seconds"))
    var timeout: Double = 30

    @Option(
        name: .customLong("response-file"),
        help: ArgumentHelp(
            "Verify this saved DER OCSPResponse instead of asking a responder (the nonce is then not checked).",
            valueName: "file",
            visibility: .hidden
        )
    )
    var responseFile: String?

    func validate() throws {
        guard self.timeout > 0, self.timeout <= 3600 else {
            throw ValidationError("--timeout must be between 0 and 3600 seconds, not \(self.timeout)")
        }
        if self.responseFile != nil {
            if self.useGET { throw ValidationError("--get has no effect with --response-file (nothing is sent)") }
            if self.url != nil { throw ValidationError("--url has no effect with --response-file (nothing is sent)") }
        }
    }

    func run() async throws {
        let exitCode = try await self.reportingFailures { () async throws(CLIError) in
            try await self.check()
        }
        if exitCode != 0 { throw ExitCode(exitCode) }
    }

    /// Asks (or reads the saved answer), verifies, prints; returns the exit status for the certificate's status.
    func check() async throws(CLIError) -> Int32 {
        let certificate = try Self.readCertificate(self.certificateFile, role: "CERT")
        let issuer = try Self.readCertificate(self.issuerFile, role: "--issuer")
        var trailingFacts = [try await self.checkIssuer(issuer, of: certificate)]
        let certID = try Self.certID(for: certificate, issuer: issuer, hash: self.hash)

        let answer: [UInt8]
        var sentNonce: OCSPNonce?
        if let responseFile {
            answer = try Self.readResponseFile(responseFile)
            trailingFacts.insert("response: read from \(responseFile) (nothing was sent)", at: 0)
        } else {
            sentNonce = self.nonce ? OCSPNonce(octets: Self.randomOctets(Self.nonceLength)) : nil
            let request = try Self.encodeRequest(certID: certID, nonce: sentNonce)
            let (urlText, origin) = Self.responderURL(option: self.url, certificate: certificate)
            let endpoint = try HTTPURL(urlText)
            let timeout = TimeAmount.nanoseconds(Int64(self.timeout * 1e9))
            let reply: HTTPPostResponse
            let shownURL: HTTPURL
            if self.useGET {
                shownURL = Self.getURL(endpoint, request: request)
                reply = try await HTTPPost.get(
                    shownURL,
                    accept: "application/ocsp-response",
                    timeout: timeout,
                    service: "OCSP responder"
                )
            } else {
                shownURL = endpoint
                reply = try await HTTPPost.post(
                    to: endpoint,
                    contentType: "application/ocsp-request",
                    accept: "application/ocsp-response",
                    body: request,
                    timeout: timeout,
                    service: "OCSP responder"
                )
            }
            try Self.checkHTTP(reply, from: endpoint)
            answer = reply.body
            var remarks = origin.isEmpty ? [] : [origin]
            var how = "POST \(endpoint)"
            if self.useGET {
                how = "GET \(endpoint)\(endpoint.target.hasSuffix("/") ? "" : "/")<base64>"
                remarks.append("\(shownURL.target.utf8.count)-byte path")
            }
            trailingFacts.insert(
                "request: \(how)" + (remarks.isEmpty ? "" : " (\(remarks.joined(separator: "; ")))")
                    + ", CertID \(self.hash.rawValue), "
                    + (sentNonce == nil ? "no nonce" : "nonce of \(Self.nonceLength) octets"),
                at: 0
            )
        }

        let verifier = OCSPVerifier(
            issuer: issuer,
            certID: certID,
            sentNonce: sentNonce,
            requestWasSent: self.responseFile == nil,
            now: Date()
        )
        let report = try verifier.verify(answer)
        var facts = report.facts
        if certificate.notValidAfter < Date() {
            facts.append("note: the certificate expired at \(OCSPVerifier.iso(certificate.notValidAfter))")
        }
        Console.print(["\(self.certificateFile): \(report.summary)"] + (facts + trailingFacts).map { "  " + $0 })
        for warning in report.warnings {
            Console.error("sigillum: warning: \(warning)")
        }
        switch report.status {
        case .good: return 0
        case .revoked: return 3
        case .unknown: return 4
        }
    }

    // MARK: Inputs

    static func readCertificate(_ path: String, role: String) throws(CLIError) -> Certificate {
        let certificates: [Certificate]
        do {
            certificates = try CertificateFileReader.readCertificates(atPath: path)
        } catch {
            throw CLIError("\(role): \(Self.reason(error))", exitCode: 2)
        }
        guard let first = certificates.first else {
            throw CLIError("\(role) \(path) holds no certificate", exitCode: 2)
        }
        if certificates.count > 1 {
            Console.error("sigillum: note: \(path) holds \(certificates.count) certificates; using the first")
        }
        return first
    }

    /// A `SignerError`'s reason (it names the file) without the source location; other errors as they describe
    /// themselves.
    static func reason(_ error: any Error) -> String {
        (error as? SignerError)?.reason ?? "\(error)"
    }

    static func readResponseFile(_ path: String) throws(CLIError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw CLIError(
                exists ? "\(path) cannot be read; check its permissions" : "--response-file \(path): no such file",
                exitCode: 2
            )
        }
        return Array(data)
    }

    /// CERT must be ISSUER's (name and signature); with --trust, ISSUER must chain to an anchor. Returns the fact.
    func checkIssuer(_ issuer: Certificate, of certificate: Certificate) async throws(CLIError) -> String {
        guard certificate.issuer == issuer.subject else {
            throw CLIError(
                "\(self.certificateFile) was issued by \"\(certificate.issuer)\", not by --issuer \"\(issuer.subject)\"; "
                    + "give the certificate of the CA that issued it",
                exitCode: 2
            )
        }
        guard issuer.publicKey.isValidSignature(certificate.signature, for: certificate) else {
            throw CLIError(
                "\(self.certificateFile) names \"\(issuer.subject)\" as its issuer, but its signature does not verify "
                    + "with the key of --issuer \(self.issuerFile) (another CA with the same name?)",
                exitCode: 2
            )
        }
        let signed = "issuer: \"\(issuer.subject)\" signed the certificate"
        guard !self.trustFiles.isEmpty else {
            return signed + "; not checked against a trust anchor (give --trust ROOT.pem)"
        }
        var anchors: [Certificate] = []
        for path in self.trustFiles {
            do {
                anchors += try CertificateFileReader.readCertificates(atPath: path)
            } catch {
                throw CLIError("--trust: \(Self.reason(error))", exitCode: 2)
            }
        }
        var verifier = Verifier(rootCertificates: CertificateStore(anchors)) {
            RFC5280Policy()
        }
        let result: CertificateValidationResult = await verifier.validate(
            leaf: issuer, intermediates: CertificateStore())
        switch result {
        case .validCertificate(let chain):
            if chain.count == 1 {
                return signed + " and is a trust anchor (--trust)"
            }
            return signed + " and chains to the trust anchor \"\(chain.root.subject)\""
        case .couldNotValidate(let failures):
            var message = "--issuer \"\(issuer.subject)\" does not chain to any --trust certificate"
            let reasons = failures.prefix(3).map { "\($0.policyFailureReason)" }
            message +=
                reasons.isEmpty
                ? " (no path from it to them: neither is it one of them nor does one of them name its issuer)"
                : ": " + reasons.joined(separator: "; ")
            throw CLIError(message, exitCode: 2)
        }
    }

    // MARK: The request

    /// The CertID of RFC 6960 §4.1.1: the hashes of ISSUER's name and key, CERT's serial as encoded.
    static func certID(for certificate: Certificate, issuer: Certificate, hash: OCSPCertIDHash) throws(CLIError)
        -> CertID
    {
        CertID(
            hashAlgorithm: AlgorithmIdentifier(algorithm: hash.oid, parameters: AlgorithmIdentifier.nullParameters),
            issuerNameHash: hash.digest(CertID.issuerNameHashInput(of: issuer))[...],
            issuerKeyHash: hash.digest(CertID.issuerKeyHashInput(of: issuer))[...],
            serialNumber: try Self.serialNumber(of: certificate)
        )
    }

    /// The serialNumber INTEGER's content octets exactly as the TBSCertificate encodes them (the responder matches
    /// them byte for byte; swift-certificates normalises the serial it exposes).
    static func serialNumber(of certificate: Certificate) throws(CLIError) -> DERInteger {
        do {
            let root = try DER.parse(certificate.tbsCertificateBytes)
            guard case .constructed(let children) = root.content else {
                throw ASN1Error.unexpectedFieldType(root.identifier)
            }
            var nodes = children.makeIterator()
            var node = nodes.next()
            if node?.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific) {
                node = nodes.next()
            }
            guard let serial = node else {
                throw ASN1Error.invalidASN1Object(reason: "TBSCertificate without serialNumber")
            }
            return try DERInteger(derEncoded: serial)
        } catch {
            throw CLIError(
                "cannot read the certificate's serial number: \(TokenPrinter.parseError(error))", exitCode: 2)
        }
    }

    static func encodeRequest(certID: CertID, nonce: OCSPNonce?) throws(CLIError) -> [UInt8] {
        do {
            let request = try OCSPRequest(
                tbsRequest: TBSRequest(
                    requestList: [OCSPSingleRequest(reqCert: certID)],
                    requestExtensions: nonce.map { [$0.makeCertificateExtension()] }
                )
            )
            var coder = DER.Serializer()
            try coder.serialize(request)
            return coder.serializedBytes
        } catch {
            throw CLIError("cannot encode the OCSPRequest: \(error)", exitCode: 2)
        }
    }

    static func randomOctets(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// The URL to ask and where it came from ("" for --url): --url, the certificate's AIA (an http URL preferred), the
    /// default.
    static func responderURL(option: String?, certificate: Certificate) -> (url: String, origin: String) {
        if let option { return (option, "") }
        let aia = (try? certificate.extensions.authorityInformationAccess) ?? nil
        let uris = (aia ?? AuthorityInformationAccess()).compactMap { description -> String? in
            guard description.method == .ocspServer,
                case .uniformResourceIdentifier(let uri) = description.location
            else { return nil }
            return uri
        }
        if let uri = uris.first(where: { $0.lowercased().hasPrefix("http://") }) ?? uris.first {
            return (uri, "the certificate's AIA")
        }
        return (Self.defaultURL, "the default: the certificate has no AIA OCSP URL")
    }

    /// `URL/<url-encoded base64 of the DER>` (RFC 6960 App. A.1): `+`, `/` and `=` percent-encoded.
    static func getURL(_ endpoint: HTTPURL, request: [UInt8]) -> HTTPURL {
        var encoded = ""
        for character in Data(request).base64EncodedString() {
            switch character {
            case "+": encoded += "%2B"
            case "/": encoded += "%2F"
            case "=": encoded += "%3D"
            default: encoded.append(character)
            }
        }
        var url = endpoint
        url.target += (url.target.hasSuffix("/") ? "" : "/") + encoded
        return url
    }

    /// RFC 6960 App. A.1: a 200 answer of type application/ocsp-response.
    static func checkHTTP(_ answer: HTTPPostResponse, from endpoint: HTTPURL) throws(CLIError) {
        try answer.requireOK(
            mediaType: "application/ocsp-response",
            from: endpoint,
            pathHint: "sigillumd serves /ocsp",
            service: "an OCSP responder"
        )
    }
}

/// The CertID hash algorithms `ocsp` offers.
enum OCSPCertIDHash: String, ExpressibleByArgument, CaseIterable, Sendable {
    case sha1
    case sha256

    var oid: ASN1ObjectIdentifier {
        switch self {
        case .sha1: .HashAlgorithm.sha1
        case .sha256: .HashAlgorithm.sha256
        }
    }

    func digest(_ bytes: [UInt8]) -> [UInt8] {
        switch self {
        case .sha1: Array(Insecure.SHA1.hash(data: bytes))
        case .sha256: Array(SHA256.hash(data: bytes))
        }
    }
}
