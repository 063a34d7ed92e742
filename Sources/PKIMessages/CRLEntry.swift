public import SwiftASN1
public import X509

/// One revoked certificate in a CRL.
///
/// ```
/// revokedCertificates     SEQUENCE OF SEQUENCE  {
///      userCertificate         CertificateSerialNumber,
///      revocationDate          Time,
///      crlEntryExtensions      Extensions OPTIONAL
///                               -- if present, version MUST be v2
///                           }  OPTIONAL,
/// ```
/// RFC 5280 §5.1.2.6 (the element type has no name there). The serial is kept as its INTEGER content octets, so it
/// compares byte for byte with an OCSP CertID's. The entry extensions of §5.3 are read on demand: ``reasonCode``
/// (id-ce-cRLReasons, an ENUMERATED) and ``invalidityDate`` (id-ce-invalidityDate, a GeneralizedTime); parsing
/// checks both, so that for a parsed entry they do not throw. Not supported: certificateIssuer (§5.3.3, indirect
/// CRLs), whose presence parsing refuses when critical, as §5.3 asks of unrecognised critical entry extensions.
public struct CRLEntry: DERImplicitlyTaggable, Hashable, Sendable {
    public static var defaultIdentifier: ASN1Identifier { .sequence }

    public var userCertificate: DERInteger
    public var revocationDate: CRLTime
    public var crlEntryExtensions: [Certificate.Extension]?

    public init(
        userCertificate: DERInteger, revocationDate: CRLTime, crlEntryExtensions: [Certificate.Extension]? = nil
    ) {
        self.userCertificate = userCertificate
        self.revocationDate = revocationDate
        self.crlEntryExtensions = crlEntryExtensions
    }

    /// An entry whose extensions say `reason` (left out when nil) and `invalidityDate` (left out when nil).
    public init(
        userCertificate: DERInteger,
        revocationDate: CRLTime,
        reason: CRLReason?,
        invalidityDate: GeneralizedTime? = nil
    ) throws {
        var extensions: [Certificate.Extension] = []
        if let reason {
            var coder = DER.Serializer()
            try coder.serialize(reason)
            extensions.append(
                .init(oid: .X509ExtensionID.crlReason, critical: false, value: coder.serializedBytes[...]))
        }
        if let invalidityDate {
            var coder = DER.Serializer()
            try coder.serialize(invalidityDate)
            extensions.append(
                .init(oid: .X509ExtensionID.invalidityDate, critical: false, value: coder.serializedBytes[...]))
        }
        self.init(
            userCertificate: userCertificate,
            revocationDate: revocationDate,
            crlEntryExtensions: extensions.isEmpty ? nil : extensions
        )
    }

    public init(derEncoded rootNode: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        self = try DER.sequence(rootNode, identifier: identifier) { nodes in
            let serial = try DERInteger(derEncoded: &nodes)
            guard let dateNode = nodes.next() else {
                throw ASN1Error.invalidASN1Object(reason: "CRL entry without revocationDate")
            }
            let date = try CRLTime(derEncoded: dateNode)
            var extensions: [Certificate.Extension]?
            if let node = nodes.next() {
                extensions = try DER.sequence(of: Certificate.Extension.self, identifier: .sequence, rootNode: node)
            }
            let entry = CRLEntry(userCertificate: serial, revocationDate: date, crlEntryExtensions: extensions)
            try entry.validateExtensions()
            return entry
        }
    }

    public func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        try coder.appendConstructedNode(identifier: identifier) { coder in
            try coder.serialize(self.userCertificate)
            try coder.serialize(self.revocationDate)
            if let crlEntryExtensions, !crlEntryExtensions.isEmpty {
                try coder.serializeSequenceOf(crlEntryExtensions)
            }
        }
    }

    /// The reason code entry extension (RFC 5280 §5.3.1), nil when absent.
    public var reasonCode: CRLReason? {
        get throws {
            try self.extensionValue(.X509ExtensionID.crlReason).map { try CRLReason(derEncoded: $0) }
        }
    }

    /// The invalidity date entry extension (RFC 5280 §5.3.2), nil when absent.
    public var invalidityDate: CRLTime? {
        get throws {
            try self.extensionValue(.X509ExtensionID.invalidityDate).map {
                .generalizedTime(try GeneralizedTime(derEncoded: $0))
            }
        }
    }

    private func extensionValue(_ oid: ASN1ObjectIdentifier) -> ArraySlice<UInt8>? {
        guard let crlEntryExtensions else { return nil }
        for ext in crlEntryExtensions where ext.oid == oid {
            return ext.value
        }
        return nil
    }

    /// Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension, each at most once; the reason and invalidity date are
    /// well formed; no critical extension this type does not understand (RFC 5280 §5.3).
    func validateExtensions() throws {
        guard let crlEntryExtensions else { return }
        guard !crlEntryExtensions.isEmpty else {
            throw ASN1Error.invalidASN1Object(reason: "crlEntryExtensions must not be empty")
        }
        if let oid = OCSPExtensions.firstRepeatedOID(in: crlEntryExtensions) {
            throw ASN1Error.invalidASN1Object(reason: "crlEntryExtensions hold \(oid) twice")
        }
        for ext in crlEntryExtensions where ext.critical {
            guard ext.oid == .X509ExtensionID.crlReason || ext.oid == .X509ExtensionID.invalidityDate else {
                throw ASN1Error.invalidASN1Object(reason: "unsupported critical CRL entry extension \(ext.oid)")
            }
        }
        _ = try self.reasonCode
        _ = try self.invalidityDate
    }
}
