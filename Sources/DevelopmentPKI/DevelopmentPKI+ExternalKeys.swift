import Crypto
public import Foundation
import Signing
import SwiftASN1
public import X509

extension DevelopmentPKI {
    /// What a certificate for a key held elsewhere (an HSM, a card) is for.
    public enum ExternalKeyPurpose: String, Sendable, Hashable, CaseIterable {
        /// A TSU certificate: EN 319 422 profile (C and O in the subject, digitalSignature, exactly one EKU
        /// id-kp-timeStamping, critical), valid three years.
        case timeStamping = "tsa"
        /// A delegated OCSP responder of the issuing CA: EKU OCSPSigning, id-pkix-ocsp-nocheck, valid one year.
        case ocspSigning = "ocsp"
    }

    /// Issues, with the development issuing CA, a certificate for a public key whose private half lives elsewhere
    /// (`sigillum init --pkcs11-module …` puts the key on a token and the certificate next to it).
    ///
    /// - Parameters:
    ///   - publicKey: the key to certify.
    ///   - purpose: TSU or OCSP responder.
    ///   - commonName: the subject's CN; C and O are the development PKI's.
    ///   - now: the start of validity (an hour earlier, for clock skew).
    public func issueCertificate(
        for publicKey: Certificate.PublicKey,
        purpose: ExternalKeyPurpose,
        commonName: String,
        now: Date = Date()
    ) throws -> Certificate {
        let issuerKey = try self.issuingCAKey()
        let start = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        let years = purpose == .timeStamping ? 3 : 1
        let name = DevelopmentName(commonName: commonName)
        do {
            let issuerSKI = try self.issuingCA.extensions.subjectKeyIdentifier
            var extensions = try Certificate.Extensions {
                switch purpose {
                case .timeStamping:
                    Critical(KeyUsage(digitalSignature: true))
                    Critical(try ExtendedKeyUsage([.timeStamping]))
                    BasicConstraints.notCertificateAuthority
                case .ocspSigning:
                    Critical(KeyUsage(digitalSignature: true))
                    try ExtendedKeyUsage([.ocspSigning])
                    Certificate.Extension(oid: .X509ExtensionID.ocspNoCheck, critical: false, value: [0x05, 0x00])
                }
            }
            try extensions.append(SubjectKeyIdentifier(hash: publicKey).makeCertificateExtension())
            if let issuerSKI {
                try extensions.append(
                    AuthorityKeyIdentifier(keyIdentifier: issuerSKI.keyIdentifier).makeCertificateExtension())
            }
            return try Certificate(
                version: .v3,
                serialNumber: DevelopmentPKIGenerator.randomSerial(),
                publicKey: publicKey,
                notValidBefore: start.addingTimeInterval(-3600),
                notValidAfter: try DevelopmentPKIGenerator.adding(years: years, to: start),
                issuer: self.issuingCA.subject,
                subject: try name.distinguishedName(),
                signatureAlgorithm: .ecdsaWithSHA384,
                extensions: extensions,
                issuerPrivateKey: issuerKey.certificatePrivateKey
            )
        } catch let error as DevelopmentPKIError {
            throw error
        } catch {
            throw DevelopmentPKIError.cannotReadFile(
                reason: "cannot issue a \(purpose.rawValue) certificate with the development issuing CA", cause: error)
        }
    }
}
