import SwiftASN1

/// The parameters of scrypt as a PBES2 key derivation function (RFC 7914 §7), parse only.
///
/// ```
/// scrypt-params ::= SEQUENCE {
///   salt OCTET STRING,
///   costParameter INTEGER (1..MAX),
///   blockSize INTEGER (1..MAX),
///   parallelizationParameter INTEGER (1..MAX),
///   keyLength INTEGER (1..MAX) OPTIONAL }
/// ```
///
/// The salt and the key length are skipped.
struct ScryptParameters: DERParseable {
    /// N.
    var costParameter: Int
    /// r.
    var blockSize: Int
    /// p.
    var parallelizationParameter: Int

    init(derEncoded node: ASN1Node) throws {
        self = try DER.sequence(node, identifier: .sequence) { nodes in
            _ = try ASN1OctetString(derEncoded: &nodes)
            let cost = try Int(derEncoded: &nodes)
            let blockSize = try Int(derEncoded: &nodes)
            let parallelization = try Int(derEncoded: &nodes)
            while nodes.next() != nil {}
            return ScryptParameters(
                costParameter: cost, blockSize: blockSize, parallelizationParameter: parallelization)
        }
    }

    private init(costParameter: Int, blockSize: Int, parallelizationParameter: Int) {
        self.costParameter = costParameter
        self.blockSize = blockSize
        self.parallelizationParameter = parallelizationParameter
    }
}
