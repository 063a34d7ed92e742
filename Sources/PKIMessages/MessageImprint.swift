public import SwiftASN1

/// The hash of the datum to be time-stamped.
///
/// ```
/// MessageImprint ::= SEQUENCE {
///     hashAlgorithm   AlgorithmIdentifier,
///     hashedMessage   OCTET STRING }
/// ```
/// RFC 3161 §2.4.1. The TSA copies it into TSTInfo unchanged; DER is canonical, so re-encoding a value parsed
/// under DER reproduces the client's bytes exactly, parameters (absent or NULL) included.
public struct MessageImprint: DERImplicitlyTaggable, Hashable, Sendable {
    public static var defaultIdentifier: ASN1Identifier { .sequence }

    public var hashAlgorithm: AlgorithmIdentifier
    public var hashedMessage: ArraySlice<UInt8>

    public init(hashAlgorithm: AlgorithmIdentifier, hashedMessage: ArraySlice<UInt8>) {
        self.hashAlgorithm = hashAlgorithm
        self.hashedMessage = hashedMessage
    }

    public init(derEncoded rootNode: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        self = try DER.sequence(rootNode, identifier: identifier) { nodes in
            let algorithm = try AlgorithmIdentifier(derEncoded: &nodes)
            let hashed = try ASN1OctetString(derEncoded: &nodes)
            return MessageImprint(hashAlgorithm: algorithm, hashedMessage: hashed.bytes)
        }
    }

    public func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        try coder.appendConstructedNode(identifier: identifier) { coder in
            try coder.serialize(self.hashAlgorithm)
            try coder.serialize(ASN1OctetString(contentBytes: self.hashedMessage))
        }
    }
}
