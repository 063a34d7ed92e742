import CPKCS11
import Signing

/// A PKCS#11 mechanism with its parameter (v2.40 §3.7, `CK_MECHANISM`).
enum PKCS11Mechanism: Sendable, Hashable, CustomStringConvertible {
    /// A mechanism without a parameter: `CKM_ECDSA`, `CKM_SHA256_RSA_PKCS`, `CKM_RSA_PKCS`, `CKM_EDDSA`
    /// (pure Ed25519 when given no parameter, v3.0 §2.3.14).
    case plain(CK_MECHANISM_TYPE)

    /// `CKM_RSA_PKCS_PSS` with `CK_RSA_PKCS_PSS_PARAMS` (Current Mechanisms v2.40 §2.1.8, §2.1.10).
    case pss(hash: CK_MECHANISM_TYPE, mgf: CK_RSA_PKCS_MGF_TYPE, saltLength: CK_ULONG)

    /// Runs `body` with a `CK_MECHANISM` whose parameter pointer is valid during `body`.
    func withMechanism<T>(_ body: (UnsafeMutablePointer<CK_MECHANISM>) -> T) -> T {
        switch self {
        case .plain(let type):
            var mechanism = CK_MECHANISM(mechanism: type, pParameter: nil, ulParameterLen: 0)
            return body(&mechanism)
        case .pss(let hash, let mgf, let saltLength):
            var parameters = CK_RSA_PKCS_PSS_PARAMS(hashAlg: hash, mgf: mgf, sLen: saltLength)
            return withUnsafeMutableBytes(of: &parameters) { raw in
                var mechanism = CK_MECHANISM(
                    mechanism: CKM_RSA_PKCS_PSS,
                    pParameter: raw.baseAddress,
                    ulParameterLen: CK_ULONG(raw.count)
                )
                return body(&mechanism)
            }
        }
    }

    var description: String {
        switch self {
        case .plain(let type): Self.name(of: type)
        case .pss: "CKM_RSA_PKCS_PSS"
        }
    }

    static func name(of type: CK_MECHANISM_TYPE) -> String {
        switch type {
        case CKM_ECDSA: "CKM_ECDSA"
        case CKM_RSA_PKCS: "CKM_RSA_PKCS"
        case CKM_RSA_PKCS_PSS: "CKM_RSA_PKCS_PSS"
        case CKM_SHA256_RSA_PKCS: "CKM_SHA256_RSA_PKCS"
        case CKM_SHA384_RSA_PKCS: "CKM_SHA384_RSA_PKCS"
        case CKM_SHA512_RSA_PKCS: "CKM_SHA512_RSA_PKCS"
        case CKM_EDDSA: "CKM_EDDSA"
        default: "mechanism 0x\(String(type, radix: 16))"
        }
    }
}

/// How a ``SignatureScheme`` is made with a token's mechanisms: what the host computes before the
/// call, which mechanism signs, and how the token's output becomes the signature CMS wants.
struct SigningPlan: Sendable {
    private enum Preparation: Sendable {
        /// The token gets the message as is (`CKM_SHA*_RSA_PKCS` hash on the token, `CKM_EDDSA` is pure).
        case message
        /// The token gets the message's digest (`CKM_ECDSA`, `CKM_RSA_PKCS_PSS`).
        case digest(DigestAlgorithm)
        /// The token gets a DER `DigestInfo` of the digest (`CKM_RSA_PKCS`, RFC 8017 §9.2).
        case digestInfo(DigestAlgorithm)
    }

    let mechanism: PKCS11Mechanism
    private let preparation: Preparation
    /// Whether the token's output is a raw `r ‖ s` to re-encode as DER.
    private let rawECDSA: Bool
    /// The length of the token's output, for the output buffer.
    let outputLength: Int

    /// The plan for `scheme` with `key`, given the mechanisms the token offers (`C_GetMechanismList`).
    ///
    /// - ECDSA: `CKM_ECDSA` on the host's digest.
    /// - RSA PKCS#1 v1.5: `CKM_SHA256_RSA_PKCS` (…384, …512) when offered, else `CKM_RSA_PKCS` on a
    ///   `DigestInfo` built on the host.
    /// - RSA-PSS: `CKM_RSA_PKCS_PSS` on the host's digest, MGF1 with the same hash, salt as long as the hash.
    /// - Ed25519: `CKM_EDDSA` on the message.
    ///
    /// - Throws: ``PKCS11Error`` with code ``PKCS11Error/ErrorCode/mechanismUnavailable``.
    static func make(
        scheme: SignatureScheme,
        key: TokenKey,
        mechanisms: Set<CK_MECHANISM_TYPE>,
        token: String
    ) throws -> SigningPlan {
        func require(_ mechanism: CK_MECHANISM_TYPE) throws {
            guard mechanisms.contains(mechanism) else {
                throw PKCS11Error(
                    code: .mechanismUnavailable,
                    reason: """
                        \(token) does not offer \(PKCS11Mechanism.name(of: mechanism)), which \(scheme) needs; \
                        choose another scheme or key type
                        """
                )
            }
        }
        let digest = scheme.digest
        switch (scheme.family, key.algorithm) {
        case (.ecdsa, .ec(let curve)):
            try require(CKM_ECDSA)
            return SigningPlan(
                mechanism: .plain(CKM_ECDSA),
                preparation: .digest(digest),
                rawECDSA: true,
                outputLength: 2 * curve.fieldLength
            )
        case (.rsaPKCS1v15, .rsa(let bits)):
            let combined: CK_MECHANISM_TYPE =
                switch digest {
                case .sha384: CKM_SHA384_RSA_PKCS
                case .sha512: CKM_SHA512_RSA_PKCS
                default: CKM_SHA256_RSA_PKCS
                }
            let length = (bits + 7) / 8
            if mechanisms.contains(combined) {
                return SigningPlan(
                    mechanism: .plain(combined),
                    preparation: .message,
                    rawECDSA: false,
                    outputLength: length
                )
            }
            try require(CKM_RSA_PKCS)
            return SigningPlan(
                mechanism: .plain(CKM_RSA_PKCS),
                preparation: .digestInfo(digest),
                rawECDSA: false,
                outputLength: length
            )
        case (.rsaPSS, .rsa(let bits)):
            try require(CKM_RSA_PKCS_PSS)
            let (hash, mgf): (CK_MECHANISM_TYPE, CK_RSA_PKCS_MGF_TYPE) =
                switch digest {
                case .sha384: (CKM_SHA384, CKG_MGF1_SHA384)
                case .sha512: (CKM_SHA512, CKG_MGF1_SHA512)
                default: (CKM_SHA256, CKG_MGF1_SHA256)
                }
            return SigningPlan(
                mechanism: .pss(hash: hash, mgf: mgf, saltLength: CK_ULONG(digest.outputByteCount)),
                preparation: .digest(digest),
                rawECDSA: false,
                outputLength: (bits + 7) / 8
            )
        case (.ed25519, .ed25519):
            try require(CKM_EDDSA)
            return SigningPlan(mechanism: .plain(CKM_EDDSA), preparation: .message, rawECDSA: false, outputLength: 64)
        default:
            throw PKCS11Error(
                code: .unsupportedKey,
                reason: "the \(key.algorithm) key cannot make \(scheme) signatures"
            )
        }
    }

    /// What the token signs for `message`.
    func input(for message: [UInt8]) -> [UInt8] {
        switch self.preparation {
        case .message: message
        case .digest(let digest): digest.hash(message)
        case .digestInfo(let digest): Self.digestInfoPrefix(digest) + digest.hash(message)
        }
    }

    /// The signature ``Signer/sign(_:)`` returns, from the token's output.
    func signature(fromTokenOutput output: [UInt8]) throws -> [UInt8] {
        guard self.rawECDSA else { return output }
        guard let der = ECDSASignatureValue.derEncoded(rawSignature: output) else {
            throw PKCS11Error(
                code: .operationFailed,
                reason: "the token returned a malformed ECDSA signature of \(output.count) octets for \(self.mechanism)"
            )
        }
        return der
    }

    /// The DER of `DigestInfo ::= SEQUENCE { digestAlgorithm AlgorithmIdentifier, digest OCTET STRING }`
    /// up to the digest octets, for SHA-2 with NULL parameters (RFC 8017 §9.2, note 1).
    static func digestInfoPrefix(_ digest: DigestAlgorithm) -> [UInt8] {
        // SEQUENCE { SEQUENCE { OID 2.16.840.1.101.3.4.2.n, NULL }, OCTET STRING (length) }
        let (arc, length): (UInt8, UInt8) =
            switch digest {
            case .sha384: (0x02, 0x30)
            case .sha512: (0x03, 0x40)
            default: (0x01, 0x20)
            }
        return [
            0x30, 0x11 + length, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, arc, 0x05,
            0x00, 0x04, length,
        ]
    }
}

extension SignatureScheme {
    /// The scheme a token key signs with: fixed by the curve for EC keys; for RSA keys the configured
    /// padding and hash.
    ///
    /// - Throws: ``PKCS11Error`` with code ``PKCS11Error/ErrorCode/unsupportedKey`` for other keys and
    ///   for RSA keys under 2048 bits.
    static func forTokenKey(
        _ algorithm: TokenKeyAlgorithm,
        rsaPadding: SignatureScheme.Family,
        rsaDigest: DigestAlgorithm
    ) throws -> SignatureScheme {
        switch algorithm {
        case .ec(.p256): return .ecdsaP256SHA256
        case .ec(.p384): return .ecdsaP384SHA384
        case .ec(.p521): return .ecdsaP521SHA512
        case .ed25519: return .ed25519
        case .rsa(let bits):
            guard bits >= 2048 else {
                throw PKCS11Error(
                    code: .unsupportedKey,
                    reason: "the RSA key has \(bits) bits; Sigillum signs with RSA keys of 2048 bits or more"
                )
            }
            let pss = rsaPadding == .rsaPSS
            switch rsaDigest {
            case .sha384: return pss ? .rsaPSSSHA384 : .rsaPKCS1v15SHA384
            case .sha512: return pss ? .rsaPSSSHA512 : .rsaPKCS1v15SHA512
            default: return pss ? .rsaPSSSHA256 : .rsaPKCS1v15SHA256
            }
        case .other(let detail):
            throw PKCS11Error(
                code: .unsupportedKey,
                reason: "the key is \(detail); Sigillum signs with EC P-256/P-384/P-521, RSA or Ed25519 keys"
            )
        }
    }
}
