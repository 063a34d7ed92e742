/// Which token a signer or command uses: by label or by serial number (`CK_TOKEN_INFO`, v2.40 §3.2).
///
/// Slot ids are not stable (they change when a reader is plugged in elsewhere, and SoftHSM2 derives
/// them from the token), so Sigillum never configures one.
public enum PKCS11TokenSelector: Sendable, Hashable, CustomStringConvertible {
    /// The token whose label (blank padding removed) is exactly this.
    case label(String)

    /// The token whose serial number (blank padding removed) is exactly this.
    case serialNumber(String)

    /// Whether `token` is the selected one.
    public func matches(_ token: PKCS11TokenInformation) -> Bool {
        switch self {
        case .label(let label): token.label == label
        case .serialNumber(let serial): token.serialNumber == serial
        }
    }

    public var description: String {
        switch self {
        case .label(let label): "the token labelled \"\(label)\""
        case .serialNumber(let serial): "the token with serial number \(serial)"
        }
    }
}

/// Which private key a signer uses: by `CKA_LABEL` or by `CKA_ID` (v2.40 §4.4).
public enum PKCS11KeySelector: Sendable, Hashable, CustomStringConvertible {
    /// The private key whose `CKA_LABEL` is exactly this.
    case label(String)

    /// The private key whose `CKA_ID` is exactly these octets.
    case id([UInt8])

    /// The private key whose `CKA_ID` is the octets `hex` spells (`"01a2"`, also with `:` separators).
    ///
    /// - Throws: ``PKCS11Error`` with code ``PKCS11Error/ErrorCode/invalidConfiguration`` when `hex` is
    ///   empty, of odd length or holds a non-hexadecimal character.
    public static func id(hex: String) throws -> PKCS11KeySelector {
        .id(try PKCS11Hex.decode(hex))
    }

    public var description: String {
        switch self {
        case .label(let label): "the private key labelled \"\(label)\""
        case .id(let id): "the private key with CKA_ID \(id.hexString)"
        }
    }
}

/// Where a signer's certificate comes from.
public enum PKCS11CertificateSource: Sendable, Hashable {
    /// The token: the X.509 certificate object (`CKO_CERTIFICATE`, `CKC_X_509`) with the key's `CKA_ID`.
    case token

    /// A PEM or DER file; a PEM file's first certificate is the signer's, any further ones are its chain.
    case file(path: String)
}

/// Hexadecimal key ids, as operators type them.
public enum PKCS11Hex {
    /// The octets `text` spells: pairs of hexadecimal digits, optionally separated by `:`.
    ///
    /// - Throws: ``PKCS11Error`` with code ``PKCS11Error/ErrorCode/invalidConfiguration``.
    public static func decode(_ text: String) throws -> [UInt8] {
        let digits = Array(text.utf8.filter { $0 != UInt8(ascii: ":") })
        guard !digits.isEmpty, digits.count % 2 == 0 else {
            throw PKCS11Error(
                code: .invalidConfiguration,
                reason: "the key id \"\(text)\" must be an even number of hexadecimal digits, such as 01 or a1b2"
            )
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = self.value(of: digits[index]), let low = self.value(of: digits[index + 1]) else {
                throw PKCS11Error(
                    code: .invalidConfiguration,
                    reason: "the key id \"\(text)\" holds a character that is not a hexadecimal digit"
                )
            }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    /// Lower-case hexadecimal, two digits an octet.
    public static func encode(_ bytes: [UInt8]) -> String {
        bytes.hexString
    }

    private static func value(of digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
