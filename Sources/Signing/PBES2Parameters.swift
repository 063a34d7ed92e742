import PKIMessages
import SwiftASN1

/// The parameters of PBES2 (RFC 8018 §A.4), parse only.
///
/// ```
/// PBES2-params ::= SEQUENCE {
///   keyDerivationFunc AlgorithmIdentifier {{PBES2-KDFs}},
///   encryptionScheme AlgorithmIdentifier {{PBES2-Encs}} }
/// ```
///
/// The key derivation is PBKDF2 (``PBKDF2Parameters``) or scrypt (RFC 7914, ``ScryptParameters``).
struct PBES2Parameters: DERParseable {
    var keyDerivationFunction: AlgorithmIdentifier
    var encryptionScheme: AlgorithmIdentifier

    init(derEncoded node: ASN1Node) throws {
        self = try DER.sequence(node, identifier: .sequence) { nodes in
            let keyDerivationFunction = try AlgorithmIdentifier(derEncoded: &nodes)
            let encryptionScheme = try AlgorithmIdentifier(derEncoded: &nodes)
            return PBES2Parameters(keyDerivationFunction: keyDerivationFunction, encryptionScheme: encryptionScheme)
        }
    }

    private init(keyDerivationFunction: AlgorithmIdentifier, encryptionScheme: AlgorithmIdentifier) {
        self.keyDerivationFunction = keyDerivationFunction
        self.encryptionScheme = encryptionScheme
    }
}
