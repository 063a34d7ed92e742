import CPKCS11
import Crypto
public import Signing
import SwiftASN1
public import X509

/// A key type `sigillum keys generate` makes.
public enum PKCS11KeyType: String, Sendable, Hashable, CaseIterable {
    /// ECDSA on P-256 (`CKM_EC_KEY_PAIR_GEN`, secp256r1); signs with SHA-256.
    case ecP256 = "ec-p256"
    /// ECDSA on P-384 (`CKM_EC_KEY_PAIR_GEN`, secp384r1); signs with SHA-384.
    case ecP384 = "ec-p384"
    /// RSA with a 2048-bit modulus and exponent 65537 (`CKM_RSA_PKCS_KEY_PAIR_GEN`).
    case rsa2048 = "rsa-2048"
    /// RSA with a 3072-bit modulus and exponent 65537 (`CKM_RSA_PKCS_KEY_PAIR_GEN`).
    case rsa3072 = "rsa-3072"
}

/// A key pair made on a token.
public struct PKCS11GeneratedKey: Sendable {
    /// `CKA_LABEL` of both halves.
    public var label: String
    /// `CKA_ID` of both halves: the one asked for, else the SHA-1 of the public key (RFC 5280
    /// §4.2.1.2 method 1, the usual subject key identifier), so a certificate can be matched to the key.
    public var id: [UInt8]
    /// The public key, for the certificate request.
    public var publicKey: Certificate.PublicKey

    /// The public key as a PEM `PUBLIC KEY` (SubjectPublicKeyInfo) block, ending with a newline.
    public var publicKeyPEM: String {
        get throws {
            try self.publicKey.serializeAsPEM().pemString + "\n"
        }
    }
}

/// Administrative operations on a token: listing (``inventory(module:token:pin:)``), key generation,
/// storing a certificate. Each blocks the calling thread; they serve the CLI and tests, not the
/// signing path.
public enum PKCS11TokenAdministration {
    /// Generates a key pair on the token for signing.
    ///
    /// The private key is a token object (`CKA_TOKEN`), private (`CKA_PRIVATE`), sensitive
    /// (`CKA_SENSITIVE`) and not extractable (`CKA_EXTRACTABLE` false, so the token sets
    /// `CKA_NEVER_EXTRACTABLE`), with `CKA_SIGN` and nothing else (no decrypt, unwrap or derive),
    /// as v2.40 §4.9 defines these attributes. The public key is a token object with `CKA_VERIFY`.
    ///
    /// - Parameters:
    ///   - label: `CKA_LABEL` of both halves; no private key on the token may have it yet.
    ///   - id: `CKA_ID` of both halves; `nil` for the SHA-1 of the public key.
    ///   - alwaysAuthenticate: Sets `CKA_ALWAYS_AUTHENTICATE` on the private key: the token then wants the PIN
    ///     again for every signature (``PKCS11Signer`` gives it with `C_Login(CKU_CONTEXT_SPECIFIC)`).
    /// - Throws: ``PKCS11Error``: ``PKCS11Error/ErrorCode/tokenNotFound``,
    ///   ``PKCS11Error/ErrorCode/pinRejected``, ``PKCS11Error/ErrorCode/invalidConfiguration`` when the
    ///   label or id is taken, ``PKCS11Error/ErrorCode/operationFailed`` when the token refuses;
    ///   ``Signing/SignerError`` when the PIN source cannot be read.
    public static func generateKeyPair(
        module: PKCS11Module,
        token: PKCS11TokenSelector,
        pin: SecretSource,
        label: String,
        id: [UInt8]? = nil,
        type: PKCS11KeyType,
        alwaysAuthenticate: Bool = false
    ) throws -> PKCS11GeneratedKey {
        guard !label.isEmpty else {
            throw PKCS11Error(code: .invalidConfiguration, reason: "the key label is empty; give the key a label")
        }
        return try self.withLoggedInSession(module: module, token: token, pin: pin) { session, name in
            var taken = try module.findObjects(
                session,
                matching: [.ulong(CKA_CLASS, CKO_PRIVATE_KEY), .text(CKA_LABEL, label)],
                limit: 1
            )
            if let id, taken.isEmpty {
                taken = try module.findObjects(session, matching: [.bytes(CKA_ID, id)], limit: 1)
            }
            guard taken.isEmpty else {
                throw PKCS11Error(
                    code: .invalidConfiguration,
                    reason: """
                        \(name) already holds a key with the label "\(label)"\(id.map { " or the id \($0.hexString)" } ?? ""); \
                        choose another, so that signers find exactly one key
                        """
                )
            }
            let common: [PKCS11Attribute] =
                [.bool(CKA_TOKEN, true), .text(CKA_LABEL, label)] + (id.map { [.bytes(CKA_ID, $0)] } ?? [])
            let mechanism: CK_MECHANISM_TYPE
            var publicTemplate =
                common + [.ulong(CKA_CLASS, CKO_PUBLIC_KEY), .bool(CKA_VERIFY, true), .bool(CKA_PRIVATE, false)]
            var privateTemplate =
                common + [
                    .ulong(CKA_CLASS, CKO_PRIVATE_KEY), .bool(CKA_PRIVATE, true), .bool(CKA_SENSITIVE, true),
                    .bool(CKA_EXTRACTABLE, false), .bool(CKA_SIGN, true), .bool(CKA_DECRYPT, false),
                    .bool(CKA_UNWRAP, false), .bool(CKA_DERIVE, false),
                ]
            if alwaysAuthenticate {
                privateTemplate.append(.bool(CKA_ALWAYS_AUTHENTICATE, true))
            }
            switch type {
            case .ecP256, .ecP384:
                mechanism = CKM_EC_KEY_PAIR_GEN
                let curve: TokenCurve = type == .ecP256 ? .p256 : .p384
                publicTemplate += [.ulong(CKA_KEY_TYPE, CKK_EC), .bytes(CKA_EC_PARAMS, curve.ecParameters)]
                privateTemplate.append(.ulong(CKA_KEY_TYPE, CKK_EC))
            case .rsa2048, .rsa3072:
                mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN
                publicTemplate += [
                    .ulong(CKA_KEY_TYPE, CKK_RSA), .ulong(CKA_MODULUS_BITS, type == .rsa2048 ? 2048 : 3072),
                    .bytes(CKA_PUBLIC_EXPONENT, [0x01, 0x00, 0x01]), .bool(CKA_ENCRYPT, false),
                    .bool(CKA_WRAP, false),
                ]
                privateTemplate.append(.ulong(CKA_KEY_TYPE, CKK_RSA))
            }
            let (publicHandle, privateHandle) = try module.generateKeyPair(
                session,
                mechanism: mechanism,
                publicTemplate: publicTemplate,
                privateTemplate: privateTemplate
            )
            do {
                let publicKey = try module.publicKey(session, publicHandle)
                let keyID = id ?? Array(Insecure.SHA1.hash(data: Array(publicKey.subjectPublicKeyInfoBytes)))
                if id == nil {
                    try module.setAttributes(session, of: publicHandle, [.bytes(CKA_ID, keyID)])
                    try module.setAttributes(session, of: privateHandle, [.bytes(CKA_ID, keyID)])
                }
                return PKCS11GeneratedKey(label: label, id: keyID, publicKey: publicKey)
            } catch {
                // Leave no half-made key behind.
                try? module.destroyObject(session, privateHandle)
                try? module.destroyObject(session, publicHandle)
                throw error
            }
        }
    }

    /// Stores `certificate` on the token as an X.509 certificate object (`CKO_CERTIFICATE`, `CKC_X_509`,
    /// v2.40 §4.6.3) with `CKA_ID` `id`, so a signer configured with ``PKCS11CertificateSource/token``
    /// finds it next to its key.
    ///
    /// - Throws: ``PKCS11Error``; ``Signing/SignerError`` when the PIN source cannot be read.
    public static func storeCertificate(
        _ certificate: Certificate,
        module: PKCS11Module,
        token: PKCS11TokenSelector,
        pin: SecretSource,
        label: String,
        id: [UInt8]
    ) throws {
        let value: [UInt8]
        let subject: [UInt8]
        let issuer: [UInt8]
        do {
            var serializer = DER.Serializer()
            try serializer.serialize(certificate)
            value = serializer.serializedBytes
            serializer = DER.Serializer()
            try serializer.serialize(certificate.subject)
            subject = serializer.serializedBytes
            serializer = DER.Serializer()
            try serializer.serialize(certificate.issuer)
            issuer = serializer.serializedBytes
        } catch {
            throw PKCS11Error(code: .invalidConfiguration, reason: "the certificate does not serialise", cause: error)
        }
        let serial = Array(certificate.serialNumber.bytes)
        let serialDER: [UInt8] = [0x02, UInt8(truncatingIfNeeded: serial.count)] + serial
        try self.withLoggedInSession(module: module, token: token, pin: pin) { session, _ in
            _ = try module.createObject(
                session,
                [
                    .ulong(CKA_CLASS, CKO_CERTIFICATE), .ulong(CKA_CERTIFICATE_TYPE, CKC_X_509),
                    .bool(CKA_TOKEN, true), .bool(CKA_PRIVATE, false), .text(CKA_LABEL, label), .bytes(CKA_ID, id),
                    .bytes(CKA_SUBJECT, subject), .bytes(CKA_ISSUER, issuer), .bytes(CKA_SERIAL_NUMBER, serialDER),
                    .bytes(CKA_VALUE, value),
                ]
            )
        }
    }

    /// Runs `body` with a read-write session on the token, logged in as the user (one `C_Login`).
    ///
    /// The session is closed afterwards but the user is not logged out: `C_Logout` would end the login
    /// of every other session of this process on the token.
    static func withLoggedInSession<T>(
        module: PKCS11Module,
        token: PKCS11TokenSelector,
        pin: SecretSource,
        _ body: (PKCS11Session, String) throws -> T
    ) throws -> T {
        let found = try module.findToken(token)
        let name = "the token \"\(found.token.label)\" (serial \(found.token.serialNumber))"
        let session = try module.openSession(found.slot, readWrite: true)
        defer { module.closeSession(session) }
        if !PKCS11Module.isUserState(try module.sessionState(session)) {
            try module.login(session, pin: try pin.resolve(), token: name)
        }
        return try body(session, name)
    }
}
