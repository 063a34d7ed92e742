import SwiftASN1
import X509

/// The `Extensions` fields of OCSP messages: `requestExtensions [2]`, `singleRequestExtensions [0]`,
/// `responseExtensions [1]`, `singleExtensions [1]`, all EXPLICIT.
///
/// ```
/// Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension
/// ```
/// RFC 5280 §4.1 (imported by RFC 6960 §4). Parsing refuses an empty list and an extension that appears twice (RFC
/// 5280 §4.2); an empty list is never written. Also used for CRL entry extensions.
enum OCSPExtensions {
    /// The extensions inside an explicit tag's child node.
    static func parse(_ node: ASN1Node, in field: String) throws -> [Certificate.Extension] {
        let extensions = try DER.sequence(of: Certificate.Extension.self, identifier: .sequence, rootNode: node)
        guard !extensions.isEmpty else {
            throw ASN1Error.invalidASN1Object(reason: "\(field) must not be empty")
        }
        if let oid = Self.firstRepeatedOID(in: extensions) {
            throw ASN1Error.invalidASN1Object(reason: "\(field) holds \(oid) twice")
        }
        return extensions
    }

    /// An extnID that appears more than once (RFC 5280 §4.2 allows each extension once), in linear time.
    static func firstRepeatedOID(in extensions: [Certificate.Extension]) -> ASN1ObjectIdentifier? {
        guard extensions.count > 1 else { return nil }
        if extensions.count <= 8 {
            for (index, candidate) in extensions.enumerated() {
                for other in extensions[(index + 1)...] where other.oid == candidate.oid {
                    return candidate.oid
                }
            }
            return nil
        }
        var seen = Set<ASN1ObjectIdentifier>(minimumCapacity: extensions.count)
        for ext in extensions where !seen.insert(ext.oid).inserted {
            return ext.oid
        }
        return nil
    }

    /// Writes `[tagNumber] EXPLICIT SEQUENCE OF Extension` unless `extensions` is nil or empty.
    static func serialize(
        _ extensions: [Certificate.Extension]?,
        tagNumber: UInt,
        into coder: inout DER.Serializer
    ) throws {
        guard let extensions, !extensions.isEmpty else { return }
        try coder.serialize(explicitlyTaggedWithTagNumber: tagNumber, tagClass: .contextSpecific) { coder in
            try coder.serializeSequenceOf(extensions)
        }
    }

    /// The one extension with `oid`, if any.
    static func find(_ oid: ASN1ObjectIdentifier, in extensions: [Certificate.Extension]?) -> Certificate.Extension? {
        extensions?.first { $0.oid == oid }
    }
}
