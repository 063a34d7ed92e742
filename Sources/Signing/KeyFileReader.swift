import Crypto
import Foundation
import SwiftASN1
import X509
import _CryptoExtras

/// Loads private keys from PEM or DER files for ``SoftwareSigner``.
///
/// Reads, in PEM or DER:
/// - PKCS#8 `PRIVATE KEY` (RFC 5958): EC on P-256, P-384 or P-521 (the curve is taken from the
///   AlgorithmIdentifier parameters), RSA of 2048 bits or more, Ed25519 (1.3.101.112);
/// - SEC1 `EC PRIVATE KEY` (RFC 5915) with a named curve;
/// - PKCS#1 `RSA PRIVATE KEY` (RFC 8017 §A.1.2).
///
/// Encrypted keys (`ENCRYPTED PRIVATE KEY`, legacy `Proc-Type: 4,ENCRYPTED` PEM) are recognised and
/// refused with ``SignerError/ErrorCode/encryptedKey``: ``KeyFile`` opens them (and PKCS#12 files)
/// with a passphrase through libcrypto, then hands the decrypted key to this reader. Every error
/// names the file.
public enum KeyFileReader {
    /// Reads the private key in the file at `path`.
    ///
    /// - Parameter path: A PEM or DER key file.
    /// - Returns: The key.
    /// - Throws: ``SignerError`` with code ``SignerError/ErrorCode/unreadableFile``,
    ///   ``SignerError/ErrorCode/notAKey``, ``SignerError/ErrorCode/invalidKey``,
    ///   ``SignerError/ErrorCode/unsupportedAlgorithm`` or ``SignerError/ErrorCode/encryptedKey``.
    public static func readKey(atPath path: String) throws -> SoftwareKey {
        let bytes = try FileInput.read(path: path, what: "key")
        return try self.parseKey(bytes, source: "the key file \(path)")
    }

    /// Parses a private key from PEM text.
    ///
    /// - Parameters:
    ///   - text: PEM text holding one private key.
    ///   - source: Where the text came from, for error messages, such as `the key file /etc/x.key`.
    public static func parseKey(_ text: String, source: String = "the key text") throws -> SoftwareKey {
        try self.parseKey(Array(text.utf8), source: source)
    }

    /// Parses a private key from PEM or DER bytes.
    ///
    /// - Parameters:
    ///   - bytes: PEM text or DER holding one private key.
    ///   - source: Where the bytes came from, for error messages, such as `the key file /etc/x.key`.
    public static func parseKey(_ bytes: [UInt8], source: String = "the key data") throws -> SoftwareKey {
        if FileInput.looksLikePEM(bytes) {
            return try self.parsePEM(String(decoding: bytes, as: UTF8.self), source: source)
        }
        return try self.parseDER(bytes, source: source)
    }

    // MARK: - PEM

    private static let pkcs8Label = "PRIVATE KEY"
    private static let sec1Label = "EC PRIVATE KEY"
    private static let pkcs1Label = "RSA PRIVATE KEY"
    private static let encryptedPKCS8Label = "ENCRYPTED PRIVATE KEY"

    private static func parsePEM(_ text: String, source: String) throws -> SoftwareKey {
        // A legacy encrypted PEM carries RFC 1421 headers, which the PEM parser refuses.
        if text.contains("Proc-Type:") && text.contains("ENCRYPTED") {
            throw self.encryptedKeyError(source: source, form: "a legacy encrypted PEM key (Proc-Type: 4,ENCRYPTED)")
        }
        let documents: [PEMDocument]
        do {
            documents = try PEMDocument.parseMultiple(pemString: text)
        } catch {
            throw SignerError.notAKey(
                reason: "\(source) is damaged PEM (a broken BEGIN/END pair or base64); export the key again",
                cause: error
            )
        }
        let keys = documents.filter { $0.discriminator.hasSuffix("PRIVATE KEY") }
        guard let document = keys.first else {
            let labels = documents.map(\.discriminator).joined(separator: ", ")
            throw SignerError.notAKey(
                reason: """
                    \(source) holds no private key (PEM blocks found: \(labels.isEmpty ? "none" : labels)); \
                    point the key setting at the file with the PRIVATE KEY block
                    """
            )
        }
        guard keys.count == 1 else {
            throw SignerError.invalidKey(
                reason: "\(source) holds \(keys.count) private keys; keep exactly one key per file"
            )
        }
        switch document.discriminator {
        case self.pkcs8Label:
            return try self.parsePKCS8(document.derBytes, source: source)
        case self.sec1Label:
            let ecKey = try self.parseECPrivateKey(document.derBytes, source: source)
            return try self.makeECKey(ecKey, curve: nil, source: source)
        case self.pkcs1Label:
            return try self.makeRSAKey(document.derBytes, source: source)
        case self.encryptedPKCS8Label:
            throw self.encryptedKeyError(source: source, form: "an encrypted PKCS#8 key (ENCRYPTED PRIVATE KEY)")
        default:
            throw SignerError.unsupportedAlgorithm(
                reason: """
                    \(source) holds a "\(document.discriminator)" block, which Sigillum does not read; \
                    convert it to PKCS#8 with `openssl pkcs8 -topk8 -nocrypt -in OLD -out NEW`
                    """
            )
        }
    }

    // MARK: - DER

    private static func parseDER(_ bytes: [UInt8], source: String) throws -> SoftwareKey {
        let notAKey = SignerError.notAKey(
            reason: """
                \(source) is neither PEM nor a DER private key (PKCS#8, SEC1 or PKCS#1); \
                point the key setting at the private key file
                """
        )
        guard !bytes.isEmpty, let node = try? DER.parse(bytes), node.identifier == .sequence,
            case .constructed(let children) = node.content
        else {
            throw notAKey
        }
        var iterator = children.makeIterator()
        let first = iterator.next()?.identifier
        let second = iterator.next()?.identifier
        switch (first, second) {
        case (.integer, .sequence):
            return try self.parsePKCS8(bytes, source: source)
        case (.integer, .octetString):
            let ecKey = try self.parseECPrivateKey(bytes, source: source)
            return try self.makeECKey(ecKey, curve: nil, source: source)
        case (.integer, .integer):
            return try self.makeRSAKey(bytes, source: source)
        case (.sequence, .octetString):
            throw self.encryptedKeyError(source: source, form: "an encrypted PKCS#8 key (EncryptedPrivateKeyInfo)")
        default:
            throw notAKey
        }
    }

    // MARK: - Structures

    private static func parsePKCS8(_ der: [UInt8], source: String) throws -> SoftwareKey {
        let info: PrivateKeyInfo
        do {
            info = try PrivateKeyInfo(derEncoded: der)
        } catch {
            throw SignerError.invalidKey(
                reason: "\(source) does not hold a valid PKCS#8 private key; export the key again",
                cause: error
            )
        }
        switch info.algorithm.algorithm {
        case .AlgorithmIdentifier.idEcPublicKey:
            guard let parameters = info.algorithm.parameters,
                let curve = try? ASN1ObjectIdentifier(asn1Any: parameters)
            else {
                throw SignerError.unsupportedAlgorithm(
                    reason: """
                        \(source) holds an EC key without a named curve (explicit or implicit curve \
                        parameters); re-export it with `openssl pkey -in OLD -out NEW -ec_param_enc named_curve`
                        """
                )
            }
            let ecKey = try self.parseECPrivateKey(info.privateKey.bytes, source: source)
            return try self.makeECKey(ecKey, curve: curve, source: source)
        case .AlgorithmIdentifier.rsaEncryption:
            return try self.makeRSAKey(info.privateKey.bytes, source: source)
        case .AlgorithmIdentifier.rsaPSS:
            throw SignerError.unsupportedAlgorithm(
                reason: """
                    \(source) holds an RSA-PSS-restricted key (id-RSASSA-PSS); use a plain RSA key \
                    (`openssl genpkey -algorithm RSA`) and choose PSS padding in the signer configuration
                    """
            )
        case .AlgorithmIdentifier.idEd25519:
            return try self.makeEd25519Key(info.privateKey.bytes, source: source)
        default:
            throw SignerError.unsupportedAlgorithm(
                reason: """
                    \(source) holds a \(info.algorithm.algorithm.keyAlgorithmName) key; Sigillum signs with \
                    EC P-256/P-384/P-521, RSA (2048 bits or more) and Ed25519 keys
                    """
            )
        }
    }

    private static func parseECPrivateKey(_ der: some Collection<UInt8>, source: String) throws -> ECPrivateKey {
        do {
            return try ECPrivateKey(derEncoded: Array(der))
        } catch {
            throw SignerError.invalidKey(
                reason: "\(source) does not hold a valid EC private key (RFC 5915); export the key again",
                cause: error
            )
        }
    }

    /// - Parameter curve: The curve named by the PKCS#8 AlgorithmIdentifier, if any.
    private static func makeECKey(_ ecKey: ECPrivateKey, curve: ASN1ObjectIdentifier?, source: String) throws
        -> SoftwareKey
    {
        if let outer = curve, let inner = ecKey.namedCurve, outer != inner {
            throw SignerError.invalidKey(
                reason: """
                    \(source) names two curves (\(outer.keyAlgorithmName) and \(inner.keyAlgorithmName)); \
                    export the key again
                    """
            )
        }
        guard let curve = curve ?? ecKey.namedCurve else {
            throw SignerError.unsupportedAlgorithm(
                reason: """
                    \(source) holds an EC key without a named curve; re-export it with \
                    `openssl ec -in OLD -out NEW -param_enc named_curve`
                    """
            )
        }
        let scalar = ecKey.privateKey.bytes
        do {
            let key: SoftwareKey
            let x963: [UInt8]
            let compressed: [UInt8]
            switch curve {
            case .NamedCurves.secp256r1:
                let raw = try P256.Signing.PrivateKey(rawRepresentation: self.leftPadded(scalar, to: 32))
                (key, x963, compressed) = (
                    SoftwareKey(raw), Array(raw.publicKey.x963Representation),
                    Array(raw.publicKey.compressedRepresentation)
                )
            case .NamedCurves.secp384r1:
                let raw = try P384.Signing.PrivateKey(rawRepresentation: self.leftPadded(scalar, to: 48))
                (key, x963, compressed) = (
                    SoftwareKey(raw), Array(raw.publicKey.x963Representation),
                    Array(raw.publicKey.compressedRepresentation)
                )
            case .NamedCurves.secp521r1:
                let raw = try P521.Signing.PrivateKey(rawRepresentation: self.leftPadded(scalar, to: 66))
                (key, x963, compressed) = (
                    SoftwareKey(raw), Array(raw.publicKey.x963Representation),
                    Array(raw.publicKey.compressedRepresentation)
                )
            default:
                throw SignerError.unsupportedAlgorithm(
                    reason: """
                        \(source) holds an EC key on \(curve.keyAlgorithmName); Sigillum signs with \
                        P-256, P-384 and P-521
                        """
                )
            }
            if let stored = ecKey.publicKey,
                !(stored.bytes.elementsEqual(x963) || stored.bytes.elementsEqual(compressed))
            {
                throw SignerError.invalidKey(
                    reason: "\(source) holds a public key that does not belong to its private key; export the key again"
                )
            }
            return key
        } catch let error as SignerError {
            throw error
        } catch {
            throw SignerError.invalidKey(
                reason: "\(source) holds an EC private key that is not valid on \(curve.keyAlgorithmName)",
                cause: error
            )
        }
    }

    /// The big-endian integer `bytes`, left-padded with zeros to `length` octets (SEC 1 §2.3.7);
    /// unchanged when longer, for swift-crypto to refuse.
    private static func leftPadded(_ bytes: ArraySlice<UInt8>, to length: Int) -> [UInt8] {
        guard bytes.count < length else { return Array(bytes) }
        return [UInt8](repeating: 0, count: length - bytes.count) + bytes
    }

    private static func makeRSAKey(_ pkcs1: some Collection<UInt8>, source: String) throws -> SoftwareKey {
        let key: _RSA.Signing.PrivateKey
        do {
            key = try _RSA.Signing.PrivateKey(unsafeDERRepresentation: Array(pkcs1))
        } catch {
            throw SignerError.invalidKey(
                reason: "\(source) does not hold a valid RSA private key (PKCS#1); export the key again",
                cause: error
            )
        }
        guard key.keySizeInBits >= 2048 else {
            throw SignerError.unsupportedAlgorithm(
                reason: """
                    \(source) holds an RSA key of \(key.keySizeInBits) bits; Sigillum signs only with RSA \
                    keys of 2048 bits or more
                    """
            )
        }
        return SoftwareKey(key)
    }

    private static func makeEd25519Key(_ curvePrivateKey: ArraySlice<UInt8>, source: String) throws -> SoftwareKey {
        // CurvePrivateKey ::= OCTET STRING (RFC 8410 §7), inside the PKCS#8 privateKey octet string.
        do {
            let inner = try ASN1OctetString(derEncoded: curvePrivateKey)
            guard inner.bytes.count == 32 else {
                throw ASN1Error.invalidASN1Object(reason: "Ed25519 private key of \(inner.bytes.count) octets")
            }
            return SoftwareKey(try Curve25519.Signing.PrivateKey(rawRepresentation: inner.bytes))
        } catch {
            throw SignerError.invalidKey(
                reason: "\(source) does not hold a valid Ed25519 private key (RFC 8410); export the key again",
                cause: error
            )
        }
    }

    private static func encryptedKeyError(source: String, form: String) -> SignerError {
        SignerError.encryptedKey(
            reason: """
                \(source) is \(form), which this reader of plain keys does not decrypt: open it with a \
                passphrase (KeyFile, through libcrypto; the signer's passphrase setting), or decrypt it with \
                `openssl pkey -in ENCRYPTED -out PLAIN` into a file of mode 0600 owned by the Sigillum user
                """
        )
    }
}
