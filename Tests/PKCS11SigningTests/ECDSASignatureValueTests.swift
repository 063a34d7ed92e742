import Crypto
import PKCS11Signing
import Testing

@Suite("PKCS11 ECDSA r‖s to DER")
struct ECDSASignatureValueTests {
    @Test("minimal INTEGERs: leading zero octets dropped, a zero octet added before a set high bit")
    func minimalIntegers() throws {
        // r = 00 00 01 02 (leading zeros), s = 80 00 00 01 (high bit set).
        let raw: [UInt8] = [0x00, 0x00, 0x01, 0x02, 0x80, 0x00, 0x00, 0x01]
        let der = try #require(ECDSASignatureValue.derEncoded(rawSignature: raw))
        #expect(der == [0x30, 0x0B, 0x02, 0x02, 0x01, 0x02, 0x02, 0x05, 0x00, 0x80, 0x00, 0x00, 0x01])
    }

    @Test("a leading zero before a set high bit is kept as the one zero octet")
    func zeroBeforeHighBit() throws {
        // r = 00 00 FF, s = 00 7F 01: r needs exactly one 00, s none.
        let raw: [UInt8] = [0x00, 0x00, 0xFF, 0x00, 0x7F, 0x01]
        let der = try #require(ECDSASignatureValue.derEncoded(rawSignature: raw))
        #expect(der == [0x30, 0x08, 0x02, 0x02, 0x00, 0xFF, 0x02, 0x02, 0x7F, 0x01])
    }

    @Test("odd lengths, empty input and zero halves are refused")
    func refusesMalformed() {
        #expect(ECDSASignatureValue.derEncoded(rawSignature: []) == nil)
        #expect(ECDSASignatureValue.derEncoded(rawSignature: [1, 2, 3]) == nil)
        #expect(ECDSASignatureValue.derEncoded(rawSignature: [0, 0, 1, 2]) == nil)
        #expect(ECDSASignatureValue.derEncoded(rawSignature: [1, 2, 0, 0]) == nil)
    }

    @Test("agrees with swift-crypto's DER for P-256, P-384 and P-521 (long-form length)")
    func agreesWithSwiftCrypto() throws {
        let message = Array("ECDSA-Sig-Value".utf8)
        for _ in 0..<64 {
            let p256 = try P256.Signing.PrivateKey().signature(for: message)
            #expect(
                ECDSASignatureValue.derEncoded(rawSignature: Array(p256.rawRepresentation))
                    == Array(p256.derRepresentation))
            let p384 = try P384.Signing.PrivateKey().signature(for: message)
            #expect(
                ECDSASignatureValue.derEncoded(rawSignature: Array(p384.rawRepresentation))
                    == Array(p384.derRepresentation))
            let p521 = try P521.Signing.PrivateKey().signature(for: message)
            let der = try #require(ECDSASignatureValue.derEncoded(rawSignature: Array(p521.rawRepresentation)))
            #expect(der == Array(p521.derRepresentation))
            if der.count > 129 {
                #expect(der[1] == 0x81)
            }
        }
    }
}
