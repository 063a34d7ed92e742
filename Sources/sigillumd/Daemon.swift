import ApplianceConfig
import ClockDiscipline
import DevelopmentPKI
import Foundation
import HTTPFront
import Hummingbird
import Ledger
import Logging
import Metrics
import OCSPResponder
import Prometheus
import ServiceLifecycle
import Signing
import Synchronization
import TimeStampAuthority
import UnixSignals
import X509

/// The wired appliance: ledger, clock gate, TSA, public and admin listeners in one ServiceGroup.
struct Daemon {
    let configuration: ApplianceConfiguration
    let services: [any Service]
    let logger: Logger

    static func assemble(configuration: ApplianceConfiguration, logger: Logger) async throws -> Daemon {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

        try await startupStep("creating the state directory \(configuration.stateDirectory)") {
            try FileManager.default.createDirectory(
                atPath: configuration.stateDirectory,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
        }
        if configuration.isDevelopmentDefault {
            let result = try await startupStep("creating the development PKI") {
                try DevelopmentPKI.ensure(stateDirectory: configuration.stateDirectory)
            }
            logger.info(
                result.created ? "created the development PKI" : "reusing the development PKI",
                metadata: ["pki.directory": "\(result.paths.certificateDirectory)"]
            )
        }

        let ledger = try await startupStep("opening the ledger \(configuration.ledger.databasePath)") {
            try Ledger(
                configuration: LedgerConfiguration(
                    databasePath: configuration.ledger.databasePath,
                    maxBatchSize: configuration.ledger.maxBatchSize,
                    configuredInstanceID: configuration.ledger.instanceID
                ),
                logger: logger
            )
        }
        let epoch = try await startupStep("starting a serial-number epoch in the ledger") { try ledger.beginEpoch() }

        let clock = ClockMonitor(
            configuration: Self.clockConfiguration(configuration.clock),
            sources: SystemClockSources(
                servers: configuration.clock.servers,
                probeTimeout: .seconds(configuration.clock.probeTimeoutSeconds),
                chrony: configuration.clock.chrony == "auto",
                chronySocket: configuration.clock.chronySocket
            ),
            logger: logger
        )
        // The clock status is known before the listeners open.
        let firstCheck = await clock.checkNow()
        Self.logClockAtStartup(clock, firstCheck, logger: logger)

        let signers = SignerFactory(logger: logger)
        var tsa: TimeStampAuthority?
        if configuration.tsa.enabled {
            let signer = try await startupStep("loading the TSA signer (\(configuration.tsa.signer.summary))") {
                try await signers.signer(configuration.tsa.signer)
            }
            tsa = try await startupStep("starting the TSA with \(configuration.tsa.signer.summary)") {
                try await TimeStampAuthority(
                    configuration: Self.tsaConfiguration(configuration.tsa),
                    signer: signer,
                    auditLog: ledger,
                    clockGate: clock,
                    serials: SerialNumberGenerator(instanceID: epoch.instanceID, epoch: epoch.epoch),
                    logger: logger
                )
            }
        } else {
            logger.notice("the TSA is disabled (tsa.enabled: false); /tsa is not served")
        }

        var ocsp: OCSPResponderService?
        var statusWatchers: [any Service] = []
        if configuration.ocsp.enabled {
            var issuers: [OCSPIssuer] = []
            for (index, settings) in configuration.ocsp.issuers.enumerated() {
                let issuer = try await startupStep("starting OCSP for \(settings.certificateFile)") {
                    try await Self.ocspIssuer(
                        settings, index: index, configuration: configuration.ocsp, ledger: ledger, signers: signers,
                        logger: logger)
                }
                issuers.append(issuer.issuer)
                statusWatchers.append(issuer.watcher)
            }
            ocsp = OCSPResponderService(
                issuers: issuers,
                configuration: OCSPResponderConfiguration(
                    maxCertIDs: configuration.ocsp.maxCertIDs,
                    validitySeconds: Int64(configuration.ocsp.validitySeconds),
                    refreshFraction: configuration.ocsp.refreshFraction,
                    nonces: configuration.ocsp.nonces == .sign ? .sign : .ignore,
                    requireSignedRequests: configuration.ocsp.requireSignedRequests
                ),
                store: ledger,
                logger: logger
            )
            // Answers are ready before the listeners open.
            await ocsp?.presignAll()
        }

        let ports = BoundPorts()
        let banner = Banner(configuration: configuration)
        let publicApp = PublicService.makeApplication(
            tsa: tsa,
            ocsp: ocsp,
            settings: PublicListenerSettings(
                host: configuration.listen.host,
                port: configuration.listen.port,
                maxRequestBytes: configuration.http.maxRequestBytes,
                idleTimeout: .seconds(configuration.http.idleTimeoutSeconds)
            ),
            logger: logger,
            onServerRunning: { port in
                if let both = ports.set(public: port) {
                    banner.print(publicPort: both.0, adminPort: both.1, logger: logger)
                }
            }
        )
        let adminApp = AdminService.makeApplication(
            host: configuration.adminListen.host,
            port: configuration.adminListen.port,
            tsa: tsa,
            ocsp: ocsp,
            clock: clock,
            registry: registry,
            status: .init(
                version: SigillumVersion.current,
                stateDirectory: configuration.stateDirectory,
                publicURL: "http://\(configuration.listen)/tsa"
            ),
            logger: logger,
            onServerRunning: { port in
                if let both = ports.set(admin: port) {
                    banner.print(publicPort: both.0, adminPort: both.1, logger: logger)
                }
            }
        )
        // Start order = dependency order; graceful shutdown runs in reverse, so the listeners stop first and the
        // ledger drains its last batch last.
        var services: [any Service] = [ledger]
        services.append(contentsOf: signers.services)
        services.append(clock)
        services.append(contentsOf: statusWatchers)
        if let ocsp { services.append(ocsp) }
        services.append(publicApp)
        services.append(adminApp)
        return Daemon(configuration: configuration, services: services, logger: logger)
    }

    func run() async throws {
        let group = ServiceGroup(
            configuration: .init(
                services: self.services.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: self.logger
            )
        )
        try await group.run()
    }

    static func ocspIssuer(
        _ settings: OCSPSettings.Issuer,
        index: Int,
        configuration: OCSPSettings,
        ledger: Ledger,
        signers: SignerFactory,
        logger: Logger
    ) async throws -> (issuer: OCSPIssuer, watcher: any Service & StatusLookup) {
        guard let certificate = try CertificateFileReader.readCertificates(atPath: settings.certificateFile).first
        else {
            throw SimpleError("\(settings.certificateFile) holds no certificate")
        }
        let signer = try await signers.signer(settings.signer)
        let watcherConfiguration = StatusSourceWatcher.Configuration(
            pollInterval: .milliseconds(configuration.sourcePollMilliseconds),
            issuerLabel: "issuer\(index)"
        )
        let watcher: any Service & StatusLookup
        switch settings.status {
        case .opensslIndex(let path):
            watcher = try StatusSourceWatcher(
                source: OpenSSLIndexFile(path: path), configuration: watcherConfiguration, logger: logger)
        case .crl(let path):
            watcher = try StatusSourceWatcher(
                source: CRLFile(path: path, issuer: certificate), configuration: watcherConfiguration, logger: logger)
        case .ledger:
            // Keyed by the issuer's subject, as `sigillum ocsp revoke|import-*` writes it (OCSPIssuer.label).
            watcher = try LedgerStatusSource(
                ledger: ledger,
                issuer: certificate.subject.description,
                configuration: watcherConfiguration,
                logger: logger
            )
        }
        let issuer = try OCSPIssuer(
            certificate: certificate,
            signer: signer,
            responderID: settings.responderID == .byName ? .byName : .byKey,
            status: watcher,
            nonIssuedIsRevoked: settings.nonIssuedIsRevoked
        )
        return (issuer, watcher)
    }

    static func clockConfiguration(_ settings: ClockSettings) -> ClockMonitorConfiguration {
        ClockMonitorConfiguration(
            enforce: settings.enforce,
            servers: settings.servers,
            probeInterval: .seconds(settings.probeIntervalSeconds),
            probeTimeout: .seconds(settings.probeTimeoutSeconds),
            maximumBoundNanoseconds: Int64((settings.maximumErrorSeconds * 1e9).rounded()),
            reopenAfter: settings.reopenAfter,
            leapMarginNanoseconds: Int64((settings.leapMarginSeconds * 1e9).rounded()),
            chrony: settings.chrony == "off" ? .off : .auto,
            chronySocket: settings.chronySocket
        )
    }

    /// Says at start-up what the clock gate does, so that nobody mistakes a development run for a proven clock.
    static func logClockAtStartup(_ clock: ClockMonitor, _ check: ClockCheck, logger: Logger) {
        let configuration = clock.configuration
        if !configuration.enforce {
            logger.notice(
                """
                clock gate disabled (development default): tokens are issued without proof of UTC; name NTP \
                servers with --ntp-server or clock.servers to enforce it
                """,
                metadata: ["sigillum.event": "clock.gate.disabled"])
            return
        }
        logger.notice(
            "clock monitor: \(clock.gateDescription); the gate opens after \(configuration.reopenAfter) good checks",
            metadata: [
                "sigillum.event": "clock.monitor.started",
                "clock.servers": .array(configuration.servers.map { .string($0) }),
                "clock.first_check": .string(check.isGood ? "good" : check.problems.joined(separator: "; ")),
            ])
    }

    static func tsaConfiguration(_ settings: TSASettings) -> TSAConfiguration {
        TSAConfiguration(
            policies: settings.policies.map { TSAPolicy(oid: $0.oid, qualified: $0.qualified) },
            defaultPolicy: settings.defaultPolicy,
            acceptedHashes: settings.acceptedHashAlgorithms.compactMap { ImprintHash(name: $0.rawValue) },
            accuracyMicroseconds: settings.accuracyMicroseconds,
            dynamicAccuracy: settings.dynamicAccuracy,
            maximumOrderingWait: .milliseconds(settings.orderingWaitMilliseconds),
            ordering: settings.ordering,
            includeTSAName: settings.includeTSAName,
            includeChain: settings.includeChain
        )
    }
}

struct SimpleError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Collects the ports both listeners bound, to print the banner once both are up.
final class BoundPorts: Sendable {
    private let state = Mutex<(public: Int?, admin: Int?, printed: Bool)>((nil, nil, false))

    func set(public port: Int) -> (Int, Int)? { self.update { $0.public = port } }
    func set(admin port: Int) -> (Int, Int)? { self.update { $0.admin = port } }

    private func update(_ change: (inout (public: Int?, admin: Int?, printed: Bool)) -> Void) -> (Int, Int)? {
        self.state.withLock { state in
            change(&state)
            guard !state.printed, let publicPort = state.public, let adminPort = state.admin else { return nil }
            state.printed = true
            return (publicPort, adminPort)
        }
    }
}
