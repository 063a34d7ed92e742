public import Crypto
public import X509
public import _CryptoExtras

/// A private key held in process memory, for ``SoftwareSigner``.
///
/// Read one from a file with ``KeyFileReader``, or wrap a swift-crypto key directly. The set of
/// key types is open (ML-DSA may follow), so this is a struct with one initialiser per type.
public struct SoftwareKey: Sendable {
    enum Backing: Sendable {
        case p256(P256.Signing.PrivateKey)
        case p384(P384.Signing.PrivateKey)
        case p521(P521.Signing.PrivateKey)
        case rsa(_RSA.Signing.PrivateKey)
        case ed25519(Curve25519.Signing.PrivateKey)
    }

    let backing: Backing

    /// Wraps an ECDSA P-256 key; it signs with SHA-256.
    public init(_ key: P256.Signing.PrivateKey) {
        self.backing = .p256(key)
    }

    /// Wraps an ECDSA P-384 key; it signs with SHA-384.
    public init(_ key: P384.Signing.PrivateKey) {
        self.backing = .p384(key)
    }

    /// Wraps an ECDSA P-521 key; it signs with SHA-512.
    public init(_ key: P521.Signing.PrivateKey) {
        self.backing = .p521(key)
    }

    /// Wraps an RSA key (2048 bits or more); ``SoftwareSigner`` chooses padding and hash.
    public init(_ key: _RSA.Signing.PrivateKey) {
        self.backing = .rsa(key)
    }

    /// Wraps an Ed25519 key.
    public init(_ key: Curve25519.Signing.PrivateKey) {
        self.backing = .ed25519(key)
    }

    /// The public half, as it appears in a certificate.
    public var publicKey: Certificate.PublicKey {
        switch self.backing {
        case .p256(let key): Certificate.PublicKey(key.publicKey)
        case .p384(let key): Certificate.PublicKey(key.publicKey)
        case .p521(let key): Certificate.PublicKey(key.publicKey)
        case .rsa(let key): Certificate.PublicKey(key.publicKey)
        case .ed25519(let key): Certificate.PublicKey(key.publicKey)
        }
    }

    /// The key as PKCS#8 (RFC 5208 / RFC 5958) in a PEM `PRIVATE KEY` block.
    ///
    /// EC keys use swift-crypto's PKCS#8 `pemRepresentation`, RSA keys its
    /// `pkcs8PEMRepresentation` (its plain `pemRepresentation` is PKCS#1), and Ed25519 keys the
    /// RFC 8410 §7 form (`CurvePrivateKey` in the `privateKey` octet string). OpenSSL reads all of
    /// them with `openssl pkey`.
    ///
    /// The text ends with a newline. It is secret: write it only to a file of mode 0600.
    public var pkcs8PEMRepresentation: String {
        let pem: String
        switch self.backing {
        case .p256(let key): pem = key.pemRepresentation
        case .p384(let key): pem = key.pemRepresentation
        case .p521(let key): pem = key.pemRepresentation
        case .rsa(let key): pem = key.pkcs8PEMRepresentation
        case .ed25519(let key): pem = key.pemRepresentation
        }
        // swift-crypto ends some forms with a newline and others without.
        return pem.hasSuffix("\n") ? pem : pem + "\n"
    }

    /// The key as swift-certificates uses it to issue certificates (DevelopmentPKI).
    package var certificatePrivateKey: Certificate.PrivateKey {
        switch self.backing {
        case .p256(let key): Certificate.PrivateKey(key)
        case .p384(let key): Certificate.PrivateKey(key)
        case .p521(let key): Certificate.PrivateKey(key)
        case .rsa(let key): Certificate.PrivateKey(key)
        case .ed25519(let key): Certificate.PrivateKey(key)
        }
    }
}

extension SoftwareKey: CustomStringConvertible {
    /// The key type, such as `EC P-256` or `RSA 3072`; never the key material.
    public var description: String {
        switch self.backing {
        case .p256: "EC P-256"
        case .p384: "EC P-384"
        case .p521: "EC P-521"
        case .rsa(let key): "RSA \(key.keySizeInBits)"
        case .ed25519: "Ed25519"
        }
    }
}
