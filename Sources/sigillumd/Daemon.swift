import ApplianceConfig
import ClockDiscipline
import DevelopmentPKI
import Foundation
import HTTPFront
import Hummingbird
import Ledger
import Logging
import Metrics
import NIOPosix
import OCSPResponder
import Prometheus
import ServiceLifecycle
import Signing
import Synchronization
import SystemdIntegration
import TimeStampAuthority
import UnixSignals
import X509

/// The wired appliance: ledger, clock monitor, the current configuration generation (TSA, OCSP, signers), public and
/// admin listeners, reload, watchdog and service-manager notifications, in one ServiceGroup.
struct Daemon {
    let configuration: ApplianceConfiguration
    let services: [any Service]
    let notifier: ServiceManagerNotifier
    let logger: Logger

    /// What the process was given besides the configuration.
    struct Environment {
        var configurationFile: String?
        var overrides: ConfigurationOverrides
        var variables: [String: String]
        var sockets: InheritedSockets
        var notifier: ServiceManagerNotifier
        var watchdogInterval: Duration?
    }

    static func assemble(
        configuration: ApplianceConfiguration, environment: Environment, logger: Logger
    ) async throws -> Daemon {
        // Before anything slow: from here on a SIGHUP is queued for the reload service, not fatal.
        let hangups = await UnixSignalsSequence(trapping: .sighup)
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
            sources: Self.clockSources(configuration.clock),
            logger: logger
        )
        // The clock status is known before the listeners open.
        let firstCheck = await clock.checkNow()
        Self.logClockAtStartup(clock, firstCheck, logger: logger)

        let builder = GenerationBuilder(
            ledger: ledger,
            serials: SerialNumberGenerator(instanceID: epoch.instanceID, epoch: epoch.epoch),
            clock: clock,
            logger: logger
        )
        if !configuration.tsa.enabled {
            logger.notice("the TSA is disabled (tsa.enabled: false); /tsa is not served")
        }
        let first = try await builder.build(configuration, previous: nil)
        let slot = ServingSlot(first.serving)
        let runner = GenerationRunner(
            first: first, slot: slot, drainTimeout: .seconds(configuration.http.drainSeconds), logger: logger)

        var sockets = environment.sockets
        let publicBindings = Self.bindings(
            sockets.take("public"), configured: configuration.listen, role: "public", logger: logger)
        let adminBindings = Self.bindings(
            sockets.take("admin"), configured: configuration.adminListen, role: "admin", logger: logger)
        for (name, descriptors) in sockets.byName {
            let message =
                "ignoring \(descriptors.count) socket(s) systemd passed as '\(name)': sigillumd serves 'public' and "
                + "'admin' ('verify' belongs to sigillum-verifyd)"
            logger.warning(
                "\(message)",
                metadata: ["sigillum.event": "systemd.socket.ignored"])
            for descriptor in descriptors { close(descriptor) }
        }

        let notifier = environment.notifier
        let status = DaemonStatus(slot: slot, notifier: notifier)
        let watchdog: WatchdogService? = environment.watchdogInterval.map { interval in
            WatchdogService(
                notifier: notifier,
                interval: interval,
                checks: [
                    .eventLoops(MultiThreadedEventLoopGroup.singleton),
                    Self.signerCallCheck(runner: runner, limit: max(interval, .seconds(10))),
                ],
                logger: logger
            )
        }
        let ports = BoundPorts()
        let banner = Banner(configuration: configuration)
        let announce: @Sendable ((Int, Int)) -> Void = { both in
            banner.print(publicPort: both.0, adminPort: both.1, logger: logger)
            // Listeners bound, signers probed (the generation was built), clock status known.
            notifier.ready(status: status.summary())
        }
        let publicListener = PublicService.makeListener(
            slot: slot,
            settings: PublicListenerSettings(
                bindings: publicBindings,
                maxRequestBytes: configuration.http.maxRequestBytes,
                idleTimeout: .seconds(configuration.http.idleTimeoutSeconds),
                drainTimeout: .seconds(configuration.http.drainSeconds),
                tsaEnabled: configuration.tsa.enabled,
                ocspEnabled: configuration.ocsp.enabled
            ),
            logger: logger,
            onRunning: { bound in
                if let both = ports.set(public: bound.first ?? 0) { announce(both) }
            }
        )
        let adminListener = AdminService.makeListener(
            bindings: adminBindings,
            slot: slot,
            registry: registry,
            status: .init(
                version: SigillumVersion.current,
                stateDirectory: configuration.stateDirectory,
                publicURL: "http://\(configuration.listen)/tsa"
            ),
            daemonProblems: { watchdog?.problems ?? [] },
            drainTimeout: .seconds(configuration.http.drainSeconds),
            logger: logger,
            onRunning: { bound in
                if let both = ports.set(admin: bound.first ?? 0) { announce(both) }
            }
        )
        let reloader = ReloadService(
            hangups: hangups,
            environment: environment,
            running: configuration,
            builder: builder,
            runner: runner,
            notifier: notifier,
            status: status,
            logger: logger
        )
        // Start order = dependency order; graceful shutdown runs in reverse: the notice that we stop goes first, then
        // the listeners stop accepting and finish their requests, the generation's signers close, and the ledger
        // commits its last batch; the watchdog keeps pinging until the end.
        var services: [any Service] = []
        if let watchdog { services.append(watchdog) }
        services.append(ledger)
        services.append(clock)
        services.append(runner)
        services.append(publicListener)
        services.append(adminListener)
        services.append(reloader)
        services.append(status)
        return Daemon(configuration: configuration, services: services, notifier: notifier, logger: logger)
    }

    func run() async throws {
        var configuration = ServiceGroupConfiguration(
            services: self.services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: self.logger
        )
        // SIGTERM: requests in flight get http.drainSeconds, then the public listener closes what is still open and
        // the rest shuts down in order. The bound below only backs that up: past it, whatever still runs is cancelled
        // (a token is sent only after its record is durable, so nothing answered is lost either way).
        configuration.maximumGracefulShutdownDuration = .seconds(self.configuration.http.drainSeconds + 10)
        let group = ServiceGroup(configuration: configuration)
        try await group.run()
    }

    /// The sockets systemd passed for `role`, or else the configured address.
    static func bindings(
        _ inherited: [Int32], configured: ListenAddress, role: String, logger: Logger
    ) -> [ListenerBinding] {
        guard !inherited.isEmpty else { return [.address(host: configured.host, port: configured.port)] }
        let setting = role == "public" ? "listen" : "adminListen"
        logger.info(
            "\(role) listener on \(inherited.count) socket(s) passed by systemd; \(setting) (\(configured)) is not used",
            metadata: ["sigillum.event": "systemd.socket.activated"])
        return inherited.map { .inherited(descriptor: $0, name: role) }
    }

    static func clockSources(_ settings: ClockSettings) -> SystemClockSources {
        SystemClockSources(
            servers: settings.servers,
            probeTimeout: .seconds(settings.probeTimeoutSeconds),
            chrony: settings.chrony == "auto",
            chronySocket: settings.chronySocket
        )
    }

    /// Fails while a hardware signer has a signature call running longer than `limit`.
    static func signerCallCheck(runner: GenerationRunner, limit: Duration) -> LivenessCheck {
        LivenessCheck(name: "signers") { _ in
            let now = ContinuousClock.now
            let stuck = runner.current.watchedSigners.compactMap { signer -> String? in
                guard let age = signer.oldestCallAge(now: now), age > limit else { return nil }
                return "a \(signer.kind) signature call has been running for \(age) (limit \(limit))"
            }
            return stuck.isEmpty ? nil : stuck.joined(separator: "; ")
        }
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
