import SwiftASN1
public import X509

/// The extended revoke definition: the responder answers revoked for certificates it never issued.
///
/// ```
/// id-pkix-ocsp-extended-revoke OBJECT IDENTIFIER ::= { id-pkix-ocsp 9 }
/// -- extnValue: NULL
/// ```
/// RFC 6960 §4.4.8: a non-critical response extension whose value is NULL (`05 00`). Responses that use it give
/// certificates that were never issued the status revoked, reason certificateHold, revocationTime 1970-01-01 (§2.2).
public struct OCSPExtendedRevoke: Hashable, Sendable, CertificateExtensionConvertible {
    public init() {}

    /// Whether `extensions` (a response's) announce the extended revoke definition.
    public static func isPresent(in extensions: [Certificate.Extension]?) -> Bool {
        OCSPExtensions.find(.OCSP.extendedRevoke, in: extensions) != nil
    }

    public func makeCertificateExtension() -> Certificate.Extension {
        Certificate.Extension(oid: .OCSP.extendedRevoke, critical: false, value: [0x05, 0x00])
    }
}
