import CPKCS11
import Crypto
import SwiftASN1
import X509
import _CryptoExtras

/// A NIST prime curve a token key may be on (PKCS#11 Current Mechanisms v2.40 §2.3, `CKA_EC_PARAMS`
/// holding a named curve OID, RFC 5480 §2.1.1.1).
enum TokenCurve: Sendable, Hashable {
    case p256
    case p384
    case p521

    var objectIdentifier: ASN1ObjectIdentifier {
        switch self {
        case .p256: .NamedCurves.secp256r1
        case .p384: .NamedCurves.secp384r1
        case .p521: .NamedCurves.secp521r1
        }
    }

    /// The length of a field element in octets: `r` and `s` each have it in a raw ECDSA signature.
    var fieldLength: Int {
        switch self {
        case .p256: 32
        case .p384: 48
        case .p521: 66
        }
    }

    var name: String {
        switch self {
        case .p256: "P-256"
        case .p384: "P-384"
        case .p521: "P-521"
        }
    }

    /// The DER encoding of the curve's OID, as `CKA_EC_PARAMS` holds it.
    var ecParameters: [UInt8] {
        var serializer = DER.Serializer()
        // Serialising a well-formed OID cannot fail.
        try? serializer.serialize(self.objectIdentifier)
        return serializer.serializedBytes
    }
}

/// The algorithm and size of a key on a token.
enum TokenKeyAlgorithm: Sendable, Hashable, CustomStringConvertible {
    case ec(TokenCurve)
    case rsa(bits: Int)
    case ed25519
    /// A key Sigillum does not sign with; `detail` names it for messages.
    case other(String)

    var description: String {
        switch self {
        case .ec(let curve): "EC \(curve.name)"
        case .rsa(let bits): "RSA \(bits)"
        case .ed25519: "Ed25519"
        case .other(let detail): detail
        }
    }

    /// The algorithm of a key with `CKA_KEY_TYPE` `keyType`, from its `CKA_EC_PARAMS` or `CKA_MODULUS`.
    static func from(keyType: CK_KEY_TYPE, ecParameters: [UInt8]?, modulus: [UInt8]?) -> TokenKeyAlgorithm {
        switch keyType {
        case CKK_RSA:
            guard let modulus, let first = modulus.firstIndex(where: { $0 != 0 }) else {
                return .other("RSA (modulus not readable)")
            }
            let significant = modulus[first...]
            let bits = significant.count * 8 - (significant.first.map { $0.leadingZeroBitCount } ?? 0)
            return .rsa(bits: bits)
        case CKK_EC:
            guard let ecParameters else { return .other("EC (no CKA_EC_PARAMS)") }
            switch try? ASN1ObjectIdentifier(derEncoded: ecParameters) {
            case .some(.NamedCurves.secp256r1): return .ec(.p256)
            case .some(.NamedCurves.secp384r1): return .ec(.p384)
            case .some(.NamedCurves.secp521r1): return .ec(.p521)
            case .some(let other): return .other("EC on curve \(other)")
            case .none: return .other("EC with explicit or unreadable curve parameters")
            }
        case CKK_EC_EDWARDS:
            // v3.0 §2.3.10: an OID (id-Ed25519, RFC 8410) or a PrintableString curve name.
            guard let ecParameters else { return .other("EdDSA (no CKA_EC_PARAMS)") }
            if let oid = try? ASN1ObjectIdentifier(derEncoded: ecParameters) {
                return oid == [1, 3, 101, 112] ? .ed25519 : .other("EdDSA on curve \(oid)")
            }
            if let name = try? ASN1PrintableString(derEncoded: ecParameters) {
                return String(name) == "edwards25519" ? .ed25519 : .other("EdDSA on \(String(name))")
            }
            return .other("EdDSA with unreadable curve parameters")
        case CKK_DSA: return .other("DSA")
        case CKK_DH: return .other("DH")
        default: return .other("key type 0x\(String(keyType, radix: 16))")
        }
    }
}

/// A private key found on a token: its handle and what Sigillum needs to know about it.
struct TokenKey: Sendable {
    var handle: CK_OBJECT_HANDLE
    var algorithm: TokenKeyAlgorithm
    var label: String
    var id: [UInt8]
    /// `CKA_SIGN`, when the module reports it.
    var canSign: Bool?
    /// `CKA_ALWAYS_AUTHENTICATE`: the user must log in again (`CKU_CONTEXT_SPECIFIC`) for every signature
    /// (v2.40 §4.9, §5.6 `C_Login`). False when the module does not report it.
    var alwaysAuthenticate = false
}

extension PKCS11Module {
    /// The private key `selector` names: exactly one must match.
    func findPrivateKey(
        _ session: PKCS11Session,
        _ selector: PKCS11KeySelector,
        token: String
    ) throws -> TokenKey {
        var template: [PKCS11Attribute] = [.ulong(CKA_CLASS, CKO_PRIVATE_KEY)]
        switch selector {
        case .label(let label): template.append(.text(CKA_LABEL, label))
        case .id(let id): template.append(.bytes(CKA_ID, id))
        }
        let handles = try self.findObjects(session, matching: template, limit: 8)
        guard let handle = handles.first else {
            throw PKCS11Error(
                code: .keyNotFound,
                reason: """
                    \(token) holds no \(selector) (or the PIN does not give access to it); list the keys with \
                    `sigillum keys list` and fix the key setting
                    """
            )
        }
        guard handles.count == 1 else {
            throw PKCS11Error(
                code: .ambiguousObject,
                reason: """
                    \(token) holds \(handles.count) private keys matching \(selector); select the key by a unique \
                    label or CKA_ID
                    """
            )
        }
        return try self.describeKey(session, handle)
    }

    /// Reads the type, size, label, id, `CKA_SIGN` and `CKA_ALWAYS_AUTHENTICATE` of the private key `handle`.
    func describeKey(_ session: PKCS11Session, _ handle: CK_OBJECT_HANDLE) throws -> TokenKey {
        let values = try self.attributes(
            session,
            of: handle,
            [CKA_KEY_TYPE, CKA_LABEL, CKA_ID, CKA_SIGN, CKA_EC_PARAMS, CKA_MODULUS, CKA_ALWAYS_AUTHENTICATE]
        )
        guard let keyType = values[CKA_KEY_TYPE]?.ckULong else {
            throw PKCS11Error(
                code: .unsupportedKey,
                reason: "the module does not report the key type (CKA_KEY_TYPE) of the selected key"
            )
        }
        var modulus = values[CKA_MODULUS]
        let id = values[CKA_ID] ?? []
        if keyType == CKK_RSA, modulus == nil, !id.isEmpty {
            // Some modules keep CKA_MODULUS on the public key object only.
            let publicKeys = try self.findObjects(
                session,
                matching: [.ulong(CKA_CLASS, CKO_PUBLIC_KEY), .bytes(CKA_ID, id)],
                limit: 1
            )
            if let publicKey = publicKeys.first {
                modulus = try self.attributes(session, of: publicKey, [CKA_MODULUS])[CKA_MODULUS]
            }
        }
        return TokenKey(
            handle: handle,
            algorithm: .from(keyType: keyType, ecParameters: values[CKA_EC_PARAMS], modulus: modulus),
            label: values[CKA_LABEL].map { String(decoding: $0, as: UTF8.self) } ?? "",
            id: id,
            canSign: values[CKA_SIGN]?.ckBool,
            alwaysAuthenticate: values[CKA_ALWAYS_AUTHENTICATE]?.ckBool ?? false
        )
    }

    /// The public key of the public-key object `handle`, as a certificate carries it.
    func publicKey(_ session: PKCS11Session, _ handle: CK_OBJECT_HANDLE) throws -> Certificate.PublicKey {
        let values = try self.attributes(
            session,
            of: handle,
            [CKA_KEY_TYPE, CKA_EC_PARAMS, CKA_EC_POINT, CKA_MODULUS, CKA_PUBLIC_EXPONENT]
        )
        guard let keyType = values[CKA_KEY_TYPE]?.ckULong else {
            throw PKCS11Error(code: .unsupportedKey, reason: "the public key object has no readable CKA_KEY_TYPE")
        }
        let algorithm = TokenKeyAlgorithm.from(
            keyType: keyType,
            ecParameters: values[CKA_EC_PARAMS],
            modulus: values[CKA_MODULUS]
        )
        do {
            switch algorithm {
            case .rsa:
                guard let modulus = values[CKA_MODULUS], let exponent = values[CKA_PUBLIC_EXPONENT] else {
                    throw PKCS11Error(code: .unsupportedKey, reason: "the RSA public key lacks its modulus or exponent")
                }
                return Certificate.PublicKey(try _RSA.Signing.PublicKey(n: modulus, e: exponent))
            case .ec(let curve):
                let point = try Self.ecPoint(values[CKA_EC_POINT], length: 2 * curve.fieldLength + 1)
                switch curve {
                case .p256: return Certificate.PublicKey(try P256.Signing.PublicKey(x963Representation: point))
                case .p384: return Certificate.PublicKey(try P384.Signing.PublicKey(x963Representation: point))
                case .p521: return Certificate.PublicKey(try P521.Signing.PublicKey(x963Representation: point))
                }
            case .ed25519:
                let point = try Self.ecPoint(values[CKA_EC_POINT], length: 32)
                return Certificate.PublicKey(try Curve25519.Signing.PublicKey(rawRepresentation: point))
            case .other(let detail):
                throw PKCS11Error(
                    code: .unsupportedKey, reason: "the public key is \(detail), which Sigillum does not use")
            }
        } catch let error as PKCS11Error {
            throw error
        } catch {
            throw PKCS11Error(
                code: .unsupportedKey,
                reason: "the \(algorithm) public key on the token does not parse",
                cause: error
            )
        }
    }

    /// `CKA_EC_POINT`: per the specification a DER OCTET STRING holding the point, though some modules
    /// return the bare point; `length` tells the two apart (a bare uncompressed point also starts with 04).
    private static func ecPoint(_ value: [UInt8]?, length: Int) throws -> [UInt8] {
        guard let value else {
            throw PKCS11Error(code: .unsupportedKey, reason: "the EC public key has no readable CKA_EC_POINT")
        }
        if value.count == length {
            return value
        }
        return Array(try ASN1OctetString(derEncoded: value).bytes)
    }
}
