import Crypto
import PKIMessages
import SwiftASN1
import X509

/// Text renderings of time-stamp messages, laid out like `openssl ts -reply -text` and `openssl ts -query -text`
/// (same labels, number and time formats, hex dump), plus a "Signer:" section of our own.
///
/// Nothing here verifies a signature; the signer section only describes what the token says.
enum TokenPrinter {
    // MARK: Messages

    /// A TimeStampResp: "Status info:", then "TST info:" and "Signer:" when a token is present.
    static func response(_ response: TimeStampResp, token: TimeStampToken?) -> [String] {
        var lines = ["Status info:"]
        lines += self.statusInfo(response.status)
        lines.append("")
        if let token {
            lines += self.token(token)
        } else {
            lines += ["TST info:", "Not included."]
        }
        return lines
    }

    /// A bare token (ContentInfo): "TST info:" and "Signer:".
    static func token(_ token: TimeStampToken) -> [String] {
        var lines = ["TST info:"]
        lines += self.tstInfo(token.tstInfo)
        lines.append("")
        lines += self.signer(token)
        return lines
    }

    /// `PKIStatusInfo`, as OpenSSL's `TS_STATUS_INFO_print_bio` words it.
    static func statusInfo(_ info: PKIStatusInfo) -> [String] {
        let statusText: [Int: String] = [
            0: "Granted.", 1: "Granted with modifications.", 2: "Rejected.", 3: "Waiting.",
            4: "Revocation warning.", 5: "Revoked.",
        ]
        var lines = ["Status: \(statusText[info.status.rawValue] ?? "out of bounds (\(info.status.rawValue))")"]
        if let strings = info.statusString, !strings.isEmpty {
            lines.append("Status description: " + strings.joined(separator: "\n\t"))
        } else {
            lines.append("Status description: unspecified")
        }
        if let failInfo = info.failInfo, !failInfo.bits.isEmpty {
            lines.append("Failure info: " + self.failureDescriptions(failInfo).joined(separator: ", "))
        } else {
            lines.append("Failure info: unspecified")
        }
        return lines
    }

    /// Each failure bit as `name (OpenSSL's explanation)`.
    static func failureDescriptions(_ failInfo: PKIFailureInfo) -> [String] {
        let explanations: [Int: (String, String)] = [
            0: ("badAlg", "unrecognized or unsupported algorithm identifier"),
            2: ("badRequest", "transaction not permitted or supported"),
            5: ("badDataFormat", "the data submitted has the wrong format"),
            14: ("timeNotAvailable", "the TSA's time source is not available"),
            15: ("unacceptedPolicy", "the requested TSA policy is not supported by the TSA"),
            16: ("unacceptedExtension", "the requested extension is not supported by the TSA"),
            17: (
                "addInfoNotAvailable",
                "the additional information requested could not be understood or is not available"
            ),
            25: ("systemFailure", "the request cannot be handled due to system failure"),
        ]
        return failInfo.bits.map { bit in
            guard let (name, text) = explanations[bit] else { return "bit\(bit) (undefined failure bit)" }
            return "\(name) (\(text))"
        }
    }

    /// `TSTInfo`, as OpenSSL's `TS_TST_INFO_print_bio` lays it out.
    static func tstInfo(_ info: TSTInfo) -> [String] {
        var lines = ["Version: \(info.version)"]
        lines.append("Policy OID: \(self.policyName(info.policy))")
        lines += self.imprint(info.messageImprint)
        lines.append("Serial number: \(self.bignumHex(info.serialNumber))")
        lines.append("Time stamp: \(self.opensslTime(info.genTime))")
        if let accuracy = info.accuracy {
            func part(_ value: Int?) -> String { value.map { self.bignumHex(of: $0) } ?? "unspecified" }
            lines.append(
                "Accuracy: \(part(accuracy.seconds)) seconds, \(part(accuracy.millis)) millis, "
                    + "\(part(accuracy.micros)) micros"
            )
        } else {
            lines.append("Accuracy: unspecified")
        }
        lines.append("Ordering: \(info.ordering ? "yes" : "no")")
        lines.append("Nonce: \(info.nonce.map { self.bignumHex($0) } ?? "unspecified")")
        lines.append("TSA: \(info.tsa.map { self.generalName($0) } ?? "unspecified")")
        lines += self.extensions(info.extensions)
        return lines
    }

    /// `TimeStampReq`, as OpenSSL's `TS_REQ_print_bio` lays it out, under a heading.
    static func request(_ request: TimeStampReq) -> [String] {
        var lines = ["Time-stamp request:", "Version: \(request.version)"]
        lines += self.imprint(request.messageImprint)
        lines.append("Policy OID: \(request.reqPolicy.map { self.policyName($0) } ?? "unspecified")")
        lines.append("Nonce: \(request.nonce.map { self.bignumHex($0) } ?? "unspecified")")
        lines.append("Certificate required: \(request.certReq ? "yes" : "no")")
        lines += self.extensions(request.extensions)
        return lines
    }

    static func imprint(_ imprint: MessageImprint) -> [String] {
        var lines = ["Hash Algorithm: \(self.hashName(imprint.hashAlgorithm.algorithm))"]
        if !imprint.hashAlgorithm.hasAbsentOrNullParameters {
            lines[0] += " (with unexpected parameters)"
        }
        lines.append("Message data:")
        lines += self.hexDump(imprint.hashedMessage)
        return lines
    }

    static func extensions(_ extensions: [Certificate.Extension]?) -> [String] {
        var lines = ["Extensions:"]
        for ext in extensions ?? [] {
            let critical = ext.critical ? " (critical)" : ""
            if ext.oid == .QCStatement.extensionID, let statements = try? ext.parsedQCStatements() {
                let names = statements.map { statement in
                    self.qcStatementName(statement.statementID) + (statement.statementInfo == nil ? "" : " (with info)")
                }
                lines.append("    qcStatements\(critical): \(names.joined(separator: ", "))")
            } else {
                lines.append("    \(ext.oid)\(critical):")
                lines += self.hexDump(ext.value, indent: 8)
            }
        }
        return lines
    }

    // MARK: Signer

    /// What the SignerInfo and the certificate set say; nothing is verified.
    static func signer(_ token: TimeStampToken) -> [String] {
        var lines = ["Signer:"]
        guard let signer = token.signerInfo else {
            return lines + ["No SignerInfo."]
        }
        lines.append("SignerInfo version: \(signer.version)")
        switch signer.sid {
        case .issuerAndSerialNumber(let sid):
            lines.append(
                "Signer identifier: issuer \(self.oneline(sid.issuer)), serial \(self.bignumHex(sid.serialNumber))")
        case .subjectKeyIdentifier(let keyID):
            lines.append("Signer identifier: subjectKeyIdentifier \(self.hex(keyID))")
        }
        lines.append("Digest algorithm: \(self.hashName(signer.digestAlgorithm.algorithm))")
        lines.append("Signature algorithm: \(self.signatureName(signer.signatureAlgorithm))")
        let attributeNames = (signer.signedAttrs ?? []).map { self.attributeName($0.attrType) }
        lines.append("Signed attributes: \(attributeNames.isEmpty ? "none" : attributeNames.joined(separator: ", "))")

        let certificates: [(der: ArraySlice<UInt8>, certificate: Certificate?)] = (token.signedData.certificates ?? [])
            .map { raw in (raw.bytes, try? Certificate(derEncoded: Array(raw.bytes))) }

        do {
            if let signingCertificate = try token.signingCertificateV2() {
                for (index, certID) in signingCertificate.certs.enumerated() {
                    let label =
                        signingCertificate.certs.count > 1 ? " (\(index + 1) of \(signingCertificate.certs.count))" : ""
                    lines.append("Signing certificate v2\(label):")
                    lines += self.essCertID(
                        hashAlgorithm: certID.hashAlgorithm.algorithm,
                        certHash: certID.certHash,
                        issuerSerial: certID.issuerSerial,
                        certificates: certificates
                    )
                }
            } else if let attribute = signer.signedAttribute(.CMSAttributeType.signingCertificate),
                let value = attribute.attrValues.first
            {
                for certID in try self.essCertIDsV1(value) {
                    lines.append("Signing certificate (v1):")
                    lines += self.essCertID(
                        hashAlgorithm: .HashAlgorithm.sha1,
                        certHash: certID.certHash,
                        issuerSerial: certID.issuerSerial,
                        certificates: certificates
                    )
                }
            } else {
                lines.append("Signing certificate: none (neither signingCertificateV2 nor signingCertificate)")
            }
        } catch {
            lines.append("Signing certificate: unparseable (\(error))")
        }

        if certificates.isEmpty {
            lines.append("Certificates included: none (certReq was false)")
        } else {
            lines.append("Certificates included:")
            for (index, entry) in certificates.enumerated() {
                let subject = entry.certificate.map { self.oneline($0.subject) } ?? "(not a parseable certificate)"
                lines.append("    \(index + 1): \(subject)")
            }
        }
        return lines
    }

    static func essCertID(
        hashAlgorithm: ASN1ObjectIdentifier,
        certHash: ArraySlice<UInt8>,
        issuerSerial: IssuerSerial?,
        certificates: [(der: ArraySlice<UInt8>, certificate: Certificate?)]
    ) -> [String] {
        var lines = ["    Hash algorithm: \(self.hashName(hashAlgorithm))"]
        lines.append("    Certificate hash: \(self.hex(certHash))")
        if let issuerSerial {
            lines.append("    Issuer: \(issuerSerial.issuer.map { self.generalName($0) }.joined(separator: ", "))")
            lines.append("    Serial number: \(self.bignumHex(issuerSerial.serialNumber))")
        } else {
            lines.append("    Issuer and serial: not included")
        }
        if let index = certificates.firstIndex(where: { self.digest(hashAlgorithm, $0.der).map { $0[...] } == certHash }
        ) {
            let subject = certificates[index].certificate.map { self.oneline($0.subject) } ?? "?"
            lines.append("    Matches included certificate \(index + 1): \(subject)")
        } else if !certificates.isEmpty {
            lines.append("    Matches no included certificate")
        }
        return lines
    }

    /// `SigningCertificate ::= SEQUENCE { certs SEQUENCE OF ESSCertID, policies ... OPTIONAL }`,
    /// `ESSCertID ::= SEQUENCE { certHash OCTET STRING, issuerSerial IssuerSerial OPTIONAL }` (RFC 2634 §5.4).
    static func essCertIDsV1(_ value: ASN1Any) throws -> [(certHash: ArraySlice<UInt8>, issuerSerial: IssuerSerial?)] {
        let root = try DER.parse(try RawDER(encoding: value).bytes)
        return try DER.sequence(root, identifier: .sequence) { nodes in
            guard let certsNode = nodes.next() else {
                throw ASN1Error.invalidASN1Object(reason: "SigningCertificate without certs")
            }
            while nodes.next() != nil {}
            return try DER.sequence(of: RawDER.self, identifier: .sequence, rootNode: certsNode).map { raw in
                try DER.sequence(try raw.node(), identifier: .sequence) { fields in
                    let hash = try ASN1OctetString(derEncoded: &fields).bytes
                    let issuerSerial = try fields.next().map { try IssuerSerial(derEncoded: $0) }
                    return (hash, issuerSerial)
                }
            }
        }
    }

    static func digest(_ algorithm: ASN1ObjectIdentifier, _ bytes: ArraySlice<UInt8>) -> [UInt8]? {
        switch algorithm {
        case .HashAlgorithm.sha1: Array(Insecure.SHA1.hash(data: bytes))
        case .HashAlgorithm.sha256: Array(SHA256.hash(data: bytes))
        case .HashAlgorithm.sha384: Array(SHA384.hash(data: bytes))
        case .HashAlgorithm.sha512: Array(SHA512.hash(data: bytes))
        case .HashAlgorithm.sha3_256: Array(SHA3_256.hash(data: bytes))
        case .HashAlgorithm.sha3_384: Array(SHA3_384.hash(data: bytes))
        case .HashAlgorithm.sha3_512: Array(SHA3_512.hash(data: bytes))
        default: nil
        }
    }

    // MARK: Values

    /// A parse error in plain words: swift-asn1's code and reason, without the source location it appends.
    static func parseError(_ error: any Error) -> String {
        guard let asn1Error = error as? ASN1Error else { return "\(error)" }
        var text = asn1Error.description
        // "ASN1Error.code: reason Module/File.swift:123" → drop the location.
        if let space = text.lastIndex(of: " "), text[text.index(after: space)...].contains(".swift:") {
            text = String(text[..<space])
        }
        text = text.trimmingWhitespace()
        if text.hasSuffix(":") { text.removeLast() }
        switch asn1Error.code {
        case .truncatedASN1Field: return text + " (the data ends inside a DER element: truncated or not DER)"
        case .unexpectedFieldType: return text + " (an element of an unexpected type)"
        case .unsupportedFieldLength: return text + " (an element length beyond what is supported)"
        default: return text
        }
    }

    /// An INTEGER as OpenSSL's `TS_ASN1_INTEGER_print_bio` prints it: `0x`, then `BN_bn2hex` (upper case, an even
    /// number of digits, `0` for zero, `-` before a negative magnitude).
    static func bignumHex(_ integer: DERInteger) -> String {
        var octets = Array(integer.contentOctets)
        let negative = integer.isNegative
        if negative {
            // Two's complement magnitude: invert, add one.
            octets = octets.map { ~$0 }
            var index = octets.count - 1
            while index >= 0 {
                let (sum, overflow) = octets[index].addingReportingOverflow(1)
                octets[index] = sum
                if !overflow { break }
                index -= 1
            }
        }
        let magnitude = octets.drop { $0 == 0 }
        let digits = magnitude.isEmpty ? "0" : self.hex(magnitude, uppercase: true)
        return "0x" + (negative ? "-" : "") + digits
    }

    static func bignumHex(of value: Int) -> String {
        var magnitude = value.magnitude
        var octets: [UInt8] = []
        while magnitude > 0 {
            octets.insert(UInt8(magnitude & 0xFF), at: 0)
            magnitude >>= 8
        }
        return "0x" + (value < 0 ? "-" : "") + (octets.isEmpty ? "0" : self.hex(octets, uppercase: true))
    }

    static func hex(_ bytes: some Sequence<UInt8>, uppercase: Bool = false) -> String {
        let digits = Array(uppercase ? "0123456789ABCDEF" : "0123456789abcdef")
        var text = ""
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return text
    }

    /// OpenSSL's `BIO_dump_indent`: 16 bytes a line, `-` after the eighth, printable ASCII on the right.
    static func hexDump(_ bytes: some Collection<UInt8>, indent: Int = 4) -> [String] {
        let bytes = Array(bytes)
        let pad = String(repeating: " ", count: indent)
        var lines: [String] = []
        var offset = 0
        while offset < bytes.count {
            let row = bytes[offset..<min(offset + 16, bytes.count)]
            var offsetText = String(offset, radix: 16)
            offsetText = String(repeating: "0", count: max(0, 4 - offsetText.count)) + offsetText
            var line = pad + offsetText + " - "
            for column in 0..<16 {
                if column < row.count {
                    line += self.hex([row[row.startIndex + column]]) + (column == 7 ? "-" : " ")
                } else {
                    line += "   "
                }
            }
            line += "  "
            for byte in row {
                line.append(byte >= 0x20 && byte <= 0x7E ? Character(Unicode.Scalar(byte)) : ".")
            }
            lines.append(line)
            offset += 16
        }
        return lines
    }

    static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// OpenSSL's `ASN1_TIME_print`: `Nov 25 01:45:00.123 2026 GMT`, the fraction digits as encoded, the day
    /// padded to two characters with a space.
    static func opensslTime(_ time: GeneralizedTimeText) -> String {
        let c = time.components
        let month = (1...12).contains(c.month) ? self.monthNames[c.month - 1] : "???"
        let day = c.day < 10 ? " \(c.day)" : "\(c.day)"
        return "\(month) \(day) \(self.two(c.hour)):\(self.two(c.minute)):\(self.two(c.second))"
            + "\(self.fraction(time)) \(c.year) GMT"
    }

    /// ISO 8601 in UTC, the fraction digits as encoded: `2026-11-25T01:45:00.123Z`.
    static func isoTime(_ time: GeneralizedTimeText) -> String {
        let c = time.components
        let year = String(repeating: "0", count: max(0, 4 - String(c.year).count)) + String(c.year)
        return "\(year)-\(self.two(c.month))-\(self.two(c.day))T\(self.two(c.hour)):\(self.two(c.minute)):"
            + "\(self.two(c.second))\(self.fraction(time))Z"
    }

    static func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    /// The `.fff` part of the GeneralizedTime text, or "".
    static func fraction(_ time: GeneralizedTimeText) -> String {
        let text = time.text
        guard let dot = text.firstIndex(of: ".") else { return "" }
        return String(text[dot...].dropLast())
    }

    /// A name in OpenSSL's `X509_NAME_oneline` form: `/C=DE/O=Example/CN=TSU`.
    static func oneline(_ name: DistinguishedName) -> String {
        var text = ""
        for rdn in name {
            var first = true
            for attribute in rdn {
                text += first ? "/" : "+"
                first = false
                let value = String(attribute.value) ?? attribute.value.description
                text += "\(self.attributeShortName(attribute.type))=\(value)"
            }
        }
        return text.isEmpty ? "(empty name)" : text
    }

    /// A GeneralName as OpenSSL's `i2v_GENERAL_NAME` prints it.
    static func generalName(_ name: GeneralName) -> String {
        switch name {
        case .directoryName(let dn): "DirName:" + self.oneline(dn)
        case .dnsName(let value): "DNS:" + value
        case .rfc822Name(let value): "email:" + value
        case .uniformResourceIdentifier(let value): "URI:" + value
        case .registeredID(let oid): "Registered ID:" + self.oidName(oid)
        case .ipAddress(let octets): "IP Address:" + self.ipAddress(octets.bytes)
        case .otherName: "othername:<unsupported>"
        case .x400Address: "X400Name:<unsupported>"
        case .ediPartyName: "EdiPartyName:<unsupported>"
        }
    }

    static func ipAddress(_ bytes: ArraySlice<UInt8>) -> String {
        if bytes.count == 4 { return bytes.map { String($0) }.joined(separator: ".") }
        if bytes.count == 16 {
            let bytes = Array(bytes)
            return stride(from: 0, to: 16, by: 2).map {
                String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16, uppercase: true)
            }.joined(separator: ":")
        }
        return "<invalid>"
    }

    // MARK: Object identifiers

    static func hashName(_ oid: ASN1ObjectIdentifier) -> String {
        switch oid {
        case .HashAlgorithm.md5: "md5"
        case .HashAlgorithm.sha1: "sha1"
        case .HashAlgorithm.sha256: "sha256"
        case .HashAlgorithm.sha384: "sha384"
        case .HashAlgorithm.sha512: "sha512"
        case .HashAlgorithm.sha3_256: "sha3-256"
        case .HashAlgorithm.sha3_384: "sha3-384"
        case .HashAlgorithm.sha3_512: "sha3-512"
        default: oid.description
        }
    }

    static func signatureName(_ algorithm: AlgorithmIdentifier) -> String {
        switch algorithm.algorithm {
        case .SignatureAlgorithm.ecdsaWithSHA256: return "ecdsa-with-SHA256"
        case .SignatureAlgorithm.ecdsaWithSHA384: return "ecdsa-with-SHA384"
        case .SignatureAlgorithm.ecdsaWithSHA512: return "ecdsa-with-SHA512"
        case .SignatureAlgorithm.rsaEncryption: return "rsaEncryption"
        case .SignatureAlgorithm.sha256WithRSAEncryption: return "sha256WithRSAEncryption"
        case .SignatureAlgorithm.sha384WithRSAEncryption: return "sha384WithRSAEncryption"
        case .SignatureAlgorithm.sha512WithRSAEncryption: return "sha512WithRSAEncryption"
        case .SignatureAlgorithm.ed25519: return "ED25519"
        case [1, 2, 840, 10045, 2, 1]: return "id-ecPublicKey"
        case .SignatureAlgorithm.rsassaPSS:
            guard let parameters = algorithm.parameters, let pss = try? self.pssParameters(parameters) else {
                return "RSASSA-PSS"
            }
            return "RSASSA-PSS (hash \(pss.hash), mgf1 with \(pss.mgfHash), salt length \(pss.saltLength))"
        default: return algorithm.algorithm.description
        }
    }

    /// `RSASSA-PSS-params` (RFC 4055 §3.1), with its DEFAULTs (SHA-1, MGF1 with SHA-1, salt 20).
    static func pssParameters(_ parameters: ASN1Any) throws -> (hash: String, mgfHash: String, saltLength: Int) {
        let root = try DER.parse(try RawDER(encoding: parameters).bytes)
        return try DER.sequence(root, identifier: .sequence) { nodes in
            var hash = "sha1"
            var mgfHash = "sha1"
            var salt = 20
            while let node = nodes.next() {
                guard node.identifier.tagClass == .contextSpecific, case .constructed(let inner) = node.content,
                    let value = inner.first(where: { _ in true })
                else { continue }
                switch node.identifier.tagNumber {
                case 0:
                    hash = self.hashName(try AlgorithmIdentifier(derEncoded: value).algorithm)
                case 1:
                    let mgf = try AlgorithmIdentifier(derEncoded: value)
                    if let mgfParameters = mgf.parameters {
                        let inner = try AlgorithmIdentifier(derEncoded: try RawDER(encoding: mgfParameters).node())
                        mgfHash = self.hashName(inner.algorithm)
                    }
                case 2:
                    salt = try Int(derEncoded: value)
                default:
                    break
                }
            }
            return (hash, mgfHash, salt)
        }
    }

    static func attributeName(_ oid: ASN1ObjectIdentifier) -> String {
        switch oid {
        case .CMSAttributeType.contentType: "contentType"
        case .CMSAttributeType.messageDigest: "messageDigest"
        case .CMSAttributeType.signingTime: "signingTime"
        case .CMSAttributeType.signingCertificate: "signingCertificate"
        case .CMSAttributeType.signingCertificateV2: "signingCertificateV2"
        default: oid.description
        }
    }

    /// The dotted policy OID, with its name when we know it.
    static func policyName(_ oid: ASN1ObjectIdentifier) -> String {
        switch oid {
        case .TimeStamping.bestPracticesPolicy: "\(oid) (best-practices-ts-policy)"
        default: oid.description
        }
    }

    static func qcStatementName(_ oid: ASN1ObjectIdentifier) -> String {
        let names: [ASN1ObjectIdentifier: String] = [
            .QCStatement.qualifiedTimeStamp: "esi4-qtstStatement-1 (qualified electronic time stamp)",
            [0, 4, 0, 1862, 1, 1]: "id-etsi-qcs-QcCompliance",
            [0, 4, 0, 1862, 1, 2]: "id-etsi-qcs-QcLimitValue",
            [0, 4, 0, 1862, 1, 3]: "id-etsi-qcs-QcRetentionPeriod",
            [0, 4, 0, 1862, 1, 4]: "id-etsi-qcs-QcSSCD",
            [0, 4, 0, 1862, 1, 5]: "id-etsi-qcs-QcPDS",
            [0, 4, 0, 1862, 1, 6]: "id-etsi-qcs-QcType",
        ]
        return names[oid] ?? oid.description
    }

    /// Any OID we name somewhere, else its dotted form.
    static func oidName(_ oid: ASN1ObjectIdentifier) -> String {
        let hash = self.hashName(oid)
        if hash != oid.description { return hash }
        let attribute = self.attributeName(oid)
        if attribute != oid.description { return attribute }
        return self.signatureName(AlgorithmIdentifier(algorithm: oid))
    }

    static func attributeShortName(_ oid: ASN1ObjectIdentifier) -> String {
        let names: [ASN1ObjectIdentifier: String] = [
            [2, 5, 4, 3]: "CN", [2, 5, 4, 4]: "SN", [2, 5, 4, 5]: "serialNumber", [2, 5, 4, 6]: "C",
            [2, 5, 4, 7]: "L", [2, 5, 4, 8]: "ST", [2, 5, 4, 9]: "street", [2, 5, 4, 10]: "O",
            [2, 5, 4, 11]: "OU", [2, 5, 4, 12]: "title", [2, 5, 4, 17]: "postalCode", [2, 5, 4, 42]: "GN",
            [2, 5, 4, 43]: "initials", [2, 5, 4, 46]: "dnQualifier", [2, 5, 4, 65]: "pseudonym",
            [2, 5, 4, 97]: "organizationIdentifier", [1, 2, 840, 113_549, 1, 9, 1]: "emailAddress",
            [0, 9, 2342, 19_200_300, 100, 1, 1]: "UID", [0, 9, 2342, 19_200_300, 100, 1, 25]: "DC",
        ]
        return names[oid] ?? oid.description
    }
}
