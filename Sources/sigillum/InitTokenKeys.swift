import ArgumentParser
import DevelopmentPKI
import Foundation
import PKCS11Signing
import Signing
import SwiftASN1
import X509

/// `sigillum init --pkcs11-module …`: the development TSU and OCSP keys on a PKCS#11 token instead of in files.
struct InitTokenOptions: ParsableArguments {
    @Option(
        name: .customLong("pkcs11-module"),
        help: ArgumentHelp(
            "Also make the TSU and OCSP responder keys on this PKCS#11 module's token, with certificates from the "
                + "development issuing CA stored next to them.", valueName: "path"))
    var module: String?

    @Option(
        name: .customLong("token"), help: ArgumentHelp("The token's label (with --pkcs11-module).", valueName: "label"))
    var label: String?

    @Option(
        name: .customLong("token-key-type"),
        help: ArgumentHelp("The type of the keys made on the token (default ec-p256).", valueName: "type"))
    var keyType: String = PKCS11KeyType.ecP256.rawValue

    @OptionGroup var pin: PINSourceOptions
}

enum InitTokenKeys {
    /// The labels of the keys (and their certificates) on the token.
    static let labels: [DevelopmentPKI.ExternalKeyPurpose: String] = [
        .timeStamping: "sigillum-dev-tsa", .ocspSigning: "sigillum-dev-ocsp",
    ]

    /// Makes the keys, issues and stores the certificates, writes copies to STATE/pki, returns what to print.
    static func run(_ options: InitTokenOptions, pki paths: DevelopmentPKI.Paths) throws(CLIError) -> [String] {
        guard let modulePath = options.module else { return [] }
        guard let label = options.label else { throw CLIError("--pkcs11-module needs --token LABEL", exitCode: 2) }
        guard let pin = try options.pin.source() else {
            throw CLIError("--pkcs11-module needs one of --pin-file, --pin-env, --pin-credential", exitCode: 2)
        }
        guard let keyType = PKCS11KeyType(rawValue: options.keyType) else {
            let known = PKCS11KeyType.allCases.map(\.rawValue).joined(separator: ", ")
            throw CLIError("--token-key-type \(options.keyType) is not one of: \(known)", exitCode: 2)
        }
        let pki: DevelopmentPKI
        do {
            pki = try DevelopmentPKI.load(stateDirectory: paths.stateDirectory)
        } catch {
            throw CLIError("\(error)", exitCode: 2)
        }
        let module: PKCS11Module
        do {
            module = try PKCS11Module(path: modulePath)
        } catch {
            throw CLIError(pkcs11FailureMessage(error), exitCode: 1)
        }
        defer { module.finalize() }
        var lines = ["", "On the token \"\(label)\" (\(modulePath)):"]
        for purpose in DevelopmentPKI.ExternalKeyPurpose.allCases {
            let keyLabel = Self.labels[purpose] ?? purpose.rawValue
            let file = paths.certificateDirectory + "/\(purpose.rawValue)-token.pem"
            do {
                let key = try PKCS11TokenAdministration.generateKeyPair(
                    module: module, token: .label(label), pin: pin, label: keyLabel, type: keyType)
                let certificate = try pki.issueCertificate(
                    for: key.publicKey, purpose: purpose,
                    commonName: purpose == .timeStamping
                        ? "Sigillum Development TSU (token)" : "Sigillum Development OCSP Responder (token)")
                try PKCS11TokenAdministration.storeCertificate(
                    certificate, module: module, token: .label(label), pin: pin, label: keyLabel, id: key.id)
                let pem = try certificate.serializeAsPEM().pemString + "\n"
                try Data(pem.utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
                lines.append(
                    "  \(purpose == .timeStamping ? "TSU key" : "OCSP key"): label \(keyLabel), id "
                        + key.id.map { String(format: "%02x", $0) }.joined()
                        + ", certificate on the token and in \(file)")
            } catch let error as CLIError {
                throw error
            } catch {
                throw CLIError(
                    "making the \(purpose.rawValue) key \"\(keyLabel)\" on the token: \(pkcs11FailureMessage(error))",
                    exitCode: 1)
            }
        }
        lines += [
            "Use them with (signer of tsa, and of ocsp.issuers[0]):",
            "  signer: { type: pkcs11, module: \(modulePath), tokenLabel: \(label), keyLabel: \(Self.labels[.timeStamping] ?? ""), pinFile: PATH }",
            "  signer: { type: pkcs11, module: \(modulePath), tokenLabel: \(label), keyLabel: \(Self.labels[.ocspSigning] ?? ""), pinFile: PATH }",
        ]
        return lines
    }
}
