import ArgumentParser
import Foundation
import PKCS11Signing
import Signing

/// `sigillum keys`: keys on a PKCS#11 token (an HSM, SoftHSM2, a smart card through OpenSC).
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract:
            "Inspect key files; list and generate signing keys on a PKCS#11 token; list PIV smart cards (PC/SC).",
        discussion: """
            The module is the vendor's PKCS#11 library, such as /usr/lib/softhsm/libsofthsm2.so or \
            /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so. Tokens are chosen by label (--token) or serial number \
            (--token-serial), never by slot number, which can change. The PIN never goes on the command line: \
            give a file (--pin-file), an environment variable (--pin-env) or a systemd credential \
            (--pin-credential). A wrong PIN is tried once.
            """,
        subcommands: [KeysInspectCommand.self, KeysListCommand.self, KeysGenerateCommand.self]
    )
}

/// `--module`, `--token`, `--token-serial`.
struct PKCS11TokenOptions: ParsableArguments {
    @Option(
        name: .customLong("module"),
        help: ArgumentHelp("The PKCS#11 module (shared library) to load.", valueName: "path")
    )
    var module: String?

    @Option(name: .customLong("token"), help: ArgumentHelp("The token's label.", valueName: "label"))
    var label: String?

    @Option(
        name: .customLong("token-serial"),
        help: ArgumentHelp("The token's serial number (instead of --token).", valueName: "serial")
    )
    var serialNumber: String?

    /// The token named, if any.
    func selector() throws(CLIError) -> PKCS11TokenSelector? {
        switch (self.label, self.serialNumber) {
        case (nil, nil): return nil
        case (let label?, nil): return .label(label)
        case (nil, let serial?): return .serialNumber(serial)
        case (.some, .some): throw CLIError("give --token or --token-serial, not both", exitCode: 2)
        }
    }

    /// Loads and initialises the module.
    func load() throws(CLIError) -> PKCS11Module {
        guard let module = self.module else {
            throw CLIError("give the PKCS#11 module with --module", exitCode: 2)
        }
        do {
            return try PKCS11Module(path: module)
        } catch {
            throw CLIError(pkcs11FailureMessage(error), exitCode: 1)
        }
    }
}

/// `--pin-file`, `--pin-env`, `--pin-credential`: at most one.
struct PINSourceOptions: ParsableArguments {
    @Option(name: .customLong("pin-file"), help: ArgumentHelp("A file holding the user PIN.", valueName: "path"))
    var file: String?

    @Option(
        name: .customLong("pin-env"),
        help: ArgumentHelp("An environment variable holding the user PIN.", valueName: "name")
    )
    var environment: String?

    @Option(
        name: .customLong("pin-credential"),
        help: ArgumentHelp(
            "A systemd credential ($CREDENTIALS_DIRECTORY/NAME) holding the user PIN.", valueName: "name")
    )
    var credential: String?

    /// The PIN source given, if any.
    func source() throws(CLIError) -> SecretSource? {
        let given: [SecretSource] = [
            self.file.map { .file(path: $0) },
            self.environment.map { .environment(name: $0) },
            self.credential.map { .credential(name: $0) },
        ].compactMap { $0 }
        guard given.count <= 1 else {
            throw CLIError("give one of --pin-file, --pin-env and --pin-credential", exitCode: 2)
        }
        return given.first
    }
}

/// `sigillum keys list`.
struct KeysListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the module's slots, tokens, keys and certificates; or, with --pcsc, the PIV smart cards.",
        discussion: """
            Without a PIN only public objects show: certificates, public keys, and private keys marked \
            CKA_PRIVATE false. With --token and a PIN option the private keys show too. With --pcsc (and no \
            module) Sigillum asks pcscd itself: readers, cards, PIV key slots with their algorithms and \
            certificates, and the PIN tries left; it never presents the PIN.
            """
    )

    @OptionGroup var token: PKCS11TokenOptions
    @OptionGroup var pin: PINSourceOptions

    @Flag(name: .customLong("pcsc"), help: "List PC/SC readers and PIV cards instead of a PKCS#11 module.")
    var pcsc = false

    func run() async throws {
        try await self.reportingFailures { () throws(CLIError) in
            if self.pcsc {
                guard self.token.module == nil, try self.token.selector() == nil, try self.pin.source() == nil else {
                    throw CLIError("--pcsc takes no module, token or PIN options", exitCode: 2)
                }
                Console.print(try SmartCardReport.lines())
                return
            }
            let selector = try self.token.selector()
            let pin = try self.pin.source()
            if pin != nil, selector == nil {
                throw CLIError("a PIN option needs --token or --token-serial", exitCode: 2)
            }
            let module = try self.token.load()
            defer { module.finalize() }
            let slots: [PKCS11SlotSummary]
            do {
                slots = try PKCS11TokenAdministration.inventory(module: module, token: selector, pin: pin)
            } catch {
                throw CLIError(pkcs11FailureMessage(error), exitCode: 1)
            }
            Console.print(Self.report(module: module, slots: slots))
        }
    }

    static func report(module: PKCS11Module, slots: [PKCS11SlotSummary]) -> [String] {
        let info = module.information
        var lines = [
            "Module \(module.path): \(info.manufacturer), \"\(info.libraryDescription)\" \(info.libraryVersion) "
                + "(Cryptoki \(info.cryptokiVersion))"
        ]
        if slots.isEmpty {
            lines.append("  no slots")
        }
        for summary in slots {
            let slotFlags = summary.slot.flags.names.joined(separator: " ")
            lines.append("Slot \(summary.slot.id): \"\(summary.slot.description)\" [\(slotFlags)]")
            guard let token = summary.token else {
                lines.append("  " + (summary.problem ?? "no token"))
                continue
            }
            lines.append(
                token.flags.contains(.tokenInitialized)
                    ? "  token \"\(token.label)\"  serial \(token.serialNumber)  \(token.manufacturer) \(token.model)"
                    : "  token not initialised  \(token.manufacturer) \(token.model)"
            )
            lines.append("  flags: \(token.flags.names.joined(separator: " "))")
            if let problem = summary.problem {
                lines.append("  cannot list objects: \(problem)")
                continue
            }
            guard token.flags.contains(.tokenInitialized) else { continue }
            lines.append(
                summary.loggedIn
                    ? "  objects (logged in):"
                    : "  objects (public only; give --token and a PIN option to see private keys):"
            )
            if summary.objects.isEmpty {
                lines.append("    none")
            }
            for object in summary.objects {
                lines.append("    " + Self.describe(object))
            }
        }
        return lines
    }

    static func describe(_ object: PKCS11ObjectSummary) -> String {
        var parts = [object.objectClass]
        if let algorithm = object.keyAlgorithm {
            parts.append(algorithm)
        }
        parts.append("label \"\(object.label)\"")
        parts.append("id \(object.id.isEmpty ? "(none)" : PKCS11Hex.encode(object.id))")
        var properties: [String] = []
        if let sensitive = object.sensitive {
            properties.append(sensitive ? "sensitive" : "NOT sensitive")
        }
        if let extractable = object.extractable {
            properties.append(extractable ? "EXTRACTABLE" : "not extractable")
        }
        if object.neverExtractable == true {
            properties.append("never extractable")
        }
        if let canSign = object.canSign {
            properties.append(canSign ? "sign" : "no sign")
        }
        if !properties.isEmpty {
            parts.append("(" + properties.joined(separator: ", ") + ")")
        }
        if let subject = object.subject {
            parts.append("subject \(subject)")
        }
        return parts.joined(separator: "  ")
    }
}

/// `sigillum keys generate`.
struct KeysGenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate a signing key pair on a token and print its public key (PEM).",
        discussion: """
            The private key is made on the token and never leaves it: CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE, \
            not CKA_EXTRACTABLE, CKA_SIGN only. The public key (SubjectPublicKeyInfo PEM) goes to standard \
            output, for the certificate request; the key's label and id go to standard error. Without --id, the \
            id is the SHA-1 of the public key (the usual subject key identifier). With --always-authenticate the \
            key also gets CKA_ALWAYS_AUTHENTICATE: the token then wants the PIN for every signature, which sigillumd \
            gives (C_Login with CKU_CONTEXT_SPECIFIC).
            """
    )

    @OptionGroup var token: PKCS11TokenOptions
    @OptionGroup var pin: PINSourceOptions

    @Option(name: .customLong("label"), help: ArgumentHelp("The key's label (CKA_LABEL).", valueName: "label"))
    var label: String

    @Option(name: .customLong("id"), help: ArgumentHelp("The key's CKA_ID in hexadecimal.", valueName: "hex"))
    var id: String?

    @Option(
        name: .customLong("type"),
        help: ArgumentHelp("The key type.", valueName: PKCS11KeyType.allCases.map(\.rawValue).joined(separator: "|"))
    )
    var type: KeyTypeArgument

    @Flag(
        name: .customLong("always-authenticate"),
        help: "Set CKA_ALWAYS_AUTHENTICATE: the token asks for the PIN before every signature.")
    var alwaysAuthenticate = false

    func run() async throws {
        try await self.reportingFailures { () throws(CLIError) in
            guard let selector = try self.token.selector() else {
                throw CLIError("give the token with --token or --token-serial", exitCode: 2)
            }
            guard let pin = try self.pin.source() else {
                throw CLIError("give the PIN with --pin-file, --pin-env or --pin-credential", exitCode: 2)
            }
            var id: [UInt8]?
            if let hex = self.id {
                do {
                    id = try PKCS11Hex.decode(hex)
                } catch {
                    throw CLIError(pkcs11FailureMessage(error), exitCode: 2)
                }
            }
            let module = try self.token.load()
            defer { module.finalize() }
            let key: PKCS11GeneratedKey
            let pem: String
            do {
                key = try PKCS11TokenAdministration.generateKeyPair(
                    module: module,
                    token: selector,
                    pin: pin,
                    label: self.label,
                    id: id,
                    type: self.type.keyType,
                    alwaysAuthenticate: self.alwaysAuthenticate
                )
                pem = try key.publicKeyPEM
            } catch {
                throw CLIError(pkcs11FailureMessage(error), exitCode: 1)
            }
            Console.error(
                "sigillum: generated an \(self.type.keyType.rawValue) key pair on \(selector): label \"\(key.label)\", "
                    + "id \(PKCS11Hex.encode(key.id)) (private key sensitive, not extractable, sign only"
                    + (self.alwaysAuthenticate ? ", PIN before every signature)" : ")")
            )
            FileHandle.standardOutput.write(Data(pem.utf8))
        }
    }
}

/// `--type`: a ``PKCS11KeyType`` by its name.
struct KeyTypeArgument: ExpressibleByArgument, Sendable {
    var keyType: PKCS11KeyType

    init?(argument: String) {
        guard let keyType = PKCS11KeyType(rawValue: argument) else { return nil }
        self.keyType = keyType
    }

    static var allValueStrings: [String] { PKCS11KeyType.allCases.map(\.rawValue) }
}

/// The message for a failure: the reason and, for a module call, the function and its return value.
func pkcs11FailureMessage(_ error: any Error) -> String {
    if let error = error as? PKCS11Error {
        if let function = error.function, let name = error.returnValueName {
            return "\(error.reason) [\(function): \(name)]"
        }
        return error.reason
    }
    if let error = error as? SignerError {
        return error.reason
    }
    return "\(error)"
}
