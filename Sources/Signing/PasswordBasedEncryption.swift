import PKIMessages
import SwiftASN1

/// How a key file protects a part with a password, described for people (`sigillum keys inspect`).
///
/// Built from the AlgorithmIdentifier of an encrypted PKCS#8 key (RFC 5958 §3), of a PKCS#12 shrouded
/// key bag or of a PKCS#12 EncryptedData: PBES2 (RFC 8018 §6.2) with PBKDF2 or scrypt (RFC 7914),
/// PBES1 (RFC 8018 §6.1), or one of the PKCS#12 PBE algorithms (RFC 7292 Appendix C). Names follow
/// OpenSSL's (`openssl pkcs12 -info`). Unknown algorithms show as their OID.
struct PasswordBasedEncryption: Sendable, Hashable, CustomStringConvertible {
    /// Such as `PBES2 with AES-256-CBC, key from PBKDF2 (hmacWithSHA256, 2048 iterations)`.
    var description: String

    /// Whether OpenSSL 3 offers the algorithm only in its legacy provider (RC2, RC4, single DES, MD2).
    var needsLegacyProvider: Bool

    init(_ algorithm: AlgorithmIdentifier) {
        let iterations = algorithm.parameters.flatMap { try? PBEParameters(asn1Any: $0).iterationCount }
        let suffix = iterations.map { " (\($0) iterations)" } ?? ""
        switch algorithm.algorithm {
        case .PasswordBasedEncryption.pbes2:
            guard let parameters = algorithm.parameters.flatMap({ try? PBES2Parameters(asn1Any: $0) }) else {
                self.init(description: "PBES2 (parameters do not decode)", needsLegacyProvider: false)
                return
            }
            let cipher = parameters.encryptionScheme.algorithm
            let legacyCipher = cipher == .PBES2Cipher.desCBC || cipher == .PBES2Cipher.rc2CBC
            self.init(
                description: "PBES2 with \(Self.cipherName(cipher)), key from "
                    + Self.keyDerivation(parameters.keyDerivationFunction),
                needsLegacyProvider: legacyCipher
            )
        case .PKCS12PBE.sha1And128BitRC4:
            self.init(description: "pbeWithSHA1And128BitRC4\(suffix)", needsLegacyProvider: true)
        case .PKCS12PBE.sha1And40BitRC4:
            self.init(description: "pbeWithSHA1And40BitRC4\(suffix)", needsLegacyProvider: true)
        case .PKCS12PBE.sha1And3KeyTripleDESCBC:
            self.init(description: "pbeWithSHA1And3-KeyTripleDES-CBC\(suffix)", needsLegacyProvider: false)
        case .PKCS12PBE.sha1And2KeyTripleDESCBC:
            self.init(description: "pbeWithSHA1And2-KeyTripleDES-CBC\(suffix)", needsLegacyProvider: false)
        case .PKCS12PBE.sha1And128BitRC2CBC:
            self.init(description: "pbeWithSHA1And128BitRC2-CBC\(suffix)", needsLegacyProvider: true)
        case .PKCS12PBE.sha1And40BitRC2CBC:
            self.init(description: "pbeWithSHA1And40BitRC2-CBC\(suffix)", needsLegacyProvider: true)
        case .PasswordBasedEncryption.pbeWithMD2AndDESCBC:
            self.init(description: "PBES1 pbeWithMD2AndDES-CBC\(suffix)", needsLegacyProvider: true)
        case .PasswordBasedEncryption.pbeWithMD5AndDESCBC:
            self.init(description: "PBES1 pbeWithMD5AndDES-CBC\(suffix)", needsLegacyProvider: true)
        case .PasswordBasedEncryption.pbeWithMD2AndRC2CBC:
            self.init(description: "PBES1 pbeWithMD2AndRC2-CBC\(suffix)", needsLegacyProvider: true)
        case .PasswordBasedEncryption.pbeWithMD5AndRC2CBC:
            self.init(description: "PBES1 pbeWithMD5AndRC2-CBC\(suffix)", needsLegacyProvider: true)
        case .PasswordBasedEncryption.pbeWithSHA1AndDESCBC:
            self.init(description: "PBES1 pbeWithSHA1AndDES-CBC\(suffix)", needsLegacyProvider: true)
        case .PasswordBasedEncryption.pbeWithSHA1AndRC2CBC:
            self.init(description: "PBES1 pbeWithSHA1AndRC2-CBC\(suffix)", needsLegacyProvider: true)
        default:
            self.init(description: "OID \(algorithm.algorithm)", needsLegacyProvider: false)
        }
    }

    init(description: String, needsLegacyProvider: Bool) {
        self.description = description
        self.needsLegacyProvider = needsLegacyProvider
    }

    private static func keyDerivation(_ function: AlgorithmIdentifier) -> String {
        switch function.algorithm {
        case .PasswordBasedEncryption.pbkdf2:
            guard let parameters = function.parameters.flatMap({ try? PBKDF2Parameters(asn1Any: $0) }) else {
                return "PBKDF2 (parameters do not decode)"
            }
            return "PBKDF2 (\(Self.prfName(parameters.pseudoRandomFunction)), \(parameters.iterationCount) iterations)"
        case .PasswordBasedEncryption.scrypt:
            guard let parameters = function.parameters.flatMap({ try? ScryptParameters(asn1Any: $0) }) else {
                return "scrypt (parameters do not decode)"
            }
            return """
                scrypt (N=\(parameters.costParameter), r=\(parameters.blockSize), \
                p=\(parameters.parallelizationParameter))
                """
        default:
            return "OID \(function.algorithm)"
        }
    }

    private static func prfName(_ prf: ASN1ObjectIdentifier) -> String {
        switch prf {
        case .PBKDF2PRF.hmacWithSHA1: "hmacWithSHA1"
        case .PBKDF2PRF.hmacWithSHA224: "hmacWithSHA224"
        case .PBKDF2PRF.hmacWithSHA256: "hmacWithSHA256"
        case .PBKDF2PRF.hmacWithSHA384: "hmacWithSHA384"
        case .PBKDF2PRF.hmacWithSHA512: "hmacWithSHA512"
        default: "PRF OID \(prf)"
        }
    }

    static func cipherName(_ cipher: ASN1ObjectIdentifier) -> String {
        switch cipher {
        case .PBES2Cipher.aes128CBC: "AES-128-CBC"
        case .PBES2Cipher.aes192CBC: "AES-192-CBC"
        case .PBES2Cipher.aes256CBC: "AES-256-CBC"
        case .PBES2Cipher.desEDE3CBC: "DES-EDE3-CBC"
        case .PBES2Cipher.desCBC: "DES-CBC"
        case .PBES2Cipher.rc2CBC: "RC2-CBC"
        default: "cipher OID \(cipher)"
        }
    }

    /// The name of a hash, such as `SHA-256`, for PKCS#12 MACs.
    static func digestName(_ digest: ASN1ObjectIdentifier) -> String {
        switch digest {
        case .HashAlgorithm.md5: "MD5"
        case .HashAlgorithm.sha1: "SHA-1"
        case .HashAlgorithm.sha256: "SHA-256"
        case .HashAlgorithm.sha384: "SHA-384"
        case .HashAlgorithm.sha512: "SHA-512"
        default: "digest OID \(digest)"
        }
    }
}
