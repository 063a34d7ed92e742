public import SwiftASN1
public import X509

/// One certificate whose status is asked for.
///
/// ```
/// Request ::= SEQUENCE {
///     reqCert                     CertID,
///     singleRequestExtensions     [0] EXPLICIT Extensions OPTIONAL }
/// ```
/// RFC 6960 §4.1.1 (named `Request` there).
public struct OCSPSingleRequest: DERImplicitlyTaggable, Hashable, Sendable {
    public static var defaultIdentifier: ASN1Identifier { .sequence }

    public var reqCert: CertID
    public var singleRequestExtensions: [Certificate.Extension]?

    public init(reqCert: CertID, singleRequestExtensions: [Certificate.Extension]? = nil) {
        self.reqCert = reqCert
        self.singleRequestExtensions = singleRequestExtensions
    }

    public init(derEncoded rootNode: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        self = try DER.sequence(rootNode, identifier: identifier) { nodes in
            let certID = try CertID(derEncoded: &nodes)
            let extensions = try DER.optionalExplicitlyTagged(&nodes, tagNumber: 0, tagClass: .contextSpecific) {
                try OCSPExtensions.parse($0, in: "singleRequestExtensions")
            }
            return OCSPSingleRequest(reqCert: certID, singleRequestExtensions: extensions)
        }
    }

    public func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        try coder.appendConstructedNode(identifier: identifier) { coder in
            try coder.serialize(self.reqCert)
            try OCSPExtensions.serialize(self.singleRequestExtensions, tagNumber: 0, into: &coder)
        }
    }
}
