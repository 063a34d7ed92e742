public import Foundation
import PKIMessages
import SwiftASN1

/// An OpenSSL `ca` database (`index.txt`) as a status source: every certificate the CA issued, one line each, so
/// ``ParsedStatus/knowsAllIssued`` is true.
///
/// Each line holds six tab-separated fields (OpenSSL's `TXT_DB`; a tab preceded by a backslash belongs to the
/// field):
///
/// | field | content |
/// | --- | --- |
/// | status | `V` valid, `R` revoked, `E` expired (set by `openssl ca -updatedb`) |
/// | expiry | `YYMMDDHHMMSSZ`, or `YYYYMMDDHHMMSSZ` from 2050 on |
/// | revocation | empty unless `R`: `YYMMDDHHMMSSZ[,reason[,argument]]` |
/// | serial | hexadecimal, as `BN_bn2hex` writes it (`00` for zero) |
/// | file name | `unknown` unless `openssl ca` was told otherwise |
/// | subject | OpenSSL's one-line form, `/C=DE/O=…/CN=…` |
///
/// Reasons are matched without regard to case, as `apps/ca.c`'s `unpack_revinfo` does: `unspecified`,
/// `keyCompromise`, `CACompromise`, `affiliationChanged`, `superseded`, `cessationOfOperation`,
/// `certificateHold`, `removeFromCRL`; OpenSSL's pseudo-reasons `holdInstruction,OID` (certificateHold with a
/// hold instruction, from `openssl ca -crl_hold`), `keyTime,YYYYMMDDHHMMSSZ` and `CAkeyTime,YYYYMMDDHHMMSSZ`
/// (keyCompromise / cACompromise with an invalidity date, from `-crl_compromise` / `-crl_CA_compromise`). Beyond
/// OpenSSL, `privilegeWithdrawn` and `AACompromise` (RFC 5280 §5.3.1 values 9 and 10) are accepted too.
///
/// Decisions:
/// - `E` (expired) counts as issued and not revoked: answered good. RFC 6960 §2.2's "good" says the certificate
///   is not revoked, which stays true after expiry. (OpenSSL's own responder writes no SingleResponse at all for an
///   `E` line, which clients report as "no status found".)
/// - A revocation time may be UTCTime or GeneralizedTime; OpenSSL itself reads only UTCTime there.
/// - Lines starting with `#` and empty lines are skipped; a final line without a newline is read.
/// - Anything else that does not parse, and a serial listed twice (OpenSSL's unique serial index refuses that
///   too), makes the whole file fail with ``OCSPResponderError/ErrorCode/malformedIndex`` naming the file and
///   line: a status source is used whole or not at all.
public struct OpenSSLIndexFile: StatusFileSource {
    /// One line of the database.
    public struct Row: Hashable, Sendable {
        /// The first field.
        public enum Status: Hashable, Sendable {
            /// `V`.
            case valid
            /// `R`.
            case revoked
            /// `E`.
            case expired
        }

        public var status: Status
        /// The certificate's notAfter.
        public var expiry: Date
        /// Set exactly when ``status`` is ``Status/revoked``.
        public var revocation: CertificateStatus.Revocation?
        public var serial: SerialNumberKey
        /// The 1-based line number in the file.
        public var lineNumber: Int

        /// What a status source lists for this row: revoked for `R`, good for `V` and `E`.
        public var entry: CertificateStatus.Entry {
            if let revocation = self.revocation { return .revoked(revocation) }
            return .good
        }
    }

    public let path: String

    public var kind: StatusSourceKind { .openSSLIndex }

    public init(path: String) {
        self.path = path
    }

    public func parse(_ contents: [UInt8]) throws(OCSPResponderError) -> ParsedStatus {
        try Self.parse(contents, path: self.path)
    }

    /// Parses a whole `index.txt`.
    ///
    /// - Parameter path: Named in errors.
    /// - Throws: ``OCSPResponderError`` with code ``OCSPResponderError/ErrorCode/malformedIndex``.
    public static func parse(_ contents: [UInt8], path: String) throws(OCSPResponderError) -> ParsedStatus {
        var entries: [SerialNumberKey: CertificateStatus.Entry] = [:]
        var lineOfSerial: [SerialNumberKey: Int] = [:]
        entries.reserveCapacity(Self.estimatedLineCount(contents))
        lineOfSerial.reserveCapacity(entries.capacity)
        try self.forEachRow(contents, path: path) { (row: Row) throws(OCSPResponderError) in
            if let earlier = lineOfSerial.updateValue(row.lineNumber, forKey: row.serial) {
                throw .malformedIndex(
                    path: path,
                    lineNumber: row.lineNumber,
                    reason: "serial \(row.serial) is already listed on line \(earlier)"
                )
            }
            entries[row.serial] = row.entry
        }
        return ParsedStatus(entries: entries, knowsAllIssued: true)
    }

    /// The rows of a whole `index.txt`, in file order (for importing it into the ledger).
    ///
    /// - Throws: ``OCSPResponderError`` with code ``OCSPResponderError/ErrorCode/malformedIndex``.
    public static func rows(_ contents: [UInt8], path: String) throws(OCSPResponderError) -> [Row] {
        var rows: [Row] = []
        try self.forEachRow(contents, path: path) { (row: Row) throws(OCSPResponderError) in rows.append(row) }
        return rows
    }

    // MARK: - Lines

    private static func estimatedLineCount(_ contents: [UInt8]) -> Int {
        // A typical line is 100–200 characters; an estimate avoids most rehashing of a large file.
        contents.count / 100
    }

    private static func forEachRow(
        _ contents: [UInt8],
        path: String,
        _ body: (Row) throws(OCSPResponderError) -> Void
    ) throws(OCSPResponderError) {
        var lineNumber = 0
        var start = contents.startIndex
        while start < contents.endIndex {
            lineNumber += 1
            let end = contents[start...].firstIndex(of: UInt8(ascii: "\n")) ?? contents.endIndex
            var line = contents[start..<end]
            start = end < contents.endIndex ? end + 1 : end
            if line.last == UInt8(ascii: "\r") {
                line = line.dropLast()
            }
            if line.isEmpty || line.first == UInt8(ascii: "#") {
                continue
            }
            try body(try self.parseLine(line, lineNumber: lineNumber, path: path))
        }
    }

    private static func parseLine(
        _ line: ArraySlice<UInt8>,
        lineNumber: Int,
        path: String
    ) throws(OCSPResponderError) -> Row {
        func malformed(_ reason: String) -> OCSPResponderError {
            .malformedIndex(path: path, lineNumber: lineNumber, reason: reason)
        }

        let fields = self.splitFields(line)
        guard fields.count == 6 else {
            throw malformed("the line has \(fields.count) tab-separated fields, expected 6")
        }

        let status: Row.Status
        switch Array(fields[0]) {
        case [UInt8(ascii: "V")]: status = .valid
        case [UInt8(ascii: "R")]: status = .revoked
        case [UInt8(ascii: "E")]: status = .expired
        default: throw malformed("the status \(quoted(fields[0])) is not V, R or E")
        }

        guard let expiry = ASN1TimeText.parse(fields[1]) else {
            throw malformed("the expiry date \(quoted(fields[1])) is not YYMMDDHHMMSSZ or YYYYMMDDHHMMSSZ")
        }

        let revocation: CertificateStatus.Revocation?
        switch status {
        case .revoked:
            guard !fields[2].isEmpty else {
                throw malformed("the line is revoked (R) but has no revocation date")
            }
            do {
                revocation = try self.parseRevocation(fields[2])
            } catch {
                throw malformed(error.reason)
            }
        case .valid, .expired:
            guard fields[2].isEmpty else {
                throw malformed(
                    "the line is not revoked (\(status == .valid ? "V" : "E")) but has revocation data \(quoted(fields[2]))"
                )
            }
            revocation = nil
        }

        guard let magnitude = SerialNumberKey.parseHex(fields[3]) else {
            throw malformed("the serial \(quoted(fields[3])) is not hexadecimal")
        }
        return Row(
            status: status,
            expiry: expiry,
            revocation: revocation,
            serial: SerialNumberKey(magnitude: magnitude),
            lineNumber: lineNumber
        )
    }

    /// The fields of a line, split at tabs not preceded by a backslash (`TXT_DB_read`).
    private static func splitFields(_ line: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var fields: [ArraySlice<UInt8>] = []
        fields.reserveCapacity(6)
        var fieldStart = line.startIndex
        var escaped = false
        for index in line.indices {
            let character = line[index]
            if character == UInt8(ascii: "\t"), !escaped {
                fields.append(line[fieldStart..<index])
                fieldStart = index + 1
            }
            escaped = character == UInt8(ascii: "\\")
        }
        fields.append(line[fieldStart..<line.endIndex])
        return fields
    }

    // MARK: - Revocation field

    private struct FieldError: Error {
        var reason: String
    }

    /// `time[,reason[,argument]]`, as `unpack_revinfo` reads it.
    private static func parseRevocation(_ field: ArraySlice<UInt8>) throws(FieldError) -> CertificateStatus.Revocation {
        let parts = field.split(separator: UInt8(ascii: ","), maxSplits: 2, omittingEmptySubsequences: false)
        guard let time = ASN1TimeText.parse(parts[0]) else {
            throw FieldError(
                reason: "the revocation date \(quoted(parts[0])) is not YYMMDDHHMMSSZ or YYYYMMDDHHMMSSZ"
            )
        }
        guard parts.count > 1 else {
            return CertificateStatus.Revocation(time: time, reason: nil)
        }
        let name = String(decoding: parts[1], as: UTF8.self).lowercased()
        let argument = parts.count > 2 ? parts[2] : nil
        switch name {
        case "holdinstruction":
            guard let argument, let oid = self.holdInstruction(argument) else {
                throw FieldError(
                    reason: "holdInstruction needs an OID or a hold instruction name, found \(quoted(argument ?? []))"
                )
            }
            return CertificateStatus.Revocation(time: time, reason: .certificateHold, holdInstruction: oid)
        case "keytime", "cakeytime":
            guard let argument, let invalidity = ASN1TimeText.parseGeneralizedTime(argument) else {
                throw FieldError(
                    reason: "\(String(decoding: parts[1], as: UTF8.self)) needs a YYYYMMDDHHMMSSZ compromise time, "
                        + "found \(quoted(argument ?? []))"
                )
            }
            return CertificateStatus.Revocation(
                time: time,
                reason: name == "keytime" ? .keyCompromise : .caCompromise,
                invalidityDate: invalidity
            )
        default:
            guard let reason = Self.reasonNames[name] else {
                throw FieldError(reason: "the revocation reason \(quoted(parts[1])) is unknown")
            }
            return CertificateStatus.Revocation(time: time, reason: reason)
        }
    }

    /// Reason names, lower-cased.
    private static let reasonNames: [String: CRLReason] = [
        "unspecified": .unspecified,
        "keycompromise": .keyCompromise,
        "cacompromise": .caCompromise,
        "affiliationchanged": .affiliationChanged,
        "superseded": .superseded,
        "cessationofoperation": .cessationOfOperation,
        "certificatehold": .certificateHold,
        "removefromcrl": .removeFromCRL,
        "privilegewithdrawn": .privilegeWithdrawn,
        "aacompromise": .aaCompromise,
    ]

    /// A hold instruction as `OBJ_txt2obj` reads it: OpenSSL's short or long name, or dotted digits.
    private static func holdInstruction(_ argument: ArraySlice<UInt8>) -> ASN1ObjectIdentifier? {
        let text = String(decoding: argument, as: UTF8.self)
        switch text {
        case "holdInstructionNone", "Hold Instruction None":
            return .HoldInstruction.none
        case "holdInstructionCallIssuer", "Hold Instruction Call Issuer":
            return .HoldInstruction.callIssuer
        case "holdInstructionReject", "Hold Instruction Reject":
            return .HoldInstruction.reject
        default:
            guard text.first?.isNumber == true, let oid = try? ASN1ObjectIdentifier(dotRepresentation: text) else {
                return nil
            }
            return oid
        }
    }
}

/// A field for an error message: quoted, non-printable characters escaped, at most 40 characters.
func quoted(_ field: some Collection<UInt8>) -> String {
    var text = ""
    for character in field.prefix(40) {
        if character >= 0x20, character < 0x7F {
            text.unicodeScalars.append(Unicode.Scalar(character))
        } else {
            text += "\\x" + (character < 0x10 ? "0" : "") + String(character, radix: 16)
        }
    }
    return "\"" + text + (field.count > 40 ? "…" : "") + "\""
}
