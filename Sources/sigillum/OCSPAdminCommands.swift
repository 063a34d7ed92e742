import ArgumentParser
import Foundation
import Ledger
import Logging
import OCSPResponder
import PKIMessages
import X509

/// `sigillum ocsp …`: the OCSP client (the default subcommand, so `sigillum ocsp CERT --issuer ISSUER` asks a
/// responder) and the administration of the ledger status source.
struct OCSPGroupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ocsp",
        abstract: "Ask an OCSP responder (default), or manage the certificate statuses kept in the ledger.",
        discussion: """
            `sigillum ocsp CERT --issuer ISSUER …` is `sigillum ocsp query`. The other subcommands write the \
            statuses an issuer configured with `status: { ledger: true }` answers from, in STATE/ledger.sqlite; \
            a running sigillumd sees a change within its status poll interval (500 ms by default). Statuses are \
            keyed by the issuer certificate's subject. The ledger lists the serials it knows to be issued: \
            `import-index` imports every serial of an OpenSSL CA database, `revoke` and `unrevoke` add a serial \
            not yet known; a serial the ledger does not list is answered unknown (or, with nonIssuedIsRevoked, \
            revoked as non-issued).
            """,
        subcommands: [
            OCSPCommand.self,
            OCSPRevokeCommand.self,
            OCSPUnrevokeCommand.self,
            OCSPImportIndexCommand.self,
            OCSPImportCRLCommand.self,
        ],
        defaultSubcommand: OCSPCommand.self
    )
}

/// Options shared by the ledger-writing subcommands: the issuer and the state folder.
struct OCSPLedgerOptions: ParsableArguments {
    @Option(
        name: .customLong("issuer"),
        help: ArgumentHelp("The certificate of the CA whose statuses to change (PEM or DER).", valueName: "issuer.pem")
    )
    var issuerFile: String

    @OptionGroup var state: StateDirectoryOptions

    @Flag(help: "Create STATE/ledger.sqlite when it does not exist yet (normally sigillumd creates it).")
    var create = false

    func readIssuer() throws(CLIError) -> Certificate {
        try OCSPCommand.readCertificate(self.issuerFile, role: "--issuer")
    }

    /// Opens the ledger for writing; safe while sigillumd runs on it (SQLite WAL and a busy timeout).
    func openLedger() throws(CLIError) -> (Ledger, String) {
        let path = LedgerCommand.Verify.ledgerPath(in: self.state.resolved)
        if !self.create, !FileManager.default.fileExists(atPath: path) {
            throw CLIError(
                "no ledger at \(path); pass the appliance's --state-dir (or set STATE_DIRECTORY), start sigillumd once "
                    + "to create it, or pass --create",
                exitCode: 2
            )
        }
        var logger = Logger(label: "sigillum", factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = .warning
        do {
            return (try Ledger(configuration: LedgerConfiguration(databasePath: path), logger: logger), path)
        } catch let error as LedgerError {
            throw CLIError("\(error.reason)" + (error.remedy.isEmpty ? "" : "; \(error.remedy)"), exitCode: 2)
        } catch {
            throw CLIError("cannot open the ledger at \(path): \(error)", exitCode: 2)
        }
    }

    func write(_ body: (Ledger) throws -> Void) throws(CLIError) -> String {
        let (ledger, path) = try self.openLedger()
        do {
            try body(ledger)
        } catch let error as LedgerError {
            throw CLIError("\(error.reason)" + (error.remedy.isEmpty ? "" : "; \(error.remedy)"), exitCode: 2)
        } catch {
            throw CLIError("cannot write to the ledger at \(path): \(error)", exitCode: 2)
        }
        return path
    }
}

/// The certificate to act on: CERT.pem (checked against ISSUER) or --serial HEX.
struct OCSPSerialOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("The certificate (PEM or DER); or give --serial.", valueName: "cert.pem"))
    var certificateFile: String?

    @Option(help: ArgumentHelp("The certificate's serial number in hexadecimal.", valueName: "hex"))
    var serial: String?

    func validate() throws {
        guard (self.certificateFile == nil) != (self.serial == nil) else {
            throw ValidationError("give either CERT.pem or --serial HEX")
        }
    }

    /// The serial's magnitude.
    func resolve(issuer: Certificate) throws(CLIError) -> SerialNumberKey {
        if let hex = self.serial {
            var digits = Substring(hex)
            if digits.hasPrefix("0x") || digits.hasPrefix("0X") { digits = digits.dropFirst(2) }
            guard let key = SerialNumberKey(hex: digits.filter { $0 != ":" }) else {
                throw CLIError("--serial \(hex) is not a hexadecimal serial number", exitCode: 2)
            }
            return key
        }
        let path = self.certificateFile ?? ""
        let certificate = try OCSPCommand.readCertificate(path, role: "CERT")
        guard certificate.issuer == issuer.subject else {
            throw CLIError(
                "\(path) was issued by \"\(certificate.issuer)\", not by --issuer \"\(issuer.subject)\"", exitCode: 2)
        }
        guard issuer.publicKey.isValidSignature(certificate.signature, for: certificate) else {
            throw CLIError(
                "\(path) names \"\(issuer.subject)\" as its issuer, but its signature does not verify with its key",
                exitCode: 2
            )
        }
        return SerialNumberKey(certificate.serialNumber)
    }
}

/// A CRLReason by its RFC 5280 §5.3.1 name.
struct RevocationReasonArgument: ExpressibleByArgument {
    static let names: [(String, CRLReason)] = [
        ("unspecified", .unspecified),
        ("keyCompromise", .keyCompromise),
        ("cACompromise", .caCompromise),
        ("affiliationChanged", .affiliationChanged),
        ("superseded", .superseded),
        ("cessationOfOperation", .cessationOfOperation),
        ("certificateHold", .certificateHold),
        ("privilegeWithdrawn", .privilegeWithdrawn),
        ("aACompromise", .aaCompromise),
    ]

    let reason: CRLReason

    init?(argument: String) {
        guard let match = Self.names.first(where: { $0.0.lowercased() == argument.lowercased() }) else {
            return nil
        }
        self.reason = match.1
    }

    static var allValueStrings: [String] { names.map(\.0) }

    static func name(_ reason: CRLReason?) -> String {
        guard let reason else { return "no reason" }
        return names.first { $0.1 == reason }?.0 ?? "reason \(reason.rawValue)"
    }
}

/// An ISO 8601 date-time (`2026-01-31T12:00:00Z`, fractional seconds allowed).
struct ISO8601Argument: ExpressibleByArgument {
    let date: Date

    init?(argument: String) {
        let plain = ISO8601DateFormatter()
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        guard let date = plain.date(from: argument) ?? fractional.date(from: argument) else { return nil }
        self.date = date
    }
}

extension Date {
    fileprivate var unixSeconds: Int64 { Int64(self.timeIntervalSince1970.rounded(.down)) }
}

/// `sigillum ocsp revoke`.
struct OCSPRevokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Record a certificate as revoked in the ledger.",
        discussion: """
            Give the certificate (it must be issued by --issuer: name and signature) or its --serial. A serial the \
            ledger did not list is added (and so counts as issued). --reason takes an RFC 5280 name; without it the \
            answer carries no reason. --time is the revocationTime (default now).
            """
    )

    @OptionGroup var target: OCSPSerialOptions
    @OptionGroup var ledger: OCSPLedgerOptions

    @Option(help: ArgumentHelp("The revocation reason (RFC 5280 §5.3.1 name).", valueName: "reason"))
    var reason: RevocationReasonArgument?

    @Option(help: ArgumentHelp("The revocation time, ISO 8601 (default: now).", valueName: "time"))
    var time: ISO8601Argument?

    @Option(
        name: .customLong("invalidity-date"),
        help: ArgumentHelp("The invalidity date (RFC 5280 §5.3.2), ISO 8601.", valueName: "time")
    )
    var invalidityDate: ISO8601Argument?

    func run() async throws {
        try await self.reportingFailures { () throws(CLIError) in
            let issuer = try self.ledger.readIssuer()
            let serial = try self.target.resolve(issuer: issuer)
            let time = (self.time?.date ?? Date()).unixSeconds
            let record = OCSPStatusRecord(
                issuer: issuer.subject.description,
                serial: serial.bytes,
                isRevoked: true,
                revocationTime: time,
                reason: self.reason?.reason.rawValue,
                invalidityTime: self.invalidityDate?.date.unixSeconds
            )
            let path = try self.ledger.write { try $0.setOCSPStatus([record]) }
            Console.print([
                "revoked \(serial.hexString) (\(RevocationReasonArgument.name(self.reason?.reason)), "
                    + "\(Date(timeIntervalSince1970: TimeInterval(time)).formatted(.iso8601))) "
                    + "for \"\(issuer.subject)\" in \(path)"
            ])
        }
    }
}

/// `sigillum ocsp unrevoke`.
struct OCSPUnrevokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unrevoke",
        abstract: "Record a certificate as good (not revoked) in the ledger.",
        discussion: """
            For a certificate on hold, or revoked by mistake. The serial stays listed as issued, so it is answered \
            good (a serial the ledger did not list is added as good).
            """
    )

    @OptionGroup var target: OCSPSerialOptions
    @OptionGroup var ledger: OCSPLedgerOptions

    func run() async throws {
        try await self.reportingFailures { () throws(CLIError) in
            let issuer = try self.ledger.readIssuer()
            let serial = try self.target.resolve(issuer: issuer)
            var wasRevoked = false
            let path = try self.ledger.write {
                wasRevoked = try $0.removeOCSPStatus(issuer: issuer.subject.description, serial: serial.bytes)
            }
            Console.print([
                "\(serial.hexString) is good for \"\(issuer.subject)\" in \(path)"
                    + (wasRevoked ? "" : " (it was not revoked)")
            ])
        }
    }
}

/// Writes parsed entries to the ledger and reports the counts.
private func importEntries(
    _ parsed: ParsedStatus,
    issuer: Certificate,
    options: OCSPLedgerOptions,
    from source: String
) throws(CLIError) {
    let key = issuer.subject.description
    var revoked = 0
    let records = parsed.entries.sorted { $0.key < $1.key }.map { serial, entry in
        switch entry {
        case .good:
            return OCSPStatusRecord.good(issuer: key, serial: serial.bytes)
        case .revoked(let revocation):
            revoked += 1
            return OCSPStatusRecord(
                issuer: key,
                serial: serial.bytes,
                isRevoked: true,
                revocationTime: revocation.time.unixSeconds,
                reason: revocation.reason?.rawValue,
                invalidityTime: revocation.invalidityDate?.unixSeconds
            )
        }
    }
    let path = try options.write { try $0.setOCSPStatus(records) }
    Console.print([
        "imported \(records.count) serials (\(revoked) revoked) from \(source) for \"\(issuer.subject)\" into \(path)"
    ])
}

private func readSource(_ path: String) throws(CLIError) -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else {
        let exists = FileManager.default.fileExists(atPath: path)
        throw CLIError(exists ? "\(path) cannot be read; check its permissions" : "\(path): no such file", exitCode: 2)
    }
    return Array(data)
}

/// `sigillum ocsp import-index`.
struct OCSPImportIndexCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-index",
        abstract: "Import an OpenSSL CA database (index.txt) into the ledger.",
        discussion: """
            Every serial of the file is written: V and E lines as good, R lines as revoked with their time and \
            reason (hold instruction codes are not kept). Serials already in the ledger and not in the file stay \
            as they are. The whole file is checked before anything is written.
            """
    )

    @Argument(help: ArgumentHelp("The OpenSSL CA database.", valueName: "index.txt"))
    var indexFile: String

    @OptionGroup var ledger: OCSPLedgerOptions

    func run() async throws {
        try await self.reportingFailures { () throws(CLIError) in
            let issuer = try self.ledger.readIssuer()
            let parsed: ParsedStatus
            do {
                parsed = try OpenSSLIndexFile.parse(try readSource(self.indexFile), path: self.indexFile)
            } catch let error as CLIError {
                throw error
            } catch {
                throw CLIError("\(error)", exitCode: 2)
            }
            try importEntries(parsed, issuer: issuer, options: self.ledger, from: self.indexFile)
        }
    }
}

/// `sigillum ocsp import-crl`.
struct OCSPImportCRLCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-crl",
        abstract: "Import the revocations of a CRL (DER or PEM) into the ledger.",
        discussion: """
            The CRL must be issued by --issuer (name, and signature under its key, as for a CRL status source). \
            Its entries are written as revoked; other serials in the ledger stay as they are. A CRL lists revoked \
            serials only: import the CA's index.txt too, or unlisted serials are answered unknown.
            """
    )

    @Argument(help: ArgumentHelp("The CRL file.", valueName: "crl"))
    var crlFile: String

    @OptionGroup var ledger: OCSPLedgerOptions

    func run() async throws {
        try await self.reportingFailures { () throws(CLIError) in
            let issuer = try self.ledger.readIssuer()
            let parsed: ParsedStatus
            do {
                parsed = try CRLFile(path: self.crlFile, issuer: issuer).parse(try readSource(self.crlFile))
            } catch let error as CLIError {
                throw error
            } catch {
                throw CLIError("\(error)", exitCode: 2)
            }
            if let nextUpdate = parsed.crl?.nextUpdate, nextUpdate < Date() {
                Console.error(
                    "sigillum: note: \(self.crlFile) is past its nextUpdate (\(nextUpdate.formatted(.iso8601)))")
            }
            try importEntries(parsed, issuer: issuer, options: self.ledger, from: self.crlFile)
        }
    }
}
