import ArgumentParser
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import PKIMessages
import SwiftASN1
import X509

/// `sigillum stamp FILE`: an RFC 3161 client (§2.4.1 request, §3.4 HTTP, §2.4.2 response checks).
struct StampCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stamp",
        abstract: "Time-stamp a file: hash it, ask the TSA, check the answer, save the response.",
        discussion: """
            FILE is hashed locally (it is never sent). The TimeStampReq carries the hash, a random 64-bit nonce \
            and certReq; it is POSTed as application/timestamp-query. The answer is checked as RFC 3161 §2.4.2 \
            asks of a client: granted status with a token, the same message imprint, the nonce echoed, the \
            requested policy, and the TSA certificate when certReq was set. The response DER is written to \
            FILE.tsr (or --out).

            This command does NOT verify the token's signature or the TSA certificate chain. Do that with \
            `openssl ts -verify -in FILE.tsr -data FILE -CAfile ROOT.pem -untrusted CHAIN.pem`.

            Exit status: 0 granted and checked; 1 the TSA did not grant (status, failInfo and statusString are \
            printed); 2 any other failure (unreadable file, network or HTTP error, malformed response, a failed \
            client check).
            """
    )

    @Argument(help: ArgumentHelp("The file to time-stamp (any size; streamed through the hash).", valueName: "file"))
    var file: String

    @Option(help: ArgumentHelp("The TSA endpoint (http only).", valueName: "url"))
    var url: String = "http://127.0.0.1:8080/tsa"

    @Option(help: ArgumentHelp("The hash algorithm of the message imprint.", valueName: "alg"))
    var hash: StampHashAlgorithm = .sha256

    @Option(help: ArgumentHelp("Where to write the response DER (default: FILE.tsr).", valueName: "file.tsr"))
    var out: String?

    @Option(help: ArgumentHelp("Request this TSA policy (dotted OID); the token must carry it.", valueName: "oid"))
    var policy: String?

    @Flag(name: .customLong("no-nonce"), help: "Send no nonce (replay protection then rests on genTime alone).")
    var noNonce = false

    @Flag(name: .customLong("no-cert"), help: "Set certReq FALSE: the token will not carry the TSA certificate.")
    var noCert = false

    @Option(help: ArgumentHelp("Give up after this many seconds (connect, send and receive).", valueName: "seconds"))
    var timeout: Double = 30

    func validate() throws {
        guard self.timeout > 0, self.timeout <= 3600 else {
            throw ValidationError("--timeout must be between 0 and 3600 seconds, not \(self.timeout)")
        }
        if let policy {
            guard (try? Self.parsePolicy(policy)) != nil else {
                throw ValidationError("--policy '\(policy)' is not a dotted object identifier such as 1.2.3.4.1")
            }
        }
    }

    static func parsePolicy(_ text: String) throws -> ASN1ObjectIdentifier {
        try ASN1ObjectIdentifier(dotRepresentation: Substring(text))
    }

    func run() async throws {
        try await self.reportingFailures { () async throws(CLIError) in
            try await self.stamp()
        }
    }

    func stamp() async throws(CLIError) {
        let endpoint = try HTTPURL(self.url)
        let requestedPolicy = try self.policy.map { text throws(CLIError) in
            do { return try Self.parsePolicy(text) } catch {
                throw CLIError("--policy '\(text)' is not a dotted object identifier", exitCode: 2)
            }
        }
        let digest = try self.hash.digest(fileAt: self.file)
        let request = TimeStampReq(
            messageImprint: MessageImprint(
                hashAlgorithm: AlgorithmIdentifier(algorithm: self.hash.oid),
                hashedMessage: digest[...]
            ),
            reqPolicy: requestedPolicy,
            nonce: self.noNonce ? nil : Self.randomNonce(),
            certReq: !self.noCert
        )
        let requestDER: [UInt8]
        do {
            var coder = DER.Serializer()
            try coder.serialize(request)
            requestDER = coder.serializedBytes
        } catch {
            throw CLIError("cannot encode the TimeStampReq: \(error)", exitCode: 2)
        }

        let answer = try await HTTPPost.post(
            to: endpoint,
            contentType: "application/timestamp-query",
            accept: "application/timestamp-reply",
            body: requestDER,
            timeout: .nanoseconds(Int64(self.timeout * 1e9))
        )
        try Self.checkHTTP(answer, from: endpoint)

        let response: TimeStampResp
        do {
            response = try TimeStampResp(derEncoded: answer.body)
        } catch {
            throw CLIError(
                "the body from \(endpoint) is not a DER TimeStampResp: \(TokenPrinter.parseError(error))", exitCode: 2)
        }

        guard response.status.status.carriesToken else {
            var message = "the TSA did not grant a time stamp: status \(response.status.status)"
            if let failInfo = response.status.failInfo, !failInfo.bits.isEmpty {
                message += ", failInfo \(failInfo)"
            }
            if let strings = response.status.statusString, !strings.isEmpty {
                message += ", statusString \"\(strings.joined(separator: "; "))\""
            }
            throw CLIError(message, exitCode: 1)
        }

        let token = try Self.checkToken(in: response, for: request)
        let outputPath = self.out ?? self.file + ".tsr"
        do {
            try Data(answer.body).write(to: URL(fileURLWithPath: outputPath), options: .atomic)
        } catch {
            throw CLIError("cannot write the response to \(outputPath): \(error); choose another --out", exitCode: 2)
        }

        let info = token.tstInfo
        var summary = "\(response.status.status): serial \(TokenPrinter.bignumHex(info.serialNumber)), "
        summary += "genTime \(TokenPrinter.isoTime(info.genTime)), policy \(info.policy); wrote \(outputPath)"
        if response.status.status == .grantedWithMods, let strings = response.status.statusString {
            summary += " (modifications: \(strings.joined(separator: "; ")))"
        }
        Console.print([summary])
    }

    /// A random positive 64-bit nonce (never zero), as `openssl ts -query` makes one.
    static func randomNonce() -> DERInteger {
        var generator = SystemRandomNumberGenerator()
        var value: UInt64 = 0
        while value == 0 { value = generator.next() }
        return DERInteger(unsignedMagnitude: withUnsafeBytes(of: value.bigEndian) { Array($0) })
    }

    /// RFC 3161 §3.4: a 200 answer of type application/timestamp-reply.
    static func checkHTTP(_ answer: HTTPPostResponse, from endpoint: HTTPURL) throws(CLIError) {
        try answer.requireOK(
            mediaType: "application/timestamp-reply",
            from: endpoint,
            pathHint: "the TSA listens on /tsa",
            service: "a time-stamp service"
        )
    }

    /// The client checks of RFC 3161 §2.4.2 on a granted response; returns the parsed token.
    static func checkToken(in response: TimeStampResp, for request: TimeStampReq) throws(CLIError) -> TimeStampToken {
        let token: TimeStampToken
        do {
            guard let parsed = try response.parsedToken() else {
                throw CLIError("the response says \(response.status.status) but carries no timeStampToken", exitCode: 2)
            }
            token = parsed
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError("the timeStampToken cannot be parsed: \(TokenPrinter.parseError(error))", exitCode: 2)
        }

        let info = token.tstInfo
        var problems: [String] = []
        if info.version != 1 {
            problems.append("TSTInfo version is \(info.version), not 1")
        }
        if info.messageImprint != request.messageImprint {
            problems.append("the token's messageImprint differs from the one sent (wrong data or wrong hash)")
        }
        switch (request.nonce, info.nonce) {
        case (let sent?, let echoed?) where sent != echoed:
            problems.append(
                "the nonce is not echoed: sent \(TokenPrinter.bignumHex(sent)), got \(TokenPrinter.bignumHex(echoed))"
            )
        case (let sent?, nil):
            problems.append("the nonce \(TokenPrinter.bignumHex(sent)) is missing from the token")
        default:
            break
        }
        if let policy = request.reqPolicy, info.policy != policy {
            problems.append("the token's policy is \(info.policy), not the requested \(policy)")
        }
        if request.certReq, !Self.carriesSignerCertificate(token) {
            problems.append("certReq was set but the token does not carry the TSA's certificate")
        }
        guard problems.isEmpty else {
            throw CLIError(
                "the response fails the client checks of RFC 3161 §2.4.2 (nothing was written):\n  "
                    + problems.joined(separator: "\n  "),
                exitCode: 2
            )
        }
        return token
    }

    /// Whether the certificate that the SignerInfo's sid names is among the token's certificates.
    static func carriesSignerCertificate(_ token: TimeStampToken) -> Bool {
        guard let signer = token.signerInfo else { return false }
        let certificates = (token.signedData.certificates ?? []).compactMap {
            try? Certificate(derEncoded: Array($0.bytes))
        }
        return certificates.contains { certificate in
            switch signer.sid {
            case .issuerAndSerialNumber(let sid):
                return IssuerAndSerialNumber(certificate: certificate) == sid
            case .subjectKeyIdentifier(let keyID):
                return (try? certificate.extensions.subjectKeyIdentifier)??.keyIdentifier == keyID
            }
        }
    }
}

/// The hash algorithms `stamp` offers for the message imprint.
enum StampHashAlgorithm: String, ExpressibleByArgument, CaseIterable, Sendable {
    case sha256
    case sha384
    case sha512

    var oid: ASN1ObjectIdentifier {
        switch self {
        case .sha256: .HashAlgorithm.sha256
        case .sha384: .HashAlgorithm.sha384
        case .sha512: .HashAlgorithm.sha512
        }
    }

    /// The digest of the file at `path`, read in 1 MiB chunks.
    func digest(fileAt path: String) throws(CLIError) -> [UInt8] {
        switch self {
        case .sha256: try Self.digest(fileAt: path, using: SHA256())
        case .sha384: try Self.digest(fileAt: path, using: SHA384())
        case .sha512: try Self.digest(fileAt: path, using: SHA512())
        }
    }

    static func digest<Hash: HashFunction>(fileAt path: String, using hasher: Hash) throws(CLIError) -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CLIError("\(path): no such file; give the path of the file to time-stamp", exitCode: 2)
        }
        guard !isDirectory.boolValue else {
            throw CLIError(
                "\(path) is a directory; time-stamp a file (an archive of the folder, for example)", exitCode: 2)
        }
        var hasher = hasher
        do {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                hasher.update(data: chunk)
            }
        } catch {
            throw CLIError("cannot read \(path): \(error.localizedDescription)", exitCode: 2)
        }
        return Array(hasher.finalize())
    }
}
