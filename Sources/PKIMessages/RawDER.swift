public import SwiftASN1

/// One DER element kept as its encoding: its tag, length and content, byte for byte.
///
/// For parts that are signed or hashed as received (certificates, tokens) and for constant parts encoded once and
/// spliced into every message (`DER.Serializer.serializeRawBytes`).
public struct RawDER: DERParseable, DERSerializable, Hashable, Sendable {
    public var bytes: ArraySlice<UInt8>

    /// Wraps bytes that are known to hold exactly one DER element.
    public init(trustedEncoding bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
    }

    /// Encodes `value` once.
    public init(encoding value: some DERSerializable) throws {
        var coder = DER.Serializer()
        try coder.serialize(value)
        self.bytes = coder.serializedBytes[...]
    }

    public init(derEncoded node: ASN1Node) throws {
        self.bytes = node.encodedBytes
    }

    public func serialize(into coder: inout DER.Serializer) throws {
        coder.serializeRawBytes(self.bytes)
    }

    /// The parsed node.
    public func node() throws -> ASN1Node { try DER.parse(self.bytes) }
}
