public import SwiftASN1
public import X509

/// Identifies the signing certificate by hash, issuer and serial.
///
/// ```
/// ESSCertIDv2 ::= SEQUENCE {
///     hashAlgorithm AlgorithmIdentifier DEFAULT {algorithm id-sha256},
///     certHash      Hash,
///     issuerSerial  IssuerSerial OPTIONAL }
/// Hash ::= OCTET STRING
/// IssuerSerial ::= SEQUENCE {
///     issuer       GeneralNames,
///     serialNumber CertificateSerialNumber }
/// ```
/// RFC 5035 §3 and RFC 5816 §2.2.1. `hashAlgorithm` is left out when it is SHA-256 without parameters, its DEFAULT.
/// With `issuerSerial` a verifier can tell apart two certificates that certify the same key.
public struct ESSCertIDv2: DERImplicitlyTaggable, Hashable, Sendable {
    public static var defaultIdentifier: ASN1Identifier { .sequence }

    public static let defaultHashAlgorithm = AlgorithmIdentifier(algorithm: .HashAlgorithm.sha256)

    public var hashAlgorithm: AlgorithmIdentifier
    public var certHash: ArraySlice<UInt8>
    public var issuerSerial: IssuerSerial?

    public init(
        hashAlgorithm: AlgorithmIdentifier = Self.defaultHashAlgorithm, certHash: ArraySlice<UInt8>,
        issuerSerial: IssuerSerial?
    ) {
        self.hashAlgorithm = hashAlgorithm
        self.certHash = certHash
        self.issuerSerial = issuerSerial
    }

    public init(derEncoded rootNode: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        self = try DER.sequence(rootNode, identifier: identifier) { nodes in
            var next = nodes.next()
            var algorithm = Self.defaultHashAlgorithm
            if let node = next, node.identifier == .sequence {
                algorithm = try AlgorithmIdentifier(derEncoded: node)
                next = nodes.next()
            }
            guard let hashNode = next else {
                throw ASN1Error.invalidASN1Object(reason: "ESSCertIDv2 without certHash")
            }
            let hash = try ASN1OctetString(derEncoded: hashNode).bytes
            let issuerSerial = try nodes.next().map { try IssuerSerial(derEncoded: $0) }
            return ESSCertIDv2(hashAlgorithm: algorithm, certHash: hash, issuerSerial: issuerSerial)
        }
    }

    public func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        try coder.appendConstructedNode(identifier: identifier) { coder in
            if self.hashAlgorithm != Self.defaultHashAlgorithm {
                try coder.serialize(self.hashAlgorithm)
            }
            try coder.serialize(ASN1OctetString(contentBytes: self.certHash))
            if let issuerSerial { try coder.serialize(issuerSerial) }
        }
    }
}

/// `IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber }`, RFC 5035 §4.
public struct IssuerSerial: DERImplicitlyTaggable, Hashable, Sendable {
    public static var defaultIdentifier: ASN1Identifier { .sequence }

    public var issuer: [GeneralName]
    public var serialNumber: DERInteger

    public init(issuer: [GeneralName], serialNumber: DERInteger) {
        self.issuer = issuer
        self.serialNumber = serialNumber
    }

    /// The issuer name (as a directoryName) and serial of `certificate`.
    public init(certificate: Certificate) {
        self.issuer = [.directoryName(certificate.issuer)]
        self.serialNumber = DERInteger(unsignedMagnitude: certificate.serialNumber.bytes)
    }

    public init(derEncoded rootNode: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        self = try DER.sequence(rootNode, identifier: identifier) { nodes in
            guard let namesNode = nodes.next() else {
                throw ASN1Error.invalidASN1Object(reason: "IssuerSerial without issuer")
            }
            let names = try DER.sequence(of: GeneralName.self, identifier: .sequence, rootNode: namesNode)
            let serial = try DERInteger(derEncoded: &nodes)
            return IssuerSerial(issuer: names, serialNumber: serial)
        }
    }

    public func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        try coder.appendConstructedNode(identifier: identifier) { coder in
            try coder.serializeSequenceOf(self.issuer)
            try coder.serialize(self.serialNumber)
        }
    }
}

/// The signing-certificate attribute, version 2.
///
/// ```
/// SigningCertificateV2 ::= SEQUENCE {
///     certs    SEQUENCE OF ESSCertIDv2,
///     policies SEQUENCE OF PolicyInformation OPTIONAL }
/// ```
/// RFC 5035 §3; RFC 5816 §2.2.1 lets a TSA use it instead of SigningCertificate. Policies are not produced; when
/// parsed they are kept as DER.
public struct SigningCertificateV2: DERImplicitlyTaggable, Hashable, Sendable {
    public static var defaultIdentifier: ASN1Identifier { .sequence }

    public var certs: [ESSCertIDv2]
    public var policies: RawDER?

    public init(certs: [ESSCertIDv2], policies: RawDER? = nil) {
        self.certs = certs
        self.policies = policies
    }

    public init(derEncoded rootNode: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        self = try DER.sequence(rootNode, identifier: identifier) { nodes in
            guard let certsNode = nodes.next() else {
                throw ASN1Error.invalidASN1Object(reason: "SigningCertificateV2 without certs")
            }
            let certs = try DER.sequence(of: ESSCertIDv2.self, identifier: .sequence, rootNode: certsNode)
            let policies = try nodes.next().map { try RawDER(derEncoded: $0) }
            return SigningCertificateV2(certs: certs, policies: policies)
        }
    }

    public func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        try coder.appendConstructedNode(identifier: identifier) { coder in
            try coder.serializeSequenceOf(self.certs)
            if let policies { try coder.serialize(policies) }
        }
    }
}
