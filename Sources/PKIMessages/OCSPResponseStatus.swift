public import SwiftASN1

/// The status of an OCSP response.
///
/// ```
/// OCSPResponseStatus ::= ENUMERATED {
///     successful            (0),  -- Response has valid confirmations
///     malformedRequest      (1),  -- Illegal confirmation request
///     internalError         (2),  -- Internal error in issuer
///     tryLater              (3),  -- Try again later
///                                 -- (4) is not used
///     sigRequired           (5),  -- Must sign the request
///     unauthorized          (6)   -- Request unauthorized
/// }
/// ```
/// RFC 6960 §4.2.1. An open set: values defined later survive parsing. 4 ("not used") and negative values are
/// refused, in parsing and in serializing.
public struct OCSPResponseStatus: RawRepresentable, Hashable, Sendable, DERImplicitlyTaggable,
    CustomStringConvertible
{
    public static var defaultIdentifier: ASN1Identifier { .enumerated }

    public var rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let successful = OCSPResponseStatus(rawValue: 0)
    public static let malformedRequest = OCSPResponseStatus(rawValue: 1)
    public static let internalError = OCSPResponseStatus(rawValue: 2)
    public static let tryLater = OCSPResponseStatus(rawValue: 3)
    public static let sigRequired = OCSPResponseStatus(rawValue: 5)
    public static let unauthorized = OCSPResponseStatus(rawValue: 6)

    /// False for 4 ("not used") and for negative values.
    public var isAllowed: Bool { self.rawValue >= 0 && self.rawValue != 4 }

    public init(derEncoded node: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        self.rawValue = try Int(derEncoded: node, withIdentifier: identifier)
        guard self.isAllowed else {
            throw ASN1Error.invalidASN1Object(reason: "OCSPResponseStatus \(self.rawValue) is not allowed")
        }
    }

    public func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        guard self.isAllowed else {
            throw ASN1Error.invalidASN1Object(reason: "OCSPResponseStatus \(self.rawValue) is not allowed")
        }
        try self.rawValue.serialize(into: &coder, withIdentifier: identifier)
    }

    /// A stable label for metrics and logs.
    public var description: String {
        switch self.rawValue {
        case 0: "successful"
        case 1: "malformedRequest"
        case 2: "internalError"
        case 3: "tryLater"
        case 5: "sigRequired"
        case 6: "unauthorized"
        default: "unknown(\(self.rawValue))"
        }
    }
}
