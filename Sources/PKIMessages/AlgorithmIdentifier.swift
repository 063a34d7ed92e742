public import SwiftASN1

/// An X.509 algorithm identifier.
///
/// ```
/// AlgorithmIdentifier ::= SEQUENCE {
///     algorithm   OBJECT IDENTIFIER,
///     parameters  ANY DEFINED BY algorithm OPTIONAL }
/// ```
/// RFC 5280 §4.1.1.2. The parameters are kept as they were encoded, so that an absent value and a NULL stay apart
/// (RFC 3161 clients send both forms for SHA-2, and the imprint must be echoed byte for byte).
public struct AlgorithmIdentifier: DERImplicitlyTaggable, Hashable, Sendable {
    public static var defaultIdentifier: ASN1Identifier { .sequence }

    public var algorithm: ASN1ObjectIdentifier
    public var parameters: ASN1Any?

    public init(algorithm: ASN1ObjectIdentifier, parameters: ASN1Any? = nil) {
        self.algorithm = algorithm
        self.parameters = parameters
    }

    public init(derEncoded rootNode: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        self = try DER.sequence(rootNode, identifier: identifier) { nodes in
            let algorithm = try ASN1ObjectIdentifier(derEncoded: &nodes)
            let parameters = nodes.next().map { ASN1Any(derEncoded: $0) }
            return AlgorithmIdentifier(algorithm: algorithm, parameters: parameters)
        }
    }

    public func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        try coder.appendConstructedNode(identifier: identifier) { coder in
            try coder.serialize(self.algorithm)
            if let parameters = self.parameters {
                try coder.serialize(parameters)
            }
        }
    }

    /// True when the parameters are absent or an ASN.1 NULL, the two forms RFC 5754 §2 allows for SHA-2.
    public var hasAbsentOrNullParameters: Bool {
        guard let parameters else { return true }
        // NULL has one DER encoding (05 00): comparing with it is the same check as parsing, without the parse.
        return parameters == Self.nullParameters
    }
}

extension AlgorithmIdentifier {
    /// The ASN.1 NULL, for algorithms whose parameters must be NULL.
    // A constant: serializing NULL cannot fail, so the `try!` touches no input.
    public static let nullParameters: ASN1Any = try! ASN1Any(erasing: ASN1Null())
}
