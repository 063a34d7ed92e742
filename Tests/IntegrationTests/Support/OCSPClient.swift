import Foundation
import PKIMessages
import SwiftASN1
import Testing
import X509

// Running `sigillumd` as an OCSP responder and talking to it: the `ocsp:` section of a config file, the banner's
// OCSP lines, `openssl ocsp` as the client, and OCSP messages built or parsed where OpenSSL cannot help. Every
// property a test checks with our own PKIMessages parser is also checked with OpenSSL or SwiftASN1's generic DER
// reader, so that no property rests on the daemon's message library alone.

// MARK: - Configuration

/// One `ocsp.issuers` entry.
struct OCSPIssuerEntry: Sendable {
    var certificateFile: String
    var signerKeyFile: String
    var signerCertificateFile: String
    /// `byKey` or `byName`; nil leaves the key out (the default, byKey).
    var responderID: String? = nil
    var index: String? = nil
    var crl: String? = nil
    var nonIssuedIsRevoked: Bool? = nil

    /// `ca` answered for by `responder`, a delegated responder certificate.
    static func delegated(_ ca: OCSPTestCA, responder: String, key: String, index: String? = nil, crl: String? = nil)
        -> OCSPIssuerEntry
    {
        OCSPIssuerEntry(
            certificateFile: ca.certificate, signerKeyFile: key, signerCertificateFile: responder, index: index,
            crl: crl)
    }

    /// `ca` answering with its own key.
    static func caKey(_ ca: OCSPTestCA, index: String? = nil, crl: String? = nil) -> OCSPIssuerEntry {
        OCSPIssuerEntry(
            certificateFile: ca.certificate, signerKeyFile: ca.key, signerCertificateFile: ca.certificate,
            index: index, crl: crl)
    }

    var yamlLines: [String] {
        var lines = [
            "    - certificateFile: \(self.certificateFile)",
            "      signer: { type: software, keyFile: \(self.signerKeyFile), certificateFile: \(self.signerCertificateFile) }",
        ]
        if let index { lines.append("      status: { index: \(index) }") }
        if let crl { lines.append("      status: { crl: \(crl) }") }
        if let responderID { lines.append("      responderID: \(responderID)") }
        if let nonIssuedIsRevoked { lines.append("      nonIssuedIsRevoked: \(nonIssuedIsRevoked)") }
        return lines
    }
}

/// A `sigillumd --config` file with a TSA section (required; the shared EC P-256 development PKI signs) and an
/// `ocsp:` section.
struct OCSPDaemonConfiguration: Sendable {
    var base: DaemonConfiguration
    var issuers: [OCSPIssuerEntry]
    var maxCertIDs: Int? = nil
    var validitySeconds: Int? = nil
    /// `sign` or `ignore`.
    var nonces: String? = nil
    var requireSignedRequests: Bool? = nil
    var sourcePollMilliseconds: Int? = nil

    init(stateDirectory: String, issuers: [OCSPIssuerEntry]) async throws {
        let pki = try await SharedFixtures.shared.pki(.ecP256)
        self.base = DaemonConfiguration(stateDirectory: stateDirectory, pki: pki)
        self.issuers = issuers
    }

    var stateDirectory: String { self.base.stateDirectory }

    var yaml: String {
        var lines = ["ocsp:", "  issuers:"]
        lines += self.issuers.flatMap(\.yamlLines)
        if let maxCertIDs { lines.append("  maxCertIDs: \(maxCertIDs)") }
        if let validitySeconds { lines.append("  validitySeconds: \(validitySeconds)") }
        if let nonces { lines.append("  nonces: \(nonces)") }
        if let requireSignedRequests { lines.append("  requireSignedRequests: \(requireSignedRequests)") }
        if let sourcePollMilliseconds { lines.append("  sourcePollMilliseconds: \(sourcePollMilliseconds)") }
        return self.base.yaml + lines.joined(separator: "\n") + "\n"
    }

    /// Writes `sigillumd.yaml` into the state folder and returns the `sigillumd` arguments that use it.
    func write() throws -> [String] {
        try FileManager.default.createDirectory(atPath: self.stateDirectory, withIntermediateDirectories: true)
        let path = self.stateDirectory + "/sigillumd.yaml"
        try writeFile(path, text: self.yaml)
        return ["--config", path]
    }
}

/// Where the daemon's banner says OCSP is served.
struct OCSPEndpoint: Sendable {
    var banner: Banner
    /// `http://127.0.0.1:PORT/ocsp`, from the banner's `POST` URL.
    var url: String
    /// `http://127.0.0.1:PORT/ocsp/`, from the banner's `GET …/{base64}` URL.
    var getPrefix: String

    /// The `  OCSP (RFC 6960): POST URL, GET URL/{base64}` line of the banner.
    static func parse(_ stdout: String, banner: Banner) -> OCSPEndpoint? {
        guard let line = stdout.split(separator: "\n").first(where: { $0.hasPrefix("  OCSP (RFC 6960):") }) else {
            return nil
        }
        let words = line.split(separator: " ").map(String.init)
        guard let post = words.firstIndex(of: "POST"), post + 1 < words.count,
            let get = words.firstIndex(of: "GET"), get + 1 < words.count, words[get + 1].hasSuffix("{base64}")
        else { return nil }
        let url = words[post + 1].hasSuffix(",") ? String(words[post + 1].dropLast()) : words[post + 1]
        return OCSPEndpoint(banner: banner, url: url, getPrefix: String(words[get + 1].dropLast("{base64}".count)))
    }

    /// The development default's "Check a certificate's status" commands, as printed.
    static func developmentCommands(_ stdout: String) -> [String] {
        let lines = stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.firstIndex(where: { $0.hasPrefix("Check a certificate's status") }) else { return [] }
        return lines[(start + 1)...].prefix { !$0.isEmpty }.filter { $0.hasPrefix("  ") }.map {
            String($0.dropFirst(2))
        }
    }
}

extension OCSPEndpoint {
    /// `ocsp.cachedAnswers` of the admin `/health` document: how many pre-signed answers the daemon keeps in memory.
    func cachedAnswers() async throws -> Int {
        let health = try await HTTPClient.get(self.banner.healthURL)
        let document = try JSONSerialization.jsonObject(with: Data(health.body)) as? [String: Any]
        guard let ocsp = document?["ocsp"] as? [String: Any], let count = ocsp["cachedAnswers"] as? Int else {
            throw IntegrationError("no ocsp.cachedAnswers in /health: \(health)")
        }
        return count
    }
}

/// Starts `sigillumd` with `configuration`, waits for its banner (which must announce OCSP), runs `body`, and always
/// stops the daemon.
func withOCSPDaemon<R>(
    _ configuration: OCSPDaemonConfiguration,
    _ body: (DaemonProcess, OCSPEndpoint) async throws -> R
) async throws -> R {
    let arguments = try configuration.write()
    return try await withDaemon(arguments, logDirectory: configuration.stateDirectory) { daemon, banner in
        guard let endpoint = OCSPEndpoint.parse(daemon.stdout, banner: banner) else {
            throw IntegrationError("the banner announces no OCSP URLs")
        }
        #expect(endpoint.url == banner.publicBase + "/ocsp", "\(daemon.stdout)")
        #expect(endpoint.getPrefix == banner.publicBase + "/ocsp/", "\(daemon.stdout)")
        return try await body(daemon, endpoint)
    }
}

// MARK: - openssl ocsp

/// What `openssl ocsp … -resp_text` printed: the response text and one status block per CertID, e.g.
/// `/path/good.pem: good` followed by tab-indented `This Update:`, `Reason:` … lines.
struct OCSPQuery: Sendable, CustomStringConvertible {
    var result: ToolResult

    var succeeded: Bool { self.result.succeeded }
    /// OpenSSL checked the signature, the responder's authority and (when it sent one) the nonce.
    var verified: Bool { self.result.errorOutput.contains("Response verify OK") }
    var nonceMissing: Bool { self.result.allOutput.contains("WARNING: no nonce in response") }
    var text: String { self.result.output }

    /// The status OpenSSL reports for the certificate or serial named `label` (as given on the command line).
    func status(_ label: String) -> String? {
        self.statusLines(label).first.map { String($0.dropFirst(label.count + 2)) }
    }

    /// The tab-indented lines under `label`'s status line, without the tab.
    func details(_ label: String) -> [String] {
        let lines = self.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.firstIndex(where: { $0.hasPrefix(label + ": ") }) else { return [] }
        return lines[(start + 1)...].prefix { $0.hasPrefix("\t") }.map { String($0.dropFirst()) }
    }

    /// `Reason: keyCompromise` → `keyCompromise`.
    func reason(_ label: String) -> String? {
        self.details(label).first { $0.hasPrefix("Reason: ") }.map { String($0.dropFirst("Reason: ".count)) }
    }

    func detail(_ label: String, _ name: String) -> String? {
        self.details(label).first { $0.hasPrefix(name + ": ") }.map { String($0.dropFirst(name.count + 2)) }
    }

    private func statusLines(_ label: String) -> [String] {
        self.text.split(separator: "\n").map(String.init).filter { $0.hasPrefix(label + ": ") }
    }

    var description: String { self.result.description }
}

enum OpenSSLOCSP {
    /// `openssl ocsp -issuer ISSUER [-DIGEST] -cert … -serial … -url URL -CAfile CA -resp_text [-no_nonce]`.
    static func query(
        url: String,
        issuer: String,
        certificates: [String] = [],
        serials: [String] = [],
        caFile: String,
        nonce: Bool = true,
        digest: String? = nil,
        requestOut: String? = nil,
        responseOut: String? = nil,
        extra: [String] = []
    ) async throws -> OCSPQuery {
        var arguments = ["ocsp", "-issuer", issuer]
        if let digest { arguments.append("-\(digest)") }
        arguments += certificates.flatMap { ["-cert", $0] } + serials.flatMap { ["-serial", $0] }
        arguments += ["-url", url, "-CAfile", caFile, "-resp_text", "-timeout", "30"]
        if !nonce { arguments.append("-no_nonce") }
        if let requestOut { arguments += ["-reqout", requestOut] }
        if let responseOut { arguments += ["-respout", responseOut] }
        return OCSPQuery(result: try await Tool.openssl(arguments + extra))
    }

    /// `openssl ocsp ARGUMENTS` as given.
    static func run(_ arguments: [String]) async throws -> OCSPQuery {
        OCSPQuery(result: try await Tool.openssl(["ocsp"] + arguments))
    }

    /// `openssl ocsp -issuer ISSUER … -reqout OUT` without sending it; returns the request DER.
    @discardableResult
    static func makeRequest(
        issuer: String,
        certificates: [String] = [],
        serials: [String] = [],
        digest: String? = nil,
        nonce: Bool = false,
        out: String,
        extra: [String] = []
    ) async throws -> [UInt8] {
        var arguments = ["ocsp", "-issuer", issuer]
        if let digest { arguments.append("-\(digest)") }
        arguments += certificates.flatMap { ["-cert", $0] } + serials.flatMap { ["-serial", $0] }
        arguments += [nonce ? "-nonce" : "-no_nonce", "-reqout", out] + extra
        try checked(try await Tool.openssl(arguments))
        return try readFile(out)
    }

    /// `openssl ocsp -respin RESPONSE -resp_text -noverify`: OpenSSL's reading of a response (exit 1 for an error
    /// status, which it prints as `Responder Error: …`).
    static func responseText(_ path: String) async throws -> ToolResult {
        try await Tool.openssl(["ocsp", "-respin", path, "-resp_text", "-noverify"])
    }

    /// OpenSSL's time format in `-resp_text` (`Nov 25 03:14:28 2026 GMT`, `Jan  1 00:00:00 1970 GMT`).
    static func parseTime(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "MMM d HH:mm:ss yyyy 'GMT'"
        let normalised = text.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        return formatter.date(from: normalised)
    }

    /// The SHA-1 of a certificate's subjectPublicKey BIT STRING value (RFC 6960 §4.2.1 byKey), computed with
    /// OpenSSL and SwiftASN1's generic DER reader: `x509 -pubkey`, `pkey -outform DER`, the BIT STRING's octets
    /// after the unused-bits octet, `dgst -sha1`. Lower-case hex.
    static func keyHash(of certificate: String, scratch: String) async throws -> String {
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let publicKey = try checked(try await Tool.openssl(["x509", "-in", certificate, "-noout", "-pubkey"])).output
        try writeFile(scratch + "/public.pem", text: publicKey)
        try checked(
            try await Tool.openssl([
                "pkey", "-pubin", "-in", scratch + "/public.pem", "-outform", "DER", "-out", scratch + "/spki.der",
            ]))
        let spki = try DER.parse(try readFile(scratch + "/spki.der"))
        guard let bitString = DERWalk.children(spki).last, bitString.identifier == .bitString,
            let value = DERWalk.primitive(bitString), value.first == 0
        else { throw IntegrationError("unexpected SubjectPublicKeyInfo in \(certificate)") }
        try writeFile(scratch + "/key.bin", value.dropFirst())
        let digest = try checked(try await Tool.openssl(["dgst", "-sha1", "-r", scratch + "/key.bin"])).output
        return String(digest.prefix { !$0.isWhitespace }).lowercased()
    }

    /// The DER of a PEM certificate.
    static func certificateDER(_ path: String) async throws -> [UInt8] {
        let out = "\(Tool.scratch)/\(UUID().uuidString).der"
        defer { try? FileManager.default.removeItem(atPath: out) }
        try checked(try await Tool.openssl(["x509", "-in", path, "-outform", "DER", "-out", out]))
        return try readFile(out)
    }
}

// MARK: - Messages

/// An OCSPResponse as received, parsed with PKIMessages.
struct ReceivedOCSPResponse: Sendable {
    var der: [UInt8]
    var response: OCSPResponse
    var basic: BasicOCSPResponse?

    init(_ der: [UInt8]) throws {
        self.der = der
        self.response = try OCSPResponse(derEncoded: der)
        self.basic = try self.response.basicResponse()
    }

    var status: OCSPResponseStatus { self.response.responseStatus }
    var singles: [SingleResponse] { self.basic?.tbsResponseData.responses ?? [] }
    var responseExtensions: [Certificate.Extension] { self.basic?.tbsResponseData.responseExtensions ?? [] }
    var nonce: [UInt8]? { (try? self.basic?.tbsResponseData.nonce).flatMap { $0.map { Array($0.octets) } } }
}

enum OCSPMessages {
    static let requestType = "application/ocsp-request"
    static let responseType = "application/ocsp-response"

    /// The whole DER of an unsigned error OCSPResponse: `SEQUENCE { ENUMERATED status }` (RFC 6960 §2.3).
    static func errorResponse(_ status: Int) -> [UInt8] { [0x30, 0x03, 0x0A, 0x01, UInt8(status)] }
    static let malformedRequest = Self.errorResponse(1)
    static let sigRequired = Self.errorResponse(5)
    static let unauthorized = Self.errorResponse(6)

    static func der(_ value: some DERSerializable) throws -> [UInt8] {
        var coder = DER.Serializer()
        try coder.serialize(value)
        return coder.serializedBytes
    }

    /// The CertIDs of a request (one OpenSSL made, usually).
    static func certIDs(ofRequest der: [UInt8]) throws -> [CertID] {
        try OCSPRequest(derEncoded: der).tbsRequest.requestList.map(\.reqCert)
    }

    /// An unsigned OCSPRequest for `certIDs`, with a nonce extension holding `nonce` when given.
    static func request(certIDs: [CertID], nonce: [UInt8]? = nil) throws -> [UInt8] {
        let extensions = nonce.map { [OCSPNonce(octets: $0).makeCertificateExtension()] }
        let tbs = TBSRequest(
            requestList: certIDs.map { OCSPSingleRequest(reqCert: $0) },
            requestExtensions: extensions
        )
        return try self.der(try OCSPRequest(tbsRequest: tbs))
    }

    /// `certID` with another serial (content octets of a positive INTEGER).
    static func certID(_ certID: CertID, serial: [UInt8]) -> CertID {
        var changed = certID
        changed.serialNumber = DERInteger(unsignedMagnitude: serial)
        return changed
    }

    /// The extensions of a BasicOCSPResponse's ResponseData read with SwiftASN1's generic reader only:
    /// (OID dotted, critical, extnValue octets).
    static func genericResponseExtensions(_ response: [UInt8]) throws -> [(String, Bool, [UInt8])] {
        // OCSPResponse { status, [0] { ResponseBytes { type, OCTET STRING { BasicOCSPResponse } } } }
        let outer = try DERWalk.children(of: response)
        guard outer.count == 2, let responseBytes = DERWalk.children(outer[1]).first,
            let octets = DERWalk.children(responseBytes).last.flatMap(DERWalk.primitive)
        else { throw IntegrationError("not a successful OCSPResponse") }
        guard let data = try DERWalk.children(of: octets).first else { throw IntegrationError("no ResponseData") }
        let tagged = DERWalk.children(data).first {
            $0.identifier == ASN1Identifier(tagWithNumber: 1, tagClass: .contextSpecific)
        }
        guard let tagged, let list = DERWalk.children(tagged).first else { return [] }
        return try DERWalk.children(list).map { node in
            let parts = DERWalk.children(node)
            let oid = try ASN1ObjectIdentifier(derEncoded: parts[0]).description
            let critical = parts.count == 3 ? (try Bool(derEncoded: parts[1])) : false
            return (oid, critical, DERWalk.primitive(parts[parts.count - 1]) ?? [])
        }
    }
}

/// POSTs an OCSP request with curl.
enum OCSPHTTP {
    static func post(_ endpoint: OCSPEndpoint, body: [UInt8], contentType: String? = OCSPMessages.requestType)
        async throws -> HTTPExchange
    {
        try await HTTPClient.post(endpoint.url, body: body, contentType: contentType)
    }

    /// base64 of `der` in the standard alphabet, padded.
    static func base64(_ der: [UInt8]) -> String { Data(der).base64EncodedString() }

    /// base64url without padding (RFC 4648 §5).
    static func base64url(_ der: [UInt8]) -> String {
        var text = self.base64(der).replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }

    /// Every character but letters and digits percent-encoded (`/` → `%2F`, `+` → `%2B`, `=` → `%3D`).
    static func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }

    /// An IMF-fixdate (RFC 9110 §5.6.7).
    static func parseDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.date(from: text)
    }
}

extension GeneralizedTimeText {
    var date: Date { Date(timeIntervalSince1970: TimeInterval(self.wholeSecondsSince1970)) }
}
