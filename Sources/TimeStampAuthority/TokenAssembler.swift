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
    let policies: [ASN1ObjectIdentifier: PolicyParts]
    let fractionDigits: Int
    let accuracyMicroseconds: Int64?

    init(signer: any Signer, configuration: TSAConfiguration) throws(TSAError) {
        self.signer = signer
        self.digest = signer.scheme.digest
        let algorithms = try CMSAlgorithms(scheme: signer.scheme)
        let certificate = signer.certificate
        do {
            self.digestAlgorithmDER = try Self.encode(algorithms.digestAlgorithm)
            self.signatureAlgorithmDER = try Self.encode(algorithms.signatureAlgorithm)
            // Version 1 SignerInfo with issuerAndSerialNumber (RFC 5652 §5.3).
            self.signerIdentifierDER = try Self.encode(
                SignerIdentifier.issuerAndSerialNumber(IssuerAndSerialNumber(certificate: certificate))
            )
            self.contentTypeAttributeDER = try Self.encode(
                CMSAttribute(attrType: .CMSAttributeType.contentType, attrValues: [ASN1Any(erasing: ASN1ObjectIdentifier.CMSContentType.tstInfo)])
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
            try coder.serializeSetOf(certificateSet, identifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific))
            self.certificatesDER = coder.serializedBytes

            if configuration.accuracyMicroseconds > 0 {
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
                policies[policy.oid] = PolicyParts(oidDER: try Self.encode(policy.oid), extensionsDER: extensionsDER)
            }
            self.policies = policies
        } catch let error as TSAError {
            throw error
        } catch {
            throw .make(.encoding, "cannot encode the constant parts of the token", cause: error)
        }
        self.ordering = configuration.ordering
        self.fractionDigits = configuration.genTimeFractionDigits
    }

    static func encode(_ value: some DERSerializable) throws -> [UInt8] {
        var coder = DER.Serializer()
        try coder.serialize(value)
        return coder.serializedBytes
    }

    /// The TSTInfo DER (RFC 3161 §2.4.2) for one request.
    func tstInfo(
        policy: PolicyParts,
        messageImprintDER: ArraySlice<UInt8>,
        serial: DERInteger,
        genTime: GeneralizedTimeText,
        nonce: DERInteger?
    ) throws -> [UInt8] {
        var coder = DER.Serializer()
        try coder.appendConstructedNode(identifier: .sequence) { coder in
            try coder.serialize(1)  // version v1
            coder.serializeRawBytes(policy.oidDER)
            coder.serializeRawBytes(messageImprintDER)  // the client's bytes, unchanged
            try coder.serialize(serial)
            try coder.serialize(genTime)
            coder.serializeRawBytes(self.accuracyDER)
            if self.ordering { try coder.serialize(true) }  // DEFAULT FALSE is never written
            if let nonce { try coder.serialize(nonce) }
            coder.serializeRawBytes(self.tsaNameDER)
            coder.serializeRawBytes(policy.extensionsDER)
        }
        return coder.serializedBytes
    }

    /// Signs `tstInfo` and returns the TimeStampToken (ContentInfo) DER.
    func token(tstInfo: [UInt8], includeCertificates: Bool) async throws -> [UInt8] {
        let messageDigest = self.digest.hash(tstInfo)
        var digestCoder = DER.Serializer()
        try digestCoder.serialize(
            CMSAttribute(
                attrType: .CMSAttributeType.messageDigest,
                attrValues: [ASN1Any(erasing: ASN1OctetString(contentBytes: messageDigest[...]))]
            )
        )
        // SET OF Attribute in DER order (X.690 §11.6): sort the three encodings.
        var attributes = [self.contentTypeAttributeDER, digestCoder.serializedBytes, self.signingCertificateV2AttributeDER]
        attributes.sort { $0.lexicographicallyPrecedes($1) }

        // RFC 5652 §5.4: the signature covers the attributes with the universal SET tag.
        var setCoder = DER.Serializer()
        setCoder.appendConstructedNode(identifier: .set) { coder in
            for attribute in attributes { coder.serializeRawBytes(attribute) }
        }
        var signedAttributes = setCoder.serializedBytes
        let signature = try await self.signer.sign(signedAttributes)
        signedAttributes[0] = 0xA0  // [0] IMPLICIT inside SignerInfo

        var coder = DER.Serializer()
        try coder.appendConstructedNode(identifier: .sequence) { coder in  // ContentInfo
            try coder.serialize(ASN1ObjectIdentifier.CMSContentType.signedData)
            try coder.appendConstructedNode(identifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)) { coder in
                try coder.appendConstructedNode(identifier: .sequence) { coder in  // SignedData
                    try coder.serialize(3)  // RFC 5652 §5.1: eContentType is not id-data
                    coder.appendConstructedNode(identifier: .set) { coder in
                        coder.serializeRawBytes(self.digestAlgorithmDER)
                    }
                    try coder.appendConstructedNode(identifier: .sequence) { coder in  // EncapsulatedContentInfo
                        try coder.serialize(ASN1ObjectIdentifier.CMSContentType.tstInfo)
                        try coder.serialize(
                            ASN1OctetString(contentBytes: tstInfo[...]),
                            explicitlyTaggedWithTagNumber: 0,
                            tagClass: .contextSpecific
                        )
                    }
                    if includeCertificates {
                        coder.serializeRawBytes(self.certificatesDER)
                    }
                    try coder.appendConstructedNode(identifier: .set) { coder in
                        try coder.appendConstructedNode(identifier: .sequence) { coder in  // SignerInfo
                            try coder.serialize(1)
                            coder.serializeRawBytes(self.signerIdentifierDER)
                            coder.serializeRawBytes(self.digestAlgorithmDER)
                            coder.serializeRawBytes(signedAttributes)
                            coder.serializeRawBytes(self.signatureAlgorithmDER)
                            try coder.serialize(ASN1OctetString(contentBytes: signature[...]))
                        }
                    }
                }
            }
        }
        return coder.serializedBytes
    }
}
