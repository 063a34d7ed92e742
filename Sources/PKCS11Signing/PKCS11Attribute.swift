import CPKCS11

/// One attribute of a PKCS#11 template (v2.40 §4.1): its type and its value octets as the module
/// expects them (`CK_BBOOL` one octet, `CK_ULONG` in native byte order, byte arrays as is).
struct PKCS11Attribute: Sendable {
    var type: CK_ATTRIBUTE_TYPE
    var value: [UInt8]

    init(_ type: CK_ATTRIBUTE_TYPE, bytes: [UInt8]) {
        self.type = type
        self.value = bytes
    }

    /// A `CK_BBOOL` attribute.
    static func bool(_ type: CK_ATTRIBUTE_TYPE, _ value: Bool) -> PKCS11Attribute {
        PKCS11Attribute(type, bytes: [value ? 1 : 0])
    }

    /// A `CK_ULONG` attribute (a class, a key type, a bit count).
    static func ulong(_ type: CK_ATTRIBUTE_TYPE, _ value: CK_ULONG) -> PKCS11Attribute {
        PKCS11Attribute(type, bytes: withUnsafeBytes(of: value) { Array($0) })
    }

    /// A byte-array attribute (`CKA_ID`, `CKA_VALUE`, `CKA_EC_PARAMS`).
    static func bytes(_ type: CK_ATTRIBUTE_TYPE, _ value: [UInt8]) -> PKCS11Attribute {
        PKCS11Attribute(type, bytes: value)
    }

    /// A UTF-8 text attribute (`CKA_LABEL`), without a terminating NUL.
    static func text(_ type: CK_ATTRIBUTE_TYPE, _ value: String) -> PKCS11Attribute {
        PKCS11Attribute(type, bytes: Array(value.utf8))
    }
}

/// `CK_UNAVAILABLE_INFORMATION`: the length a module reports for an attribute it cannot return.
let unavailableInformation = CK_ULONG.max

/// Runs `body` with a `CK_ATTRIBUTE` array for `attributes`, whose value pointers stay valid during `body`.
func withTemplate<T, E: Error>(
    _ attributes: [PKCS11Attribute],
    _ body: (UnsafeMutablePointer<CK_ATTRIBUTE>?, CK_ULONG) throws(E) -> T
) throws(E) -> T {
    let total = attributes.reduce(0) { $0 + $1.value.count }
    let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(total, 1), alignment: 8)
    defer { storage.deallocate() }
    let template = UnsafeMutablePointer<CK_ATTRIBUTE>.allocate(capacity: max(attributes.count, 1))
    defer { template.deallocate() }
    var offset = 0
    for (index, attribute) in attributes.enumerated() {
        let start = storage.baseAddress.map { $0 + offset }
        if !attribute.value.isEmpty, let start {
            attribute.value.withUnsafeBytes { source in
                if let from = source.baseAddress {
                    start.copyMemory(from: from, byteCount: source.count)
                }
            }
        }
        (template + index).initialize(
            to: CK_ATTRIBUTE(type: attribute.type, pValue: start, ulValueLen: CK_ULONG(attribute.value.count))
        )
        offset += attribute.value.count
    }
    defer { template.deinitialize(count: attributes.count) }
    return try body(attributes.isEmpty ? nil : template, CK_ULONG(attributes.count))
}

extension [UInt8] {
    /// The value read as a `CK_ULONG` in native byte order, when it is exactly that long.
    var ckULong: CK_ULONG? {
        guard self.count == MemoryLayout<CK_ULONG>.size else { return nil }
        return self.withUnsafeBytes { $0.loadUnaligned(as: CK_ULONG.self) }
    }

    /// The value read as a `CK_BBOOL`, when it is one octet.
    var ckBool: Bool? {
        guard self.count == 1 else { return nil }
        return self[0] != 0
    }

    /// Lower-case hexadecimal, two digits an octet.
    var hexString: String {
        self.map { byte in
            let digits = String(byte, radix: 16)
            return byte < 16 ? "0" + digits : digits
        }.joined()
    }
}

/// Text from a blank-padded, fixed-size PKCS#11 field (`CK_TOKEN_INFO.label`): the padding and any
/// NULs removed. Invalid UTF-8 is replaced rather than refused, since this is for display and matching.
func paddedText<Field>(_ field: Field) -> String {
    withUnsafeBytes(of: field) { raw in
        var bytes = Array(raw)
        if let nul = bytes.firstIndex(of: 0) {
            bytes.removeSubrange(nul...)
        }
        while let last = bytes.last, last == UInt8(ascii: " ") {
            bytes.removeLast()
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
