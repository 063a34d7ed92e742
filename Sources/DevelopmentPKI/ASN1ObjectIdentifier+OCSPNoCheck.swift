import SwiftASN1
import X509

extension ASN1ObjectIdentifier.X509ExtensionID {
    /// id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1): clients need not check the delegated OCSP
    /// responder certificate for revocation. Its value is NULL.
    static let ocspNoCheck: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 48, 1, 5]
}
