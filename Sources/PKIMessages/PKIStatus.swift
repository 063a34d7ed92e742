public import SwiftASN1

/// The status of a time-stamp response.
///
/// ```
/// PKIStatus ::= INTEGER {
///     granted                (0),
///     grantedWithMods        (1),
///     rejection              (2),
///     waiting                (3),
///     revocationWarning      (4),
///     revocationNotification (5) }
/// ```
/// RFC 3161 §2.4.2 (from RFC 4210). An open set: unknown values survive parsing.
public struct PKIStatus: RawRepresentable, Hashable, Sendable, DERImplicitlyTaggable, CustomStringConvertible {
    public static var defaultIdentifier: ASN1Identifier { .integer }

    public var rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let granted = PKIStatus(rawValue: 0)
    public static let grantedWithMods = PKIStatus(rawValue: 1)
    public static let rejection = PKIStatus(rawValue: 2)
    public static let waiting = PKIStatus(rawValue: 3)
    public static let revocationWarning = PKIStatus(rawValue: 4)
    public static let revocationNotification = PKIStatus(rawValue: 5)

    /// Whether a token must accompany this status (RFC 3161 §2.4.2).
    public var carriesToken: Bool { self == .granted || self == .grantedWithMods }

    public init(derEncoded node: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        self.rawValue = try Int(derEncoded: node, withIdentifier: identifier)
    }

    public func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        try self.rawValue.serialize(into: &coder, withIdentifier: identifier)
    }

    public var description: String {
        switch self.rawValue {
        case 0: "granted"
        case 1: "grantedWithMods"
        case 2: "rejection"
        case 3: "waiting"
        case 4: "revocationWarning"
        case 5: "revocationNotification"
        default: "unknown(\(self.rawValue))"
        }
    }
}
