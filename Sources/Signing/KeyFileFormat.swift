/// The container of a key file, as ``KeyFile`` detects it.
///
/// The set is open (PKCS#12 with PBMAC1, new PEM forms may follow), so this is a struct with static
/// members.
public struct KeyFileFormat: Sendable, Hashable, CustomStringConvertible {
    enum Backing: Sendable, Hashable {
        case pkcs8
        case encryptedPKCS8
        case sec1
        case pkcs1
        case traditionalEncryptedPEM
        case pkcs12
    }

    let backing: Backing

    private init(_ backing: Backing) {
        self.backing = backing
    }

    /// PKCS#8 `PrivateKeyInfo` (RFC 5958 §2), unencrypted: PEM `PRIVATE KEY` or DER.
    public static let pkcs8 = KeyFileFormat(.pkcs8)

    /// PKCS#8 `EncryptedPrivateKeyInfo` (RFC 5958 §3): PEM `ENCRYPTED PRIVATE KEY` or DER.
    public static let encryptedPKCS8 = KeyFileFormat(.encryptedPKCS8)

    /// SEC1 `ECPrivateKey` (RFC 5915): PEM `EC PRIVATE KEY` or DER.
    public static let sec1 = KeyFileFormat(.sec1)

    /// PKCS#1 `RSAPrivateKey` (RFC 8017 §A.1.2): PEM `RSA PRIVATE KEY` or DER.
    public static let pkcs1 = KeyFileFormat(.pkcs1)

    /// A SEC1 or PKCS#1 PEM key encrypted in OpenSSL's traditional way (`Proc-Type: 4,ENCRYPTED`
    /// and `DEK-Info:` headers), as `openssl ec -aes256` writes it.
    public static let traditionalEncryptedPEM = KeyFileFormat(.traditionalEncryptedPEM)

    /// PKCS#12 (RFC 7292): a key with its certificate and chain, `.p12` or `.pfx`.
    public static let pkcs12 = KeyFileFormat(.pkcs12)

    /// Whether the format encrypts the key under a passphrase (PKCS#12 may, and usually does).
    public var isEncrypted: Bool {
        switch self.backing {
        case .encryptedPKCS8, .traditionalEncryptedPEM, .pkcs12: true
        case .pkcs8, .sec1, .pkcs1: false
        }
    }

    /// Such as `encrypted PKCS#8`.
    public var description: String {
        switch self.backing {
        case .pkcs8: "PKCS#8"
        case .encryptedPKCS8: "encrypted PKCS#8"
        case .sec1: "SEC1"
        case .pkcs1: "PKCS#1"
        case .traditionalEncryptedPEM: "traditional encrypted PEM"
        case .pkcs12: "PKCS#12"
        }
    }
}
