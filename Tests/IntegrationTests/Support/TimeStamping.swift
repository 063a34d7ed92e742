import Foundation
import PKIMessages
import SwiftASN1
import Testing
import X509

// Time-stamp requests and responses: built with PKIMessages where a test needs a request OpenSSL will not make,
// parsed with PKIMessages, and checked again with the openssl command line (or SwiftASN1's generic DER parser,
// which knows nothing of RFC 3161) so that no property rests on our own code alone.

// MARK: - Requests

enum Requests {
    /// A DER TimeStampReq.
    static func make(
        version: Int = 1,
        hashAlgorithm: ASN1ObjectIdentifier = .HashAlgorithm.sha256,
        parameters: ASN1Any? = nil,
        digest: [UInt8]? = nil,
        digestLength: Int = 32,
        policy: ASN1ObjectIdentifier? = nil,
        nonce: Bool = true,
        certReq: Bool = true,
        extensions: [Certificate.Extension]? = nil
    ) throws -> [UInt8] {
        let request = TimeStampReq(
            version: version,
            messageImprint: MessageImprint(
                hashAlgorithm: AlgorithmIdentifier(algorithm: hashAlgorithm, parameters: parameters),
                hashedMessage: (digest ?? randomBytes(digestLength))[...]
            ),
            reqPolicy: policy,
            nonce: nonce ? DERInteger(unsignedMagnitude: randomBytes(8)) : nil,
            certReq: certReq,
            extensions: extensions
        )
        var coder = DER.Serializer()
        try coder.serialize(request)
        return coder.serializedBytes
    }

    /// `openssl ts -query -data FILE -DIGEST [-no_nonce] [-cert] [-tspolicy OID] -out OUT`; returns the DER.
    @discardableResult
    static func openssl(
        data: String,
        digest: String = "sha256",
        nonce: Bool = true,
        cert: Bool = true,
        policy: String? = nil,
        out: String
    ) async throws -> [UInt8] {
        var arguments = ["ts", "-query", "-data", data, "-\(digest)", "-out", out]
        if !nonce { arguments.append("-no_nonce") }
        if cert { arguments.append("-cert") }
        if let policy { arguments += ["-tspolicy", policy] }
        try checked(try await Tool.openssl(arguments))
        return try readFile(out)
    }
}

// MARK: - Responses

/// A TimeStampResp as received, parsed with PKIMessages.
struct ReceivedResponse: Sendable {
    var der: [UInt8]
    var parsed: TimeStampResp
    var token: TimeStampToken?

    init(_ der: [UInt8]) throws {
        self.der = der
        self.parsed = try TimeStampResp(derEncoded: der)
        self.token = try self.parsed.parsedToken()
    }

    var status: PKIStatus { self.parsed.status.status }
    var failInfo: PKIFailureInfo? { self.parsed.status.failInfo }
    var tokenDER: [UInt8]? { self.parsed.timeStampToken.map { Array($0.bytes) } }
    /// The serial's content octets.
    var serial: [UInt8]? { self.token.map { Array($0.tstInfo.serialNumber.contentOctets) } }
}

enum TSAClient {
    /// POSTs `request` to the TSA and expects `200 application/timestamp-reply` (RFC 3161 §3.4).
    static func post(
        _ request: [UInt8],
        to banner: Banner,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> ReceivedResponse {
        let exchange = try await HTTPClient.post(banner.tsaURL, body: request)
        #expect(exchange.status == 200, "\(exchange)", sourceLocation: sourceLocation)
        #expect(exchange.contentType == "application/timestamp-reply", "\(exchange)", sourceLocation: sourceLocation)
        return try ReceivedResponse(exchange.body)
    }

    /// POSTs a request file and writes the response to `responsePath` as well.
    static func post(
        file: String,
        to banner: Banner,
        responsePath: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> ReceivedResponse {
        let exchange = try await HTTPClient.post(banner.tsaURL, file: file)
        #expect(exchange.status == 200, "\(exchange)", sourceLocation: sourceLocation)
        #expect(exchange.contentType == "application/timestamp-reply", "\(exchange)", sourceLocation: sourceLocation)
        try writeFile(responsePath, exchange.body)
        return try ReceivedResponse(exchange.body)
    }
}

// MARK: - OpenSSL's view of a response

enum OpenSSLTS {
    /// `openssl ts -reply -in RESPONSE -text`.
    static func replyText(_ responsePath: String) async throws -> String {
        try checked(try await Tool.openssl(["ts", "-reply", "-in", responsePath, "-text"])).output
    }

    /// `openssl ts -reply -in RESPONSE -token_out -out TOKEN`: the token (ContentInfo) DER.
    @discardableResult
    static func extractToken(_ responsePath: String, to tokenPath: String) async throws -> [UInt8] {
        try checked(try await Tool.openssl(["ts", "-reply", "-in", responsePath, "-token_out", "-out", tokenPath]))
        return try readFile(tokenPath)
    }

    /// The TSTInfo DER as OpenSSL's CMS code extracts it, without judging the signature
    /// (`openssl cms -verify -noverify -nosigs`): for tokens whose signature OpenSSL 3.0 cannot check.
    @discardableResult
    static func extractTSTInfo(token tokenPath: String, to outPath: String, signerCertificate: String? = nil)
        async throws
        -> [UInt8]
    {
        var arguments = [
            "cms", "-verify", "-inform", "DER", "-in", tokenPath, "-noverify", "-nosigs", "-binary", "-out", outPath,
        ]
        // A token without certificates: OpenSSL still wants to find the signer's certificate.
        if let signerCertificate { arguments += ["-certfile", signerCertificate] }
        try checked(try await Tool.openssl(arguments))
        return try readFile(outPath)
    }

    /// `openssl asn1parse -inform DER -in FILE [-strparse OFFSET]`.
    static func asn1parse(_ path: String, strparse offset: Int? = nil) async throws -> String {
        var arguments = ["asn1parse", "-inform", "DER", "-in", path]
        if let offset { arguments += ["-strparse", "\(offset)"] }
        return try checked(try await Tool.openssl(arguments)).output
    }

    /// `openssl ts -verify … -CAfile ROOT -untrusted UNTRUSTED` with `-data FILE`, `-digest HEX` or `-queryfile`.
    static func verify(
        response responsePath: String,
        data: String? = nil,
        digestHex: String? = nil,
        queryFile: String? = nil,
        caFile: String,
        untrusted: String
    ) async throws -> ToolResult {
        var arguments = ["ts", "-verify", "-in", responsePath, "-CAfile", caFile, "-untrusted", untrusted]
        if let data { arguments += ["-data", data] }
        if let digestHex { arguments += ["-digest", digestHex] }
        if let queryFile { arguments += ["-queryfile", queryFile] }
        return try await Tool.openssl(arguments)
    }

    /// OpenSSL 3.0's words for each PKIFailureInfo bit in `ts -reply -text` (crypto/ts/ts_rsp_print.c).
    static func failureText(_ failure: PKIFailureInfo) -> String {
        switch failure {
        case .badAlg: "unrecognized or unsupported algorithm identifier"
        case .badRequest: "transaction not permitted or supported"
        case .badDataFormat: "the data submitted has the wrong format"
        case .timeNotAvailable: "the TSA's time source is not available"
        case .unacceptedPolicy: "the requested TSA policy is not supported by the TSA"
        case .unacceptedExtension: "the requested extension is not supported by the TSA"
        case .addInfoNotAvailable: "the additional information requested could not be understood or is not available"
        default: "the request cannot be handled due to system failure"
        }
    }

    /// The "Serial number: 0x…" of `ts -reply -text`, as content octets' hex (upper case as OpenSSL prints it).
    static func serialHex(inReplyText text: String) -> String? {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Serial number: ") }) else {
            return nil
        }
        return line.dropFirst("Serial number: ".count).replacingOccurrences(of: "0x", with: "")
    }
}

// MARK: - Generic DER (SwiftASN1 only; no RFC 3161 knowledge)

enum DERWalk {
    static func children(_ node: ASN1Node) -> [ASN1Node] {
        guard case .constructed(let collection) = node.content else { return [] }
        return Array(collection)
    }

    static func children(of bytes: [UInt8]) throws -> [ASN1Node] {
        self.children(try DER.parse(bytes))
    }

    static func primitive(_ node: ASN1Node) -> [UInt8]? {
        guard case .primitive(let bytes) = node.content else { return nil }
        return Array(bytes)
    }

    /// The encoded MessageImprint of a TimeStampReq (its second element).
    static func requestImprint(_ request: [UInt8]) throws -> [UInt8] {
        let elements = try self.children(of: request)
        guard elements.count >= 2 else { throw IntegrationError("not a TimeStampReq") }
        return Array(elements[1].encodedBytes)
    }

    /// The encoded MessageImprint of a TSTInfo (its third element).
    static func tstInfoImprint(_ tstInfo: [UInt8]) throws -> [UInt8] {
        let elements = try self.children(of: tstInfo)
        guard elements.count >= 3 else { throw IntegrationError("not a TSTInfo") }
        return Array(elements[2].encodedBytes)
    }

    /// The encoded PKIFailureInfo BIT STRING of a TimeStampResp, when there is one.
    static func failInfoEncoding(_ response: [UInt8]) throws -> [UInt8]? {
        guard let status = try self.children(of: response).first else { return nil }
        return self.children(status).first { $0.identifier == .bitString }.map { Array($0.encodedBytes) }
    }

    /// The DER of a PKIFailureInfo with exactly `bit` set, written out by hand (X.690 §11.2.2: trailing zero bits
    /// dropped, the unused-bits octet counting the padding of the last octet).
    static func expectedFailInfo(bit: Int) -> [UInt8] {
        var octets = [UInt8](repeating: 0, count: bit / 8 + 1)
        octets[bit / 8] = 0x80 >> UInt8(bit % 8)
        return [0x03, UInt8(octets.count + 1), UInt8(7 - bit % 8)] + octets
    }

    /// The parts of a token's single SignerInfo needed to check its signature with other tools: the signed
    /// attributes re-tagged as a SET (RFC 5652 §5.4: the signature covers them with the universal SET tag), the
    /// messageDigest attribute's value, and the signature octets.
    static func signerInfoParts(token: [UInt8]) throws -> (
        signedAttributes: [UInt8], messageDigest: [UInt8], signature: [UInt8]
    ) {
        let contentInfo = try self.children(of: token)
        guard contentInfo.count == 2, let signedData = self.children(contentInfo[1]).first,
            let signerInfos = self.children(signedData).last, let signerInfo = self.children(signerInfos).first
        else { throw IntegrationError("not a ContentInfo holding SignedData") }
        let fields = self.children(signerInfo)
        guard
            let attributes = fields.first(where: {
                $0.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)
            }),
            let signature = fields.last.flatMap(self.primitive)
        else { throw IntegrationError("the SignerInfo has no signed attributes or no signature") }
        var setEncoding = Array(attributes.encodedBytes)
        setEncoding[0] = 0x31
        let messageDigestOID = try ASN1ObjectIdentifier(dotRepresentation: "1.2.840.113549.1.9.4")
        var digest: [UInt8] = []
        for attribute in self.children(attributes) {
            let parts = self.children(attribute)
            guard parts.count == 2, (try? ASN1ObjectIdentifier(derEncoded: parts[0])) == messageDigestOID,
                let value = self.children(parts[1]).first.flatMap(self.primitive)
            else { continue }
            digest = value
        }
        return (setEncoding, digest, signature)
    }
}
