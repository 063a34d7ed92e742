public import SwiftASN1
public import X509

// OCSP and CRL identifiers that swift-asn1 and swift-certificates do not define. Those they do are used from there
// and not repeated here:
// - id-pkix-ocsp-basic (RFC 6960 §4.2.1): swift-asn1's `.OCSP.basicResponse`;
// - id-kp-OCSPSigning (RFC 6960 §4.2.2.2): swift-certificates' `.ExtendedKeyUsage.ocspSigning`;
// - the CertID hash algorithms: `.HashAlgorithm.sha1` … `.sha512` (ObjectIdentifiers.swift).

extension ASN1ObjectIdentifier.OCSP {
    /// id-pkix-ocsp-nonce, RFC 6960 §4.4.1 and RFC 9654 §2.1 (extnValue: the DER of an OCTET STRING).
    public static let nonce: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 48, 1, 2]
    /// id-pkix-ocsp-response, RFC 6960 §4.4.3 (a request extension; value AcceptableResponses, a SEQUENCE OF the
    /// response types the client takes).
    public static let acceptableResponses: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 48, 1, 4]
    /// id-pkix-ocsp-nocheck, RFC 6960 §4.2.2.2.1 (a certificate extension of delegated responders; value NULL).
    public static let noCheck: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 48, 1, 5]
    /// id-pkix-ocsp-extended-revoke, RFC 6960 §4.4.8 (a response extension; value NULL).
    public static let extendedRevoke: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 48, 1, 9]
}

extension ASN1ObjectIdentifier.X509ExtensionID {
    /// id-ce-cRLNumber, RFC 5280 §5.2.3 (a CRL extension; value INTEGER).
    public static let crlNumber: ASN1ObjectIdentifier = [2, 5, 29, 20]
    /// id-ce-cRLReasons, RFC 5280 §5.3.1 (a CRL entry extension; value ENUMERATED CRLReason).
    public static let crlReason: ASN1ObjectIdentifier = [2, 5, 29, 21]
    /// id-ce-invalidityDate, RFC 5280 §5.3.2 (a CRL entry extension; value GeneralizedTime).
    public static let invalidityDate: ASN1ObjectIdentifier = [2, 5, 29, 24]
}
