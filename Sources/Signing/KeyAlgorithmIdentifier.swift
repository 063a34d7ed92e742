import SwiftASN1

/// The algorithm of a private key (RFC 5280 §4.1.1.2, RFC 5958 §2), parse only.
///
/// ```
/// AlgorithmIdentifier ::= SEQUENCE {
///   algorithm   OBJECT IDENTIFIER,
///   parameters  ANY DEFINED BY algorithm OPTIONAL }
/// ```
///
/// For id-ecPublicKey the parameters name the curve (RFC 5480 §2.1.1); for RSA they are NULL; for
/// Ed25519 they are absent (RFC 8410 §3).
struct KeyAlgorithmIdentifier: DERParseable {
    var algorithm: ASN1ObjectIdentifier
    var parameters: ASN1Any?

    init(derEncoded node: ASN1Node) throws {
        self = try DER.sequence(node, identifier: .sequence) { nodes in
            let algorithm = try ASN1ObjectIdentifier(derEncoded: &nodes)
            let parameters = nodes.next().map { ASN1Any(derEncoded: $0) }
            return KeyAlgorithmIdentifier(algorithm: algorithm, parameters: parameters)
        }
    }

    private init(algorithm: ASN1ObjectIdentifier, parameters: ASN1Any?) {
        self.algorithm = algorithm
        self.parameters = parameters
    }
}
