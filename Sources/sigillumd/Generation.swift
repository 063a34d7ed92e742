import ApplianceConfig
import ClockDiscipline
import HTTPFront
import Ledger
import Logging
import OCSPResponder
import ServiceLifecycle
import Signing
import Synchronization
import TimeStampAuthority

/// What one configuration builds: the services the listeners answer with, and the background services that belong to
/// them (hardware signers' maintenance, OCSP status watchers and pre-signing). Start-up builds the first; every
/// reload that passes builds the next, which replaces it.
struct Generation: Sendable {
    let configuration: ApplianceConfiguration
    let serving: ServingSet
    let services: [any Service]
    let watchedSigners: [CallWatchedSigner]
}

/// Builds generations. Holds what outlives a generation: the ledger, the serial-number generator, the clock monitor and
/// the PKCS#11 modules.
final class GenerationBuilder: Sendable {
    let ledger: Ledger
    let serials: SerialNumberGenerator
    let clock: ClockMonitor
    let logger: Logger
    private let signers: SignerFactory
    private let building = Mutex(false)

    init(ledger: Ledger, serials: SerialNumberGenerator, clock: ClockMonitor, logger: Logger) {
        self.ledger = ledger
        self.serials = serials
        self.clock = clock
        self.logger = logger
        self.signers = SignerFactory(logger: logger)
    }

    /// Builds a generation from `configuration`. With `previous`, the TSA continues the previous one's serial numbers
    /// and genTime order. Signers are probed and OCSP answers pre-signed before this returns.
    func build(_ configuration: ApplianceConfiguration, previous: Generation?) async throws -> Generation {
        // One build at a time: the factory is not concurrent, and reloads are serialised anyway.
        let free = self.building.withLock { building in
            defer { building = true }
            return !building
        }
        guard free else { throw SimpleError("another configuration is being loaded") }
        defer { self.building.withLock { $0 = false } }
        let factory = self.signers
        do {
            return try await self.build(configuration, previous: previous, factory: factory)
        } catch {
            // Close what was opened for the generation that failed (sessions, card connections).
            await Self.shutDown(factory.takeMade().services, logger: self.logger)
            throw error
        }
    }

    private func build(
        _ configuration: ApplianceConfiguration, previous: Generation?, factory: SignerFactory
    ) async throws -> Generation {
        var tsa: TimeStampAuthority?
        if configuration.tsa.enabled {
            let signer = try await startupStep("loading the TSA signer (\(configuration.tsa.signer.summary))") {
                try await factory.signer(configuration.tsa.signer)
            }
            tsa = try await startupStep("starting the TSA with \(configuration.tsa.signer.summary)") {
                let settings = Daemon.tsaConfiguration(configuration.tsa)
                if let before = previous?.serving.tsa {
                    return try await before.successor(configuration: settings, signer: signer, logger: self.logger)
                }
                return try await TimeStampAuthority(
                    configuration: settings,
                    signer: signer,
                    auditLog: self.ledger,
                    clockGate: self.clock,
                    serials: self.serials,
                    logger: self.logger
                )
            }
        }

        var ocsp: OCSPResponderService?
        var background: [any Service] = []
        if configuration.ocsp.enabled {
            var issuers: [OCSPIssuer] = []
            for (index, settings) in configuration.ocsp.issuers.enumerated() {
                let issuer = try await startupStep("starting OCSP for \(settings.certificateFile)") {
                    try await Daemon.ocspIssuer(
                        settings, index: index, configuration: configuration.ocsp, ledger: self.ledger,
                        signers: factory, logger: self.logger)
                }
                issuers.append(issuer.issuer)
                background.append(issuer.watcher)
            }
            let service = OCSPResponderService(
                issuers: issuers,
                configuration: OCSPResponderConfiguration(
                    maxCertIDs: configuration.ocsp.maxCertIDs,
                    validitySeconds: Int64(configuration.ocsp.validitySeconds),
                    refreshFraction: configuration.ocsp.refreshFraction,
                    nonces: configuration.ocsp.nonces == .sign ? .sign : .ignore,
                    requireSignedRequests: configuration.ocsp.requireSignedRequests
                ),
                store: self.ledger,
                logger: self.logger
            )
            // Answers are ready before the listeners (or, on a reload, the swap) see this responder.
            await service.presignAll()
            background.append(service)
            ocsp = service
        }
        let made = factory.takeMade()
        return Generation(
            configuration: configuration,
            serving: ServingSet(tsa: tsa, ocsp: ocsp, clock: self.clock),
            // Signers first: a generation's group stops in reverse order, so the signers close last.
            services: made.services + background,
            watchedSigners: made.watched
        )
    }

    /// Runs `services` only to shut them down at once, which closes what they hold.
    static func shutDown(_ services: [any Service], logger: Logger) async {
        guard !services.isEmpty else { return }
        let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) }, logger: logger))
        async let run: Void = try group.run()
        await group.triggerGracefulShutdown()
        _ = try? await run
    }
}
