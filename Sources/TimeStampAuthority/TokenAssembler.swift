import Crypto
import PKIMessages
import Signing
import SwiftASN1
import X509

/// Builds time-stamp tokens from parts encoded once at start-up.
///
/// Constant per signer: the digest and signature AlgorithmIdentifiers, the SignerIdentifier, the contentType and
/// signingCertificateV2 attributes, the certificate sets, the `tsa` name, the accuracy, and per policy its OID and
/// extensions. Per request only TSTInfo, the messageDigest attribute, the signature and the enclosing lengths are
/// encoded (brief: "constant parts … are encoded once at start-up").
struct TokenAssembler: Sendable {
    struct PolicyParts: Sendable {
        let oidDER: [UInt8]
        /// The dotted OID, for the audit record.
        let oidText: String
        /// `[1] IMPLICIT Extensions` of TSTInfo, or empty.
        let extensionsDER: [UInt8]
    }

    let signer: any Signer
    let digest: DigestAlgorithm
    let digestAlgorithmDER: [UInt8]
    let signatureAlgorithmDER: [UInt8]
    let signerIdentifierDER: [UInt8]
    let contentTypeAttributeDER: [UInt8]
    let signingCertificateV2AttributeDER: [UInt8]
    /// `[0] IMPLICIT CertificateSet` with the TSU certificate (and the chain when configured).
    let certificatesDER: [UInt8]
    let accuracyDER: [UInt8]
    let tsaNameDER: [UInt8]
    let ordering: Bool
    /// The signer when it is a ``SoftwareSigner``: called directly, without the existential async call.
    let softwareSigner: SoftwareSigner?
    /// The messageDigest attribute's bytes before the digest (constant per digest length).
    let messageDigestPrefix: [UInt8]
    /// The place of the messageDigest attribute among the three signed attributes in DER SET OF order (0, 1 or 2).
    /// The order is decided by bytes before the digest, so it is computed once; `nil` when it would depend on the
    /// digest (never with the attributes above), in which case each request sorts.
    let messageDigestPosition: Int?
    let policies: [ASN1ObjectIdentifier: PolicyParts]
    let fractionDigits: Int
    let accuracyMicroseconds: Int64?

    init(signer: any Signer, configuration: TSAConfiguration) throws(TSAError) {
        self.signer = signer
        self.digest = signer.scheme.digest
        let certificate = signer.certificate
        do {
            // CMS algorithm identifiers for the signer's scheme (RFC 5754, RFC 5758, RFC 4056, RFC 8419).
            self.digestAlgorithmDER = try Self.encode(signer.scheme.digestAlgorithmIdentifier)
            self.signatureAlgorithmDER = try Self.encode(try signer.scheme.signatureAlgorithmIdentifier())
            // Version 1 SignerInfo with issuerAndSerialNumber (RFC 5652 §5.3).
            self.signerIdentifierDER = try Self.encode(
                SignerIdentifier.issuerAndSerialNumber(IssuerAndSerialNumber(certificate: certificate))
            )
            self.contentTypeAttributeDER = try Self.encode(
                CMSAttribute(
                    attrType: .CMSAttributeType.contentType,
                    attrValues: [ASN1Any(erasing: ASN1ObjectIdentifier.CMSContentType.tstInfo)])
            )
            // RFC 5816 §2.2.1: ESSCertIDv2 over the TSU certificate, SHA-256 (the DEFAULT, so not written), with
            // issuerSerial so that a verifier can tell certificates with the same key apart.
            let certificateDER = try Self.encode(certificate)
            let essCertID = ESSCertIDv2(
                certHash: ArraySlice(SHA256.hash(data: certificateDER)),
                issuerSerial: IssuerSerial(certificate: certificate)
            )
            self.signingCertificateV2AttributeDER = try Self.encode(
                CMSAttribute(
                    attrType: .CMSAttributeType.signingCertificateV2,
                    attrValues: [ASN1Any(erasing: SigningCertificateV2(certs: [essCertID]))]
                )
            )
            var certificateSet = [RawDER(trustedEncoding: certificateDER[...])]
            if configuration.includeChain {
                for issuer in signer.chain {
                    certificateSet.append(RawDER(trustedEncoding: try Self.encode(issuer)[...]))
                }
            }
            var coder = DER.Serializer()
            try coder.serializeSetOf(
                certificateSet, identifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific))
            self.certificatesDER = coder.serializedBytes

            if configuration.accuracyMicroseconds > 0 && !configuration.dynamicAccuracy {
                self.accuracyDER = try Self.encode(Accuracy(totalMicroseconds: configuration.accuracyMicroseconds))
                self.accuracyMicroseconds = configuration.accuracyMicroseconds
            } else {
                self.accuracyDER = []
                self.accuracyMicroseconds = nil
            }
            if configuration.includeTSAName {
                var nameCoder = DER.Serializer()
                try nameCoder.serialize(
                    GeneralName.directoryName(certificate.subject),
                    explicitlyTaggedWithTagNumber: 0,
                    tagClass: .contextSpecific
                )
                self.tsaNameDER = nameCoder.serializedBytes
            } else {
                self.tsaNameDER = []
            }
            var policies: [ASN1ObjectIdentifier: PolicyParts] = [:]
            for policy in configuration.policies {
                var extensionsDER: [UInt8] = []
                if policy.qualified {
                    var extensionCoder = DER.Serializer()
                    try extensionCoder.serializeSequenceOf(
                        [Certificate.Extension.qualifiedTimeStampStatement()],
                        identifier: ASN1Identifier(tagWithNumber: 1, tagClass: .contextSpecific)
                    )
                    extensionsDER = extensionCoder.serializedBytes
                }
                policies[policy.oid] = PolicyParts(
                    oidDER: try Self.encode(policy.oid),
                    oidText: policy.oid.description,
                    extensionsDER: extensionsDER
                )
            }
            self.policies = policies
        } catch let error as TSAError {
            throw error
        } catch {
            throw .make(.encoding, "cannot encode the constant parts of the token", cause: error)
        }
        self.ordering = configuration.ordering
        self.fractionDigits = configuration.genTimeFractionDigits
        self.softwareSigner = signer as? SoftwareSigner
        let prefix = Self.messageDigestAttributePrefix(digestLength: self.digest.outputByteCount)
        self.messageDigestPrefix = prefix
        self.messageDigestPosition = Self.digestAttributePosition(
            prefix: prefix,
            others: [self.contentTypeAttributeDER, self.signingCertificateV2AttributeDER]
        )
    }

    /// Where an attribute starting with `prefix` sorts among `others` (themselves sorted), whatever bytes follow the
    /// prefix; `nil` when the bytes after the prefix could change the order.
    static func digestAttributePosition(prefix: [UInt8], others: [[UInt8]]) -> Int? {
        let sorted = others.sorted { $0.lexicographicallyPrecedes($1) }
        guard sorted == others else { return nil }
        var position = 0
        for other in sorted {
            // The first differing byte must lie inside the prefix (and inside `other`).
            guard let index = (0..<min(prefix.count, other.count)).first(where: { prefix[$0] != other[$0] }) else {
                return nil
            }
            if other[index] < prefix[index] { position += 1 }
        }
        return position
    }

    static func encode(_ value: some DERSerializable) throws -> [UInt8] {
        var coder = DER.Serializer()
        try coder.serialize(value)
        return coder.serializedBytes
    }

    /// The TSTInfo DER (RFC 3161 §2.4.2) for one request, written in one pass.
    func tstInfo(
        policy: PolicyParts,
        messageImprintDER: ArraySlice<UInt8>,
        serial: DERInteger,
        genTime: String,
        accuracyDER: [UInt8],
        nonce: DERInteger?
    ) -> [UInt8] {
        let genTimeBytes = genTime.utf8
        var content = Self.version1DER.count + policy.oidDER.count + messageImprintDER.count
        content += DERLength.elementSize(serial.contentOctets.count)
        content += DERLength.elementSize(genTimeBytes.count)
        content += accuracyDER.count
        if self.ordering { content += 3 }
        if let nonce { content += DERLength.elementSize(nonce.contentOctets.count) }
        content += self.tsaNameDER.count + policy.extensionsDER.count

        var out: [UInt8] = []
        out.reserveCapacity(DERLength.elementSize(content))
        DERLength.appendHeader(tag: 0x30, contentLength: content, to: &out)
        out.append(contentsOf: Self.version1DER)  // version v1
        out.append(contentsOf: policy.oidDER)
        out.append(contentsOf: messageImprintDER)  // the client's bytes, unchanged
        DERLength.appendHeader(tag: 0x02, contentLength: serial.contentOctets.count, to: &out)
        out.append(contentsOf: serial.contentOctets)
        DERLength.appendHeader(tag: 0x18, contentLength: genTimeBytes.count, to: &out)
        out.append(contentsOf: genTimeBytes)
        out.append(contentsOf: accuracyDER)
        if self.ordering { out.append(contentsOf: [0x01, 0x01, 0xFF]) }  // DEFAULT FALSE is never written
        if let nonce {
            DERLength.appendHeader(tag: 0x02, contentLength: nonce.contentOctets.count, to: &out)
            out.append(contentsOf: nonce.contentOctets)
        }
        out.append(contentsOf: self.tsaNameDER)
        out.append(contentsOf: policy.extensionsDER)
        return out
    }

    /// The Accuracy of a token whose accuracy is the clock bound: whole milliseconds, at least the bound.
    ///
    /// - Parameter boundNanoseconds: the error bound at the moment of issue.
    /// - Returns: the encoded Accuracy and its value in microseconds.
    static func dynamicAccuracy(boundNanoseconds: Int64) -> (der: [UInt8], microseconds: Int64) {
        let milliseconds = max(1, (max(0, boundNanoseconds) + 999_999) / 1_000_000)
        let accuracy = Accuracy(totalMicroseconds: milliseconds * 1000)
        // An Accuracy of small integers always encodes; an empty field would only leave accuracy out.
        let der = (try? Self.encode(accuracy)) ?? []
        return (der, milliseconds * 1000)
    }

    /// id-signedData, encoded.
    static let contentInfoTypeDER: [UInt8] = [0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02]
    /// id-ct-TSTInfo, encoded.
    static let eContentTypeDER: [UInt8] = [
        0x06, 0x0B, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x10, 0x01, 0x04,
    ]
    static let version1DER: [UInt8] = [0x02, 0x01, 0x01]
    static let version3DER: [UInt8] = [0x02, 0x01, 0x03]
    /// `PKIStatusInfo { granted }`.
    static let grantedStatusDER: [UInt8] = [0x30, 0x03, 0x02, 0x01, 0x00]
    /// The messageDigest attribute up to its value: SEQUENCE { OID, SET { OCTET STRING … } } (lengths per digest).
    static func messageDigestAttributePrefix(digestLength: Int) -> [UInt8] {
        let oid: [UInt8] = [0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x04]
        let octetString = 2 + digestLength
        let set = 2 + octetString
        return [0x30, UInt8(oid.count + set)] + oid + [0x31, UInt8(octetString), 0x04, UInt8(digestLength)]
    }

    /// Signs `tstInfo` and returns the whole TimeStampResp (status granted + token) and the range of the token in it.
    ///
    /// ```
    /// TimeStampResp { PKIStatusInfo { granted },
    ///   ContentInfo { id-signedData, [0] SignedData { 3, SET { digestAlgorithm },
    ///     EncapsulatedContentInfo { id-ct-TSTInfo, [0] OCTET STRING { TSTInfo } },
    ///     [0] certificates (only with certReq),
    ///     SET { SignerInfo { 1, sid, digestAlgorithm, [0] signedAttrs, signatureAlgorithm, OCTET STRING signature } } } } }
    /// ```
    /// RFC 3161 §2.4.2, RFC 5652 §5.1–5.4. Every length is computed first, then each byte is written once.
    func grantedResponse(tstInfo: [UInt8], includeCertificates: Bool) async throws -> (
        response: [UInt8], token: Range<Int>
    ) {
        if let signed = try self.grantedResponseWithoutSuspending(
            tstInfo: tstInfo, includeCertificates: includeCertificates)
        {
            return signed
        }
        // Signed attributes in DER SET OF order (X.690 §11.6): the three encodings, sorted.
        let signedAttributes = self.signedAttributes(messageDigest: self.digest.hash(tstInfo))
        // RFC 5652 §5.4: the signature covers the attributes under the universal SET tag.
        let signature = try await self.signer.sign(signedAttributes)
        return self.assemble(
            tstInfo: tstInfo, signedAttributes: signedAttributes, signature: signature,
            includeCertificates: includeCertificates)
    }

    /// ``grantedResponse(tstInfo:includeCertificates:)`` on the caller's thread, when the signer is in-process
    /// (a ``SoftwareSigner``); nil for signers that must be awaited (a token, a card).
    func grantedResponseWithoutSuspending(tstInfo: [UInt8], includeCertificates: Bool) throws -> (
        response: [UInt8], token: Range<Int>
    )? {
        guard let softwareSigner = self.softwareSigner else { return nil }
        let signedAttributes = self.signedAttributes(messageDigest: self.digest.hash(tstInfo))
        let signature = try softwareSigner.sign(signedAttributes)
        return self.assemble(
            tstInfo: tstInfo, signedAttributes: signedAttributes, signature: signature,
            includeCertificates: includeCertificates)
    }

    /// The TimeStampResp around a signature over `signedAttributes` (as signed: with the universal SET tag).
    private func assemble(
        tstInfo: [UInt8], signedAttributes: [UInt8], signature: [UInt8], includeCertificates: Bool
    ) -> (response: [UInt8], token: Range<Int>) {
        var signedAttributes = signedAttributes
        signedAttributes[0] = 0xA0  // [0] IMPLICIT inside SignerInfo

        // Lengths, inside out.
        let signatureElement = DERLength.elementSize(signature.count)
        let signerInfoContent =
            Self.version1DER.count + self.signerIdentifierDER.count + self.digestAlgorithmDER.count
            + signedAttributes.count + self.signatureAlgorithmDER.count + signatureElement
        let signerInfo = DERLength.elementSize(signerInfoContent)
        let signerInfos = DERLength.elementSize(signerInfo)
        let digestAlgorithms = DERLength.elementSize(self.digestAlgorithmDER.count)
        let eContentOctets = DERLength.elementSize(tstInfo.count)
        let eContentExplicit = DERLength.elementSize(eContentOctets)
        let encapContent = Self.eContentTypeDER.count + eContentExplicit
        let encap = DERLength.elementSize(encapContent)
        let certificates = includeCertificates ? self.certificatesDER.count : 0
        let signedDataContent = Self.version3DER.count + digestAlgorithms + encap + certificates + signerInfos
        let signedData = DERLength.elementSize(signedDataContent)
        let contentExplicit = DERLength.elementSize(signedData)
        let contentInfoContent = Self.contentInfoTypeDER.count + contentExplicit
        let token = DERLength.elementSize(contentInfoContent)
        let responseContent = Self.grantedStatusDER.count + token

        var out: [UInt8] = []
        out.reserveCapacity(DERLength.elementSize(responseContent))
        DERLength.appendHeader(tag: 0x30, contentLength: responseContent, to: &out)
        out.append(contentsOf: Self.grantedStatusDER)
        let tokenStart = out.count
        DERLength.appendHeader(tag: 0x30, contentLength: contentInfoContent, to: &out)  // ContentInfo
        out.append(contentsOf: Self.contentInfoTypeDER)
        DERLength.appendHeader(tag: 0xA0, contentLength: signedData, to: &out)
        DERLength.appendHeader(tag: 0x30, contentLength: signedDataContent, to: &out)  // SignedData
        out.append(contentsOf: Self.version3DER)  // RFC 5652 §5.1: eContentType is not id-data
        DERLength.appendHeader(tag: 0x31, contentLength: self.digestAlgorithmDER.count, to: &out)
        out.append(contentsOf: self.digestAlgorithmDER)
        DERLength.appendHeader(tag: 0x30, contentLength: encapContent, to: &out)  // EncapsulatedContentInfo
        out.append(contentsOf: Self.eContentTypeDER)
        DERLength.appendHeader(tag: 0xA0, contentLength: eContentOctets, to: &out)
        DERLength.appendHeader(tag: 0x04, contentLength: tstInfo.count, to: &out)
        out.append(contentsOf: tstInfo)
        if includeCertificates {
            out.append(contentsOf: self.certificatesDER)
        }
        DERLength.appendHeader(tag: 0x31, contentLength: signerInfo, to: &out)
        DERLength.appendHeader(tag: 0x30, contentLength: signerInfoContent, to: &out)  // SignerInfo
        out.append(contentsOf: Self.version1DER)
        out.append(contentsOf: self.signerIdentifierDER)
        out.append(contentsOf: self.digestAlgorithmDER)
        out.append(contentsOf: signedAttributes)
        out.append(contentsOf: self.signatureAlgorithmDER)
        DERLength.appendHeader(tag: 0x04, contentLength: signature.count, to: &out)
        out.append(contentsOf: signature)
        return (out, tokenStart..<out.count)
    }

    /// `SET { signed attributes }` in DER order, with the universal SET tag (the value that is signed).
    func signedAttributes(messageDigest: [UInt8]) -> [UInt8] {
        let digestAttributeLength = self.messageDigestPrefix.count + messageDigest.count
        let attributesLength =
            self.contentTypeAttributeDER.count + digestAttributeLength + self.signingCertificateV2AttributeDER.count
        var out: [UInt8] = []
        out.reserveCapacity(DERLength.elementSize(attributesLength))
        DERLength.appendHeader(tag: 0x31, contentLength: attributesLength, to: &out)
        guard let position = self.messageDigestPosition else {
            var attributes = [
                self.contentTypeAttributeDER, self.messageDigestPrefix + messageDigest,
                self.signingCertificateV2AttributeDER,
            ]
            attributes.sort { $0.lexicographicallyPrecedes($1) }
            for attribute in attributes { out.append(contentsOf: attribute) }
            return out
        }
        if position == 0 {
            out.append(contentsOf: self.messageDigestPrefix)
            out.append(contentsOf: messageDigest)
        }
        out.append(contentsOf: self.contentTypeAttributeDER)
        if position == 1 {
            out.append(contentsOf: self.messageDigestPrefix)
            out.append(contentsOf: messageDigest)
        }
        out.append(contentsOf: self.signingCertificateV2AttributeDER)
        if position == 2 {
            out.append(contentsOf: self.messageDigestPrefix)
            out.append(contentsOf: messageDigest)
        }
        return out
    }
}
