import ArgumentParser
import DevelopmentPKI
import Foundation

/// `sigillum init`: creates (or finds) the development PKI in the state folder.
struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create the development PKI (root CA, issuing CA, TSU and OCSP certificates, keys), or reuse it.",
        discussion: """
            For development and tests only: the keys are software keys in STATE/keys; with --pkcs11-module the TSU \
            and OCSP responder keys are also made on a token (non-extractable), with their certificates stored next \
            to them. An existing complete set \
            is reused as is (--tsu-key then has no effect; delete STATE/pki and STATE/keys to regenerate). An \
            incomplete set, left by an interrupted run, is generated anew.
            """
    )

    @OptionGroup var state: StateDirectoryOptions

    @Option(
        name: .customLong("tsu-key"),
        help: ArgumentHelp(
            "The key type of the TSU (time-stamping unit) certificate (default: ec-p256).",
            valueName: "type"
        )
    )
    var tsuKey: TSUKeyArgument?

    @OptionGroup var token: InitTokenOptions

    func run() async throws {
        try await self.reportingFailures { () throws(CLIError) in
            let directory = self.state.resolved
            let keyType = self.tsuKey?.keyType ?? .ecP256
            let missing = DevelopmentPKI.missingFiles(stateDirectory: directory)
            let result: (paths: DevelopmentPKI.Paths, created: Bool)
            do {
                result = try DevelopmentPKI.ensure(stateDirectory: directory, tsuKeyType: keyType)
            } catch {
                throw CLIError("cannot create the development PKI in \(directory): \(error)", exitCode: 2)
            }
            Console.print(Self.report(result.paths, created: result.created, missing: missing, keyType: keyType))
            Console.print(try InitTokenKeys.run(self.token, pki: result.paths))
            if !result.created, let requested = self.tsuKey {
                Console.error(
                    "sigillum: note: --tsu-key \(requested.keyType.rawValue) had no effect, the existing set was kept; "
                        + "delete \(result.paths.certificateDirectory) and \(result.paths.keyDirectory) to regenerate"
                )
            }
        }
    }

    static func report(
        _ paths: DevelopmentPKI.Paths,
        created: Bool,
        missing: [String],
        keyType: DevelopmentKeyType
    ) -> [String] {
        let entries: [(String, String)] = [
            ("root CA", paths.rootCA), ("issuing CA", paths.issuingCA), ("TSU certificate", paths.tsa),
            ("OCSP responder", paths.ocsp), ("end entity (good)", paths.eeGood),
            ("end entity (revoked)", paths.eeRevoked), ("CA index", paths.index),
            ("root CA key", paths.rootCAKey), ("issuing CA key", paths.issuingCAKey), ("TSU key", paths.tsaKey),
            ("OCSP responder key", paths.ocspKey), ("end entity key (good)", paths.eeGoodKey),
            ("end entity key (revoked)", paths.eeRevokedKey),
        ]
        var lines: [String] = []
        if !created {
            lines.append("Found the development PKI in \(paths.stateDirectory) (nothing changed):")
        } else if !missing.isEmpty && missing.count < entries.count {
            lines.append(
                "Regenerated the development PKI in \(paths.stateDirectory) (TSU key \(keyType.rawValue)); "
                    + "the earlier set was incomplete, missing \(missing.joined(separator: ", ")):"
            )
        } else {
            lines.append(
                "Created the development PKI in \(paths.stateDirectory) (TSU key \(keyType.rawValue)):"
            )
        }
        let width = entries.map(\.0.count).max() ?? 0
        for (label, path) in entries {
            lines.append("  \(label):" + String(repeating: " ", count: width - label.count + 1) + path)
        }
        lines.append("")
        lines.append("Check a token with:")
        lines.append(
            "  openssl ts -verify -in FILE.tsr -data FILE -CAfile \(paths.rootCA) -untrusted \(paths.issuingCA)"
        )
        return lines
    }
}

/// `--tsu-key` values: the raw values of `DevelopmentKeyType`.
struct TSUKeyArgument: ExpressibleByArgument, Sendable {
    var keyType: DevelopmentKeyType

    init?(argument: String) {
        guard let keyType = DevelopmentKeyType(rawValue: argument) else { return nil }
        self.keyType = keyType
    }

    static var allValueStrings: [String] { DevelopmentKeyType.allCases.map(\.rawValue) }
}
