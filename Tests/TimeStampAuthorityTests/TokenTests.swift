import Crypto
import DevelopmentPKI
import Foundation
import Ledger
import PKIMessages
import Signing
import SwiftASN1
import Synchronization
import Testing
import TimeStampAuthority
import X509

@Suite struct TokenTests {
    /// Checks everything RFC 3161 / RFC 5652 / RFC 5816 say about a granted token, independently of how it was built.
    func assertConformingToken(_ token: TimeStampToken, signer: SoftwareSigner, requestBytes: [UInt8]) throws {
        let signedData = token.signedData
        #expect(token.contentInfo.contentType == .CMSContentType.signedData)
        #expect(signedData.version == 3)  // RFC 5652 §5.1: eContentType is not id-data
        #expect(signedData.encapContentInfo.eContentType == .CMSContentType.tstInfo)
        let signerInfo = try #require(token.signerInfo)
        #expect(signerInfo.version == 1)  // issuerAndSerialNumber
        guard case .issuerAndSerialNumber(let sid) = signerInfo.sid else {
            Issue.record("sid is not issuerAndSerialNumber")
            return
        }
        #expect(sid.issuer == signer.certificate.issuer)
        #expect(
            Array(sid.serialNumber.contentOctets.drop { $0 == 0 })
                == Array(signer.certificate.serialNumber.bytes.drop { $0 == 0 }))
        #expect(signedData.digestAlgorithms == [signerInfo.digestAlgorithm])

        // messageDigest = hash of the eContent octets (RFC 5652 §5.4).
        let digest = try #require(signerInfo.signedAttribute(.CMSAttributeType.messageDigest)?.attrValues.first)
        let digestValue = try ASN1OctetString(asn1Any: digest).bytes
        #expect(Array(digestValue) == signer.scheme.digest.hash(Array(token.tstInfoBytes)))
        let contentType = try #require(signerInfo.signedAttribute(.CMSAttributeType.contentType)?.attrValues.first)
        #expect(try ASN1ObjectIdentifier(asn1Any: contentType) == .CMSContentType.tstInfo)

        // signingCertificateV2 (RFC 5816 §2.2.1) identifies the TSU certificate by SHA-256 and issuerSerial.
        let signingCertificate = try #require(try token.signingCertificateV2())
        let essCertID = try #require(signingCertificate.certs.first)
        var coder = DER.Serializer()
        try coder.serialize(signer.certificate)
        #expect(essCertID.hashAlgorithm == ESSCertIDv2.defaultHashAlgorithm)
        #expect(Array(essCertID.certHash) == Array(SHA256.hash(data: coder.serializedBytes)))
        #expect(essCertID.issuerSerial?.issuer == [.directoryName(signer.certificate.issuer)])

        // The signature covers the signed attributes with the SET tag and verifies with the TSU public key.
        let signedBytes = try #require(try signerInfo.signedAttributesForSignature())
        #expect(signedBytes.first == 0x31)
        #expect(
            signer.scheme.isValidSignature(
                Array(signerInfo.signature), for: signedBytes, publicKey: signer.certificate.publicKey))

        // The attributes are in DER SET OF order.
        let encoded = try #require(signerInfo.signedAttrs).map { try RawDER(encoding: $0).bytes }
        #expect(encoded == encoded.sorted { $0.lexicographicallyPrecedes($1) })

        // The imprint is the request's, byte for byte.
        let requestNode = try DER.parse(requestBytes)
        guard case .constructed(let children) = requestNode.content else { return }
        let requestImprint = Array(Array(children)[1].encodedBytes)
        let tstNode = try DER.parse(token.tstInfoBytes)
        guard case .constructed(let tstChildren) = tstNode.content else { return }
        let tokenImprint = Array(Array(tstChildren)[2].encodedBytes)
        #expect(tokenImprint == requestImprint)
    }

    @Test(arguments: [
        (DevelopmentKeyType.ecP256, false), (.ecP384, false), (.rsa2048, false), (.rsa2048, true), (.ed25519, false),
    ])
    func grantedTokenConforms(keyType: DevelopmentKeyType, pss: Bool) async throws {
        let signer = try PKIFixtures.signer(keyType, pss: pss)
        let log = MemoryAuditLog()
        let tsa = try await makeTSA(signer: signer, log: log)
        let bytes = try request()
        let outcome = await tsa.respond(to: bytes[...], clientAddress: "127.0.0.9")
        let (response, parsedToken) = try parse(outcome)
        #expect(response.status.status == .granted)
        #expect(response.status.failInfo == nil)
        let token = try #require(parsedToken)
        try assertConformingToken(token, signer: signer, requestBytes: bytes)

        let signerInfo = try #require(token.signerInfo)
        switch keyType {
        case .ecP256:
            #expect(
                signerInfo.signatureAlgorithm == AlgorithmIdentifier(algorithm: .SignatureAlgorithm.ecdsaWithSHA256))
            #expect(signerInfo.digestAlgorithm == AlgorithmIdentifier(algorithm: .HashAlgorithm.sha256))
        case .ecP384:
            #expect(
                signerInfo.signatureAlgorithm == AlgorithmIdentifier(algorithm: .SignatureAlgorithm.ecdsaWithSHA384))
            #expect(signerInfo.digestAlgorithm == AlgorithmIdentifier(algorithm: .HashAlgorithm.sha384))
        case .ed25519:
            // RFC 8419 §3.1: id-Ed25519 without parameters, SHA-512 as the digest with signed attributes.
            #expect(signerInfo.signatureAlgorithm == AlgorithmIdentifier(algorithm: .SignatureAlgorithm.ed25519))
            #expect(signerInfo.digestAlgorithm == AlgorithmIdentifier(algorithm: .HashAlgorithm.sha512))
        default:
            if pss {
                #expect(signerInfo.signatureAlgorithm.algorithm == .SignatureAlgorithm.rsassaPSS)
                let parameters = try #require(signerInfo.signatureAlgorithm.parameters)
                // SEQUENCE { [0] sha256, [1] mgf1(sha256), [2] 32 }
                let encoded = try RawDER(encoding: parameters).bytes
                #expect(encoded.suffix(5) == [0xA2, 0x03, 0x02, 0x01, 0x20])
            } else {
                #expect(
                    signerInfo.signatureAlgorithm
                        == AlgorithmIdentifier(
                            algorithm: .SignatureAlgorithm.sha256WithRSAEncryption,
                            parameters: AlgorithmIdentifier.nullParameters)
                )
            }
        }

        // The audit record describes the token the client got.
        let record = try #require(log.records.withLock { $0.first })
        #expect(record.tokenSHA256 == Array(SHA256.hash(data: Array(try #require(response.timeStampToken).bytes))))
        #expect(record.serialNumber == Array(token.tstInfo.serialNumber.contentOctets))
        #expect(record.clientAddress == "127.0.0.9")
        #expect(record.genTime == token.tstInfo.genTime.text)
        #expect(record.nonce == [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08])
        #expect(record.accuracyMicros == 500_000)
    }

    @Test func tstInfoFields() async throws {
        let signer = try PKIFixtures.signer(.ecP256)
        let tsa = try await makeTSA(signer: signer)
        let nonce: [UInt8] = [0x80] + Array(repeating: 0x11, count: 39)  // negative, 40 octets: echoed as is
        let outcome = await tsa.respond(to: try request(nonce: nonce)[...], clientAddress: nil)
        let token = try #require(try parse(outcome).1)
        let info = token.tstInfo
        #expect(info.version == 1)
        #expect(info.policy == developmentPolicy)
        #expect(Array(info.nonce?.contentOctets ?? []) == nonce)
        #expect(info.genTime.text == "20261125120000.120456Z")  // always microseconds
        #expect(info.accuracy == Accuracy(millis: 500))
        #expect(info.ordering == false)
        #expect(info.tsa == .directoryName(signer.certificate.subject))
        #expect(info.extensions == nil)
        // Serial: instance ‖ epoch ‖ counter, positive, at most 160 bits.
        #expect(
            Array(info.serialNumber.contentOctets) == [
                0x00, 0xA1, 0xB2, 0xC3, 0xD4, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 1,
            ])
        #expect(!info.serialNumber.isNegative)
        #expect(info.serialNumber.contentOctets.count <= 21)
        // The DEFAULT ordering FALSE is absent from the DER.
        #expect(!token.tstInfoBytes.windowsContain([0x01, 0x01, 0x00]))
    }

    @Test func qualifiedPolicyCarriesTheQCStatement() async throws {
        let tsa = try await makeTSA(signer: try PKIFixtures.signer(.ecP256))
        let outcome = await tsa.respond(to: try request(policy: qualifiedPolicy)[...], clientAddress: nil)
        let info = try #require(try parse(outcome).1).tstInfo
        #expect(info.policy == qualifiedPolicy)
        let extensions = try #require(info.extensions)
        #expect(extensions.count == 1)
        #expect(extensions[0].oid == .QCStatement.extensionID)
        #expect(extensions[0].critical == false)
        #expect(try extensions[0].parsedQCStatements() == [QCStatement(statementID: .QCStatement.qualifiedTimeStamp)])
    }

    @Test func certificatesOnlyWhenRequested() async throws {
        let signer = try PKIFixtures.signer(.ecP256)
        let plain = try await makeTSA(signer: signer)
        let withoutCert = try #require(
            try parse(await plain.respond(to: try request(certReq: false)[...], clientAddress: nil)).1)
        #expect(withoutCert.signedData.certificates == nil)
        let withCert = try #require(
            try parse(await plain.respond(to: try request(certReq: true)[...], clientAddress: nil)).1)
        #expect(try withCert.certificates() == [signer.certificate])

        let chained = try await makeTSA(signer: signer, configuration: makeConfiguration(includeChain: true))
        let withChain = try #require(try parse(await chained.respond(to: try request()[...], clientAddress: nil)).1)
        #expect(Set(try withChain.certificates()) == Set([signer.certificate] + signer.chain))
    }

    @Test(arguments: [
        (Int64(1_000_000), "20261125120000.120456Z"),
        (Int64(2_500_000), "20261125120000.120456Z"),
        (Int64(1000), "20261125120000.120456Z"),
        (Int64(100), "20261125120000.120456Z"),
        (Int64(0), "20261125120000.120456Z"),
    ])
    func genTimeCarriesMicrosecondsWhateverTheAccuracy(accuracy: Int64, expected: String) async throws {
        let tsa = try await makeTSA(
            signer: try PKIFixtures.signer(.ecP256), configuration: makeConfiguration(accuracyMicroseconds: accuracy))
        let info = try #require(try parse(await tsa.respond(to: try request()[...], clientAddress: nil)).1).tstInfo
        #expect(info.genTime.text == expected)
        #expect(info.accuracy == (accuracy == 0 ? nil : Accuracy(totalMicroseconds: accuracy)))
    }

    @Test func wholeSecondHasNoFraction() async throws {
        let tsa = try await makeTSA(signer: try PKIFixtures.signer(.ecP256), time: (1_795_608_000, 0))
        let info = try #require(try parse(await tsa.respond(to: try request()[...], clientAddress: nil)).1).tstInfo
        #expect(info.genTime.text == "20261125120000Z")
    }

    @Test func orderingTrueIsWritten() async throws {
        let tsa = try await makeTSA(
            signer: try PKIFixtures.signer(.ecP256), configuration: makeConfiguration(ordering: true))
        let info = try #require(try parse(await tsa.respond(to: try request()[...], clientAddress: nil)).1).tstInfo
        #expect(info.ordering)
    }

    @Test func serialsAreDistinct() async throws {
        let tsa = try await makeTSA(signer: try PKIFixtures.signer(.ecP256))
        let bytes = try request()
        let serials = try await withThrowingTaskGroup(of: String?.self) { group in
            for _ in 0..<100 {
                group.addTask { await tsa.respond(to: bytes[...], clientAddress: nil).serialHex }
            }
            var all: [String] = []
            for try await serial in group { all.append(try #require(serial)) }
            return all
        }
        #expect(Set(serials).count == 100)
    }
}

extension Collection where Element == UInt8 {
    func windowsContain(_ needle: [UInt8]) -> Bool {
        let bytes = Array(self)
        guard bytes.count >= needle.count else { return false }
        return (0...(bytes.count - needle.count)).contains { Array(bytes[$0..<($0 + needle.count)]) == needle }
    }
}
