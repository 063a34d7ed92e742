import SwiftASN1

extension ASN1ObjectIdentifier {
    /// Password-based encryption schemes and key derivation functions (RFC 8018, RFC 7914).
    enum PasswordBasedEncryption {
        /// id-PBES2 (RFC 8018 §A.4).
        static let pbes2: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 5, 13]
        /// id-PBKDF2 (RFC 8018 §A.2).
        static let pbkdf2: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 5, 12]
        /// id-scrypt (RFC 7914 §7).
        static let scrypt: ASN1ObjectIdentifier = [1, 3, 6, 1, 4, 1, 11591, 4, 11]
        /// pbeWithMD2AndDES-CBC (RFC 8018 §A.3, PBES1).
        static let pbeWithMD2AndDESCBC: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 5, 1]
        /// pbeWithMD5AndDES-CBC (RFC 8018 §A.3, PBES1).
        static let pbeWithMD5AndDESCBC: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 5, 3]
        /// pbeWithMD2AndRC2-CBC (RFC 8018 §A.3, PBES1).
        static let pbeWithMD2AndRC2CBC: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 5, 4]
        /// pbeWithMD5AndRC2-CBC (RFC 8018 §A.3, PBES1).
        static let pbeWithMD5AndRC2CBC: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 5, 6]
        /// pbeWithSHA1AndDES-CBC (RFC 8018 §A.3, PBES1).
        static let pbeWithSHA1AndDESCBC: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 5, 10]
        /// pbeWithSHA1AndRC2-CBC (RFC 8018 §A.3, PBES1).
        static let pbeWithSHA1AndRC2CBC: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 5, 11]
    }

    /// The PKCS#12 password-based encryption algorithms (RFC 7292 Appendix C).
    enum PKCS12PBE {
        /// pbeWithSHAAnd128BitRC4.
        static let sha1And128BitRC4: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 12, 1, 1]
        /// pbeWithSHAAnd40BitRC4.
        static let sha1And40BitRC4: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 12, 1, 2]
        /// pbeWithSHAAnd3-KeyTripleDES-CBC.
        static let sha1And3KeyTripleDESCBC: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 12, 1, 3]
        /// pbeWithSHAAnd2-KeyTripleDES-CBC.
        static let sha1And2KeyTripleDESCBC: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 12, 1, 4]
        /// pbeWithSHAAnd128BitRC2-CBC.
        static let sha1And128BitRC2CBC: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 12, 1, 5]
        /// pbeWithSHAAnd40BitRC2-CBC.
        static let sha1And40BitRC2CBC: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 12, 1, 6]
    }

    /// The PBKDF2 pseudo-random functions (RFC 8018 §B.1).
    enum PBKDF2PRF {
        /// hmacWithSHA1, PBKDF2's default.
        static let hmacWithSHA1: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 2, 7]
        /// hmacWithSHA224.
        static let hmacWithSHA224: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 2, 8]
        /// hmacWithSHA256.
        static let hmacWithSHA256: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 2, 9]
        /// hmacWithSHA384.
        static let hmacWithSHA384: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 2, 10]
        /// hmacWithSHA512.
        static let hmacWithSHA512: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 2, 11]
    }

    /// Block ciphers that PBES2 encrypts with (RFC 8018 §B.2, NIST CSOR).
    enum PBES2Cipher {
        /// aes128-CBC-Pad.
        static let aes128CBC: ASN1ObjectIdentifier = [2, 16, 840, 1, 101, 3, 4, 1, 2]
        /// aes192-CBC-Pad.
        static let aes192CBC: ASN1ObjectIdentifier = [2, 16, 840, 1, 101, 3, 4, 1, 22]
        /// aes256-CBC-Pad.
        static let aes256CBC: ASN1ObjectIdentifier = [2, 16, 840, 1, 101, 3, 4, 1, 42]
        /// des-EDE3-CBC.
        static let desEDE3CBC: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 3, 7]
        /// desCBC (single DES).
        static let desCBC: ASN1ObjectIdentifier = [1, 3, 14, 3, 2, 7]
        /// rc2CBC.
        static let rc2CBC: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 3, 2]
    }

    /// PKCS#12 content and bag types (RFC 7292 §4.2, RFC 5652 §8).
    enum PKCS12 {
        /// id-encryptedData (RFC 5652 §8): a content encrypted with a password-based scheme.
        static let encryptedData: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 7, 6]
        /// id-envelopedData (RFC 5652 §6): a content encrypted to a public key.
        static let envelopedData: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 7, 3]
        /// keyBag: an unencrypted PKCS#8 key.
        static let keyBag: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 12, 10, 1, 1]
        /// pkcs8ShroudedKeyBag: an EncryptedPrivateKeyInfo.
        static let pkcs8ShroudedKeyBag: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 12, 10, 1, 2]
        /// certBag.
        static let certBag: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 12, 10, 1, 3]
        /// crlBag.
        static let crlBag: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 12, 10, 1, 4]
        /// secretBag.
        static let secretBag: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 12, 10, 1, 5]
        /// safeContentsBag: nested bags.
        static let safeContentsBag: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 12, 10, 1, 6]
        /// x509Certificate, the certificate type in a certBag (RFC 7292 §4.2.3).
        static let x509Certificate: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 9, 22, 1]
    }
}
