import Foundation
import PKIMessages
import SwiftASN1

/// What a key file's bytes are, found before anything is decrypted: the container, the encrypted
/// structure to hand to libcrypto, the certificates readable without a passphrase, and how each part
/// is protected.
///
/// Detection: PEM by its labels (`PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`, `EC PRIVATE KEY`,
/// `RSA PRIVATE KEY`, and `Proc-Type: 4,ENCRYPTED` headers); DER by its first elements (a PFX starts
/// with INTEGER 3 and a ContentInfo, an EncryptedPrivateKeyInfo with an AlgorithmIdentifier and an
/// OCTET STRING, the plain forms as ``KeyFileReader`` tells them apart); a `.p12` or `.pfx` file that
/// is not PEM is PKCS#12 whatever its first elements (a BER-encoded PFX from other tools included).
struct KeyFileContainer {
    enum Content {
        /// A plain key, or bytes ``KeyFileReader`` will refuse with its own reason: it reads the
        /// file's bytes as they are.
        case plain
        /// A DER `EncryptedPrivateKeyInfo`.
        case encryptedPKCS8(der: [UInt8])
        /// A PEM key with `Proc-Type: 4,ENCRYPTED`: libcrypto reads the whole text.
        case traditionalEncryptedPEM
        /// A PFX, DER or BER.
        case pkcs12(der: [UInt8])
    }

    var content: Content
    /// `nil` when the bytes hold no key format Sigillum knows.
    var format: KeyFileFormat?
    var isPEM: Bool
    /// Certificates readable without a passphrase, in DER, in file order: CERTIFICATE blocks next to
    /// a PEM key, unencrypted certificate bags of a PKCS#12 file.
    var visibleCertificates: [[UInt8]] = []
    /// How the file protects its parts, in file order; empty when nothing is encrypted.
    var protections: [KeyFileInspection.Protection] = []

    init(bytes: [UInt8], path: String) {
        let lowercasedPath = path.lowercased()
        let pkcs12Extension = lowercasedPath.hasSuffix(".p12") || lowercasedPath.hasSuffix(".pfx")
        if FileInput.looksLikePEM(bytes) {
            self.init(pem: String(decoding: bytes, as: UTF8.self))
        } else if pkcs12Extension || PFX.looksLikePFX(bytes) {
            self.init(pkcs12: bytes)
        } else {
            self.init(der: bytes)
        }
    }

    private init(content: Content, format: KeyFileFormat?, isPEM: Bool) {
        self.content = content
        self.format = format
        self.isPEM = isPEM
    }

    // MARK: - PEM

    private init(pem text: String) {
        if text.contains("Proc-Type:") && text.contains("ENCRYPTED") {
            self.init(content: .traditionalEncryptedPEM, format: .traditionalEncryptedPEM, isPEM: true)
            self.protections = [Self.traditionalProtection(text)]
            return
        }
        guard let documents = try? PEMDocument.parseMultiple(pemString: text) else {
            self.init(content: .plain, format: nil, isPEM: true)
            return
        }
        let keys = documents.filter { $0.discriminator.hasSuffix("PRIVATE KEY") }
        let certificates = documents.filter { $0.discriminator == "CERTIFICATE" }.map(\.derBytes)
        // Several keys, or none: KeyFileReader refuses with its reason.
        guard keys.count == 1, let key = keys.first else {
            self.init(content: .plain, format: nil, isPEM: true)
            self.visibleCertificates = certificates
            return
        }
        switch key.discriminator {
        case "ENCRYPTED PRIVATE KEY":
            self.init(content: .encryptedPKCS8(der: key.derBytes), format: .encryptedPKCS8, isPEM: true)
            self.protections = Self.pkcs8Protection(key.derBytes)
        case "PRIVATE KEY":
            self.init(content: .plain, format: .pkcs8, isPEM: true)
        case "EC PRIVATE KEY":
            self.init(content: .plain, format: .sec1, isPEM: true)
        case "RSA PRIVATE KEY":
            self.init(content: .plain, format: .pkcs1, isPEM: true)
        default:
            self.init(content: .plain, format: nil, isPEM: true)
        }
        self.visibleCertificates = certificates
    }

    /// `DEK-Info: AES-256-CBC,<IV>`: the cipher; the key comes from OpenSSL's EVP_BytesToKey.
    private static func traditionalProtection(_ text: String) -> KeyFileInspection.Protection {
        let dekInfo = text.split(whereSeparator: \.isNewline)
            .first { $0.hasPrefix("DEK-Info:") }
            .map { $0.dropFirst("DEK-Info:".count).split(separator: ",").first ?? "" }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        let cipher = (dekInfo?.isEmpty == false ? dekInfo : nil) ?? "an unnamed cipher"
        let upper = cipher.uppercased()
        let legacyPrefixes = ["DES-CBC", "DES-ECB", "DESX", "RC2", "RC4", "BF-", "CAST", "IDEA", "SEED"]
        return KeyFileInspection.Protection(
            part: "key",
            algorithm: """
                \(cipher), key from the passphrase by OpenSSL's EVP_BytesToKey (MD5, one iteration; weak: \
                convert with `openssl pkcs8 -topk8 -v2 aes-256-cbc`)
                """,
            needsLegacyProvider: legacyPrefixes.contains { upper.hasPrefix($0) }
        )
    }

    // MARK: - DER

    private init(der bytes: [UInt8]) {
        guard let node = try? DER.parse(bytes), node.identifier == .sequence,
            case .constructed(let children) = node.content
        else {
            self.init(content: .plain, format: nil, isPEM: false)
            return
        }
        var iterator = children.makeIterator()
        switch (iterator.next()?.identifier, iterator.next()?.identifier) {
        case (.sequence, .octetString):
            self.init(content: .encryptedPKCS8(der: bytes), format: .encryptedPKCS8, isPEM: false)
            self.protections = Self.pkcs8Protection(bytes)
        case (.integer, .sequence):
            self.init(content: .plain, format: .pkcs8, isPEM: false)
        case (.integer, .octetString):
            self.init(content: .plain, format: .sec1, isPEM: false)
        case (.integer, .integer):
            self.init(content: .plain, format: .pkcs1, isPEM: false)
        default:
            self.init(content: .plain, format: nil, isPEM: false)
        }
    }

    private static func pkcs8Protection(_ der: [UInt8]) -> [KeyFileInspection.Protection] {
        guard let info = try? EncryptedPrivateKeyInfo(derEncoded: der) else {
            return [KeyFileInspection.Protection(part: "key", algorithm: "(EncryptedPrivateKeyInfo does not decode)")]
        }
        return [KeyFileInspection.Protection(part: "key", PasswordBasedEncryption(info.encryptionAlgorithm))]
    }

    // MARK: - PKCS#12

    private init(pkcs12 bytes: [UInt8]) {
        self.init(content: .pkcs12(der: bytes), format: .pkcs12, isPEM: false)
        guard let pfx = try? PFX(derEncoded: bytes) else {
            self.protections = [
                KeyFileInspection.Protection(
                    part: "envelope",
                    algorithm: "not described (not a DER PFX; OpenSSL may still open it)"
                )
            ]
            return
        }
        if let mac = pfx.macData {
            self.protections.append(
                KeyFileInspection.Protection(
                    part: "integrity",
                    algorithm: "HMAC with \(PasswordBasedEncryption.digestName(mac.digestAlgorithm)) "
                        + "(\(mac.iterations) iterations)"
                )
            )
        } else {
            self.protections.append(KeyFileInspection.Protection(part: "integrity", algorithm: "none (no MAC)"))
        }
        for content in pfx.authenticatedSafe {
            switch content.contentType {
            case .CMSContentType.data:
                self.describeSafeContents(content)
            case .PKCS12.encryptedData:
                let encrypted = try? CMSEncryptedData(derEncoded: content.content.bytes)
                self.protections.append(
                    KeyFileInspection.Protection(
                        part: "encrypted bags (certificates)",
                        encrypted.map { PasswordBasedEncryption($0.contentEncryptionAlgorithm) }
                            ?? PasswordBasedEncryption(description: "(does not decode)", needsLegacyProvider: false)
                    )
                )
            case .PKCS12.envelopedData:
                self.protections.append(
                    KeyFileInspection.Protection(
                        part: "enveloped bags",
                        algorithm: "encrypted to a public key; OpenSSL's PKCS12_parse does not open them"
                    )
                )
            default:
                self.protections.append(
                    KeyFileInspection.Protection(part: "content", algorithm: "of type \(content.contentType)")
                )
            }
        }
    }

    /// The bags of an unencrypted SafeContents: shrouded keys say how they are encrypted, plain
    /// certificates become visible.
    private mutating func describeSafeContents(_ content: ContentInfo) {
        guard let octets = try? ASN1OctetString(derEncoded: content.content.bytes),
            let bags = try? DER.sequence(
                of: PKCS12SafeBag.self,
                identifier: .sequence,
                rootNode: DER.parse(octets.bytes)
            )
        else {
            self.protections.append(
                KeyFileInspection.Protection(part: "bags", algorithm: "(SafeContents does not decode)")
            )
            return
        }
        for bag in bags {
            switch bag.bagID {
            case .PKCS12.pkcs8ShroudedKeyBag:
                self.protections.append(
                    KeyFileInspection.Protection(part: "key", Self.pkcs8Protection(Array(bag.value.bytes))[0])
                )
            case .PKCS12.keyBag:
                self.protections.append(
                    KeyFileInspection.Protection(part: "key", algorithm: "not encrypted (keyBag)")
                )
            case .PKCS12.certBag:
                if let certificate = Self.certificate(inCertBag: bag.value) {
                    self.visibleCertificates.append(certificate)
                }
                self.protections.append(KeyFileInspection.Protection(part: "certificate", algorithm: "not encrypted"))
            default:
                self.protections.append(
                    KeyFileInspection.Protection(part: "bag \(bag.bagID)", algorithm: "not encrypted")
                )
            }
        }
    }

    /// `CertBag ::= SEQUENCE { certId BAG-TYPE.&id, certValue [0] EXPLICIT BAG-TYPE.&Type }`
    /// (RFC 7292 §4.2.3): the DER of an x509Certificate, whose value is an OCTET STRING.
    private static func certificate(inCertBag value: RawDER) -> [UInt8]? {
        try? DER.sequence(try DER.parse(value.bytes), identifier: .sequence) { nodes in
            let type = try ASN1ObjectIdentifier(derEncoded: &nodes)
            let octets = try DER.explicitlyTagged(&nodes, tagNumber: 0, tagClass: .contextSpecific) {
                try ASN1OctetString(derEncoded: $0)
            }
            guard type == .PKCS12.x509Certificate else {
                throw ASN1Error.invalidASN1Object(reason: "certBag of type \(type)")
            }
            return Array(octets.bytes)
        }
    }
}

extension KeyFileInspection.Protection {
    fileprivate init(part: String, _ encryption: PasswordBasedEncryption) {
        self.init(part: part, algorithm: encryption.description, needsLegacyProvider: encryption.needsLegacyProvider)
    }

    fileprivate init(part: String, _ other: KeyFileInspection.Protection) {
        self.init(part: part, algorithm: other.algorithm, needsLegacyProvider: other.needsLegacyProvider)
    }
}
