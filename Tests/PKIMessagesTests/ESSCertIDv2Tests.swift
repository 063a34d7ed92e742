import Foundation
import PKIMessages
import SwiftASN1
import Testing
import X509

@Suite("ESSCertIDv2, IssuerSerial, SigningCertificateV2")
struct ESSCertIDv2Tests {
    static let hash32 = [UInt8](repeating: 0x11, count: 32)
    static let hash48 = [UInt8](repeating: 0x22, count: 48)

    @Test("SHA-256 without parameters is the DEFAULT and is left out (RFC 5035 §3)")
    func defaultHashAlgorithmOmitted() throws {
        let id = ESSCertIDv2(certHash: Self.hash32[...], issuerSerial: nil)
        #expect(id.hashAlgorithm == AlgorithmIdentifier(algorithm: .HashAlgorithm.sha256))
        #expect(hex(try assertRoundTrips(id)) == hex(tlv(0x30, tlv(0x04, Self.hash32))))
        #expect(hex(try assertRoundTrips(id)).hasPrefix("30 22 04 20"))
    }

    @Test("SHA-384 is written")
    func sha384Written() throws {
        let id = ESSCertIDv2(
            hashAlgorithm: AlgorithmIdentifier(algorithm: .HashAlgorithm.sha384),
            certHash: Self.hash48[...],
            issuerSerial: nil
        )
        let expected = tlv(0x30, tlv(0x30, Vector.sha384OID), tlv(0x04, Self.hash48))
        #expect(hex(try assertRoundTrips(id)) == hex(expected))
        #expect(hex(expected).hasPrefix("30 3F 30 0B 06 09 60 86 48 01 65 03 04 02 02 04 30"))
    }

    @Test("SHA-256 with NULL parameters is not the DEFAULT value and is written")
    func sha256WithNullWritten() throws {
        let id = ESSCertIDv2(
            hashAlgorithm: AlgorithmIdentifier(
                algorithm: .HashAlgorithm.sha256, parameters: AlgorithmIdentifier.nullParameters),
            certHash: Self.hash32[...],
            issuerSerial: nil
        )
        let expected = tlv(0x30, tlv(0x30, Vector.sha256OID, Vector.null), tlv(0x04, Self.hash32))
        #expect(hex(try assertRoundTrips(id)) == hex(expected))
    }

    @Test("IssuerSerial holds GeneralNames with a [4] EXPLICIT directoryName")
    func issuerSerialBytes() throws {
        let issuer = try DistinguishedName { CommonName("Sigillum TSU") }
        let issuerDER = tlv(
            0x30, tlv(0x31, tlv(0x30, bytes(fromHex: "06 03 55 04 03"), tlv(0x0C, Array("Sigillum TSU".utf8)))))
        let issuerSerial = IssuerSerial(
            issuer: [.directoryName(issuer)],
            serialNumber: DERInteger(unsignedMagnitude: [0x8A, 0x0B, 0x0C, 0x0D])
        )
        let expected = tlv(0x30, tlv(0x30, tlv(0xA4, issuerDER)), bytes(fromHex: "02 05 00 8A 0B 0C 0D"))
        #expect(hex(try assertRoundTrips(issuerSerial)) == hex(expected))

        let id = ESSCertIDv2(certHash: Self.hash32[...], issuerSerial: issuerSerial)
        #expect(hex(try assertRoundTrips(id)) == hex(tlv(0x30, tlv(0x04, Self.hash32), expected)))

        let attribute = SigningCertificateV2(certs: [id])
        #expect(
            hex(try assertRoundTrips(attribute))
                == hex(tlv(0x30, tlv(0x30, tlv(0x30, tlv(0x04, Self.hash32), expected)))))
    }

    @Test("hand-built encodings parse: the DEFAULT fills in, other algorithms are kept")
    func parsing() throws {
        let omitted = try assertReencodes(ESSCertIDv2.self, tlv(0x30, tlv(0x04, Self.hash32)))
        #expect(omitted.hashAlgorithm == ESSCertIDv2.defaultHashAlgorithm)
        #expect(Array(omitted.certHash) == Self.hash32)
        #expect(omitted.issuerSerial == nil)

        let sha384 = try assertReencodes(
            ESSCertIDv2.self, tlv(0x30, tlv(0x30, Vector.sha384OID), tlv(0x04, Self.hash48)))
        #expect(sha384.hashAlgorithm.algorithm == .HashAlgorithm.sha384)
        #expect(sha384.hashAlgorithm.parameters == nil)

        let policies = tlv(0x30, tlv(0x30, bytes(fromHex: "06 03 2A 03 04")))
        let withPolicies = tlv(0x30, tlv(0x30, tlv(0x30, tlv(0x04, Self.hash32))), policies)
        let attribute = try assertReencodes(SigningCertificateV2.self, withPolicies)
        #expect(attribute.policies.map { Array($0.bytes) } == policies)
        #expect(attribute.certs.count == 1)
    }

    @Test(
        "malformed ESSCertIDv2 fails to parse",
        arguments: [
            tlv(0x30),  // no certHash
            tlv(0x30, tlv(0x30, Vector.sha256OID)),  // an algorithm but no certHash
            tlv(0x30, tlv(0x02, [0x01])),  // certHash not an OCTET STRING
            tlv(0x30, tlv(0x04, [0x01]), tlv(0x30, tlv(0x30), [0x02, 0x01, 0x01]), [0x05, 0x00]),  // a trailing field
            tlv(0x30, tlv(0x04, [0x01]), tlv(0x30, tlv(0x31), [0x02, 0x01, 0x01])),  // GeneralNames as a SET
            tlv(0x30, tlv(0x04, [0x01]), tlv(0x30, tlv(0x30, tlv(0xA4, tlv(0x30))))),  // IssuerSerial without serial
        ]
    )
    func malformed(encoded: [UInt8]) throws {
        #expect(throws: (any Error).self) { try ESSCertIDv2(derEncoded: encoded) }
    }

    /// `openssl cms -sign -cades` writes signingCertificateV2 with issuerSerial; ours, built from the same
    /// certificate, must be the same bytes.
    @Test("ESSCertIDv2 from a certificate equals openssl cms -sign -cades", arguments: ["sha256", "sha384"])
    func matchesOpenSSLCAdES(digest: String) throws {
        try withTemporaryDirectory { directory in
            let tsa = try OpenSSLTSA(in: directory)
            try writeFile("CAdES content\n", named: "content.txt", in: directory)
            try openssl(
                [
                    "cms", "-sign", "-cades", "-md", digest, "-binary", "-nodetach", "-in", "content.txt",
                    "-signer", "tsu.pem", "-inkey", "tsu.key", "-outform", "DER", "-out", "cades.der",
                ],
                in: directory
            )
            let contentInfo = try ContentInfo(derEncoded: try readFile(named: "cades.der", in: directory))
            let signedData = try SignedData(derEncoded: contentInfo.content.bytes)
            let signerInfo = try #require(signedData.signerInfos.first)
            let value = try #require(
                signerInfo.signedAttribute(.CMSAttributeType.signingCertificateV2)?.attrValues.first)
            let fromOpenSSL = try derBytes(value)

            let certificateDER = try tsa.tsuCertificate()
            let certificate = try Certificate(derEncoded: certificateDER)
            let algorithm =
                digest == "sha256"
                ? ESSCertIDv2.defaultHashAlgorithm : AlgorithmIdentifier(algorithm: .HashAlgorithm.sha384)
            let ours = SigningCertificateV2(certs: [
                ESSCertIDv2(
                    hashAlgorithm: algorithm,
                    certHash: try opensslDigest(digest, of: certificateDER, in: directory)[...],
                    issuerSerial: IssuerSerial(certificate: certificate)
                )
            ])
            #expect(hex(try derBytes(ours)) == hex(fromOpenSSL))
            let parsed = try SigningCertificateV2(derEncoded: fromOpenSSL)
            #expect(parsed == ours)
            #expect(
                parsed.certs.first?.issuerSerial.map { Array($0.serialNumber.contentOctets) } == [0x00]
                    + OpenSSLTSA.tsuSerial)
            #expect(parsed.certs.first?.issuerSerial?.issuer == [.directoryName(certificate.issuer)])
        }
    }
}
