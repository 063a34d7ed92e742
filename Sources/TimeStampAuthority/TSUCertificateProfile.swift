public import Foundation
import PKIMessages
import SwiftASN1
public import X509

/// The checks a TSU certificate must pass before the TSA signs with it.
///
/// RFC 3161 §2.3: the certificate must carry the extended key usage id-kp-timeStamping, alone, marked critical.
/// ETSI EN 319 422 §6 / EN 319 412: key usage (when present) allows digitalSignature. The certificate must be
/// valid at start-up; the key must match (checked with a probe signature by the caller).
public enum TSUCertificateProfile {
    public static func validate(_ certificate: Certificate, at now: Date) throws(TSAError) {
        let subject = certificate.subject.description
        guard let eku = certificate.extensions[oid: .X509ExtensionID.extendedKeyUsage] else {
            throw .make(
                .certificateProfile,
                "the TSU certificate \"\(subject)\" has no extended key usage; RFC 3161 §2.3 requires exactly one, "
                    + "id-kp-timeStamping, marked critical"
            )
        }
        guard eku.critical else {
            throw .make(
                .certificateProfile,
                "the TSU certificate \"\(subject)\" has an extended key usage that is not critical; RFC 3161 §2.3 "
                    + "requires id-kp-timeStamping marked critical"
            )
        }
        let usages: ExtendedKeyUsage
        do {
            usages = try ExtendedKeyUsage(eku)
        } catch {
            throw .make(
                .certificateProfile, "the TSU certificate \"\(subject)\" has an unreadable extended key usage",
                cause: error)
        }
        let purposes = Array(usages)
        guard purposes.count == 1, purposes.first == .timeStamping else {
            throw .make(
                .certificateProfile,
                "the TSU certificate \"\(subject)\" lists \(purposes.count) extended key usages "
                    + "(\(purposes.map { "\($0)" }.joined(separator: ", "))); RFC 3161 §2.3 requires id-kp-timeStamping alone"
            )
        }
        if let keyUsage = try? certificate.extensions.keyUsage, !keyUsage.digitalSignature {
            throw .make(
                .certificateProfile,
                "the TSU certificate \"\(subject)\" has a key usage without digitalSignature (ETSI EN 319 412-2)"
            )
        }
        if now < certificate.notValidBefore {
            throw .make(
                .certificateValidity,
                "the TSU certificate \"\(subject)\" is not valid before \(certificate.notValidBefore) (now \(now))"
            )
        }
        if now > certificate.notValidAfter {
            throw .make(
                .certificateValidity,
                "the TSU certificate \"\(subject)\" expired at \(certificate.notValidAfter) (now \(now))"
            )
        }
    }
}
