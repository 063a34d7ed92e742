import PKIMessages
import SwiftASN1

/// The password integrity check of a PKCS#12 file (RFC 7292 §4), parse only.
///
/// ```
/// MacData ::= SEQUENCE {
///   mac        DigestInfo,
///   macSalt    OCTET STRING,
///   iterations INTEGER DEFAULT 1 }
///
/// DigestInfo ::= SEQUENCE {
///   digestAlgorithm DigestAlgorithmIdentifier,
///   digest          Digest }
/// ```
///
/// The digest and the salt are skipped.
struct MacData: DERParseable {
    var digestAlgorithm: ASN1ObjectIdentifier
    var iterations: Int

    init(derEncoded node: ASN1Node) throws {
        self = try DER.sequence(node, identifier: .sequence) { nodes in
            guard let mac = nodes.next() else {
                throw ASN1Error.invalidASN1Object(reason: "MacData without a DigestInfo")
            }
            let digestAlgorithm = try DER.sequence(mac, identifier: .sequence) { digestInfo in
                let algorithm = try AlgorithmIdentifier(derEncoded: &digestInfo)
                _ = try ASN1OctetString(derEncoded: &digestInfo)
                return algorithm.algorithm
            }
            _ = try ASN1OctetString(derEncoded: &nodes)
            let iterations = try nodes.next().map { try Int(derEncoded: $0) } ?? 1
            return MacData(digestAlgorithm: digestAlgorithm, iterations: iterations)
        }
    }

    private init(digestAlgorithm: ASN1ObjectIdentifier, iterations: Int) {
        self.digestAlgorithm = digestAlgorithm
        self.iterations = iterations
    }
}
