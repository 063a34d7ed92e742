import PKIMessages
import SwiftASN1

/// The parameters of PBKDF2 (RFC 8018 §A.2), parse only.
///
/// ```
/// PBKDF2-params ::= SEQUENCE {
///   salt CHOICE {
///     specified OCTET STRING,
///     otherSource AlgorithmIdentifier {{PBKDF2-SaltSources}}
///   },
///   iterationCount INTEGER (1..MAX),
///   keyLength INTEGER (1..MAX) OPTIONAL,
///   prf AlgorithmIdentifier {{PBKDF2-PRFs}} DEFAULT algid-hmacWithSHA1 }
/// ```
///
/// The salt and the key length are skipped; an absent `prf` is hmacWithSHA1.
struct PBKDF2Parameters: DERParseable {
    var iterationCount: Int
    var pseudoRandomFunction: ASN1ObjectIdentifier

    init(derEncoded node: ASN1Node) throws {
        self = try DER.sequence(node, identifier: .sequence) { nodes in
            guard nodes.next() != nil else {
                throw ASN1Error.invalidASN1Object(reason: "PBKDF2-params without a salt")
            }
            let iterationCount = try Int(derEncoded: &nodes)
            guard iterationCount >= 1 else {
                throw ASN1Error.invalidASN1Object(reason: "PBKDF2 iteration count \(iterationCount)")
            }
            var prf = ASN1ObjectIdentifier.PBKDF2PRF.hmacWithSHA1
            while let next = nodes.next() {
                if next.identifier == .sequence {
                    prf = try AlgorithmIdentifier(derEncoded: next).algorithm
                }
            }
            return PBKDF2Parameters(iterationCount: iterationCount, pseudoRandomFunction: prf)
        }
    }

    private init(iterationCount: Int, pseudoRandomFunction: ASN1ObjectIdentifier) {
        self.iterationCount = iterationCount
        self.pseudoRandomFunction = pseudoRandomFunction
    }
}
