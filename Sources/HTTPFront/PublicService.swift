public import Logging
public import ServiceLifecycle

/// Settings of the public listener.
public struct PublicListenerSettings: Sendable {
    /// Where to accept connections: the configured address, or the sockets systemd passed as `public`.
    public var bindings: [ListenerBinding]
    /// Largest accepted `/tsa` and `/ocsp` body; larger ones get 413 without being read whole.
    public var maxRequestBytes: Int
    public var idleTimeout: Duration
    /// How long requests in flight get to finish at shutdown before their connections are closed.
    public var drainTimeout: Duration
    /// Which paths are routed; fixed for the life of the process (a reload cannot switch a service on or off).
    public var tsaEnabled: Bool
    public var ocspEnabled: Bool

    public init(
        bindings: [ListenerBinding], maxRequestBytes: Int, idleTimeout: Duration, drainTimeout: Duration = .seconds(10),
        tsaEnabled: Bool, ocspEnabled: Bool
    ) {
        self.bindings = bindings
        self.maxRequestBytes = maxRequestBytes
        self.idleTimeout = idleTimeout
        self.drainTimeout = drainTimeout
        self.tsaEnabled = tsaEnabled
        self.ocspEnabled = ocspEnabled
    }
}

/// The public listener: `POST /tsa` (RFC 3161 §3.4), `POST /ocsp` and `GET /ocsp/…` (RFC 6960 App. A).
public enum PublicService {
    /// The public listener. Requests are answered by the services current in `slot`; `onRunning` receives the
    /// bound ports. A disabled service's paths do not exist (404).
    public static func makeListener(
        slot: ServingSlot,
        settings: PublicListenerSettings,
        logger: Logger,
        onRunning: @escaping @Sendable ([Int]) async -> Void
    ) -> some Service {
        ProtocolListener(
            bindings: settings.bindings,
            routes: ProtocolRoutes(slot: slot, settings: settings, logger: logger),
            idleTimeout: settings.idleTimeout,
            drainTimeout: settings.drainTimeout,
            logger: logger,
            onRunning: onRunning
        )
    }
}
