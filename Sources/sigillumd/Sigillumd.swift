import ApplianceConfig
import ArgumentParser
import Foundation
import Logging
import NIOCore
import SystemdIntegration

/// `sigillumd`: the appliance daemon. Parses the command line, loads the configuration, wires the services, runs.
@main
struct Sigillumd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sigillumd",
        abstract: "Sigillum appliance daemon: RFC 3161 Time-Stamp Authority, OCSP responder, clock monitor.",
        discussion: """
            Without --config, sigillumd runs the embedded development default: it creates a development PKI and \
            software keys in the state directory once, and serves on loopback. Production runs from a YAML \
            configuration (see Config/sigillumd.example.yaml). Flags override the file.
            """,
        version: SigillumVersion.current
    )

    @Option(name: .long, help: "YAML configuration file. Without it the embedded development default is used.")
    var config: String?

    @Flag(name: .long, help: "Run the embedded development default (the same as giving no --config).")
    var dev = false

    @Option(name: .customLong("state-dir"), help: "State directory (default: ./.sigillum, or $STATE_DIRECTORY).")
    var stateDirectory: String?

    @Option(name: .long, help: "Public listener HOST:PORT (default 127.0.0.1:8080).")
    var listen: String?

    @Option(name: .customLong("admin-listen"), help: "Admin listener HOST:PORT (default 127.0.0.1:9090).")
    var adminListen: String?

    @Option(
        name: .customLong("ntp-server"),
        help: "NTP server HOST[:PORT] the clock monitor probes (repeatable); replaces the file's and enforces the gate."
    )
    var ntpServers: [String] = []

    @Option(name: .customLong("probe-interval"), help: "Seconds between clock checks (default 16).")
    var probeInterval: Double?

    @Option(
        name: .customLong("max-clock-error"),
        help: "Largest clock error bound, in seconds, under which tokens are issued (default 1).")
    var maxClockError: Double?

    func validate() throws {
        if self.dev && self.config != nil {
            throw ValidationError("--dev runs the embedded default; it cannot be combined with --config")
        }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let level = environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        // Under systemd, stderr is the journal stream: write structured entries to the journal instead.
        let toJournal = JournalStream.isStandardErrorConnected(environment: environment)
        LoggingSystem.bootstrap { label in
            if toJournal {
                return JournalLogHandler(label: label, identifier: "sigillumd", logLevel: level)
            }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "sigillumd")

        let overrides = ConfigurationOverrides(
            stateDirectory: self.stateDirectory,
            listen: self.listen,
            adminListen: self.adminListen,
            ntpServers: self.ntpServers,
            probeIntervalSeconds: self.probeInterval,
            maximumClockErrorSeconds: self.maxClockError
        )
        let configuration: ApplianceConfiguration
        let sockets: InheritedSockets
        do {
            if let file = self.config {
                configuration = try ConfigurationLoader.load(file: file, overrides: overrides, environment: environment)
            } else {
                configuration = try ConfigurationLoader.embeddedDefault(overrides: overrides, environment: environment)
            }
            sockets = try InheritedSockets.fromServiceManager()
        } catch {
            Self.fail("\(error)")
        }

        let notifier = ServiceManagerNotifier(environment: environment)
        do {
            let daemon = try await Daemon.assemble(
                configuration: configuration,
                environment: .init(
                    configurationFile: self.config,
                    overrides: overrides,
                    variables: environment,
                    sockets: sockets,
                    notifier: notifier,
                    watchdogInterval: ServiceManagerWatchdog.interval()
                ),
                logger: logger
            )
            try await daemon.run()
        } catch let error as StartupError {
            Self.fail(error.description, notifier: notifier)
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            Self.fail(
                "cannot listen: an address is already in use (public \(configuration.listen), admin "
                    + "\(configuration.adminListen)); stop the other process or choose --listen/--admin-listen",
                notifier: notifier
            )
        } catch {
            Self.fail("\(error)", notifier: notifier)
        }
    }

    /// Prints the reason and exits non-zero.
    static func fail(_ message: String, notifier: ServiceManagerNotifier? = nil) -> Never {
        // systemd shows the reason in `systemctl status` (and ERRNO-less failures still get a readable line).
        notifier?.stopping(status: "failed: \(message)")
        FileHandle.standardError.write(Data("sigillumd: error: \(message)\n".utf8))
        Foundation.exit(1)
    }
}

enum SigillumVersion {
    static let current = "0.1.0"
}
