import Crypto
import Foundation
import Signing
import SwiftASN1
import X509

/// Generates the keys, certificates and index of the development PKI, in memory.
///
/// Profiles:
/// - root CA: self-signed, 20 years, EC P-384, basicConstraints CA (critical), keyUsage
///   keyCertSign+cRLSign (critical), SKI;
/// - issuing CA: by the root, 10 years, EC P-384, CA pathLen 0 (critical), keyCertSign+cRLSign
///   (critical), SKI, AKI;
/// - TSU: by the issuing CA, 3 years, the requested key type, keyUsage digitalSignature only
///   (critical), extendedKeyUsage with exactly id-kp-timeStamping (critical, RFC 3161 §2.3),
///   basicConstraints CA:false, SKI, AKI;
/// - OCSP responder: by the issuing CA, 1 year, EC P-256, digitalSignature (critical),
///   id-kp-OCSPSigning, id-pkix-ocsp-nocheck (NULL, RFC 6960 §4.2.2.2.1), SKI, AKI;
/// - end entities (good, revoked): by the issuing CA, 1 year, EC P-256, digitalSignature
///   (critical), id-kp-clientAuth, SKI, AKI.
///
/// Both CAs use P-384 keys, so every certificate is signed with ecdsa-with-SHA384. Validity starts
/// an hour before `now` (clock skew), in whole seconds. Serials are 20 random octets with the top
/// bit cleared, so the DER INTEGER is positive and at most 20 octets (RFC 5280 §4.1.2.2).
struct DevelopmentPKIGenerator {
    struct Issued {
        var key: SoftwareKey
        var certificate: Certificate
    }

    struct Output {
        var rootCA: Issued
        var issuingCA: Issued
        var tsa: Issued
        var ocsp: Issued
        var eeGood: Issued
        var eeRevoked: Issued
        var index: String
    }

    var now: Date
    var tsuKeyType: DevelopmentKeyType

    func generate() throws -> Output {
        let start = Date(timeIntervalSince1970: self.now.timeIntervalSince1970.rounded(.down))
        let notBefore = start.addingTimeInterval(-3600)

        let rootKey = SoftwareKey(P384.Signing.PrivateKey())
        let rootSKI = SubjectKeyIdentifier(hash: rootKey.publicKey)
        let rootName = try DevelopmentName.rootCA.distinguishedName()
        let root = try Certificate(
            version: .v3,
            serialNumber: Self.randomSerial(),
            publicKey: rootKey.publicKey,
            notValidBefore: notBefore,
            notValidAfter: try Self.adding(years: 20, to: start),
            issuer: rootName,
            subject: rootName,
            signatureAlgorithm: .ecdsaWithSHA384,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                rootSKI
            },
            issuerPrivateKey: rootKey.certificatePrivateKey
        )

        let issuingKey = SoftwareKey(P384.Signing.PrivateKey())
        let issuingSKI = SubjectKeyIdentifier(hash: issuingKey.publicKey)
        let issuingName = try DevelopmentName.issuingCA.distinguishedName()
        let issuing = try Certificate(
            version: .v3,
            serialNumber: Self.randomSerial(),
            publicKey: issuingKey.publicKey,
            notValidBefore: notBefore,
            notValidAfter: try Self.adding(years: 10, to: start),
            issuer: rootName,
            subject: issuingName,
            signatureAlgorithm: .ecdsaWithSHA384,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                issuingSKI
                AuthorityKeyIdentifier(keyIdentifier: rootSKI.keyIdentifier)
            },
            issuerPrivateKey: rootKey.certificatePrivateKey
        )

        /// Issues an end-entity certificate from the issuing CA.
        func issue(
            _ name: DevelopmentName,
            key: SoftwareKey,
            years: Int,
            @ExtensionsBuilder purpose: () throws -> Result<Certificate.Extensions, any Error>
        ) throws -> Issued {
            var extensions = try Certificate.Extensions(builder: purpose)
            try extensions.append(SubjectKeyIdentifier(hash: key.publicKey).makeCertificateExtension())
            try extensions.append(
                AuthorityKeyIdentifier(keyIdentifier: issuingSKI.keyIdentifier).makeCertificateExtension()
            )
            let certificate = try Certificate(
                version: .v3,
                serialNumber: Self.randomSerial(),
                publicKey: key.publicKey,
                notValidBefore: notBefore,
                notValidAfter: try Self.adding(years: years, to: start),
                issuer: issuingName,
                subject: try name.distinguishedName(),
                signatureAlgorithm: .ecdsaWithSHA384,
                extensions: extensions,
                issuerPrivateKey: issuingKey.certificatePrivateKey
            )
            return Issued(key: key, certificate: certificate)
        }

        let tsa = try issue(.tsu, key: try self.tsuKeyType.generateKey(), years: 3) {
            Critical(KeyUsage(digitalSignature: true))
            Critical(try ExtendedKeyUsage([.timeStamping]))
            BasicConstraints.notCertificateAuthority
        }
        let ocsp = try issue(.ocspResponder, key: SoftwareKey(P256.Signing.PrivateKey()), years: 1) {
            Critical(KeyUsage(digitalSignature: true))
            try ExtendedKeyUsage([.ocspSigning])
            Certificate.Extension(oid: .X509ExtensionID.ocspNoCheck, critical: false, value: [0x05, 0x00])
        }
        let eeGood = try issue(.endEntityGood, key: SoftwareKey(P256.Signing.PrivateKey()), years: 1) {
            Critical(KeyUsage(digitalSignature: true))
            try ExtendedKeyUsage([.clientAuth])
        }
        let eeRevoked = try issue(.endEntityRevoked, key: SoftwareKey(P256.Signing.PrivateKey()), years: 1) {
            Critical(KeyUsage(digitalSignature: true))
            try ExtendedKeyUsage([.clientAuth])
        }

        let entries = [
            OpenSSLIndexEntry(status: .valid, certificate: tsa.certificate, subject: .tsu),
            OpenSSLIndexEntry(status: .valid, certificate: ocsp.certificate, subject: .ocspResponder),
            OpenSSLIndexEntry(status: .valid, certificate: eeGood.certificate, subject: .endEntityGood),
            OpenSSLIndexEntry(
                status: .revoked(at: start, reason: "keyCompromise"),
                certificate: eeRevoked.certificate,
                subject: .endEntityRevoked
            ),
        ]
        return Output(
            rootCA: Issued(key: rootKey, certificate: root),
            issuingCA: Issued(key: issuingKey, certificate: issuing),
            tsa: tsa,
            ocsp: ocsp,
            eeGood: eeGood,
            eeRevoked: eeRevoked,
            index: entries.map { $0.line + "\n" }.joined()
        )
    }

    /// 20 random octets, top bit cleared: a positive INTEGER of at most 20 octets.
    static func randomSerial() -> Certificate.SerialNumber {
        var generator = SystemRandomNumberGenerator()
        var octets = (0..<20).map { _ in UInt8.random(in: 0...255, using: &generator) }
        octets[0] &= 0x7F
        if octets.allSatisfy({ $0 == 0 }) {
            octets[19] = 1
        }
        return Certificate.SerialNumber(bytes: octets)
    }

    static func adding(years: Int, to date: Date) throws -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        guard let result = calendar.date(byAdding: .year, value: years, to: date) else {
            throw DevelopmentPKIError.generationFailed(reason: "cannot add \(years) years to \(date)")
        }
        return result
    }
}
