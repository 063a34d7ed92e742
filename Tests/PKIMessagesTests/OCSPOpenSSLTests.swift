import Foundation
import PKIMessages
import SwiftASN1
import Testing
import X509

/// A throw-away CA run by `openssl ca` in a temporary directory, with OpenSSL's own OCSP responder (`openssl ocsp
/// -index`) answering from its database, so that requests, responses and CRLs come from an independent
/// implementation. An EC P-256 CA issues four certificates with serials 1001–1004; 1002 is revoked with reason
/// keyCompromise, 1003 with `-crl_compromise` (keyCompromise plus an invalidity date), 1004 with reason superseded.
/// By hand:
///
/// ```
/// openssl ecparam -name prime256v1 -genkey -noout -out ca.key
/// openssl req -new -x509 -key ca.key -subj "/CN=Sigillum OCSP Test CA/O=Sigillum" -days 2 \
///     -config ca.cnf -extensions ca_ext -out ca.pem
/// openssl req -new -key c1.key -subj "/CN=cert 1" -config ca.cnf -out c1.csr
/// openssl ca -batch -config ca.cnf -extensions ee_ext -in c1.csr -out c1.pem -notext     (… c4)
/// openssl ca -config ca.cnf -revoke c2.pem -crl_reason keyCompromise
/// openssl ca -config ca.cnf -revoke c3.pem -crl_compromise 20260102030405Z
/// openssl ca -config ca.cnf -revoke c4.pem -crl_reason superseded
/// openssl ca -config ca.cnf -gencrl -crl_lastupdate … -crl_nextupdate … -out crl.pem
/// openssl ocsp -issuer ca.pem -cert c1.pem -cert c2.pem -reqout req.der
/// openssl ocsp -index index.txt -rsigner ca.pem -rkey ca.key -CA ca.pem -reqin req.der -respout resp.der
/// ```
struct OpenSSLRevocationCA {
    static let caSubject = "/CN=Sigillum OCSP Test CA/O=Sigillum"
    /// The serial file's first value: the certificates get 1001, 1002, 1003 and 1004.
    static let firstSerial = "1001"
    /// The invalidity date `-crl_compromise` records for 1003.
    static let compromiseTime = "20260102030405Z"

    let directory: URL

    init(in directory: URL) throws {
        self.directory = directory
        try writeFile(Self.configuration, named: "ca.cnf", in: directory)
        try writeFile("", named: "index.txt", in: directory)
        try writeFile(Self.firstSerial + "\n", named: "serial", in: directory)
        try writeFile("01\n", named: "crlnumber", in: directory)
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("certs"), withIntermediateDirectories: true)
        try openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key"], in: directory)
        try openssl(
            [
                "req", "-new", "-x509", "-key", "ca.key", "-subj", Self.caSubject, "-days", "2",
                "-config", "ca.cnf", "-extensions", "ca_ext", "-out", "ca.pem",
            ],
            in: directory
        )
        try openssl(["x509", "-in", "ca.pem", "-outform", "DER", "-out", "ca.der"], in: directory)
        try openssl(["pkey", "-in", "ca.key", "-pubout", "-out", "ca.pub"], in: directory)
        try openssl(["pkey", "-in", "ca.key", "-pubout", "-outform", "DER", "-out", "ca.pub.der"], in: directory)
        for index in 1...4 {
            try openssl(
                ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "c\(index).key"], in: directory)
            try openssl(
                [
                    "req", "-new", "-key", "c\(index).key", "-subj", "/CN=cert \(index)", "-config", "ca.cnf",
                    "-out", "c\(index).csr",
                ],
                in: directory
            )
            try openssl(
                [
                    "ca", "-batch", "-config", "ca.cnf", "-extensions", "ee_ext", "-in", "c\(index).csr",
                    "-out", "c\(index).pem", "-notext",
                ],
                in: directory
            )
        }
        // A CRL before any revocation: no revokedCertificates at all.
        try openssl(["ca", "-config", "ca.cnf", "-gencrl", "-out", "empty-crl.pem"], in: directory)
        try openssl(["ca", "-config", "ca.cnf", "-revoke", "c2.pem", "-crl_reason", "keyCompromise"], in: directory)
        try openssl(
            ["ca", "-config", "ca.cnf", "-revoke", "c3.pem", "-crl_compromise", Self.compromiseTime], in: directory)
        try openssl(["ca", "-config", "ca.cnf", "-revoke", "c4.pem", "-crl_reason", "superseded"], in: directory)
    }

    /// The CA certificate's DER.
    func caCertificateDER() throws -> [UInt8] { try readFile(named: "ca.der", in: self.directory) }

    func caCertificate() throws -> Certificate { try Certificate(derEncoded: self.caCertificateDER()) }

    /// The CA's subjectPublicKey BIT STRING value, cut out of OpenSSL's SubjectPublicKeyInfo DER: for P-256 the last
    /// 65 octets (`04 X Y`), preceded by the BIT STRING header `03 42 00`.
    func caPublicKeyBits() throws -> [UInt8] {
        let spki = try readFile(named: "ca.pub.der", in: self.directory)
        #expect(spki.count == 91 && Array(spki[(spki.count - 68)..<(spki.count - 65)]) == [0x03, 0x42, 0x00])
        return Array(spki.suffix(65))
    }

    /// `openssl ocsp -issuer ca.pem [-sha256] -cert c1.pem … -serial 0x… -reqout FILE`.
    func makeRequest(
        certificates: [Int], extraSerials: [String] = [], digest: String? = nil, nonce: Bool = true,
        file: String = "req.der"
    ) throws -> [UInt8] {
        var arguments = ["ocsp", "-issuer", "ca.pem"]
        if let digest { arguments.append("-\(digest)") }  // before -cert: it applies to the CertIDs that follow
        for index in certificates { arguments += ["-cert", "c\(index).pem"] }
        for serial in extraSerials { arguments += ["-serial", "0x" + serial] }
        if !nonce { arguments.append("-no_nonce") }
        try openssl(arguments + ["-reqout", file], in: self.directory)
        return try readFile(named: file, in: self.directory)
    }

    /// OpenSSL's responder answering `request` from index.txt, signed by the CA itself.
    func respond(
        to request: String = "req.der", file: String = "resp.der", byKey: Bool = false, includeCertificates: Bool = true
    ) throws -> [UInt8] {
        var arguments = [
            "ocsp", "-index", "index.txt", "-rsigner", "ca.pem", "-rkey", "ca.key", "-CA", "ca.pem",
            "-reqin", request, "-respout", file, "-ndays", "1",
        ]
        if byKey { arguments.append("-resp_key_id") }
        if !includeCertificates { arguments.append("-resp_no_certs") }
        try openssl(arguments, in: self.directory)
        return try readFile(named: file, in: self.directory)
    }

    /// `openssl ca -gencrl` with fixed lastUpdate and nextUpdate, as PEM (`crl.pem`) and DER (`crl.der`).
    func generateCRL(lastUpdate: String, nextUpdate: String) throws -> (pem: [UInt8], der: [UInt8]) {
        try openssl(
            [
                "ca", "-config", "ca.cnf", "-gencrl", "-crl_lastupdate", lastUpdate, "-crl_nextupdate", nextUpdate,
                "-out", "crl.pem",
            ],
            in: self.directory
        )
        try openssl(["crl", "-in", "crl.pem", "-outform", "DER", "-out", "crl.der"], in: self.directory)
        return (try readFile(named: "crl.pem", in: self.directory), try readFile(named: "crl.der", in: self.directory))
    }

    /// The revoked lines of index.txt: serial (hex) → (revocation time in seconds, reason field).
    func revocations() throws -> [String: (time: Int64, reason: String)] {
        let text = String(decoding: try readFile(named: "index.txt", in: self.directory), as: UTF8.self)
        var result: [String: (Int64, String)] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count >= 4, fields[0] == "R" else { continue }
            let revocation = fields[2].split(separator: ",", maxSplits: 1)
            let time = try #require(OpenSSLText.seconds(asn1Time: String(revocation[0])))
            result[String(fields[3])] = (time, revocation.count > 1 ? String(revocation[1]) : "")
        }
        return result
    }

    /// `openssl dgst -sha256 -verify ca.pub -signature SIG DATA` over `data`: true for "Verified OK".
    func verifies(signature: some Sequence<UInt8>, over data: some Sequence<UInt8>) throws -> Bool {
        try writeFile(data, named: "signed.bin", in: self.directory)
        try writeFile(signature, named: "signature.bin", in: self.directory)
        let result = try runOpenSSL(
            ["dgst", "-sha256", "-verify", "ca.pub", "-signature", "signature.bin", "signed.bin"], in: self.directory)
        return result.status == 0 && result.stdout.contains("Verified OK")
    }

    static let configuration = """
        [ ca ]
        default_ca = test_ca

        [ test_ca ]
        dir = .
        database = ./index.txt
        serial = ./serial
        crlnumber = ./crlnumber
        new_certs_dir = ./certs
        certificate = ./ca.pem
        private_key = ./ca.key
        default_md = sha256
        default_days = 30
        default_crl_days = 7
        policy = policy_any
        unique_subject = no
        copy_extensions = none

        [ policy_any ]
        commonName = supplied

        [ req ]
        distinguished_name = req_dn
        prompt = no

        [ req_dn ]
        CN = unused

        [ ca_ext ]
        basicConstraints = critical, CA:true
        keyUsage = critical, keyCertSign, cRLSign
        subjectKeyIdentifier = hash

        [ ee_ext ]
        basicConstraints = critical, CA:false
        keyUsage = critical, digitalSignature

        """
}

/// Reading what OpenSSL prints, with Foundation's calendar (independent of PKIMessages' own date arithmetic).
enum OpenSSLText {
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func seconds(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Int64? {
        var calendar = Calendar(identifier: .gregorian)
        guard let utc = TimeZone(identifier: "UTC") else { return nil }
        calendar.timeZone = utc
        let components = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        return calendar.date(from: components).map { Int64($0.timeIntervalSince1970) }
    }

    /// `YYMMDDHHMMSSZ` (UTCTime, 50–99 → 19YY) or `YYYYMMDDHHMMSSZ`, as index.txt and `-crl_compromise` write them.
    static func seconds(asn1Time text: String) -> Int64? {
        let digits = text.dropLast().compactMap { $0.wholeNumberValue }
        guard text.hasSuffix("Z"), digits.count == 12 || digits.count == 14 else { return nil }
        func number(_ range: Range<Int>) -> Int { digits[range].reduce(0) { $0 * 10 + $1 } }
        let offset = digits.count - 12
        var year = number(0..<(2 + offset))
        if offset == 0 { year += year < 50 ? 2000 : 1900 }
        return Self.seconds(
            year: year, month: number((2 + offset)..<(4 + offset)), day: number((4 + offset)..<(6 + offset)),
            hour: number((6 + offset)..<(8 + offset)), minute: number((8 + offset)..<(10 + offset)),
            second: number((10 + offset)..<(12 + offset)))
    }

    /// OpenSSL's ASN1_TIME_print form, `Nov 25 02:42:34 2026 GMT` or `Jan  2 03:04:05 2050 GMT`.
    static func seconds(printed text: some StringProtocol) -> Int64? {
        let parts = text.split(separator: " ")
        guard parts.count == 5, parts[4] == "GMT", let month = Self.months.firstIndex(of: String(parts[0])),
            let day = Int(parts[1]), let year = Int(parts[3])
        else { return nil }
        let clock = parts[2].split(separator: ":").compactMap { Int($0) }
        guard clock.count == 3 else { return nil }
        return Self.seconds(year: year, month: month + 1, day: day, hour: clock[0], minute: clock[1], second: clock[2])
    }

    /// The ASN1_TIME_print form of `seconds`, computed with Foundation.
    static func printed(_ seconds: Int64) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let c = calendar.dateComponents(
            [.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: TimeInterval(seconds)))
        func two(_ value: Int?) -> String { String(format: "%02d", value ?? 0) }
        let day = String(format: "%2d", c.day ?? 0)
        return
            "\(Self.months[(c.month ?? 1) - 1]) \(day) \(two(c.hour)):\(two(c.minute)):\(two(c.second)) \(c.year ?? 0) GMT"
    }

    /// The lines of `text` following the first line that ends with `label` (OpenSSL prints an extension's value
    /// indented on the lines after its name), trimmed.
    static func lines(after label: String, in text: String) -> [String] {
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let index = lines.firstIndex(where: { $0.hasSuffix(label) }) else { return [] }
        return Array(lines[(index + 1)...])
    }

    /// The values of every `key: value` line (indented or not), in order.
    static func values(of key: String, in text: String) -> [String] {
        text.split(separator: "\n").compactMap { line in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix(key + ": ") else { return nil }
            return String(trimmed.dropFirst(key.count + 2))
        }
    }
}

@Suite("OCSP requests and responses from OpenSSL")
struct OCSPOpenSSLTests {
    /// The DER of the CA's subject as swift-certificates encodes it, for `openssl dgst` (an independent path to the
    /// issuerNameHash input).
    static func subjectDER(of certificate: Certificate) throws -> [UInt8] {
        var coder = DER.Serializer()
        try coder.serialize(certificate.subject)
        return coder.serializedBytes
    }

    struct RequestCase: Sendable, CustomTestStringConvertible {
        var digest: String?
        var nonce: Bool
        var algorithm: ASN1ObjectIdentifier
        var hashLength: Int
        var testDescription: String { "\(self.digest ?? "default (sha1)") CertIDs, nonce \(self.nonce)" }

        static let all = [
            RequestCase(digest: nil, nonce: true, algorithm: .HashAlgorithm.sha1, hashLength: 20),
            RequestCase(digest: nil, nonce: false, algorithm: .HashAlgorithm.sha1, hashLength: 20),
            RequestCase(digest: "sha256", nonce: true, algorithm: .HashAlgorithm.sha256, hashLength: 32),
            RequestCase(digest: "sha256", nonce: false, algorithm: .HashAlgorithm.sha256, hashLength: 32),
        ]
    }

    @Test("openssl ocsp -reqout: CertIDs, nonce and a byte-exact re-encoding", arguments: RequestCase.all)
    func opensslRequest(_ testCase: RequestCase) throws {
        try withTemporaryDirectory { directory in
            let ca = try OpenSSLRevocationCA(in: directory)
            let encoded = try ca.makeRequest(certificates: [1, 2], digest: testCase.digest, nonce: testCase.nonce)
            let request = try assertReencodes(OCSPRequest.self, encoded)
            let tbs = request.tbsRequest

            #expect(tbs.version == TBSRequest.v1)
            #expect(tbs.requestorName == nil)
            #expect(request.optionalSignature == nil)
            // The kept TBSRequest bytes are the first element of the request, which is all the request holds.
            expectSameBytes(tlv(0x30, Array(request.tbsRequestBytes.bytes)), encoded, "OCSPRequest around tbsRequest")
            expectSameBytes(request.tbsRequestBytes.bytes, try derBytes(tbs), "tbsRequestBytes")

            let caCertificate = try ca.caCertificate()
            let algorithm = testCase.digest ?? "sha1"
            let nameHash = try opensslDigest(algorithm, of: Self.subjectDER(of: caCertificate), in: directory)
            let keyHash = try opensslDigest(algorithm, of: ca.caPublicKeyBits(), in: directory)
            #expect(nameHash.count == testCase.hashLength)
            // The helpers give the same hash inputs as the independent paths above.
            #expect(CertID.issuerNameHashInput(of: caCertificate) == (try Self.subjectDER(of: caCertificate)))
            #expect(CertID.issuerKeyHashInput(of: caCertificate) == (try ca.caPublicKeyBits()))

            #expect(tbs.requestList.count == 2)
            for (single, serial) in zip(tbs.requestList, [[0x10, 0x01], [0x10, 0x02]] as [[UInt8]]) {
                let certID = single.reqCert
                #expect(certID.hashAlgorithm.algorithm == testCase.algorithm)
                // OpenSSL writes NULL parameters for every hash; they must survive.
                #expect(certID.hashAlgorithm.parameters == AlgorithmIdentifier.nullParameters)
                expectSameBytes(certID.issuerNameHash, nameHash, "issuerNameHash")
                expectSameBytes(certID.issuerKeyHash, keyHash, "issuerKeyHash")
                expectSameBytes(certID.serialNumber.contentOctets, serial, "serialNumber")
                #expect(single.singleRequestExtensions == nil)
                try assertRoundTrips(certID)
            }

            let nonce = try tbs.nonce
            let printed = OpenSSLText.lines(
                after: "OCSP Nonce:",
                in: try openssl(["ocsp", "-reqin", "req.der", "-req_text"], in: directory)
            ).first
            if testCase.nonce {
                let nonce = try #require(nonce)
                #expect(nonce.octets.count == 16)
                #expect(nonce.hasAcceptedLength)
                // OpenSSL prints the extnValue: the OCTET STRING around the nonce octets.
                #expect(printed == hex(tlv(0x04, Array(nonce.octets)), separator: ""))
                #expect(tbs.requestExtensions?.count == 1)
            } else {
                #expect(nonce == nil)
                #expect(tbs.requestExtensions == nil)
                #expect(printed == nil)
            }
        }
    }

    @Test("OpenSSL's responder: good, revoked with reasons, unknown, nonce echoed, signature over the kept bytes")
    func opensslResponse() throws {
        try withTemporaryDirectory { directory in
            let ca = try OpenSSLRevocationCA(in: directory)
            let requestBytes = try ca.makeRequest(certificates: [1, 2, 3, 4], extraSerials: ["2001"], digest: "sha256")
            let request = try OCSPRequest(derEncoded: requestBytes)
            let before = Int64(Date().timeIntervalSince1970)
            let encoded = try ca.respond()
            let after = Int64(Date().timeIntervalSince1970)

            let response = try assertReencodes(OCSPResponse.self, encoded)
            #expect(response.responseStatus == .successful)
            let responseBytes = try #require(response.responseBytes)
            #expect(responseBytes.responseType == .OCSP.basicResponse)
            let basic = try assertReencodes(BasicOCSPResponse.self, Array(responseBytes.response))
            #expect(try response.basicResponse() == basic)
            let data = basic.tbsResponseData
            expectSameBytes(basic.tbsResponseDataBytes.bytes, try derBytes(data), "tbsResponseDataBytes")

            #expect(data.version == ResponseData.v1)
            let caCertificate = try ca.caCertificate()
            #expect(data.responderID == .byName(caCertificate.subject))
            let producedAt = data.producedAt.wholeSecondsSince1970
            #expect(data.producedAt.isWholeSeconds)
            #expect((before - 1)...(after + 1) ~= producedAt)

            // The nonce is echoed.
            let requestNonce = try #require(try request.tbsRequest.nonce)
            #expect(try data.nonce == requestNonce)

            // One SingleResponse per request, CertIDs echoed exactly (SHA-256 with NULL parameters).
            #expect(data.responses.count == 5)
            for (single, asked) in zip(data.responses, request.tbsRequest.requestList) {
                #expect(single.certID == asked.reqCert)
                expectSameBytes(try derBytes(single.certID), try derBytes(asked.reqCert), "echoed CertID")
                #expect(single.thisUpdate.isWholeSeconds)
                let nextUpdate = try #require(single.nextUpdate)
                #expect(nextUpdate.wholeSecondsSince1970 - single.thisUpdate.wholeSecondsSince1970 == 86_400)
                #expect(abs(single.thisUpdate.wholeSecondsSince1970 - producedAt) <= 1)
            }
            let revocations = try ca.revocations()
            let statuses = data.responses.map(\.certStatus)
            #expect(statuses.first == .good)
            #expect(statuses.last == .unknown)
            let expected: [(String, CRLReason)] = [
                ("1002", .keyCompromise), ("1003", .keyCompromise), ("1004", .superseded),
            ]
            for (status, (serial, reason)) in zip(statuses[1...3], expected) {
                guard case .revoked(let info) = status else {
                    Issue.record("\(serial) is \(status), not revoked")
                    continue
                }
                #expect(info.revocationReason == reason)
                #expect(info.revocationTime.wholeSecondsSince1970 == revocations[serial]?.time)
            }
            // 1003 (revoked with -crl_compromise) carries its invalidity date as a single extension.
            let invalidity = try #require(data.responses[2].singleExtensions?.first)
            #expect(invalidity.oid == .X509ExtensionID.invalidityDate)
            #expect(try GeneralizedTimeText(derEncoded: invalidity.value).text == OpenSSLRevocationCA.compromiseTime)
            #expect(data.responses[1].singleExtensions == nil)

            // The responder's certificate is included, as its DER.
            #expect(basic.certs?.map { Array($0.bytes) } == [try ca.caCertificateDER()])
            #expect(try basic.certificates() == [caCertificate])

            // The signature covers exactly the kept bytes: it verifies over them, and not over a changed copy.
            #expect(basic.signatureAlgorithm.algorithm == .SignatureAlgorithm.ecdsaWithSHA256)
            #expect(try ca.verifies(signature: basic.signature.bytes, over: basic.tbsResponseDataBytes.bytes))
            var altered = Array(basic.tbsResponseDataBytes.bytes)
            altered[altered.count - 1] ^= 0x01
            #expect(try !ca.verifies(signature: basic.signature.bytes, over: altered))
        }
    }

    @Test("OpenSSL's responder with -resp_key_id: byKey is the SHA-1 of the key bits keyHashInput gives")
    func opensslResponseByKey() throws {
        try withTemporaryDirectory { directory in
            let ca = try OpenSSLRevocationCA(in: directory)
            _ = try ca.makeRequest(certificates: [1], nonce: false)
            let encoded = try ca.respond(byKey: true, includeCertificates: false)
            let response = try assertReencodes(OCSPResponse.self, encoded)
            let basic = try #require(try response.basicResponse())
            let keyHashInput = ResponderID.keyHashInput(of: try ca.caCertificate())
            #expect(keyHashInput == (try ca.caPublicKeyBits()))
            let expected = try opensslDigest("sha1", of: keyHashInput, in: directory)
            #expect(basic.tbsResponseData.responderID == .byKey(expected[...]))
            // With SHA-1 CertIDs the issuerKeyHash is the same hash of the same key.
            #expect(basic.tbsResponseData.responses.first?.certID.issuerKeyHash == expected[...])
            #expect(basic.certs == nil)
            #expect(try basic.tbsResponseData.nonce == nil)
            #expect(basic.tbsResponseData.responseExtensions == nil)
            // The encoding of byKey: [2] EXPLICIT OCTET STRING of 20 octets.
            #expect(hex(try derBytes(basic.tbsResponseData.responderID)).hasPrefix("A2 16 04 14"))
        }
    }

    @Test("error responses are read by openssl ocsp as the status alone", arguments: OCSPErrorVector.all)
    func opensslReadsErrorResponse(_ vector: OCSPErrorVector) throws {
        try withTemporaryDirectory { directory in
            try writeFile(OCSPResponse.unsuccessful(vector.status), named: "error.der", in: directory)
            // openssl ocsp exits 1 on an error response, after printing it.
            let result = try runOpenSSL(["ocsp", "-respin", "error.der", "-resp_text", "-noverify"], in: directory)
            #expect(
                OpenSSLText.values(of: "Responder Error", in: result.stdout)
                    == ["\(vector.opensslName) (\(vector.status.rawValue))"], "\(result.stdout)\(result.stderr)")
        }
    }

    /// A response built with PKIMessages for the request OpenSSL made, read back by `openssl ocsp`: the statuses,
    /// reason, times and nonce it prints are the ones put in, and with `-issuer`/`-cert` it matches every echoed
    /// CertID to its certificate.
    @Test("a response built with PKIMessages is read by openssl ocsp -resp_text", arguments: [false, true])
    func builtResponseReadByOpenSSL(byKey: Bool) throws {
        try withTemporaryDirectory { directory in
            let ca = try OpenSSLRevocationCA(in: directory)
            _ = try ca.makeRequest(certificates: [1, 2, 3], extraSerials: ["2001"])
            let request = try OCSPRequest(derEncoded: try readFile(named: "req.der", in: directory))
            let caCertificate = try ca.caCertificate()
            let keyHash = try opensslDigest("sha1", of: ResponderID.keyHashInput(of: caCertificate), in: directory)

            // An hour ago (openssl warns about times in the future), the revocation a day and a bit earlier.
            let producedAt = Int64(Date().timeIntervalSince1970) - 3600
            let revokedAt = producedAt - 90_061
            let nextUpdate = producedAt + 7 * 86_400
            #expect(OpenSSLText.printed(1_795_602_030) == "Nov 25 10:20:30 2026 GMT")
            #expect(OpenSSLText.printed(2_524_618_445) == "Jan  1 02:54:05 2050 GMT")
            let list = request.tbsRequest.requestList
            let statuses: [CertStatus] = [
                .good,
                .revoked(
                    RevokedInfo(
                        revocationTime: try .init(wholeSecondsSince1970: revokedAt), revocationReason: .keyCompromise)),
                .revoked(RevokedInfo(revocationTime: try .init(wholeSecondsSince1970: revokedAt))),
                .unknown,
            ]
            let responses = try zip(list, statuses).map { asked, status in
                SingleResponse(
                    certID: asked.reqCert,
                    certStatus: status,
                    thisUpdate: try .init(wholeSecondsSince1970: producedAt),
                    nextUpdate: try .init(wholeSecondsSince1970: nextUpdate)
                )
            }
            let nonce = try #require(try request.tbsRequest.nonce)
            let data = ResponseData(
                responderID: byKey ? .byKey(keyHash[...]) : .byName(caCertificate.subject),
                producedAt: try .init(wholeSecondsSince1970: producedAt),
                responses: responses,
                responseExtensions: [nonce.makeCertificateExtension()]
            )
            // Not a real signature: openssl reads it with -noverify.
            let basic = try BasicOCSPResponse(
                tbsResponseData: data,
                signatureAlgorithm: AlgorithmIdentifier(algorithm: .SignatureAlgorithm.ecdsaWithSHA256),
                signature: ASN1BitString(bytes: [0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01])
            )
            let encoded = try derBytes(OCSPResponse(basicResponse: basic))
            #expect(try OCSPResponse(derEncoded: encoded) == .successful(ResponseBytes(basicResponse: basic)))
            try writeFile(encoded, named: "built.der", in: directory)

            let text = try openssl(["ocsp", "-respin", "built.der", "-resp_text", "-noverify"], in: directory)
            #expect(OpenSSLText.values(of: "OCSP Response Status", in: text) == ["successful (0x0)"])
            #expect(OpenSSLText.values(of: "Version", in: text) == ["1 (0x0)"])
            #expect(
                OpenSSLText.values(of: "Responder Id", in: text)
                    == [byKey ? hex(keyHash, separator: "") : "CN = Sigillum OCSP Test CA, O = Sigillum"])
            #expect(OpenSSLText.values(of: "Produced At", in: text) == [OpenSSLText.printed(producedAt)])
            #expect(OpenSSLText.values(of: "Cert Status", in: text) == ["good", "revoked", "revoked", "unknown"])
            #expect(OpenSSLText.values(of: "Serial Number", in: text) == ["1001", "1002", "1003", "2001"])
            #expect(
                OpenSSLText.values(of: "Revocation Time", in: text)
                    == Array(repeating: OpenSSLText.printed(revokedAt), count: 2))
            #expect(OpenSSLText.values(of: "Revocation Reason", in: text) == ["keyCompromise (0x1)"])
            #expect(
                OpenSSLText.values(of: "This Update", in: text)
                    == Array(repeating: OpenSSLText.printed(producedAt), count: 4))
            #expect(
                OpenSSLText.values(of: "Next Update", in: text)
                    == Array(repeating: OpenSSLText.printed(nextUpdate), count: 4))
            #expect(
                OpenSSLText.lines(after: "OCSP Nonce:", in: text).first
                    == hex(tlv(0x04, Array(nonce.octets)), separator: ""))

            // With the certificates, openssl matches each echoed CertID to its certificate.
            let status = try runOpenSSL(
                [
                    "ocsp", "-respin", "built.der", "-noverify", "-issuer", "ca.pem",
                    "-cert", "c1.pem", "-cert", "c2.pem", "-cert", "c3.pem", "-serial", "0x2001",
                ],
                in: directory
            )
            #expect(status.status == 0, "\(status.stderr)")
            for line in ["c1.pem: good", "c2.pem: revoked", "c3.pem: revoked", "0x2001: unknown"] {
                #expect(status.stdout.contains(line), "\(status.stdout)")
            }
        }
    }

    /// The same, signed for real: `openssl dgst -sign` signs `tbsResponseDataBytes`, and `openssl ocsp` verifies the
    /// response (signature, signer, validity window) and the nonce against the request.
    @Test("a response built with PKIMessages and signed over tbsResponseDataBytes verifies in openssl ocsp")
    func signedBuiltResponseVerifies() throws {
        try withTemporaryDirectory { directory in
            let ca = try OpenSSLRevocationCA(in: directory)
            _ = try ca.makeRequest(certificates: [1, 2], digest: "sha256")
            let request = try OCSPRequest(derEncoded: try readFile(named: "req.der", in: directory))
            let caCertificate = try ca.caCertificate()
            let now = Int64(Date().timeIntervalSince1970)
            let revocations = try ca.revocations()
            let revokedAt = try #require(revocations["1002"]?.time)
            let list = request.tbsRequest.requestList
            let data = ResponseData(
                responderID: .byName(caCertificate.subject),
                producedAt: try .init(wholeSecondsSince1970: now),
                responses: [
                    SingleResponse(
                        certID: list[0].reqCert, certStatus: .good, thisUpdate: try .init(wholeSecondsSince1970: now),
                        nextUpdate: try .init(wholeSecondsSince1970: now + 3600)),
                    SingleResponse(
                        certID: list[1].reqCert,
                        certStatus: .revoked(
                            RevokedInfo(
                                revocationTime: try .init(wholeSecondsSince1970: revokedAt),
                                revocationReason: .keyCompromise)),
                        thisUpdate: try .init(wholeSecondsSince1970: now),
                        nextUpdate: try .init(wholeSecondsSince1970: now + 3600)),
                ],
                responseExtensions: [try #require(try request.tbsRequest.nonce).makeCertificateExtension()]
            )
            let tbs = try RawDER(encoding: data)
            try writeFile(tbs.bytes, named: "tbs.der", in: directory)
            try openssl(["dgst", "-sha256", "-sign", "ca.key", "-out", "tbs.sig", "tbs.der"], in: directory)
            let basic = try BasicOCSPResponse(
                tbsResponseDataBytes: tbs,
                signatureAlgorithm: AlgorithmIdentifier(algorithm: .SignatureAlgorithm.ecdsaWithSHA256),
                signature: ASN1BitString(bytes: try readFile(named: "tbs.sig", in: directory)[...]),
                certs: [RawDER(trustedEncoding: try ca.caCertificateDER()[...])]
            )
            #expect(basic.tbsResponseData == data)
            try writeFile(try derBytes(OCSPResponse(basicResponse: basic)), named: "signed.der", in: directory)

            // With the request: openssl verifies the signature, the signer and the nonce.
            let verified = try runOpenSSL(
                ["ocsp", "-respin", "signed.der", "-reqin", "req.der", "-CAfile", "ca.pem"], in: directory)
            #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
            #expect(verified.stderr.contains("Response verify OK"), "\(verified.stderr)")
            #expect(!verified.stderr.contains("Nonce"), "\(verified.stderr)")
            // With the certificates (a request openssl builds itself, SHA-256 CertIDs as above, no nonce): each echoed
            // CertID matches.
            let result = try runOpenSSL(
                [
                    "ocsp", "-respin", "signed.der", "-CAfile", "ca.pem", "-issuer", "ca.pem", "-sha256",
                    "-cert", "c1.pem", "-cert", "c2.pem", "-no_nonce",
                ],
                in: directory
            )
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            #expect(result.stderr.contains("Response verify OK"), "\(result.stderr)")
            #expect(result.stdout.contains("c1.pem: good"), "\(result.stdout)")
            #expect(result.stdout.contains("c2.pem: revoked"), "\(result.stdout)")
            #expect(result.stdout.contains("Reason: keyCompromise"), "\(result.stdout)")

            // A response whose nonce differs fails openssl's nonce check: the check above can fail.
            var otherData = data
            otherData.responseExtensions = [
                OCSPNonce(octets: [UInt8](repeating: 0x5A, count: 16)).makeCertificateExtension()
            ]
            let otherTBS = try RawDER(encoding: otherData)
            try writeFile(otherTBS.bytes, named: "tbs.der", in: directory)
            try openssl(["dgst", "-sha256", "-sign", "ca.key", "-out", "tbs.sig", "tbs.der"], in: directory)
            let other = try BasicOCSPResponse(
                tbsResponseDataBytes: otherTBS,
                signatureAlgorithm: basic.signatureAlgorithm,
                signature: ASN1BitString(bytes: try readFile(named: "tbs.sig", in: directory)[...]),
                certs: basic.certs
            )
            try writeFile(try derBytes(OCSPResponse(basicResponse: other)), named: "other.der", in: directory)
            let otherResult = try runOpenSSL(
                ["ocsp", "-respin", "other.der", "-reqin", "req.der", "-CAfile", "ca.pem"], in: directory)
            #expect(otherResult.status != 0)
            #expect(otherResult.stderr.contains("Nonce Verify error"), "\(otherResult.stderr)")
        }
    }
}

/// An error status, its five octets and the name `openssl ocsp -resp_text` prints (crypto/ocsp/ocsp_prn.c).
struct OCSPErrorVector: Sendable, CustomTestStringConvertible {
    var status: OCSPResponseStatus
    var der: String
    var opensslName: String
    var testDescription: String { "\(self.status) → \(self.der)" }

    static let all = [
        OCSPErrorVector(status: .malformedRequest, der: "30 03 0A 01 01", opensslName: "malformedrequest"),
        OCSPErrorVector(status: .internalError, der: "30 03 0A 01 02", opensslName: "internalerror"),
        OCSPErrorVector(status: .tryLater, der: "30 03 0A 01 03", opensslName: "trylater"),
        OCSPErrorVector(status: .sigRequired, der: "30 03 0A 01 05", opensslName: "sigrequired"),
        OCSPErrorVector(status: .unauthorized, der: "30 03 0A 01 06", opensslName: "unauthorized"),
    ]
}
