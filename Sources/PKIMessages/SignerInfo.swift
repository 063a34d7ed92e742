public import SwiftASN1

/// The identifier of the signer's certificate.
///
/// ```
/// SignerIdentifier ::= CHOICE {
///     issuerAndSerialNumber IssuerAndSerialNumber,
///     subjectKeyIdentifier  [0] SubjectKeyIdentifier }
/// ```
/// RFC 5652 §5.3 (IMPLICIT tags: the key identifier is a `[0]` primitive OCTET STRING).
public enum SignerIdentifier: DERParseable, DERSerializable, Hashable, Sendable {
    case issuerAndSerialNumber(IssuerAndSerialNumber)
    case subjectKeyIdentifier(ArraySlice<UInt8>)

    static let skiTag = ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)

    public init(derEncoded node: ASN1Node) throws {
        switch node.identifier {
        case .sequence:
            self = .issuerAndSerialNumber(try IssuerAndSerialNumber(derEncoded: node))
        case Self.skiTag:
            self = .subjectKeyIdentifier(try ASN1OctetString(derEncoded: node, withIdentifier: Self.skiTag).bytes)
        default:
            throw ASN1Error.unexpectedFieldType(node.identifier)
        }
    }

    public func serialize(into coder: inout DER.Serializer) throws {
        switch self {
        case .issuerAndSerialNumber(let value):
            try coder.serialize(value)
        case .subjectKeyIdentifier(let keyID):
            try ASN1OctetString(contentBytes: keyID).serialize(into: &coder, withIdentifier: Self.skiTag)
        }
    }
}

/// One signer of a SignedData.
///
/// ```
/// SignerInfo ::= SEQUENCE {
///     version            CMSVersion,
///     sid                SignerIdentifier,
///     digestAlgorithm    DigestAlgorithmIdentifier,
///     signedAttrs        [0] IMPLICIT SignedAttributes OPTIONAL,
///     signatureAlgorithm SignatureAlgorithmIdentifier,
///     signature          SignatureValue,
///     unsignedAttrs      [1] IMPLICIT UnsignedAttributes OPTIONAL }
/// SignedAttributes ::= SET SIZE (1..MAX) OF Attribute
/// ```
/// RFC 5652 §5.3: version 1 with issuerAndSerialNumber, 3 with subjectKeyIdentifier. The signature covers the DER of
/// the signed attributes with the universal SET tag 0x31, not the `[0]` tag they carry here (§5.4);
/// `signedAttributesForSignature` gives exactly those bytes from what was parsed.
public struct SignerInfo: DERImplicitlyTaggable, Hashable, Sendable {
    public static func == (lhs: SignerInfo, rhs: SignerInfo) -> Bool {
        lhs.version == rhs.version && lhs.sid == rhs.sid && lhs.digestAlgorithm == rhs.digestAlgorithm
            && lhs.signedAttrs == rhs.signedAttrs && lhs.signatureAlgorithm == rhs.signatureAlgorithm
            && lhs.signature == rhs.signature && lhs.unsignedAttrs == rhs.unsignedAttrs
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.version)
        hasher.combine(self.sid)
        hasher.combine(self.digestAlgorithm)
        hasher.combine(self.signedAttrs)
        hasher.combine(self.signatureAlgorithm)
        hasher.combine(self.signature)
        hasher.combine(self.unsignedAttrs)
    }

    public static var defaultIdentifier: ASN1Identifier { .sequence }

    static let signedAttrsTag = ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)
    static let unsignedAttrsTag = ASN1Identifier(tagWithNumber: 1, tagClass: .contextSpecific)

    public var version: Int
    public var sid: SignerIdentifier
    public var digestAlgorithm: AlgorithmIdentifier
    /// The signed attributes; changing them drops the received encoding, so that what is encoded and signed follows.
    public var signedAttrs: [CMSAttribute]? {
        didSet { self.signedAttrsEncoding = nil }
    }
    /// The signed attributes as they were received, `[0]` tag included (nil when built locally or changed since).
    /// Not part of equality: a parsed and a built SignerInfo with the same attributes are equal.
    public private(set) var signedAttrsEncoding: ArraySlice<UInt8>?
    public var signatureAlgorithm: AlgorithmIdentifier
    public var signature: ArraySlice<UInt8>
    public var unsignedAttrs: [CMSAttribute]?

    public init(
        version: Int,
        sid: SignerIdentifier,
        digestAlgorithm: AlgorithmIdentifier,
        signedAttrs: [CMSAttribute]?,
        signatureAlgorithm: AlgorithmIdentifier,
        signature: ArraySlice<UInt8>,
        unsignedAttrs: [CMSAttribute]? = nil
    ) {
        self.version = version
        self.sid = sid
        self.digestAlgorithm = digestAlgorithm
        self.signedAttrs = signedAttrs
        self.signatureAlgorithm = signatureAlgorithm
        self.signature = signature
        self.unsignedAttrs = unsignedAttrs
    }

    public init(derEncoded rootNode: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        self = try DER.sequence(rootNode, identifier: identifier) { nodes in
            let version = try Int(derEncoded: &nodes)
            guard let sidNode = nodes.next() else {
                throw ASN1Error.invalidASN1Object(reason: "SignerInfo without sid")
            }
            let sid = try SignerIdentifier(derEncoded: sidNode)
            let digest = try AlgorithmIdentifier(derEncoded: &nodes)
            var signedAttrs: [CMSAttribute]?
            var signedAttrsEncoding: ArraySlice<UInt8>?
            var next = nodes.next()
            if let node = next, node.identifier == Self.signedAttrsTag {
                signedAttrs = try DER.set(of: CMSAttribute.self, identifier: Self.signedAttrsTag, rootNode: node)
                guard signedAttrs?.isEmpty == false else {
                    throw ASN1Error.invalidASN1Object(reason: "SignedAttributes must hold at least one attribute")
                }
                signedAttrsEncoding = node.encodedBytes
                next = nodes.next()
            }
            guard let algorithmNode = next else {
                throw ASN1Error.invalidASN1Object(reason: "SignerInfo without signatureAlgorithm")
            }
            let algorithm = try AlgorithmIdentifier(derEncoded: algorithmNode)
            let signature = try ASN1OctetString(derEncoded: &nodes).bytes
            let unsigned = try DER.optionalImplicitlyTagged(&nodes, tagNumber: 1, tagClass: .contextSpecific) { node in
                try DER.set(of: CMSAttribute.self, identifier: Self.unsignedAttrsTag, rootNode: node)
            }
            var info = SignerInfo(
                version: version,
                sid: sid,
                digestAlgorithm: digest,
                signedAttrs: signedAttrs,
                signatureAlgorithm: algorithm,
                signature: signature,
                unsignedAttrs: unsigned
            )
            info.signedAttrsEncoding = signedAttrsEncoding
            return info
        }
    }

    public func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        try coder.appendConstructedNode(identifier: identifier) { coder in
            try coder.serialize(self.version)
            try coder.serialize(self.sid)
            try coder.serialize(self.digestAlgorithm)
            if let encoding = self.signedAttrsEncoding {
                coder.serializeRawBytes(encoding)
            } else if let signedAttrs {
                try coder.serializeSetOf(signedAttrs, identifier: Self.signedAttrsTag)
            }
            try coder.serialize(self.signatureAlgorithm)
            try coder.serialize(ASN1OctetString(contentBytes: self.signature))
            if let unsignedAttrs {
                try coder.serializeSetOf(unsignedAttrs, identifier: Self.unsignedAttrsTag)
            }
        }
    }

    /// The bytes the signature covers: the signed attributes' DER with the SET tag 0x31 (RFC 5652 §5.4).
    public func signedAttributesForSignature() throws -> [UInt8]? {
        if let encoding = self.signedAttrsEncoding, encoding.first != nil {
            var bytes = Array(encoding)
            bytes[0] = 0x31
            return bytes
        }
        guard let signedAttrs else { return nil }
        var coder = DER.Serializer()
        try coder.serializeSetOf(signedAttrs)
        return coder.serializedBytes
    }

    /// The value of the first signed attribute of `type`, if any.
    public func signedAttribute(_ type: ASN1ObjectIdentifier) -> CMSAttribute? {
        self.signedAttrs?.first { $0.attrType == type }
    }
}
