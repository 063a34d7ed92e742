public import SwiftASN1

/// The time deviation around genTime within which the time is correct.
///
/// ```
/// Accuracy ::= SEQUENCE {
///     seconds        INTEGER              OPTIONAL,
///     millis     [0] INTEGER  (1..999)    OPTIONAL,
///     micros     [1] INTEGER  (1..999)    OPTIONAL  }
/// ```
/// RFC 3161 §2.4.2 (the module uses IMPLICIT tags). A zero component is left out rather than encoded as 0,
/// which the SIZE constraint forbids for millis and micros.
public struct Accuracy: DERImplicitlyTaggable, Hashable, Sendable {
    public static var defaultIdentifier: ASN1Identifier { .sequence }

    public var seconds: Int?
    public var millis: Int?
    public var micros: Int?

    static let millisTag = ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)
    static let microsTag = ASN1Identifier(tagWithNumber: 1, tagClass: .contextSpecific)

    public init(seconds: Int? = nil, millis: Int? = nil, micros: Int? = nil) {
        self.seconds = seconds
        self.millis = millis
        self.micros = micros
    }

    /// The accuracy for a total in microseconds, split into its components with zero components left out.
    public init(totalMicroseconds: Int64) {
        let total = max(totalMicroseconds, 0)
        let seconds = Int(total / 1_000_000)
        let millis = Int((total / 1000) % 1000)
        let micros = Int(total % 1000)
        self.init(
            seconds: seconds == 0 ? nil : seconds,
            millis: millis == 0 ? nil : millis,
            micros: micros == 0 ? nil : micros
        )
    }

    /// The accuracy in microseconds.
    public var totalMicroseconds: Int64 {
        Int64(self.seconds ?? 0) * 1_000_000 + Int64(self.millis ?? 0) * 1000 + Int64(self.micros ?? 0)
    }

    public init(derEncoded rootNode: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        self = try DER.sequence(rootNode, identifier: identifier) { nodes in
            var seconds: Int?
            var millis: Int?
            var micros: Int?
            var next = nodes.next()
            if let node = next, node.identifier == .integer {
                seconds = try Int(derEncoded: node)
                next = nodes.next()
            }
            if let node = next, node.identifier == Self.millisTag {
                millis = try Int(derEncoded: node, withIdentifier: Self.millisTag)
                next = nodes.next()
            }
            if let node = next, node.identifier == Self.microsTag {
                micros = try Int(derEncoded: node, withIdentifier: Self.microsTag)
                next = nodes.next()
            }
            if let node = next {
                throw ASN1Error.unexpectedFieldType(node.identifier)
            }
            for value in [millis, micros].compactMap({ $0 }) where !(1...999).contains(value) {
                throw ASN1Error.invalidASN1Object(reason: "Accuracy millis/micros \(value) outside 1..999")
            }
            if let seconds, seconds < 0 {
                throw ASN1Error.invalidASN1Object(reason: "Accuracy seconds \(seconds) is negative")
            }
            return Accuracy(seconds: seconds, millis: millis, micros: micros)
        }
    }

    public func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        try coder.appendConstructedNode(identifier: identifier) { coder in
            if let seconds = self.seconds { try coder.serialize(seconds) }
            // millis and micros are 1..999: a zero component is the same as an absent one and is not written.
            if let millis = self.millis, millis != 0 {
                try millis.serialize(into: &coder, withIdentifier: Self.millisTag)
            }
            if let micros = self.micros, micros != 0 {
                try micros.serialize(into: &coder, withIdentifier: Self.microsTag)
            }
        }
    }
}
