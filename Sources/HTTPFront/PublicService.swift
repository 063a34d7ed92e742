import Foundation
import HTTPTypes
import Hummingbird
public import Logging
import NIOCore
import OCSPResponder
public import ServiceLifecycle
import TimeStampAuthority

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
    /// Media types of RFC 3161 §3.4.
    static let queryMediaType = "application/timestamp-query"
    static let replyMediaType = "application/timestamp-reply"

    /// The public listener. Requests are answered by the services current in `slot`; `onRunning` receives the
    /// bound ports. A disabled service's paths are not routed (404).
    public static func makeListener(
        slot: ServingSlot,
        settings: PublicListenerSettings,
        logger: Logger,
        onRunning: @escaping @Sendable ([Int]) async -> Void
    ) -> some Service {
        let router = Router(context: SigillumRequestContext.self)
        var allowed: [String: [HTTPRequest.Method]] = [:]
        var prefixes: [String: [HTTPRequest.Method]] = [:]
        if settings.tsaEnabled { allowed["/tsa"] = [.post] }
        if settings.ocspEnabled {
            allowed["/ocsp"] = [.post]
            prefixes["/ocsp/"] = [.get, .post]
        }
        router.middlewares.add(MethodGuardMiddleware(allowed: allowed, allowedPrefixes: prefixes))
        if settings.tsaEnabled {
            router.post("/tsa") { request, context -> Response in
                try await slot.serve { serving in
                    guard let tsa = serving.tsa else { throw HTTPError(.notFound) }
                    return try await Self.timeStamp(
                        request: request, context: context, tsa: tsa, limit: settings.maxRequestBytes)
                }
            }
        }
        if settings.ocspEnabled {
            OCSPRoutes.register(on: router, slot: slot, limit: settings.maxRequestBytes)
        }
        return HTTPListener(
            bindings: settings.bindings,
            responder: router.buildResponder(),
            idleTimeout: settings.idleTimeout,
            drainTimeout: settings.drainTimeout,
            logger: Self.requestLogger(logger),
            onRunning: onRunning
        )
    }

    /// The application logger: Hummingbird sets a request id on it per request, which must stay cheap.
    static func requestLogger(_ logger: Logger) -> Logger {
        var requestLogger = logger
        requestLogger.handler = DeferredMetadataLogHandler(wrapping: logger.handler)
        return requestLogger
    }

    static func timeStamp(
        request: Request,
        context: SigillumRequestContext,
        tsa: TimeStampAuthority,
        limit: Int
    ) async throws -> Response {
        // RFC 3161 §3.4 names application/timestamp-query.
        let body = try await ProtocolBody.collect(
            request, expecting: Self.queryMediaType, message: "TimeStampReq", limit: limit)
        let outcome = await tsa.respond(to: ArraySlice(body.readableBytesView), clientAddress: context.clientAddress)
        // Once a request was read, the answer is a TimeStampResp with 200, whatever the status (RFC 3161 §3.4).
        return Response(
            status: .ok,
            headers: [.contentType: Self.replyMediaType],
            body: .init(byteBuffer: ByteBuffer(bytes: outcome.response))
        )
    }
}
