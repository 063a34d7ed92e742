import PKIMessages
import SwiftASN1

/// An encrypted PKCS#8 private key (RFC 5958 §3), parse only.
///
/// ```
/// EncryptedPrivateKeyInfo ::= SEQUENCE {
///   encryptionAlgorithm  EncryptionAlgorithmIdentifier,
///   encryptedData        EncryptedData }
///
/// EncryptionAlgorithmIdentifier ::= AlgorithmIdentifier
///                                    { CONTENT-ENCRYPTION,
///                                      { KeyEncryptionAlgorithms } }
/// EncryptedData ::= OCTET STRING
/// ```
///
/// Only the algorithm is read here (to describe the file and to tell it from a plain key); libcrypto
/// decrypts.
struct EncryptedPrivateKeyInfo: DERParseable {
    var encryptionAlgorithm: AlgorithmIdentifier

    init(derEncoded node: ASN1Node) throws {
        self = try DER.sequence(node, identifier: .sequence) { nodes in
            let algorithm = try AlgorithmIdentifier(derEncoded: &nodes)
            _ = try ASN1OctetString(derEncoded: &nodes)
            return EncryptedPrivateKeyInfo(encryptionAlgorithm: algorithm)
        }
    }

    private init(encryptionAlgorithm: AlgorithmIdentifier) {
        self.encryptionAlgorithm = encryptionAlgorithm
    }
}
