public import SwiftASN1

extension ASN1ObjectIdentifier {
    /// Content types of CMS (RFC 5652 §4, §5) and of RFC 3161.
    public enum CMSContentType {
        /// id-data, RFC 5652 §4.
        public static let data: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 7, 1]
        /// id-signedData, RFC 5652 §5.1.
        public static let signedData: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 7, 2]
        /// id-ct-TSTInfo, RFC 3161 §2.4.2.
        public static let tstInfo: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 9, 16, 1, 4]
    }

    /// Attribute types used in SignerInfo signed attributes.
    public enum CMSAttributeType {
        /// id-contentType, RFC 5652 §11.1.
        public static let contentType: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 9, 3]
        /// id-messageDigest, RFC 5652 §11.2.
        public static let messageDigest: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 9, 4]
        /// id-signingTime, RFC 5652 §11.3.
        public static let signingTime: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 9, 5]
        /// id-aa-signingCertificate, RFC 2634 §5.4 (ESSCertID with SHA-1).
        public static let signingCertificate: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 9, 16, 2, 12]
        /// id-aa-signingCertificateV2, RFC 5035 §3 and RFC 5816 §2.2.1.
        public static let signingCertificateV2: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 9, 16, 2, 47]
    }

    /// Hash algorithms a message imprint or a CMS digestAlgorithm can name.
    public enum HashAlgorithm {
        /// md5, RFC 1321 (refused by default).
        public static let md5: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 2, 5]
        /// id-sha1, RFC 3279 §2.2.1 (refused by default).
        public static let sha1: ASN1ObjectIdentifier = [1, 3, 14, 3, 2, 26]
        /// id-sha256, RFC 5754 §2.2.
        public static let sha256: ASN1ObjectIdentifier = [2, 16, 840, 1, 101, 3, 4, 2, 1]
        /// id-sha384, RFC 5754 §2.3.
        public static let sha384: ASN1ObjectIdentifier = [2, 16, 840, 1, 101, 3, 4, 2, 2]
        /// id-sha512, RFC 5754 §2.4.
        public static let sha512: ASN1ObjectIdentifier = [2, 16, 840, 1, 101, 3, 4, 2, 3]
        /// id-sha3-256, RFC 8702 §2.
        // swift-format-ignore: AlwaysUseLowerCamelCase
        public static let sha3_256: ASN1ObjectIdentifier = [2, 16, 840, 1, 101, 3, 4, 2, 8]
        /// id-sha3-384, RFC 8702 §2.
        // swift-format-ignore: AlwaysUseLowerCamelCase
        public static let sha3_384: ASN1ObjectIdentifier = [2, 16, 840, 1, 101, 3, 4, 2, 9]
        /// id-sha3-512, RFC 8702 §2.
        // swift-format-ignore: AlwaysUseLowerCamelCase
        public static let sha3_512: ASN1ObjectIdentifier = [2, 16, 840, 1, 101, 3, 4, 2, 10]
    }

    /// Signature algorithms of SignerInfo (RFC 5754, RFC 4056, RFC 8419).
    public enum SignatureAlgorithm {
        /// ecdsa-with-SHA256, RFC 5758 §3.2 (no parameters).
        public static let ecdsaWithSHA256: ASN1ObjectIdentifier = [1, 2, 840, 10045, 4, 3, 2]
        /// ecdsa-with-SHA384, RFC 5758 §3.2 (no parameters).
        public static let ecdsaWithSHA384: ASN1ObjectIdentifier = [1, 2, 840, 10045, 4, 3, 3]
        /// ecdsa-with-SHA512, RFC 5758 §3.2 (no parameters).
        public static let ecdsaWithSHA512: ASN1ObjectIdentifier = [1, 2, 840, 10045, 4, 3, 4]
        /// rsaEncryption, RFC 8017 Appendix A.1.
        public static let rsaEncryption: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 1, 1]
        /// sha256WithRSAEncryption, RFC 8017 Appendix A.2.4 (NULL parameters).
        public static let sha256WithRSAEncryption: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 1, 11]
        /// sha384WithRSAEncryption, RFC 8017 Appendix A.2.4 (NULL parameters).
        public static let sha384WithRSAEncryption: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 1, 12]
        /// sha512WithRSAEncryption, RFC 8017 Appendix A.2.4 (NULL parameters).
        public static let sha512WithRSAEncryption: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 1, 13]
        /// id-RSASSA-PSS, RFC 4056 §2 (explicit RSASSA-PSS-params).
        public static let rsassaPSS: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 1, 10]
        /// id-mgf1, RFC 8017 Appendix B.2.1.
        public static let mgf1: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 1, 8]
        /// id-Ed25519, RFC 8410 §3 (no parameters).
        public static let ed25519: ASN1ObjectIdentifier = [1, 3, 101, 112]
    }

    /// RFC 3161 and ETSI EN 319 421/422 identifiers.
    public enum TimeStamping {
        /// id-kp-timeStamping, RFC 5280 §4.2.1.12; critical and alone in a TSU certificate (RFC 3161 §2.3).
        public static let keyPurpose: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 3, 8]
        /// best-practices-ts-policy, ETSI EN 319 421 §5.2 (itu-t(0) identified-organization(4) etsi(0) 2023 1 1).
        public static let bestPracticesPolicy: ASN1ObjectIdentifier = [0, 4, 0, 2023, 1, 1]
    }

    /// Qualified-certificate and qualified-time-stamp statements.
    public enum QCStatement {
        /// id-pe-qcStatements, RFC 3739 §3.2.6; also the TSTInfo extension of EN 319 422 §9.1.
        public static let extensionID: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 1, 3]
        /// esi4-qtstStatement-1, ETSI EN 319 422 §9.1 and Annex B: the token is a qualified electronic time stamp.
        public static let qualifiedTimeStamp: ASN1ObjectIdentifier = [0, 4, 0, 19422, 1, 1]
    }
}
