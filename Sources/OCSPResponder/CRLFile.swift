import Foundation
import PKIMessages
import SwiftASN1
public import X509

/// A CRL file (DER, or PEM `X509 CRL`) as a status source for the issuer that signed it.
///
/// Every entry becomes a revoked ``CertificateStatus/Entry`` with its revocation date, and its reason code (RFC 5280
/// §5.3.1), invalidity date (§5.3.2) and hold instruction code (RFC 3280 §5.3.2) when the entry carries them. A CRL lists revoked certificates only, so
/// ``ParsedStatus/knowsAllIssued`` is false: a serial it does not list is answered good, never "non-issued".
///
/// The CRL is refused, whole, when:
/// - it does not decode (``OCSPResponderError/ErrorCode/malformedCRL``);
/// - its issuer is not the configured issuer certificate's subject (``OCSPResponderError/ErrorCode/crlIssuerMismatch``);
/// - signature checking is on (the default) and the signature does not verify with the issuer certificate's public
///   key, the outer and inner signature algorithms differ, or the issuer certificate's keyUsage lacks cRLSign
///   (RFC 5280 §6.3.3 (f)) (``OCSPResponderError/ErrorCode/crlSignatureInvalid``);
/// - it is a delta CRL, carries a critical extension this reader does not process (RFC 5280 §5.2 forbids using such
///   a CRL; issuingDistributionPoint, always critical, is one), lists a serial twice, or is signed with an algorithm
///   swift-certificates cannot verify (RSA-PSS among them) (``OCSPResponderError/ErrorCode/unsupportedCRL``).
///
/// An entry with reason removeFromCRL, which RFC 5280 allows in delta CRLs only, is kept as listed (revoked), as
/// OpenSSL's own responder does with such `index.txt` lines. A negative serial (RFC 5280 §4.1.2.2 forbids them) has
/// no ``SerialNumberKey`` and is skipped. A CRL past its nextUpdate is still read; the watcher logs a warning and
/// ``CRLMetadata/nextUpdate`` lets the responder decide.
public struct CRLFile: StatusFileSource {
    public let path: String
    /// The certificate of the CA the CRL must come from.
    public let issuer: Certificate
    /// Whether the CRL's signature is checked against ``issuer``'s public key.
    public let verifiesSignature: Bool

    public var kind: StatusSourceKind { .crl }

    public init(path: String, issuer: Certificate, verifiesSignature: Bool = true) {
        self.path = path
        self.issuer = issuer
        self.verifiesSignature = verifiesSignature
    }

    public func parse(_ contents: [UInt8]) throws(OCSPResponderError) -> ParsedStatus {
        let crl: CertificateList
        do {
            crl = try CertificateList.parse(bytes: contents)
        } catch {
            throw .malformedCRL(path: self.path, reason: "\(error)", cause: error)
        }
        let tbs = crl.tbsCertList

        guard tbs.issuer == self.issuer.subject else {
            throw .crlIssuerMismatch(
                path: self.path,
                reason:
                    "the CRL was issued by \"\(tbs.issuer)\", the issuer certificate's subject is \"\(self.issuer.subject)\""
            )
        }
        try self.checkExtensions(tbs)
        if self.verifiesSignature {
            try self.checkSignature(crl)
        }

        var entries: [SerialNumberKey: CertificateStatus.Entry] = [:]
        entries.reserveCapacity(crl.revokedCertificates.count)
        for entry in crl.revokedCertificates {
            guard let serial = SerialNumberKey(integerBytes: entry.userCertificate.contentOctets) else { continue }
            let reason: CRLReason?
            let invalidity: CRLTime?
            let holdInstruction: ASN1ObjectIdentifier?
            do {
                reason = try entry.reasonCode
                invalidity = try entry.invalidityDate
                holdInstruction = try entry.crlEntryExtensions?.first { $0.oid == Self.holdInstructionCode }.map {
                    try ASN1ObjectIdentifier(derEncoded: $0.value)
                }
            } catch {
                throw .malformedCRL(path: self.path, reason: "the entry for serial \(serial): \(error)", cause: error)
            }
            let revocation = CertificateStatus.Revocation(
                time: Date(secondsSince1970: entry.revocationDate.secondsSince1970),
                reason: reason,
                invalidityDate: invalidity.map { Date(secondsSince1970: $0.secondsSince1970) },
                holdInstruction: holdInstruction
            )
            guard entries.updateValue(.revoked(revocation), forKey: serial) == nil else {
                throw .unsupportedCRL(path: self.path, reason: "serial \(serial) is listed twice")
            }
        }

        let crlNumber: DERInteger?
        do {
            crlNumber = try tbs.crlNumber
        } catch {
            throw .malformedCRL(path: self.path, reason: "its cRLNumber: \(error)", cause: error)
        }
        let metadata = CRLMetadata(
            issuer: tbs.issuer,
            thisUpdate: Date(secondsSince1970: tbs.thisUpdate.secondsSince1970),
            nextUpdate: tbs.nextUpdate.map { Date(secondsSince1970: $0.secondsSince1970) },
            crlNumber: crlNumber.map { Array($0.contentOctets) }
        )
        return ParsedStatus(entries: entries, knowsAllIssued: false, crl: metadata)
    }

    /// CRL extensions this reader processes (RFC 5280 §5.2): cRLNumber and authorityKeyIdentifier (non-critical,
    /// informational). Delta CRLs are refused; so is any other critical extension.
    private func checkExtensions(_ tbs: TBSCertList) throws(OCSPResponderError) {
        for ext in tbs.crlExtensions ?? [] {
            if ext.oid == Self.deltaCRLIndicator {
                throw .unsupportedCRL(
                    path: self.path, reason: "it is a delta CRL (deltaCRLIndicator); use the complete CRL")
            }
            if ext.critical {
                throw .unsupportedCRL(
                    path: self.path,
                    reason: "it carries the critical extension \(ext.oid), which this responder does not process "
                        + "(RFC 5280 §5.2: such a CRL must not be used)"
                )
            }
        }
    }

    private func checkSignature(_ crl: CertificateList) throws(OCSPResponderError) {
        guard crl.signatureAlgorithm == crl.tbsCertList.signature else {
            throw .crlSignatureInvalid(
                path: self.path,
                reason: "its signatureAlgorithm differs from the tbsCertList's signature field (RFC 5280 §5.1.1.2)"
            )
        }
        do {
            if let keyUsage = try self.issuer.extensions.keyUsage, !keyUsage.cRLSign {
                throw OCSPResponderError.crlSignatureInvalid(
                    path: self.path,
                    reason: "the issuer certificate's keyUsage does not allow cRLSign (RFC 5280 §6.3.3 (f))"
                )
            }
        } catch let error as OCSPResponderError {
            throw error
        } catch {
            throw .crlSignatureInvalid(
                path: self.path,
                reason: "the issuer certificate's keyUsage extension does not decode: \(error)"
            )
        }
        guard let algorithm = Self.signatureAlgorithm(crl.signatureAlgorithm) else {
            throw .unsupportedCRL(
                path: self.path,
                reason: "its signature algorithm \(crl.signatureAlgorithm.algorithm) cannot be verified here"
            )
        }
        let isValid = self.issuer.publicKey.isValidSignature(
            crl.signatureValue.bytes,
            for: crl.tbsCertListBytes.bytes,
            signatureAlgorithm: algorithm
        )
        guard isValid else {
            throw .crlSignatureInvalid(
                path: self.path,
                reason:
                    "its signature does not verify with the public key of the issuer certificate \"\(self.issuer.subject)\""
            )
        }
    }

    /// swift-certificates' value for a CRL's AlgorithmIdentifier: ECDSA with SHA-2, RSA PKCS#1 v1.5 with SHA-1 or
    /// SHA-2 (NULL or absent parameters), Ed25519 (no parameters).
    private static func signatureAlgorithm(_ identifier: AlgorithmIdentifier) -> Certificate.SignatureAlgorithm? {
        typealias OID = ASN1ObjectIdentifier.SignatureAlgorithm
        switch identifier.algorithm {
        case OID.ecdsaWithSHA256 where identifier.parameters == nil: return .ecdsaWithSHA256
        case OID.ecdsaWithSHA384 where identifier.parameters == nil: return .ecdsaWithSHA384
        case OID.ecdsaWithSHA512 where identifier.parameters == nil: return .ecdsaWithSHA512
        case OID.ed25519 where identifier.parameters == nil: return .ed25519
        case Self.sha1WithRSAEncryption where identifier.hasAbsentOrNullParameters: return .sha1WithRSAEncryption
        case OID.sha256WithRSAEncryption where identifier.hasAbsentOrNullParameters: return .sha256WithRSAEncryption
        case OID.sha384WithRSAEncryption where identifier.hasAbsentOrNullParameters: return .sha384WithRSAEncryption
        case OID.sha512WithRSAEncryption where identifier.hasAbsentOrNullParameters: return .sha512WithRSAEncryption
        default: return nil
        }
    }

    /// sha1WithRSAEncryption, RFC 8017 Appendix A.2.4; still found on older CAs' CRLs.
    private static let sha1WithRSAEncryption: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 1, 5]

    /// id-ce-holdInstructionCode, RFC 3280 §5.3.2 (a CRL entry extension; value OBJECT IDENTIFIER).
    private static let holdInstructionCode: ASN1ObjectIdentifier = [2, 5, 29, 23]

    /// id-ce-deltaCRLIndicator, RFC 5280 §5.2.4.
    private static let deltaCRLIndicator: ASN1ObjectIdentifier = [2, 5, 29, 27]
}

extension Date {
    init(secondsSince1970 seconds: Int64) {
        self.init(timeIntervalSince1970: TimeInterval(seconds))
    }
}
