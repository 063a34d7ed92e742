import ArgumentParser
import Foundation
import Signing
import X509

/// `sigillum keys inspect FILE`: what a key file holds and how it is protected.
struct KeysInspectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show what a key file holds: format, protection, key, certificates.",
        discussion: """
            Reads PEM or DER PKCS#8, SEC1 and PKCS#1 keys, encrypted PKCS#8, OpenSSL's traditional encrypted \
            PEM, and PKCS#12 (.p12/.pfx). Without a passphrase an encrypted file shows how it is protected (and \
            the certificates a PKCS#12 file keeps unencrypted); with one it also shows the key type, the SHA-256 \
            of its public key (SubjectPublicKeyInfo), and each certificate with whether it matches the key. \
            Exits 1 when the file cannot be read, does not open with the passphrase, or holds no key Sigillum \
            signs with; 0 otherwise, also when a passphrase is needed and none was given.
            """
    )

    @Argument(help: ArgumentHelp("The key file.", valueName: "file"))
    var file: String

    @Option(
        name: .customLong("passphrase-file"),
        help: ArgumentHelp("A file holding the passphrase (one trailing newline is ignored).", valueName: "file")
    )
    var passphraseFile: String?

    @Option(
        name: .customLong("passphrase-env"),
        help: ArgumentHelp("An environment variable holding the passphrase.", valueName: "variable")
    )
    var passphraseEnvironment: String?

    @Option(
        name: .customLong("passphrase-credential"),
        help: ArgumentHelp(
            "A systemd credential (in $CREDENTIALS_DIRECTORY) holding the passphrase.", valueName: "name")
    )
    var passphraseCredential: String?

    func validate() throws {
        let given = [self.passphraseFile, self.passphraseEnvironment, self.passphraseCredential].compactMap { $0 }
        guard given.count <= 1 else {
            throw ValidationError("give at most one of --passphrase-file, --passphrase-env, --passphrase-credential")
        }
    }

    var passphrase: SecretSource? {
        if let passphraseFile { return .file(path: passphraseFile) }
        if let passphraseEnvironment { return .environment(name: passphraseEnvironment) }
        if let passphraseCredential { return .credential(name: passphraseCredential) }
        return nil
    }

    func run() async throws {
        try await self.reportingFailures { () throws(CLIError) in
            let inspection: KeyFileInspection
            do {
                inspection = try KeyFileInspection.inspect(atPath: self.file, passphrase: self.passphrase)
            } catch {
                throw CLIError(Self.message(error), exitCode: 1)
            }
            Console.print(Self.render(inspection))
            if let problem = inspection.problem, problem.code != .passphraseRequired {
                throw CLIError(problem.reason, exitCode: 1)
            }
        }
    }

    private static func message(_ error: any Error) -> String {
        (error as? SignerError)?.reason ?? String(describing: error)
    }

    /// The printout of `inspection`.
    static func render(_ inspection: KeyFileInspection) -> [String] {
        var lines: [String] = []
        lines.append("File: \(inspection.path)")
        let encoding = inspection.isPEM ? "PEM" : "DER"
        lines.append("Format: \(inspection.format.map { "\($0) (\(encoding))" } ?? "not a key format Sigillum reads")")

        if inspection.protections.isEmpty {
            if inspection.format != nil {
                lines.append("Protection: none (the key is not encrypted)")
            }
        } else {
            lines.append("Protection:")
            for protection in inspection.protections {
                let legacy = protection.needsLegacyProvider ? " [legacy provider]" : ""
                lines.append("  \(protection.part): \(protection.algorithm)\(legacy)")
            }
        }
        if inspection.needsLegacyProvider {
            lines.append(
                "Legacy provider: needed (OpenSSL 3 keeps RC2, RC4 and single DES in its legacy provider; "
                    + (inspection.legacyProviderLoaded ? "loaded)" : "NOT loaded: the file will not open)")
            )
        } else if inspection.format == .pkcs12 {
            lines.append("Legacy provider: not needed")
        }

        if let key = inspection.key {
            lines.append("Key: \(key)")
            if let fingerprint = inspection.publicKeyFingerprint {
                lines.append("  Public key SHA-256: \(fingerprint)")
            }
        } else if let problem = inspection.problem {
            if problem.code == .passphraseRequired {
                lines.append(
                    "Key: encrypted; a passphrase is needed to show it "
                        + "(--passphrase-file, --passphrase-env or --passphrase-credential)"
                )
            } else {
                lines.append("Key: not shown (\(problem.code))")
            }
        }

        if inspection.certificates.isEmpty {
            if inspection.key != nil || inspection.format != .pkcs12 {
                lines.append("Certificates: none")
            } else {
                lines.append("Certificates: none visible without the passphrase")
            }
        } else {
            lines.append("Certificates: \(inspection.certificates.count)")
        }
        for (index, entry) in inspection.certificates.enumerated() {
            let match: String
            switch entry.matchesKey {
            case true?: match = " (matches the key)"
            case false?: match = " (does not match the key)"
            case nil: match = ""
            }
            let certificate = entry.certificate
            lines.append("  [\(index + 1)]\(match)")
            lines.append("    Subject: \(TokenPrinter.oneline(certificate.subject))")
            lines.append("    Issuer: \(TokenPrinter.oneline(certificate.issuer))")
            lines.append("    Serial: 0x\(TokenPrinter.hex(certificate.serialNumber.bytes, uppercase: true))")
            lines.append(
                "    Validity: \(Self.time(certificate.notValidBefore)) to \(Self.time(certificate.notValidAfter))"
            )
            lines.append("    Public key SHA-256: \(entry.publicKeyFingerprint)")
        }
        return lines
    }

    private static func time(_ date: Date) -> String {
        ISO8601DateFormatter().string(from: date)
    }
}
