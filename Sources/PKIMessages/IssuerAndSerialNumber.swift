public import SwiftASN1
public import X509

/// Identifies a certificate by its issuer and serial.
///
/// ```
/// IssuerAndSerialNumber ::= SEQUENCE {
///     issuer       Name,
///     serialNumber CertificateSerialNumber }
/// ```
/// RFC 5652 §10.2.4.
public struct IssuerAndSerialNumber: DERImplicitlyTaggable, Hashable, Sendable {
    public static var defaultIdentifier: ASN1Identifier { .sequence }

    public var issuer: DistinguishedName
    public var serialNumber: DERInteger

    public init(issuer: DistinguishedName, serialNumber: DERInteger) {
        self.issuer = issuer
        self.serialNumber = serialNumber
    }

    /// The identifier of `certificate`.
    public init(certificate: Certificate) {
        self.issuer = certificate.issuer
        self.serialNumber = DERInteger(unsignedMagnitude: certificate.serialNumber.bytes)
    }

    public init(derEncoded rootNode: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        self = try DER.sequence(rootNode, identifier: identifier) { nodes in
            guard let issuerNode = nodes.next() else {
                throw ASN1Error.invalidASN1Object(reason: "IssuerAndSerialNumber without issuer")
            }
            let issuer = try DistinguishedName(derEncoded: issuerNode)
            let serial = try DERInteger(derEncoded: &nodes)
            return IssuerAndSerialNumber(issuer: issuer, serialNumber: serial)
        }
    }

    public func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        try coder.appendConstructedNode(identifier: identifier) { coder in
            try coder.serialize(self.issuer)
            try coder.serialize(self.serialNumber)
        }
    }
}
