/// A PIV key reference: the slot of an asymmetric key on the card (NIST SP 800-73-4 Part 1, Table 4b).
///
/// The set is open (retired key slots 82–95 may follow), so this is a struct with static members:
/// compare with `==`.
public struct PIVKeyReference: Sendable, Hashable, CustomStringConvertible {
    /// The key reference octet: P2 of GENERAL AUTHENTICATE.
    public let rawValue: UInt8

    private init(_ rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// `9A`: PIV Authentication key; PIN once per session.
    public static let authentication = PIVKeyReference(0x9A)

    /// `9C`: Digital Signature key; PIN right before each signature (SP 800-73-4 Part 1 §3.2.2).
    public static let digitalSignature = PIVKeyReference(0x9C)

    /// `9D`: Key Management key; PIN once per session.
    public static let keyManagement = PIVKeyReference(0x9D)

    /// `9E`: Card Authentication key; no PIN.
    public static let cardAuthentication = PIVKeyReference(0x9E)

    /// The four key references with a certificate data object, in SP 800-73-4 order.
    public static let all: [PIVKeyReference] = [
        .authentication, .digitalSignature, .keyManagement, .cardAuthentication,
    ]

    /// The key reference from its hexadecimal name (`9c`, `0x9C`) or its SP 800-73-4 name
    /// (`digital-signature`, `authentication`, `key-management`, `card-authentication`).
    public init?(_ text: String) {
        var normalized = text.lowercased()
        if normalized.hasPrefix("0x") {
            normalized.removeFirst(2)
        }
        if let found = Self.all.first(where: { $0.hexName.lowercased() == normalized || $0.name == normalized }) {
            self = found
        } else {
            return nil
        }
    }

    /// The SP 800-73-4 name, such as `digital-signature`.
    public var name: String {
        switch self.rawValue {
        case 0x9A: "authentication"
        case 0x9C: "digital-signature"
        case 0x9D: "key-management"
        case 0x9E: "card-authentication"
        default: "key-\(self.hexName)"
        }
    }

    /// `9C`.
    public var hexName: String {
        hexString([self.rawValue])
    }

    public var description: String {
        "\(self.hexName) (\(self.name))"
    }

    /// The PIN policy SP 800-73-4 gives the key.
    public var defaultPINPolicy: SmartCardPINPolicy {
        switch self.rawValue {
        case 0x9C: .everySignature
        case 0x9E: .never
        default: .oncePerConnection
        }
    }

    /// The BER-TLV tag of the key's X.509 certificate data object (SP 800-73-4 Part 1, Table 3):
    /// `5FC105` for 9A, `5FC10A` for 9C, `5FC10B` for 9D, `5FC101` for 9E.
    var certificateObjectTag: [UInt8] {
        switch self.rawValue {
        case 0x9A: [0x5F, 0xC1, 0x05]
        case 0x9C: [0x5F, 0xC1, 0x0A]
        case 0x9D: [0x5F, 0xC1, 0x0B]
        default: [0x5F, 0xC1, 0x01]
        }
    }
}

/// When the signer presents the PIN (VERIFY, key reference `80`, the PIV Card Application PIN).
public struct SmartCardPINPolicy: Sendable, Hashable, CustomStringConvertible {
    enum Backing: Sendable, Hashable {
        case everySignature
        case oncePerConnection
        case never
    }

    let backing: Backing

    private init(_ backing: Backing) {
        self.backing = backing
    }

    /// Right before each signature, in the same transaction: what the Digital Signature key (9C) needs.
    public static let everySignature = SmartCardPINPolicy(.everySignature)

    /// Once after connecting (and again after a reset or reconnection).
    public static let oncePerConnection = SmartCardPINPolicy(.oncePerConnection)

    /// Never: a key usable without the PIN (Card Authentication, 9E).
    public static let never = SmartCardPINPolicy(.never)

    public var description: String {
        switch self.backing {
        case .everySignature: "every signature"
        case .oncePerConnection: "once per connection"
        case .never: "never"
        }
    }
}
