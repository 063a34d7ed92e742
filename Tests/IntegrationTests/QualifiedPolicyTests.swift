import Foundation
import PKIMessages
import SwiftASN1
import Testing
import X509

/// EN 319 422 §9.1: tokens under a qualified policy carry the TSTInfo extension id-pe-qcStatements
/// (1.3.6.1.5.5.7.1.3) holding esi4-qtstStatement-1 (0.4.0.19422.1.1); tokens under other policies carry none.
@Suite("Qualified policy")
struct QualifiedPolicyTests {
    static let qcStatementsOID = "1.3.6.1.5.5.7.1.3"
    static let qtstStatementOID = "0.4.0.19422.1.1"

    /// Stamps `document` under `policy` (nil: the default) and returns the response file, TSTInfo file and the parse.
    static func stamp(
        policy: String?,
        state: String,
        banner: Banner,
        name: String
    ) async throws -> (responsePath: String, tstInfoPath: String, response: ReceivedResponse) {
        let document = "\(state)/\(name).txt"
        try writeFile(document, text: "qualified? \(name) \(UUID())\n")
        let query = "\(state)/\(name).tsq"
        let responsePath = "\(state)/\(name).tsr"
        let tokenPath = "\(state)/\(name).token.der"
        let tstInfoPath = "\(state)/\(name).tstinfo.der"
        try await Requests.openssl(data: document, policy: policy, out: query)
        let response = try await TSAClient.post(file: query, to: banner, responsePath: responsePath)
        #expect(response.status == .granted, "\(response.parsed.status)")
        let verify = try await OpenSSLTS.verify(
            response: responsePath,
            queryFile: query,
            caFile: state + "/pki/root-ca.pem",
            untrusted: state + "/pki/issuing-ca.pem"
        )
        #expect(verify.succeeded && verify.output.contains("Verification: OK"), "\(verify)")
        try await OpenSSLTS.extractToken(responsePath, to: tokenPath)
        try await OpenSSLTS.extractTSTInfo(token: tokenPath, to: tstInfoPath)
        return (responsePath, tstInfoPath, response)
    }

    @Test func qualifiedPolicyCarriesTheQCStatement() async throws {
        try await withDevelopmentDaemon("qualified") { state, _, banner in
            let (responsePath, tstInfoPath, response) = try await Self.stamp(
                policy: DaemonConfiguration.qualifiedPolicy,
                state: state,
                banner: banner,
                name: "qualified"
            )
            let text = try await OpenSSLTS.replyText(responsePath)
            #expect(text.contains("Policy OID: \(DaemonConfiguration.qualifiedPolicy)"), "\(text)")
            #expect(text.contains("qcStatements"), "openssl ts -reply -text shows no qcStatements extension\n\(text)")

            // OpenSSL's parse of the TSTInfo: `extensions [1]` with qcStatements, whose OCTET STRING holds the
            // statement esi4-qtstStatement-1.
            let asn1 = try await OpenSSLTS.asn1parse(tstInfoPath)
            let lines = asn1.split(separator: "\n").map(String.init)
            #expect(lines.contains { $0.contains("d=1") && $0.contains("cont [ 1 ]") }, "no extensions [1]\n\(asn1)")
            let oidLine = try #require(
                lines.firstIndex {
                    $0.contains("OBJECT") && ($0.contains(":qcStatements") || $0.contains(Self.qcStatementsOID))
                },
                "no qcStatements extension in the TSTInfo\n\(asn1)"
            )
            let valueLine = try #require(
                lines[(oidLine + 1)...].first { $0.contains("OCTET STRING") },
                "no extnValue\n\(asn1)"
            )
            let offset = try #require(
                Int(valueLine.split(separator: ":").first?.trimmingCharacters(in: .whitespaces) ?? ""))
            let statement = try await OpenSSLTS.asn1parse(tstInfoPath, strparse: offset)
            #expect(statement.contains("OBJECT            :\(Self.qtstStatementOID)"), "extnValue:\n\(statement)")
            #expect(
                statement.split(separator: "\n").count == 3,
                "SEQUENCE { SEQUENCE { OID } } and nothing else\n\(statement)")
            // Not critical (no BOOLEAN between the OID and the value): a relying party that does not know the statement
            // must still be able to process the token.
            #expect(!lines[oidLine..<lines.firstIndex(of: valueLine)!].contains { $0.contains("BOOLEAN") })

            // Our parser agrees.
            let token = try #require(response.token)
            #expect(
                token.tstInfo.policy
                    == (try ASN1ObjectIdentifier(dotRepresentation: DaemonConfiguration.qualifiedPolicy)))
            let extensions = try #require(token.tstInfo.extensions)
            #expect(extensions.count == 1)
            let qc = try #require(extensions.first)
            #expect(qc.oid == .QCStatement.extensionID)
            #expect(try qc.parsedQCStatements().map(\.statementID) == [.QCStatement.qualifiedTimeStamp])
        }
    }

    @Test func defaultPolicyCarriesNoExtension() async throws {
        try await withDevelopmentDaemon("unqualified") { state, _, banner in
            let (responsePath, tstInfoPath, response) = try await Self.stamp(
                policy: nil,
                state: state,
                banner: banner,
                name: "default"
            )
            let text = try await OpenSSLTS.replyText(responsePath)
            #expect(text.contains("Policy OID: \(DaemonConfiguration.developmentPolicy)"), "\(text)")
            #expect(!text.contains("qcStatements"), "\(text)")
            let asn1 = try await OpenSSLTS.asn1parse(tstInfoPath)
            #expect(!asn1.contains("qcStatements") && !asn1.contains(Self.qcStatementsOID), "\(asn1)")
            #expect(
                !asn1.split(separator: "\n").contains { $0.contains("d=1") && $0.contains("cont [ 1 ]") }, "\(asn1)")
            #expect(response.token?.tstInfo.extensions == nil)

            // Asking for the default policy by name gives the same: no extension.
            let named = try await Self.stamp(
                policy: DaemonConfiguration.developmentPolicy,
                state: state,
                banner: banner,
                name: "named-default"
            )
            #expect(named.response.token?.tstInfo.extensions == nil)
        }
    }
}
