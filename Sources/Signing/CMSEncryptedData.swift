import PKIMessages
import SwiftASN1

/// CMS EncryptedData (RFC 5652 §8), as PKCS#12 uses it for password-encrypted bags; parse only.
///
/// ```
/// EncryptedData ::= SEQUENCE {
///   version CMSVersion,
///   encryptedContentInfo EncryptedContentInfo,
///   unprotectedAttrs [1] IMPLICIT UnprotectedAttributes OPTIONAL }
///
/// EncryptedContentInfo ::= SEQUENCE {
///   contentType ContentType,
///   contentEncryptionAlgorithm ContentEncryptionAlgorithmIdentifier,
///   encryptedContent [0] IMPLICIT EncryptedContent OPTIONAL }
/// ```
///
/// Only the encryption algorithm is read; libcrypto decrypts.
struct CMSEncryptedData: DERParseable {
    var contentEncryptionAlgorithm: AlgorithmIdentifier

    init(derEncoded node: ASN1Node) throws {
        self = try DER.sequence(node, identifier: .sequence) { nodes in
            _ = try Int(derEncoded: &nodes)
            guard let encryptedContentInfo = nodes.next() else {
                throw ASN1Error.invalidASN1Object(reason: "EncryptedData without an EncryptedContentInfo")
            }
            let algorithm = try DER.sequence(encryptedContentInfo, identifier: .sequence) { info in
                _ = try ASN1ObjectIdentifier(derEncoded: &info)
                let algorithm = try AlgorithmIdentifier(derEncoded: &info)
                while info.next() != nil {}
                return algorithm
            }
            while nodes.next() != nil {}
            return CMSEncryptedData(contentEncryptionAlgorithm: algorithm)
        }
    }

    private init(contentEncryptionAlgorithm: AlgorithmIdentifier) {
        self.contentEncryptionAlgorithm = contentEncryptionAlgorithm
    }
}
