public import SwiftASN1

/// Why a certificate was revoked.
///
/// ```
/// CRLReason ::= ENUMERATED {
///     unspecified             (0),
///     keyCompromise           (1),
///     cACompromise            (2),
///     affiliationChanged      (3),
///     superseded              (4),
///     cessationOfOperation    (5),
///     certificateHold         (6),
///          -- value 7 is not used
///     removeFromCRL           (8),
///     privilegeWithdrawn      (9),
///     aACompromise           (10) }
/// ```
/// RFC 5280 §5.3.1, used by CRL entries (extension id-ce-cRLReasons) and by OCSP `RevokedInfo` (RFC 6960 §4.2.1).
/// An open set: values defined later survive parsing. Value 7 and negative values are refused, in parsing and in
/// serializing.
public struct CRLReason: RawRepresentable, Hashable, Sendable, DERImplicitlyTaggable, CustomStringConvertible {
    public static var defaultIdentifier: ASN1Identifier { .enumerated }

    public var rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let unspecified = CRLReason(rawValue: 0)
    public static let keyCompromise = CRLReason(rawValue: 1)
    public static let caCompromise = CRLReason(rawValue: 2)
    public static let affiliationChanged = CRLReason(rawValue: 3)
    public static let superseded = CRLReason(rawValue: 4)
    public static let cessationOfOperation = CRLReason(rawValue: 5)
    public static let certificateHold = CRLReason(rawValue: 6)
    public static let removeFromCRL = CRLReason(rawValue: 8)
    public static let privilegeWithdrawn = CRLReason(rawValue: 9)
    public static let aaCompromise = CRLReason(rawValue: 10)

    /// False for 7 ("not used") and for negative values.
    public var isAllowed: Bool { self.rawValue >= 0 && self.rawValue != 7 }

    public init(derEncoded node: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        self.rawValue = try Int(derEncoded: node, withIdentifier: identifier)
        guard self.isAllowed else {
            throw ASN1Error.invalidASN1Object(reason: "CRLReason \(self.rawValue) is not allowed")
        }
    }

    public func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        guard self.isAllowed else {
            throw ASN1Error.invalidASN1Object(reason: "CRLReason \(self.rawValue) is not allowed")
        }
        try self.rawValue.serialize(into: &coder, withIdentifier: identifier)
    }

    /// The names of RFC 5280 §5.3.1.
    public var description: String {
        switch self.rawValue {
        case 0: "unspecified"
        case 1: "keyCompromise"
        case 2: "cACompromise"
        case 3: "affiliationChanged"
        case 4: "superseded"
        case 5: "cessationOfOperation"
        case 6: "certificateHold"
        case 8: "removeFromCRL"
        case 9: "privilegeWithdrawn"
        case 10: "aACompromise"
        default: "unknown(\(self.rawValue))"
        }
    }
}
