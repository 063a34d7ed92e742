import SwiftASN1
public import X509

/// The nonce that binds a response to a request.
///
/// ```
/// id-pkix-ocsp-nonce OBJECT IDENTIFIER ::= { id-pkix-ocsp 2 }
/// Nonce ::= OCTET STRING(SIZE(1..32))
/// ```
/// RFC 6960 §4.4.1 and RFC 9654 §2.1: the extension's extnValue is the DER of an OCTET STRING holding the nonce, so
/// a 16-octet nonce is the extnValue `04 10 …` (what `openssl ocsp -req_text` prints). A responder that supports
/// nonces echoes the request's nonce in `responseExtensions`. RFC 9654 §2.1 has responders accept 1 to 128 octets
/// (``acceptedLengths``; 16 to 32 are what clients send) and answer longer or empty nonces with malformedRequest;
/// that is the responder's decision, this type reads and writes any length.
public struct OCSPNonce: Hashable, Sendable, CertificateExtensionConvertible {
    /// The nonce octets (the OCTET STRING's value).
    public var octets: ArraySlice<UInt8>

    /// The nonce lengths a responder accepts (RFC 9654 §2.1); others get malformedRequest.
    public static let acceptedLengths: ClosedRange<Int> = 1...128

    public init(octets: some Sequence<UInt8>) {
        self.octets = ArraySlice(octets)
    }

    /// Reads a nonce extension; throws when `ext` is another extension or its value is not one DER OCTET STRING.
    public init(_ ext: Certificate.Extension) throws {
        guard ext.oid == .OCSP.nonce else {
            throw ASN1Error.invalidASN1Object(reason: "extension \(ext.oid) is not id-pkix-ocsp-nonce")
        }
        self.octets = try ASN1OctetString(derEncoded: ext.value).bytes
    }

    /// The nonce among `extensions` (request or response extensions), nil when there is none; throws when the nonce
    /// extension is malformed or present twice.
    public static func find(in extensions: [Certificate.Extension]?) throws -> OCSPNonce? {
        let matches = (extensions ?? []).filter { $0.oid == .OCSP.nonce }
        guard matches.count <= 1 else {
            throw ASN1Error.invalidASN1Object(reason: "the nonce extension appears \(matches.count) times")
        }
        return try matches.first.map { try OCSPNonce($0) }
    }

    /// Whether a responder should accept this nonce (RFC 9654 §2.1).
    public var hasAcceptedLength: Bool { Self.acceptedLengths.contains(self.octets.count) }

    /// The non-critical extension carrying this nonce, for echoing in `responseExtensions` (or sending in a request).
    public func makeCertificateExtension() -> Certificate.Extension {
        var coder = DER.Serializer()
        coder.appendPrimitiveNode(identifier: .octetString) { $0.append(contentsOf: self.octets) }
        return Certificate.Extension(oid: .OCSP.nonce, critical: false, value: coder.serializedBytes[...])
    }
}
