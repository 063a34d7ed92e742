/// How a ``Signer`` signs: the key family, curve and hash.
///
/// The time-stamp authority and OCSP responder map a scheme to their own CMS or X.509
/// `AlgorithmIdentifier`s; this module knows no CMS. The set is open (ML-DSA may follow), so this
/// is a struct with static members: compare with `==`.
public struct SignatureScheme: Sendable, Hashable, CustomStringConvertible {
    enum Backing: Sendable, Hashable {
        case ecdsaP256SHA256
        case ecdsaP384SHA384
        case ecdsaP521SHA512
        case rsaPKCS1v15(DigestAlgorithm)
        case rsaPSS(DigestAlgorithm)
        case ed25519
    }

    let backing: Backing

    init(_ backing: Backing) {
        self.backing = backing
    }

    /// ECDSA on P-256 with SHA-256 (ecdsa-with-SHA256).
    public static let ecdsaP256SHA256 = SignatureScheme(.ecdsaP256SHA256)

    /// ECDSA on P-384 with SHA-384 (ecdsa-with-SHA384).
    public static let ecdsaP384SHA384 = SignatureScheme(.ecdsaP384SHA384)

    /// ECDSA on P-521 with SHA-512 (ecdsa-with-SHA512).
    public static let ecdsaP521SHA512 = SignatureScheme(.ecdsaP521SHA512)

    /// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 §8.2).
    public static let rsaPKCS1v15SHA256 = SignatureScheme(.rsaPKCS1v15(.sha256))

    /// RSASSA-PKCS1-v1_5 with SHA-384 (RFC 8017 §8.2).
    public static let rsaPKCS1v15SHA384 = SignatureScheme(.rsaPKCS1v15(.sha384))

    /// RSASSA-PKCS1-v1_5 with SHA-512 (RFC 8017 §8.2).
    public static let rsaPKCS1v15SHA512 = SignatureScheme(.rsaPKCS1v15(.sha512))

    /// RSASSA-PSS with SHA-256, MGF1 with SHA-256 and a 32-octet salt (RFC 8017 §8.1, RFC 4055).
    public static let rsaPSSSHA256 = SignatureScheme(.rsaPSS(.sha256))

    /// RSASSA-PSS with SHA-384, MGF1 with SHA-384 and a 48-octet salt (RFC 8017 §8.1, RFC 4055).
    public static let rsaPSSSHA384 = SignatureScheme(.rsaPSS(.sha384))

    /// RSASSA-PSS with SHA-512, MGF1 with SHA-512 and a 64-octet salt (RFC 8017 §8.1, RFC 4055).
    public static let rsaPSSSHA512 = SignatureScheme(.rsaPSS(.sha512))

    /// Pure Ed25519 (RFC 8032 §5.1, RFC 8419 in CMS).
    public static let ed25519 = SignatureScheme(.ed25519)

    /// The hash of the scheme.
    ///
    /// For ``ed25519`` this is SHA-512: pure EdDSA hashes nothing beforehand, but RFC 8419 §3
    /// requires SHA-512 for the CMS `messageDigest` attribute when signed attributes are present.
    public var digest: DigestAlgorithm {
        switch self.backing {
        case .ecdsaP256SHA256: .sha256
        case .ecdsaP384SHA384: .sha384
        case .ecdsaP521SHA512: .sha512
        case .rsaPKCS1v15(let digest), .rsaPSS(let digest): digest
        case .ed25519: .sha512
        }
    }

    /// The key family and padding of the scheme.
    public var family: Family {
        switch self.backing {
        case .ecdsaP256SHA256, .ecdsaP384SHA384, .ecdsaP521SHA512: .ecdsa
        case .rsaPKCS1v15: .rsaPKCS1v15
        case .rsaPSS: .rsaPSS
        case .ed25519: .ed25519
        }
    }

    /// A short stable name such as `ecdsa-p256-sha256` or `rsa-pss-sha384`, for logs and metrics.
    public var name: String {
        switch self.backing {
        case .ecdsaP256SHA256: "ecdsa-p256-sha256"
        case .ecdsaP384SHA384: "ecdsa-p384-sha384"
        case .ecdsaP521SHA512: "ecdsa-p521-sha512"
        case .rsaPKCS1v15(let digest): "rsa-pkcs1v15-\(digest.shortName)"
        case .rsaPSS(let digest): "rsa-pss-\(digest.shortName)"
        case .ed25519: "ed25519"
        }
    }

    public var description: String {
        self.name
    }
}

extension SignatureScheme {
    /// The key family and padding of a ``SignatureScheme``.
    ///
    /// The set is open, so this is a struct with static members: compare with `==`.
    public struct Family: Sendable, Hashable, CustomStringConvertible {
        enum Backing: Sendable, Hashable {
            case ecdsa
            case rsaPKCS1v15
            case rsaPSS
            case ed25519
        }

        let backing: Backing

        private init(_ backing: Backing) {
            self.backing = backing
        }

        /// ECDSA on a NIST prime curve; signatures are DER `ECDSA-Sig-Value`s.
        public static let ecdsa = Family(.ecdsa)

        /// RSASSA-PKCS1-v1_5; signatures are the raw octets, as long as the modulus.
        public static let rsaPKCS1v15 = Family(.rsaPKCS1v15)

        /// RSASSA-PSS; signatures are the raw octets, as long as the modulus.
        public static let rsaPSS = Family(.rsaPSS)

        /// Ed25519; signatures are 64 octets.
        public static let ed25519 = Family(.ed25519)

        public var description: String {
            String(describing: self.backing)
        }
    }
}

extension DigestAlgorithm {
    /// `sha256`, `sha384`, `sha512`: the digest's part of a scheme ``SignatureScheme/name``.
    var shortName: String {
        switch self.backing {
        case .sha256: "sha256"
        case .sha384: "sha384"
        case .sha512: "sha512"
        }
    }
}
