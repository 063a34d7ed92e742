public import SwiftASN1
public import X509

/// A qualified statement.
///
/// ```
/// QCStatements ::= SEQUENCE OF QCStatement
/// QCStatement ::= SEQUENCE {
///     statementId   QC-STATEMENT.&id({SupportedStatements}),
///     statementInfo QC-STATEMENT.&Type({SupportedStatements}{@statementId}) OPTIONAL }
/// ```
/// RFC 3739 §3.2.6. ETSI EN 319 422 §9.1 and Annex B put `QCStatements` holding `esi4-qtstStatement-1` (no
/// statementInfo) into TSTInfo as the non-critical extension id-pe-qcStatements, marking a qualified electronic
/// time stamp in the sense of eIDAS.
public struct QCStatement: DERImplicitlyTaggable, Hashable, Sendable {
    public static var defaultIdentifier: ASN1Identifier { .sequence }

    public var statementID: ASN1ObjectIdentifier
    public var statementInfo: ASN1Any?

    public init(statementID: ASN1ObjectIdentifier, statementInfo: ASN1Any? = nil) {
        self.statementID = statementID
        self.statementInfo = statementInfo
    }

    public init(derEncoded rootNode: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        self = try DER.sequence(rootNode, identifier: identifier) { nodes in
            let id = try ASN1ObjectIdentifier(derEncoded: &nodes)
            let info = nodes.next().map { ASN1Any(derEncoded: $0) }
            return QCStatement(statementID: id, statementInfo: info)
        }
    }

    public func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        try coder.appendConstructedNode(identifier: identifier) { coder in
            try coder.serialize(self.statementID)
            if let statementInfo { try coder.serialize(statementInfo) }
        }
    }
}

extension Certificate.Extension {
    /// The non-critical id-pe-qcStatements extension holding `statements`.
    public static func qcStatements(_ statements: [QCStatement]) throws -> Certificate.Extension {
        var coder = DER.Serializer()
        try coder.serializeSequenceOf(statements)
        return Certificate.Extension(oid: .QCStatement.extensionID, critical: false, value: coder.serializedBytes[...])
    }

    /// The TSTInfo extension of EN 319 422 §9.1 that marks a qualified electronic time stamp.
    public static func qualifiedTimeStampStatement() throws -> Certificate.Extension {
        try .qcStatements([QCStatement(statementID: .QCStatement.qualifiedTimeStamp)])
    }

    /// The statements of an id-pe-qcStatements extension.
    public func parsedQCStatements() throws -> [QCStatement] {
        try DER.sequence(of: QCStatement.self, identifier: .sequence, rootNode: DER.parse(self.value))
    }
}
