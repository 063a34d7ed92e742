import ApplianceConfig
import Logging
import PKCS11Signing
import ServiceLifecycle
import Signing
import SmartCardSigning

/// Turns signer settings into signers: key files through `KeyFileSignerSource`, tokens through `PKCS11Signer`.
///
/// A PKCS#11 module is loaded once per library path and shared by every signer on it, across reloads too (a module
/// can be initialised once per process). Hardware signers are services (their `run()` watches the token or card and
/// reconnects) and are returned wrapped in ``CallWatchedSigner`` so that the watchdog sees a call that hangs.
///
/// Not thread-safe by itself: ``GenerationBuilder`` lets one build at a time use it, hence `@unchecked Sendable`.
final class SignerFactory: @unchecked Sendable {
    private var modules: [String: PKCS11Module] = [:]
    private var services: [any Service] = []
    private var watched: [CallWatchedSigner] = []
    let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    func signer(_ settings: SignerSettings) async throws -> any Signer {
        switch settings.kind {
        case .software:
            return try await KeyFileSignerSource(
                keyFile: settings.keyFile,
                passphrase: settings.passphrase.map(Self.secretSource),
                certificateFile: settings.certificateFile,
                chainFile: settings.chainFile,
                rsaPadding: settings.rsaPadding == .pss ? .pss : .pkcs1v15
            ).load()
        case .piv:
            guard let cards = settings.piv, let slot = PIVKeyReference(cards.slot) else {
                throw SimpleError("a piv signer without its card settings")
            }
            var configuration = SmartCardSignerConfiguration(
                readers: cards.readers.isEmpty ? [.firstWithPIV] : cards.readers.map { .nameContaining($0) },
                keyReference: slot,
                pin: cards.pin.map(Self.secretSource),
                certificate: settings.certificateFile.map { .file(path: $0) } ?? .card,
                chainFile: settings.chainFile
            )
            configuration.queueWaitTimeout = .milliseconds(cards.queueWaitMilliseconds)
            let signer = try await SmartCardSigner(configuration: configuration, logger: self.logger)
            self.services.append(signer)
            return self.watch(signer)
        case .pkcs11:
            guard let token = settings.pkcs11 else {
                throw SimpleError("a pkcs11 signer without its token settings")
            }
            let module: PKCS11Module
            if let loaded = self.modules[token.module] {
                module = loaded
            } else {
                module = try PKCS11Module(path: token.module)
                self.modules[token.module] = module
            }
            var configuration = PKCS11SignerConfiguration(
                modulePath: token.module,
                token: token.tokenLabel.map { .label($0) } ?? .serialNumber(token.tokenSerial ?? ""),
                key: try token.keyLabel.map { .label($0) } ?? PKCS11KeySelector.id(hex: token.keyID ?? ""),
                pin: Self.secretSource(token.pin),
                certificate: settings.certificateFile.map { .file(path: $0) } ?? .token,
                chainFile: settings.chainFile,
                rsaPadding: settings.rsaPadding == .pss ? .rsaPSS : .rsaPKCS1v15
            )
            configuration.sessionPoolSize = token.sessions
            let signer = try await PKCS11Signer(configuration: configuration, module: module, logger: self.logger)
            self.services.append(signer)
            return self.watch(signer)
        }
    }

    private func watch(_ signer: any Signer) -> any Signer {
        let watched = CallWatchedSigner(signer)
        self.watched.append(watched)
        return watched
    }

    /// The services and watched signers made since the last call: one configuration generation's.
    func takeMade() -> (services: [any Service], watched: [CallWatchedSigner]) {
        defer {
            self.services = []
            self.watched = []
        }
        return (self.services, self.watched)
    }

    static func secretSource(_ secret: SignerSettings.Secret) -> SecretSource {
        switch secret {
        case .file(let path): .file(path: path)
        case .environment(let name): .environment(name: name)
        case .credential(let name): .credential(name: name)
        }
    }
}
