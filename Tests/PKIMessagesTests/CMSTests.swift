import Foundation
import PKIMessages
import SwiftASN1
import Testing
import X509

/// Hand-built CMS pieces (RFC 5652), written with `tlv` independently of the code under test.
enum CMSVector {
    static let contentTypeOID = bytes(fromHex: "06 09 2A 86 48 86 F7 0D 01 09 03")
    static let messageDigestOID = bytes(fromHex: "06 09 2A 86 48 86 F7 0D 01 09 04")
    static let signingCertificateV2OID = bytes(fromHex: "06 0B 2A 86 48 86 F7 0D 01 09 10 02 2F")
    static let tstInfoOID = bytes(fromHex: "06 0B 2A 86 48 86 F7 0D 01 09 10 01 04")
    static let dataOID = bytes(fromHex: "06 09 2A 86 48 86 F7 0D 01 07 01")
    static let signedDataOID = bytes(fromHex: "06 09 2A 86 48 86 F7 0D 01 07 02")
    /// ecdsa-with-SHA256 without parameters (RFC 5758 §3.2).
    static let ecdsaWithSHA256 = bytes(fromHex: "30 0A 06 08 2A 86 48 CE 3D 04 03 02")

    static let issuerName = tlv(
        0x30,
        tlv(0x31, tlv(0x30, bytes(fromHex: "06 03 55 04 03"), tlv(0x0C, Array("Sigillum Test CA".utf8))))
    )
    static let issuerAndSerialNumber = tlv(0x30, issuerName, bytes(fromHex: "02 05 00 8A 0B 0C 0D"))

    /// 30 1A: contentType = id-ct-TSTInfo.
    static let contentTypeAttribute = tlv(0x30, contentTypeOID, tlv(0x31, tstInfoOID))
    /// 30 2F: messageDigest = 32 octets of 0x5A.
    static let messageDigestAttribute = tlv(
        0x30,
        messageDigestOID,
        tlv(0x31, tlv(0x04, [UInt8](repeating: 0x5A, count: 32)))
    )
    /// 30 37: signingCertificateV2 with one ESSCertIDv2 (SHA-256 DEFAULT, no issuerSerial).
    static let signingCertificateV2Attribute = tlv(
        0x30,
        signingCertificateV2OID,
        tlv(0x31, tlv(0x30, tlv(0x30, tlv(0x30, tlv(0x04, [UInt8](repeating: 0x11, count: 32))))))
    )
    /// The three attributes in DER SET OF order (by encoding: 30 1A < 30 2F < 30 37); 134 octets, so the `[0]`
    /// needs a long-form length.
    static let sortedAttributes = contentTypeAttribute + messageDigestAttribute + signingCertificateV2Attribute

    static let signature: [UInt8] = [0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02]

    static func signerInfo(
        signedAttributes: [UInt8]? = sortedAttributes,
        unsignedAttributes: [UInt8]? = nil,
        trailer: [UInt8] = []
    ) -> [UInt8] {
        tlv(
            0x30,
            [0x02, 0x01, 0x01],
            issuerAndSerialNumber,
            tlv(0x30, Vector.sha256OID, Vector.null),
            signedAttributes.map { tlv(0xA0, $0) } ?? [],
            ecdsaWithSHA256,
            tlv(0x04, signature),
            unsignedAttributes.map { tlv(0xA1, $0) } ?? [],
            trailer
        )
    }

    static func attributes() throws -> (
        contentType: CMSAttribute, messageDigest: CMSAttribute, signingCertificateV2: CMSAttribute
    ) {
        (
            try CMSAttribute(derEncoded: contentTypeAttribute),
            try CMSAttribute(derEncoded: messageDigestAttribute),
            try CMSAttribute(derEncoded: signingCertificateV2Attribute)
        )
    }

    static func builtSignerInfo(signedAttrs: [CMSAttribute]?) throws -> SignerInfo {
        SignerInfo(
            version: 1,
            sid: .issuerAndSerialNumber(try IssuerAndSerialNumber(derEncoded: issuerAndSerialNumber)),
            digestAlgorithm: AlgorithmIdentifier(
                algorithm: .HashAlgorithm.sha256, parameters: AlgorithmIdentifier.nullParameters),
            signedAttrs: signedAttrs,
            signatureAlgorithm: AlgorithmIdentifier(algorithm: .SignatureAlgorithm.ecdsaWithSHA256),
            signature: signature[...]
        )
    }
}

@Suite("CMS: ContentInfo, SignedData, SignerInfo, attributes")
struct CMSTests {
    // MARK: SignerInfo and signed attributes

    @Test("signedAttributesForSignature of a parsed SignerInfo swaps A0 for 31 and keeps the rest byte for byte")
    func signedAttributesOfParsed() throws {
        let encoded = CMSVector.signerInfo()
        let signerInfo = try assertReencodes(SignerInfo.self, encoded)
        let received = tlv(0xA0, CMSVector.sortedAttributes)
        #expect(hex(received.prefix(3)) == "A0 81 86")
        #expect(signerInfo.signedAttrsEncoding.map { Array($0) } == received)
        let forSignature = try #require(try signerInfo.signedAttributesForSignature())
        #expect(hex(forSignature) == hex([0x31] + received.dropFirst()))
        #expect(hex(forSignature) == hex(tlv(0x31, CMSVector.sortedAttributes)))
        #expect(signerInfo.signedAttrs?.count == 3)
        #expect(signerInfo.signedAttribute(.CMSAttributeType.messageDigest)?.attrValues.count == 1)
        #expect(signerInfo.signedAttribute(.CMSAttributeType.signingTime) == nil)
    }

    @Test("signed attributes given unsorted come out sorted by encoding (X.690 §11.6)")
    func signedAttributesSorted() throws {
        let attributes = try CMSVector.attributes()
        let unsorted = [attributes.signingCertificateV2, attributes.messageDigest, attributes.contentType]
        let signerInfo = try CMSVector.builtSignerInfo(signedAttrs: unsorted)
        #expect(hex(try derBytes(signerInfo)) == hex(CMSVector.signerInfo()))
        #expect(
            hex(try #require(try signerInfo.signedAttributesForSignature()))
                == hex(tlv(0x31, CMSVector.sortedAttributes)))
        // Without signed attributes there is nothing to sign but the content.
        let bare = try CMSVector.builtSignerInfo(signedAttrs: nil)
        #expect(try bare.signedAttributesForSignature() == nil)
        #expect(hex(try assertRoundTrips(bare)) == hex(CMSVector.signerInfo(signedAttributes: nil)))
    }

    @Test(
        "a SignerInfo built with signed attributes equals itself after a DER round trip"
    )
    func builtSignerInfoRoundTrip() throws {
        let attributes = try CMSVector.attributes()
        let built = try CMSVector.builtSignerInfo(
            signedAttrs: [attributes.contentType, attributes.messageDigest, attributes.signingCertificateV2]
        )
        let parsed = try SignerInfo(derEncoded: try derBytes(built))
        #expect(parsed.signedAttrs == built.signedAttrs)
        #expect(hex(try derBytes(parsed)) == hex(try derBytes(built)))
        // Equality ignores the cached `signedAttrsEncoding`, nil when built and the received bytes when parsed.
        do {
            #expect(parsed == built)
        }
    }

    @Test(
        "changing signedAttrs of a parsed SignerInfo changes what is encoded and signed"
    )
    func mutatedSignedAttributes() throws {
        var signerInfo = try SignerInfo(derEncoded: CMSVector.signerInfo())
        signerInfo.signedAttrs = [try CMSAttribute(derEncoded: CMSVector.contentTypeAttribute)]
        let encoded = try derBytes(signerInfo)
        let forSignature = try #require(try signerInfo.signedAttributesForSignature())
        do {
            #expect(hex(encoded) == hex(CMSVector.signerInfo(signedAttributes: CMSVector.contentTypeAttribute)))
            #expect(hex(forSignature) == hex(tlv(0x31, CMSVector.contentTypeAttribute)))
        }
    }

    @Test("[1] IMPLICIT unsigned attributes are parsed and kept, outside what is signed")
    func unsignedAttributes() throws {
        // id-aa-timeStampToken (1.2.840.113549.1.9.16.2.14) holding an empty SEQUENCE, as a countersignature slot.
        let attribute = tlv(0x30, bytes(fromHex: "06 0B 2A 86 48 86 F7 0D 01 09 10 02 0E"), tlv(0x31, tlv(0x30)))
        let signerInfo = try assertReencodes(SignerInfo.self, CMSVector.signerInfo(unsignedAttributes: attribute))
        #expect(signerInfo.unsignedAttrs == [try CMSAttribute(derEncoded: attribute)])
        #expect(signerInfo.unsignedAttrs?.first?.attrType == [1, 2, 840, 113_549, 1, 9, 16, 2, 14])
        #expect(try signerInfo.signedAttributesForSignature() == tlv(0x31, CMSVector.sortedAttributes))
        // An unknown [2] after them is refused.
        let trailing = CMSVector.signerInfo(unsignedAttributes: attribute, trailer: [0x82, 0x00])
        #expect(throws: (any Error).self) { try SignerInfo(derEncoded: trailing) }
    }

    @Test("signed attributes received unsorted are not DER and fail to parse")
    func unsortedSignedAttributesRejected() throws {
        let unsorted = CMSVector.messageDigestAttribute + CMSVector.contentTypeAttribute
        #expect(throws: (any Error).self) {
            try SignerInfo(derEncoded: CMSVector.signerInfo(signedAttributes: unsorted))
        }
    }

    @Test("the values of a CMSAttribute are a SET OF, sorted by encoding")
    func attributeValuesSorted() throws {
        let attribute = CMSAttribute(
            attrType: .CMSAttributeType.signingTime,
            attrValues: [try ASN1Any(erasing: 2), try ASN1Any(erasing: 1)]
        )
        #expect(hex(try derBytes(attribute)) == "30 13 06 09 2A 86 48 86 F7 0D 01 09 05 31 06 02 01 01 02 01 02")
        #expect(
            try CMSAttribute(derEncoded: derBytes(attribute)).attrValues == [
                try ASN1Any(erasing: 1), try ASN1Any(erasing: 2),
            ])
    }

    @Test("SignerIdentifier: subjectKeyIdentifier is [0] IMPLICIT OCTET STRING, issuerAndSerialNumber a SEQUENCE")
    func signerIdentifier() throws {
        let keyID = [UInt8](repeating: 0xC3, count: 20)
        let ski = SignerIdentifier.subjectKeyIdentifier(keyID[...])
        #expect(hex(try derBytes(ski)) == hex(tlv(0x80, keyID)))
        #expect(try SignerIdentifier(derEncoded: tlv(0x80, keyID)) == ski)
        let issuerAndSerial = try SignerIdentifier(derEncoded: CMSVector.issuerAndSerialNumber)
        #expect(hex(try derBytes(issuerAndSerial)) == hex(CMSVector.issuerAndSerialNumber))
        guard case .issuerAndSerialNumber(let value) = issuerAndSerial else {
            Issue.record("expected issuerAndSerialNumber, got \(issuerAndSerial)")
            return
        }
        #expect(value.serialNumber.contentOctets == [0x00, 0x8A, 0x0B, 0x0C, 0x0D])
        #expect(throws: (any Error).self) { try SignerIdentifier(derEncoded: tlv(0xA1, tlv(0x04, keyID))) }
    }

    // MARK: SignedData, EncapsulatedContentInfo, ContentInfo

    static func builtSignedData(digestAlgorithms: [AlgorithmIdentifier]) throws -> SignedData {
        SignedData(
            version: 3,
            digestAlgorithms: digestAlgorithms,
            encapContentInfo: EncapsulatedContentInfo(eContentType: .CMSContentType.tstInfo, eContent: [1, 2, 3]),
            certificates: [RawDER(trustedEncoding: tlv(0x30, [0x02, 0x01, 0x07])[...])],
            signerInfos: [try CMSVector.builtSignerInfo(signedAttrs: nil)]
        )
    }

    @Test("SignedData round-trips byte for byte")
    func signedDataRoundTrip() throws {
        let sha256 = AlgorithmIdentifier(
            algorithm: .HashAlgorithm.sha256, parameters: AlgorithmIdentifier.nullParameters)
        let signedData = try Self.builtSignedData(digestAlgorithms: [sha256])
        let expected = tlv(
            0x30,
            [0x02, 0x01, 0x03],
            tlv(0x31, tlv(0x30, Vector.sha256OID, Vector.null)),
            tlv(0x30, CMSVector.tstInfoOID, tlv(0xA0, tlv(0x04, [1, 2, 3]))),
            tlv(0xA0, tlv(0x30, [0x02, 0x01, 0x07])),
            tlv(0x31, CMSVector.signerInfo(signedAttributes: nil))
        )
        #expect(hex(try assertRoundTrips(signedData)) == hex(expected))

        let contentInfo = ContentInfo(
            contentType: .CMSContentType.signedData, content: try RawDER(encoding: signedData))
        #expect(hex(try assertRoundTrips(contentInfo)) == hex(tlv(0x30, CMSVector.signedDataOID, tlv(0xA0, expected))))

        // And with signed attributes, from bytes.
        let withAttributes = tlv(
            0x30,
            [0x02, 0x01, 0x03],
            tlv(0x31, tlv(0x30, Vector.sha256OID, Vector.null)),
            tlv(0x30, CMSVector.tstInfoOID, tlv(0xA0, tlv(0x04, [1, 2, 3]))),
            tlv(0x31, CMSVector.signerInfo())
        )
        let parsed = try assertReencodes(SignedData.self, withAttributes)
        #expect(parsed.certificates == nil && parsed.crls == nil)
    }

    @Test("digestAlgorithms given unsorted come out sorted by encoding")
    func digestAlgorithmsSorted() throws {
        let sha384 = AlgorithmIdentifier(algorithm: .HashAlgorithm.sha384)
        let sha256 = AlgorithmIdentifier(algorithm: .HashAlgorithm.sha256)
        let encoded = try derBytes(try Self.builtSignedData(digestAlgorithms: [sha384, sha256]))
        #expect(hex(encoded).contains(hex(tlv(0x31, tlv(0x30, Vector.sha256OID), tlv(0x30, Vector.sha384OID)))))
        #expect(try SignedData(derEncoded: encoded).digestAlgorithms == [sha256, sha384])
    }

    @Test("EncapsulatedContentInfo with and without eContent")
    func encapsulatedContentInfo() throws {
        let detached = EncapsulatedContentInfo(eContentType: .CMSContentType.data, eContent: nil)
        #expect(hex(try assertRoundTrips(detached)) == hex(tlv(0x30, CMSVector.dataOID)))
        let content = [UInt8](repeating: 0x42, count: 200)
        let attached = EncapsulatedContentInfo(eContentType: .CMSContentType.tstInfo, eContent: content[...])
        #expect(
            hex(try assertRoundTrips(attached)) == hex(tlv(0x30, CMSVector.tstInfoOID, tlv(0xA0, tlv(0x04, content)))))
        // eContent is [0] EXPLICIT: an IMPLICIT OCTET STRING is refused.
        #expect(throws: (any Error).self) {
            try EncapsulatedContentInfo(derEncoded: tlv(0x30, CMSVector.tstInfoOID, tlv(0x80, [1])))
        }
    }

    @Test(
        "malformed SignedData fails to parse",
        arguments: [
            // no signerInfos
            tlv(0x30, [0x02, 0x01, 0x03], tlv(0x31), tlv(0x30, CMSVector.tstInfoOID)),
            // signerInfos followed by a trailing element
            tlv(0x30, [0x02, 0x01, 0x03], tlv(0x31), tlv(0x30, CMSVector.tstInfoOID), tlv(0x31), [0x05, 0x00]),
            // crls before certificates
            tlv(0x30, [0x02, 0x01, 0x03], tlv(0x31), tlv(0x30, CMSVector.tstInfoOID), tlv(0xA1), tlv(0xA0), tlv(0x31)),
            // digestAlgorithms as a SEQUENCE
            tlv(0x30, [0x02, 0x01, 0x03], tlv(0x30), tlv(0x30, CMSVector.tstInfoOID), tlv(0x31)),
        ]
    )
    func malformedSignedData(encoded: [UInt8]) throws {
        #expect(throws: (any Error).self) { try SignedData(derEncoded: encoded) }
    }

    // MARK: TimeStampToken structure checks

    static func token(
        contentType: [UInt8] = CMSVector.signedDataOID,
        eContentType: [UInt8] = CMSVector.tstInfoOID,
        eContent: [UInt8]? = nil,
        signerCount: Int = 1
    ) throws -> [UInt8] {
        let tstInfo = try eContent ?? derBytes(try TSTInfoTests.fullTSTInfo())
        let signedData = tlv(
            0x30,
            [0x02, 0x01, 0x03],
            tlv(0x31, tlv(0x30, Vector.sha256OID, Vector.null)),
            tlv(0x30, eContentType, tlv(0xA0, tlv(0x04, tstInfo))),
            tlv(0x31, Array(repeating: CMSVector.signerInfo(), count: signerCount).flatMap { $0 })
        )
        return tlv(0x30, contentType, tlv(0xA0, signedData))
    }

    @Test("TimeStampToken parses ContentInfo → SignedData → TSTInfo and keeps the signed TSTInfo bytes")
    func timeStampToken() throws {
        let tstInfo = try derBytes(try TSTInfoTests.fullTSTInfo())
        let token = try TimeStampToken(derEncoded: try Self.token())
        #expect(Array(token.tstInfoBytes) == tstInfo)
        #expect(token.tstInfo == (try TSTInfoTests.fullTSTInfo()))
        #expect(token.signerInfo?.version == 1)
        #expect(try token.certificates().isEmpty)
        let signingCertificate = try #require(try token.signingCertificateV2())
        #expect(signingCertificate.certs.map { Array($0.certHash) } == [[UInt8](repeating: 0x11, count: 32)])

        let response = TimeStampResp(
            status: PKIStatusInfo(status: .granted), timeStampToken: RawDER(trustedEncoding: try Self.token()[...]))
        let encoded = try assertRoundTrips(response)
        #expect(try TimeStampResp(derEncoded: encoded).parsedToken() == token)
    }

    @Test("TimeStampToken refuses other content types, a missing eContent and other signer counts")
    func timeStampTokenStructure() throws {
        #expect(throws: (any Error).self) {
            try TimeStampToken(derEncoded: try Self.token(contentType: CMSVector.dataOID))
        }
        #expect(throws: (any Error).self) {
            try TimeStampToken(derEncoded: try Self.token(eContentType: CMSVector.dataOID))
        }
        #expect(throws: (any Error).self) { try TimeStampToken(derEncoded: try Self.token(signerCount: 0)) }
        #expect(throws: (any Error).self) { try TimeStampToken(derEncoded: try Self.token(signerCount: 2)) }
        #expect(throws: (any Error).self) { try TimeStampToken(derEncoded: try Self.token(eContent: [0x30, 0x00])) }
        let detached = tlv(
            0x30,
            CMSVector.signedDataOID,
            tlv(
                0xA0,
                tlv(
                    0x30,
                    [0x02, 0x01, 0x03],
                    tlv(0x31),
                    tlv(0x30, CMSVector.tstInfoOID),
                    tlv(0x31, CMSVector.signerInfo())
                )
            )
        )
        #expect(throws: (any Error).self) { try TimeStampToken(derEncoded: detached) }
    }

    // MARK: Cross-checks with openssl cms

    @Test(
        "a SignedData made by openssl cms -sign: structure, re-encoding, digest and signature over the 31-tagged attributes"
    )
    func opensslCMS() throws {
        try withTemporaryDirectory { directory in
            let tsa = try OpenSSLTSA(in: directory)
            try writeFile("CMS content\n", named: "content.txt", in: directory)
            try openssl(
                [
                    "cms", "-sign", "-md", "sha256", "-binary", "-nodetach", "-in", "content.txt",
                    "-signer", "tsu.pem", "-inkey", "tsu.key", "-outform", "DER", "-out", "cms.der",
                ],
                in: directory
            )
            let encoded = try readFile(named: "cms.der", in: directory)
            let contentInfo = try assertReencodes(ContentInfo.self, encoded)
            #expect(contentInfo.contentType == .CMSContentType.signedData)
            let signedData = try assertReencodes(SignedData.self, Array(contentInfo.content.bytes))
            #expect(signedData.version == 1)  // id-data content, issuerAndSerialNumber (RFC 5652 §5.1)
            #expect(signedData.encapContentInfo.eContentType == .CMSContentType.data)
            #expect(signedData.encapContentInfo.eContent.map { Array($0) } == Array("CMS content\n".utf8))
            #expect(signedData.certificates?.map { Array($0.bytes) } == [try tsa.tsuCertificate()])

            let signerInfo = try #require(signedData.signerInfos.first)
            #expect(signerInfo.version == 1)
            let certificate = try Certificate(derEncoded: try tsa.tsuCertificate())
            #expect(signerInfo.sid == .issuerAndSerialNumber(IssuerAndSerialNumber(certificate: certificate)))
            #expect(
                signerInfo.signatureAlgorithm == AlgorithmIdentifier(algorithm: .SignatureAlgorithm.ecdsaWithSHA256))

            let digest = try #require(signerInfo.signedAttribute(.CMSAttributeType.messageDigest)?.attrValues.first)
            #expect(
                try ASN1OctetString(asn1Any: digest).bytes
                    == (try opensslDigest("sha256", ofFile: "content.txt", in: directory))[...])

            try Self.expectSignatureVerifies(signerInfo, in: directory)
        }
    }

    @Test("a SignerInfo made by openssl cms -sign -keyid carries subjectKeyIdentifier and version 3")
    func opensslCMSKeyID() throws {
        try withTemporaryDirectory { directory in
            let tsa = try OpenSSLTSA(in: directory)
            try writeFile("CMS content\n", named: "content.txt", in: directory)
            try openssl(
                [
                    "cms", "-sign", "-keyid", "-md", "sha256", "-binary", "-nodetach", "-in", "content.txt",
                    "-signer", "tsu.pem", "-inkey", "tsu.key", "-outform", "DER", "-out", "cms.der",
                ],
                in: directory
            )
            let contentInfo = try assertReencodes(ContentInfo.self, try readFile(named: "cms.der", in: directory))
            let signedData = try assertReencodes(SignedData.self, Array(contentInfo.content.bytes))
            #expect(signedData.version == 3)
            let signerInfo = try #require(signedData.signerInfos.first)
            #expect(signerInfo.version == 3)
            let certificate = try Certificate(derEncoded: try tsa.tsuCertificate())
            let ski = try #require(try certificate.extensions.subjectKeyIdentifier)
            #expect(signerInfo.sid == .subjectKeyIdentifier(ski.keyIdentifier))
            try Self.expectSignatureVerifies(signerInfo, in: directory)
        }
    }

    /// `openssl dgst -sha256 -verify tsu.pub` over `signedAttributesForSignature()` succeeds, and fails once one
    /// octet is changed (so that the check can fail).
    static func expectSignatureVerifies(
        _ signerInfo: SignerInfo, in directory: URL, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let attributes = try #require(try signerInfo.signedAttributesForSignature(), sourceLocation: sourceLocation)
        #expect(attributes.first == 0x31, sourceLocation: sourceLocation)
        try writeFile(attributes, named: "attributes.der", in: directory)
        try writeFile(signerInfo.signature, named: "signature.der", in: directory)
        let verify = ["dgst", "-sha256", "-verify", "tsu.pub", "-signature", "signature.der", "attributes.der"]
        let good = try runOpenSSL(verify, in: directory)
        #expect(good.status == 0, "\(good.stdout) \(good.stderr)", sourceLocation: sourceLocation)
        #expect(good.stdout.contains("Verified OK"), sourceLocation: sourceLocation)

        var tampered = attributes
        tampered[tampered.count - 1] ^= 0x01
        try writeFile(tampered, named: "attributes.der", in: directory)
        let bad = try runOpenSSL(verify, in: directory)
        #expect(bad.status != 0, sourceLocation: sourceLocation)
    }
}
