import Crypto
import Foundation
public import X509
import _CryptoExtras

extension Signer {
    /// Checks that this signer's key belongs to its ``Signer/certificate``.
    ///
    /// Signs a fixed probe message with ``Signer/sign(_:)`` and verifies the signature with the
    /// certificate's public key per ``Signer/scheme`` (ECDSA, RSA PKCS#1 v1.5, RSA-PSS, Ed25519).
    /// Call it once when a signer is loaded, before serving: a key paired with the wrong
    /// certificate otherwise yields tokens nobody can verify.
    ///
    /// - Throws: ``SignerError`` with code ``SignerError/ErrorCode/keyCertificateMismatch`` naming
    ///   the certificate subject when the signature does not verify; any error ``Signer/sign(_:)``
    ///   throws, unchanged.
    public func verifyKeyMatchesCertificate() async throws {
        let message = signerProbeMessage
        let signature = try await self.sign(message)
        let certificate = self.certificate
        guard self.scheme.isValidSignature(signature, for: message, publicKey: certificate.publicKey) else {
            throw SignerError.keyCertificateMismatch(
                reason: """
                    the \(self.kind) signer's key (\(self.scheme)) does not belong to the certificate \
                    "\(certificate.subject)" (serial \(certificate.serialNumber), public key \
                    \(certificate.publicKey)): a probe signature did not verify with the certificate's \
                    public key; configure the certificate file that was issued for this key
                    """
            )
        }
    }
}

/// The message ``Signer/verifyKeyMatchesCertificate()`` signs.
private let signerProbeMessage = Array("Sigillum signer probe: key and certificate belong together".utf8)

extension SignatureScheme {
    /// Whether `signature` is a signature over `message` by the private key of `publicKey` under
    /// this scheme.
    ///
    /// Verifies what ``Signer/sign(_:)`` returns: DER `ECDSA-Sig-Value`s, raw RSA octets (PKCS#1
    /// v1.5 or PSS with MGF1 over the same hash and a salt as long as the hash) and 64-octet
    /// Ed25519 signatures. A public key of another type or curve than the scheme's yields `false`.
    ///
    /// - Parameters:
    ///   - signature: The signature octets.
    ///   - message: The signed octets (not their hash).
    ///   - publicKey: The public key, usually a certificate's.
    /// - Returns: `true` only when the signature verifies.
    public func isValidSignature(
        _ signature: [UInt8],
        for message: [UInt8],
        publicKey: Certificate.PublicKey
    ) -> Bool {
        switch self.backing {
        case .ecdsaP256SHA256:
            guard let key = P256.Signing.PublicKey(publicKey),
                let parsed = try? P256.Signing.ECDSASignature(derRepresentation: signature)
            else { return false }
            return key.isValidSignature(parsed, for: SHA256.hash(data: message))
        case .ecdsaP384SHA384:
            guard let key = P384.Signing.PublicKey(publicKey),
                let parsed = try? P384.Signing.ECDSASignature(derRepresentation: signature)
            else { return false }
            return key.isValidSignature(parsed, for: SHA384.hash(data: message))
        case .ecdsaP521SHA512:
            guard let key = P521.Signing.PublicKey(publicKey),
                let parsed = try? P521.Signing.ECDSASignature(derRepresentation: signature)
            else { return false }
            return key.isValidSignature(parsed, for: SHA512.hash(data: message))
        case .rsaPKCS1v15(let digest):
            return Self.isValidRSASignature(
                signature,
                for: message,
                digest: digest,
                padding: .insecurePKCS1v1_5,
                publicKey: publicKey
            )
        case .rsaPSS(let digest):
            return Self.isValidRSASignature(
                signature, for: message, digest: digest, padding: .PSS, publicKey: publicKey)
        case .ed25519:
            guard let key = Curve25519.Signing.PublicKey(publicKey) else { return false }
            return key.isValidSignature(signature, for: message)
        }
    }

    /// RSA verification through `_CryptoExtras`: swift-certificates cannot verify PSS.
    private static func isValidRSASignature(
        _ signature: [UInt8],
        for message: [UInt8],
        digest: DigestAlgorithm,
        padding: _RSA.Signing.Padding,
        publicKey: Certificate.PublicKey
    ) -> Bool {
        guard let key = _RSA.Signing.PublicKey(publicKey) else { return false }
        let parsed = _RSA.Signing.RSASignature(rawRepresentation: signature)
        switch digest.backing {
        case .sha256: return key.isValidSignature(parsed, for: SHA256.hash(data: message), padding: padding)
        case .sha384: return key.isValidSignature(parsed, for: SHA384.hash(data: message), padding: padding)
        case .sha512: return key.isValidSignature(parsed, for: SHA512.hash(data: message), padding: padding)
        }
    }
}
