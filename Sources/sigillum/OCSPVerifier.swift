import Crypto
import Foundation
import PKIMessages
import Signing
import SwiftASN1
import X509

/// The checks RFC 6960 §3.2 asks of a relying party, on the DER of an OCSPResponse.
///
/// A response is accepted only when all of these hold:
/// 1. responseStatus is successful (else the status is reported, exit 1) and the type is id-pkix-ocsp-basic;
/// 2. ResponseData is v1 and carries exactly one SingleResponse, whose CertID is the request's byte for byte;
/// 3. the nonce is echoed when one was sent (a missing nonce is a warning: RFC 5019 responders may answer from
///    pre-signed responses; a different one is a failure);
/// 4. the responder is ISSUER itself or a delegated responder: a certificate among `certs`, issued directly by ISSUER
///    (its signature verifies with ISSUER's key), valid now, with id-kp-OCSPSigning (§4.2.2.2) and, when it has a
///    keyUsage, digitalSignature; the ResponderID (byName or byKey) names that certificate;
/// 5. the signature over `tbsResponseData` verifies with the responder's key;
/// 6. thisUpdate is not in the future and nextUpdate, when present, not in the past (both with `maximumSkew`), and
///    nextUpdate is not before thisUpdate (RFC 6960 §3.2 point 4, as `OCSP_check_validity` does);
/// 7. no critical extension this client does not understand (RFC 6960 §4.4).
///
/// Every failed check is collected, so that one run names all of them.
struct OCSPVerifier {
    /// The issuer of the certificate asked about: the CA the CertID names.
    var issuer: Certificate
    /// The CertID sent (or, for a saved response, the one that would have been sent).
    var certID: CertID
    /// The nonce sent; nil when none was.
    var sentNonce: OCSPNonce?
    /// False for a saved response (`--response-file`): no request was sent, so the nonce cannot be checked.
    var requestWasSent: Bool
    var now: Date
    /// The clock difference tolerated on thisUpdate and nextUpdate.
    var maximumSkew: TimeInterval = 300

    /// The extensions this client understands in responseExtensions and singleExtensions.
    static let understoodExtensions: Set<ASN1ObjectIdentifier> = [.OCSP.nonce, .OCSP.extendedRevoke]

    /// What a verified response says.
    struct Report {
        var status: CertStatus
        /// The status line: `good`, `revoked (keyCompromise) at …`, `unknown`.
        var summary: String
        /// One line per fact, after the status line.
        var facts: [String]
        /// Printed on stderr as well: things that are allowed but weaken the answer.
        var warnings: [String]
    }

    /// Parses and verifies `der`; throws a `CLIError` with exit code 1 for an error status and 2 for anything else.
    func verify(_ der: [UInt8]) throws(CLIError) -> Report {
        let response: OCSPResponse
        do {
            response = try OCSPResponse(derEncoded: der)
        } catch {
            var message = "the answer is not a DER OCSPResponse: \(TokenPrinter.parseError(error))"
            if der.first == UInt8(ascii: "-") { message += " (it looks like PEM; give the DER)" }
            throw CLIError(message, exitCode: 2)
        }
        guard case .successful(let responseBytes) = response else {
            throw CLIError(
                "the responder answered \(response.responseStatus): \(Self.explain(response.responseStatus))",
                exitCode: 1
            )
        }
        guard responseBytes.responseType == .OCSP.basicResponse else {
            throw CLIError(
                "the response type is \(responseBytes.responseType), not id-pkix-ocsp-basic (1.3.6.1.5.5.7.48.1.1)",
                exitCode: 2
            )
        }
        let basic: BasicOCSPResponse
        do {
            basic = try responseBytes.basicResponse()
        } catch {
            throw CLIError(
                "the BasicOCSPResponse cannot be parsed: \(TokenPrinter.parseError(error))", exitCode: 2)
        }
        return try self.verify(basic)
    }

    func verify(_ basic: BasicOCSPResponse) throws(CLIError) -> Report {
        let data = basic.tbsResponseData
        var problems: [String] = []
        var facts: [String] = []
        var warnings: [String] = []
        var notes: [String] = []

        if data.version != ResponseData.v1 {
            problems.append("ResponseData version is \(data.version), not v1 (0)")
        }

        // 2. Exactly one SingleResponse, for the CertID sent.
        guard data.responses.count == 1, let single = data.responses.first else {
            throw CLIError(
                "the response carries \(data.responses.count) SingleResponses; one CertID was asked for, so exactly "
                    + "one is expected",
                exitCode: 2
            )
        }
        let responseCertID = Self.encoding(of: single.certID)
        if responseCertID == nil || responseCertID != Self.encoding(of: self.certID) {
            problems.append(
                "the SingleResponse is for another CertID than expected (response: \(Self.describe(single.certID)); "
                    + "expected: \(Self.describe(self.certID)))"
            )
        }
        facts.append("serial: \(TokenPrinter.bignumHex(single.certID.serialNumber))")

        // 6. Freshness.
        let now = Int64(self.now.timeIntervalSince1970.rounded(.down))
        let skew = Int64(self.maximumSkew)
        let thisUpdate = single.thisUpdate.wholeSecondsSince1970
        if thisUpdate > now + skew {
            problems.append(
                "thisUpdate \(TokenPrinter.isoTime(single.thisUpdate)) is in the future (more than \(skew) s "
                    + "ahead of this machine's clock)"
            )
        }
        var updates = "this update: \(TokenPrinter.isoTime(single.thisUpdate))"
        if let nextUpdate = single.nextUpdate {
            updates += ", next update: \(TokenPrinter.isoTime(nextUpdate))"
            if nextUpdate.wholeSecondsSince1970 < thisUpdate {
                problems.append("nextUpdate \(TokenPrinter.isoTime(nextUpdate)) is before thisUpdate")
            } else if nextUpdate.wholeSecondsSince1970 < now - skew {
                problems.append(
                    "the response is stale: nextUpdate \(TokenPrinter.isoTime(nextUpdate)) has passed "
                        + "(more than \(skew) s ago by this machine's clock)"
                )
            }
        } else {
            updates += ", next update: none (newer status may be available at any time)"
        }
        facts.append(updates)
        facts.append("produced at: \(TokenPrinter.isoTime(data.producedAt))")

        // 4. Who signed.
        let signer = self.findResponder(basic, problems: &problems)
        if let signer { facts.append("responder: " + signer.description) }
        notes += signer?.notes ?? []

        // 3. The nonce.
        do {
            let echoed = try data.nonce
            switch (self.requestWasSent, self.sentNonce, echoed) {
            case (false, _, let echoed?):
                facts.append("nonce: present (\(echoed.octets.count) octets), not checked: no request was sent")
            case (false, _, nil):
                facts.append("nonce: none in the response, not checked: no request was sent")
            case (true, let sent?, let echoed?) where sent.octets.elementsEqual(echoed.octets):
                facts.append("nonce: echoed (\(echoed.octets.count) octets)")
            case (true, .some, .some):
                problems.append("the response carries another nonce than the one sent (a replayed or mixed-up answer)")
            case (true, .some, nil):
                facts.append("nonce: NOT echoed (warning)")
                warnings.append(
                    "the responder did not echo the nonce (RFC 5019 responders may answer from pre-signed "
                        + "responses); freshness rests on thisUpdate alone"
                )
            case (true, nil, let echoed?):
                facts.append("nonce: none sent, yet the response carries one (\(echoed.octets.count) octets)")
            case (true, nil, nil):
                facts.append("nonce: none sent (--no-nonce)")
            }
        } catch {
            problems.append("the response's nonce extension is malformed: \(TokenPrinter.parseError(error))")
        }

        // 5. The signature.
        let algorithmName = TokenPrinter.signatureName(basic.signatureAlgorithm)
        if let signer {
            switch Self.verifySignature(
                basic.signature, algorithm: basic.signatureAlgorithm, over: basic.tbsResponseDataBytes.bytes,
                publicKey: signer.certificate.publicKey)
            {
            case .valid:
                facts.append("signature: valid (\(algorithmName))")
            case .invalid:
                problems.append(
                    "signature does not verify (\(algorithmName)) with the key of \(signer.kind) "
                        + "\"\(signer.certificate.subject)\"; the response was altered or signed by another key"
                )
            case .unsupported(let reason):
                problems.append("the signature cannot be checked: \(reason)")
            }
        }

        // 7. Extensions.
        for ext in (data.responseExtensions ?? []) + (single.singleExtensions ?? [])
        where ext.critical && !Self.understoodExtensions.contains(ext.oid) {
            problems.append("the response has a critical extension this client does not understand: \(ext.oid)")
        }

        // The status.
        let summary: String
        switch single.certStatus {
        case .good:
            summary = "good"
        case .revoked(let info):
            let reason = info.revocationReason.map { " (\($0))" } ?? ""
            summary = "revoked\(reason) at \(TokenPrinter.isoTime(info.revocationTime))"
        case .unknown:
            summary = "unknown"
        }
        if OCSPExtendedRevoke.isPresent(in: data.responseExtensions) {
            if case .revoked(let info) = single.certStatus, info.revocationReason == .certificateHold,
                info.revocationTime.wholeSecondsSince1970 == 0
            {
                notes.append(
                    "note: the CA never issued this serial (extended revoke, RFC 6960 §2.2: revoked, "
                        + "certificateHold, 1970-01-01)"
                )
            } else {
                notes.append(
                    "note: the responder uses the extended revoke definition (RFC 6960 §4.4.8): serials the CA "
                        + "never issued are answered revoked"
                )
            }
        }
        if case .unknown = single.certStatus {
            notes.append("note: the responder does not know this serial (not in its CA's records)")
        }

        guard problems.isEmpty else {
            throw CLIError(
                "the OCSP response fails verification (it claims: \(summary)):\n  "
                    + problems.joined(separator: "\n  "),
                exitCode: 2
            )
        }
        return Report(status: single.certStatus, summary: summary, facts: facts + notes, warnings: warnings)
    }

    // MARK: The responder

    /// The certificate whose key signed the response, and how it is authorised.
    struct Responder {
        var certificate: Certificate
        /// `the issuer` or `the delegated responder`.
        var kind: String
        var description: String
        var notes: [String]
    }

    /// RFC 6960 §4.2.2.2: the CA itself, or a delegated responder certificate issued directly by it.
    func findResponder(_ basic: BasicOCSPResponse, problems: inout [String]) -> Responder? {
        let responderID = basic.tbsResponseData.responderID
        let idText = Self.describe(responderID)
        if Self.responderID(responderID, names: self.issuer) {
            return Responder(
                certificate: self.issuer, kind: "the issuer",
                description: "the issuer \"\(self.issuer.subject)\" (\(idText))", notes: [])
        }

        let certificates: [Certificate]
        do {
            certificates = try basic.certificates()
        } catch {
            problems.append("a certificate in the response cannot be parsed: \(TokenPrinter.parseError(error))")
            return nil
        }
        // Renewed responder certificates may share a name: prefer the candidate whose key verifies the signature.
        let candidates = certificates.filter { Self.responderID(responderID, names: $0) }
        let verifying = candidates.first {
            Self.verifySignature(
                basic.signature, algorithm: basic.signatureAlgorithm, over: basic.tbsResponseDataBytes.bytes,
                publicKey: $0.publicKey) == .valid
        }
        guard let delegate = verifying ?? candidates.first else {
            problems.append(
                "the responder (\(idText)) is neither ISSUER \"\(self.issuer.subject)\" nor any of the "
                    + "\(certificates.count) certificate(s) the response carries; its key cannot be found"
            )
            return nil
        }

        var notes: [String] = []
        let name = "the responder certificate \"\(delegate.subject)\""
        if delegate.issuer != self.issuer.subject {
            problems.append(
                "\(name) was not issued by ISSUER \"\(self.issuer.subject)\" (its issuer is \"\(delegate.issuer)\"); "
                    + "RFC 6960 §4.2.2.2 requires a delegated responder issued directly by the CA"
            )
        } else if !self.issuer.publicKey.isValidSignature(delegate.signature, for: delegate) {
            problems.append("\(name) names ISSUER as its issuer, but its signature does not verify with ISSUER's key")
        }
        let usages = (try? delegate.extensions.extendedKeyUsage) ?? nil
        if !(usages?.contains(.ocspSigning) ?? false) {
            problems.append("\(name) lacks id-kp-OCSPSigning in extendedKeyUsage (RFC 6960 §4.2.2.2)")
        }
        if let keyUsage = (try? delegate.extensions.keyUsage) ?? nil, !keyUsage.digitalSignature {
            problems.append("\(name) has a keyUsage without digitalSignature")
        }
        if self.now < delegate.notValidBefore.addingTimeInterval(-self.maximumSkew) {
            problems.append("\(name) is not valid yet (notBefore \(Self.iso(delegate.notValidBefore)))")
        } else if self.now > delegate.notValidAfter.addingTimeInterval(self.maximumSkew) {
            problems.append("\(name) has expired (notAfter \(Self.iso(delegate.notValidAfter)))")
        }
        if delegate.extensions[oid: .OCSP.noCheck] == nil {
            notes.append(
                "note: the responder certificate has no id-pkix-ocsp-nocheck; its own revocation status is not "
                    + "checked here (RFC 6960 §4.2.2.2.1)"
            )
        }
        return Responder(
            certificate: delegate, kind: "the delegated responder",
            description: "delegated \"\(delegate.subject)\" (\(idText)), issued by ISSUER, id-kp-OCSPSigning",
            notes: notes)
    }

    /// Whether `id` names `certificate`: byName its subject, byKey the SHA-1 of its subjectPublicKey.
    static func responderID(_ id: ResponderID, names certificate: Certificate) -> Bool {
        switch id {
        case .byName(let name):
            return name == certificate.subject
        case .byKey(let hash):
            return hash.elementsEqual(Insecure.SHA1.hash(data: ResponderID.keyHashInput(of: certificate)))
        }
    }

    static func describe(_ id: ResponderID) -> String {
        switch id {
        case .byName(let name): "byName \"\(name)\""
        case .byKey(let hash): "byKey 0x\(TokenPrinter.hex(hash, uppercase: true))"
        }
    }

    static func describe(_ certID: CertID) -> String {
        "\(TokenPrinter.hashName(certID.hashAlgorithm.algorithm)), issuerNameHash "
            + "\(TokenPrinter.hex(certID.issuerNameHash)), issuerKeyHash \(TokenPrinter.hex(certID.issuerKeyHash)), "
            + "serial \(TokenPrinter.bignumHex(certID.serialNumber))"
    }

    static func encoding(of value: some DERSerializable) -> [UInt8]? {
        var coder = DER.Serializer()
        return (try? coder.serialize(value)).map { coder.serializedBytes }
    }

    static func iso(_ date: Date) -> String {
        (try? GeneralizedTimeText(wholeSecondsSince1970: Int64(date.timeIntervalSince1970.rounded(.down))))
            .map { TokenPrinter.isoTime($0) } ?? "\(date)"
    }

    /// What each error status means to the user, and what to do (RFC 6960 §2.3).
    static func explain(_ status: OCSPResponseStatus) -> String {
        switch status {
        case .malformedRequest: "the request did not parse or broke a rule of the responder (e.g. nonce length)"
        case .internalError: "the responder is in an inconsistent internal state; try another responder or later"
        case .tryLater: "the responder cannot answer now (e.g. its status source is unavailable); try again later"
        case .sigRequired: "the responder requires signed requests"
        case .unauthorized: "the responder does not answer for this CA (check --issuer and --url)"
        default: "an error status this client does not know"
        }
    }

    // MARK: Signatures

    enum SignatureVerdict: Equatable {
        case valid
        case invalid
        case unsupported(String)
    }

    /// sha1WithRSAEncryption (RFC 8017 App. A.2.4), accepted for old responders.
    static let sha1WithRSAEncryption: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 1, 5]

    /// Verifies `signature` over `message` with `publicKey` under `algorithm` (the BasicOCSPResponse's).
    ///
    /// ECDSA, RSA PKCS#1 v1.5 and Ed25519 go through swift-certificates; RSA-PSS (which swift-certificates cannot
    /// verify) through Signing's `SignatureScheme`, for the parameter sets it implements: SHA-256/384/512, MGF1 with
    /// the same hash, a salt as long as the hash.
    static func verifySignature(
        _ signature: ASN1BitString,
        algorithm: AlgorithmIdentifier,
        over message: ArraySlice<UInt8>,
        publicKey: Certificate.PublicKey
    ) -> SignatureVerdict {
        guard signature.paddingBits == 0 else {
            return .unsupported("the signature BIT STRING is not a whole number of octets")
        }
        let signatureBytes = Array(signature.bytes)
        let x509Algorithm: Certificate.SignatureAlgorithm
        switch algorithm.algorithm {
        case .SignatureAlgorithm.ecdsaWithSHA256, .SignatureAlgorithm.ecdsaWithSHA384,
            .SignatureAlgorithm.ecdsaWithSHA512, .SignatureAlgorithm.ed25519:
            // RFC 5758 §3.2 and RFC 8410 §3: the parameters are absent.
            guard algorithm.parameters == nil else {
                return .unsupported("\(TokenPrinter.signatureName(algorithm)) with parameters (they must be absent)")
            }
            x509Algorithm =
                switch algorithm.algorithm {
                case .SignatureAlgorithm.ecdsaWithSHA256: .ecdsaWithSHA256
                case .SignatureAlgorithm.ecdsaWithSHA384: .ecdsaWithSHA384
                case .SignatureAlgorithm.ecdsaWithSHA512: .ecdsaWithSHA512
                default: .ed25519
                }
        case .SignatureAlgorithm.sha256WithRSAEncryption, .SignatureAlgorithm.sha384WithRSAEncryption,
            .SignatureAlgorithm.sha512WithRSAEncryption, Self.sha1WithRSAEncryption:
            // RFC 4055 §5: NULL, or absent from old encoders.
            guard algorithm.hasAbsentOrNullParameters else {
                return .unsupported("\(TokenPrinter.signatureName(algorithm)) with parameters other than NULL")
            }
            x509Algorithm =
                switch algorithm.algorithm {
                case .SignatureAlgorithm.sha256WithRSAEncryption: .sha256WithRSAEncryption
                case .SignatureAlgorithm.sha384WithRSAEncryption: .sha384WithRSAEncryption
                case .SignatureAlgorithm.sha512WithRSAEncryption: .sha512WithRSAEncryption
                default: .sha1WithRSAEncryption
                }
        case .SignatureAlgorithm.rsassaPSS:
            return Self.verifyPSS(signatureBytes, algorithm: algorithm, over: message, publicKey: publicKey)
        default:
            return .unsupported("the signature algorithm \(algorithm.algorithm) is not supported by this client")
        }
        return publicKey.isValidSignature(signatureBytes, for: message, signatureAlgorithm: x509Algorithm)
            ? .valid : .invalid
    }

    static func verifyPSS(
        _ signature: [UInt8],
        algorithm: AlgorithmIdentifier,
        over message: ArraySlice<UInt8>,
        publicKey: Certificate.PublicKey
    ) -> SignatureVerdict {
        guard let parameters = algorithm.parameters,
            let pss = try? TokenPrinter.pssParameters(parameters)
        else {
            return .unsupported("cannot verify RSA-PSS: the RSASSA-PSS-params are missing or malformed")
        }
        let schemes: [String: (SignatureScheme, Int)] = [
            "sha256": (.rsaPSSSHA256, 32), "sha384": (.rsaPSSSHA384, 48), "sha512": (.rsaPSSSHA512, 64),
        ]
        guard let (scheme, hashLength) = schemes[pss.hash], pss.mgfHash == pss.hash, pss.saltLength == hashLength
        else {
            return .unsupported(
                "cannot verify RSA-PSS with hash \(pss.hash), MGF1 with \(pss.mgfHash), salt length "
                    + "\(pss.saltLength): only SHA-256/384/512 with MGF1 over the same hash and a salt as long as "
                    + "the hash are supported"
            )
        }
        return scheme.isValidSignature(signature, for: Array(message), publicKey: publicKey) ? .valid : .invalid
    }
}
