import Crypto
import Signing

/// How a signature is made on a PIV card: what the host computes, what the card computes, and how
/// the card's answer becomes the ``Signing/Signer/sign(_:)`` result.
///
/// - ECC P-256 / P-384 (algorithms `11`, `14`): the host hashes (SHA-256 / SHA-384, as long as the
///   field, SP 800-73-4 Part 2 §3.2.4); the card answers a DER `ECDSA-Sig-Value`, re-encoded here to
///   make sure it is one.
/// - RSA-2048 (algorithm `07`): the card computes the raw RSA private-key operation only, so the host
///   builds the whole EMSA-PKCS1-v1_5 block (RFC 8017 §9.2): `00 01 FF…FF 00 DigestInfo`.
struct PIVSigningPlan: Sendable {
    let algorithm: PIVAlgorithm
    let scheme: SignatureScheme

    /// The octets the card signs for `message`.
    func input(for message: [UInt8]) -> [UInt8] {
        let digest = self.scheme.digest.hash(message)
        guard self.algorithm == .rsa2048 else { return digest }
        let digestInfo = Self.digestInfoPrefix(self.scheme.digest) + digest
        let padding = self.algorithm.inputLength - 3 - digestInfo.count
        return [0x00, 0x01] + [UInt8](repeating: 0xFF, count: padding) + [0x00] + digestInfo
    }

    /// The signature from the card's answer.
    ///
    /// - Throws: ``SmartCardError/ErrorCode/malformedResponse`` when an ECDSA answer is not a DER
    ///   `ECDSA-Sig-Value`, or an RSA answer is longer than the modulus.
    func signature(fromCardOutput output: [UInt8], reader: String) throws(SmartCardError) -> [UInt8] {
        switch self.algorithm {
        case .eccP256:
            guard let parsed = try? P256.Signing.ECDSASignature(derRepresentation: output) else {
                throw Self.malformed(reader, "a DER ECDSA-Sig-Value for P-256")
            }
            return Array(parsed.derRepresentation)
        case .eccP384:
            guard let parsed = try? P384.Signing.ECDSASignature(derRepresentation: output) else {
                throw Self.malformed(reader, "a DER ECDSA-Sig-Value for P-384")
            }
            return Array(parsed.derRepresentation)
        default:
            let length = self.algorithm.inputLength
            guard output.count <= length else {
                throw Self.malformed(reader, "an RSA signature of at most \(length) octets")
            }
            // A card may drop leading zero octets; a signature is as long as the modulus.
            return [UInt8](repeating: 0, count: length - output.count) + output
        }
    }

    private static func malformed(_ reader: String, _ expected: String) -> SmartCardError {
        SmartCardError(
            code: .malformedResponse,
            reason: "the card in \"\(reader)\" answered GENERAL AUTHENTICATE with something other than \(expected)"
        )
    }

    /// The DER of `DigestInfo ::= SEQUENCE { digestAlgorithm AlgorithmIdentifier, digest OCTET STRING }`
    /// up to the digest (RFC 8017 §9.2, note 1).
    static func digestInfoPrefix(_ digest: DigestAlgorithm) -> [UInt8] {
        let (arc, length): (UInt8, UInt8) =
            if digest == .sha384 {
                (0x02, 0x30)
            } else if digest == .sha512 {
                (0x03, 0x40)
            } else {
                (0x01, 0x20)
            }
        return [
            0x30, 0x11 + length, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, arc, 0x05,
            0x00,
            0x04, length,
        ]
    }
}
