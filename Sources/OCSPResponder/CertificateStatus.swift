public import Foundation
public import PKIMessages
public import SwiftASN1

/// The status of one certificate as the responder answers it: RFC 6960 §2.2's good, revoked or unknown.
///
/// A status source lists ``Entry`` values; ``StatusSnapshot/resolve(_:nonIssuedIsRevoked:)`` turns a lookup,
/// including a miss, into a `CertificateStatus`.
public enum CertificateStatus: Hashable, Sendable {
    /// Not revoked (RFC 6960 §2.2: "at a minimum … not revoked"; it does not always prove issuance).
    case good
    /// Revoked, temporarily (on hold) or permanently.
    case revoked(Revocation)
    /// The responder does not know the certificate.
    case unknown

    /// What a status source lists for one serial.
    public enum Entry: Hashable, Sendable {
        /// Issued and not revoked (`V`, and `E` for expired, in `index.txt`).
        case good
        /// Revoked (`R` in `index.txt`, or listed in a CRL). Boxed: most entries are good, so the dictionary of
        /// a large snapshot stays small.
        indirect case revoked(Revocation)
    }

    /// When and why a certificate was revoked: RFC 6960 §4.2.1's `RevokedInfo` and the CRL entry extensions
    /// RFC 6960 §4.4 lets a `SingleResponse` carry.
    public struct Revocation: Hashable, Sendable {
        /// revocationTime, in whole seconds (GeneralizedTime without fraction, RFC 6960 §4.2.2.1).
        public var time: Date
        /// revocationReason; `nil` when the source gives none (then the answer omits it).
        public var reason: CRLReason?
        /// The invalidity date (RFC 5280 §5.3.2): OpenSSL's `keyTime`/`CAkeyTime`, a CRL entry's extension.
        public var invalidityDate: Date?
        /// The hold instruction code (RFC 3280 §5.3.2; RFC 5280 dropped it): OpenSSL's `holdInstruction`, a CRL
        /// entry's extension.
        public var holdInstruction: ASN1ObjectIdentifier?
        /// Whether this is the RFC 6960 §2.2 answer for a serial the CA never issued, which must carry the
        /// extended-revoke extension (RFC 6960 §4.4.8) in the response.
        public var isForNonIssuedCertificate: Bool

        /// - Parameter time: Truncated to whole seconds.
        public init(
            time: Date,
            reason: CRLReason?,
            invalidityDate: Date? = nil,
            holdInstruction: ASN1ObjectIdentifier? = nil,
            isForNonIssuedCertificate: Bool = false
        ) {
            self.time = time.wholeSeconds
            self.reason = reason
            self.invalidityDate = invalidityDate?.wholeSeconds
            self.holdInstruction = holdInstruction
            self.isForNonIssuedCertificate = isForNonIssuedCertificate
        }

        /// The answer RFC 6960 §2.2 prescribes for a non-issued certificate: revoked, reason certificateHold,
        /// revocationTime 1970-01-01T00:00:00Z.
        public static let nonIssued = Revocation(
            time: Date(timeIntervalSince1970: 0),
            reason: .certificateHold,
            isForNonIssuedCertificate: true
        )
    }
}

extension Date {
    /// The date truncated to a whole second (towards the past).
    var wholeSeconds: Date {
        Date(timeIntervalSince1970: self.timeIntervalSince1970.rounded(.down))
    }
}
