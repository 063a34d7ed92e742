import Foundation
import HTTPTypes
public import Hummingbird
public import Logging
import NIOCore
public import OCSPResponder
public import TimeStampAuthority

/// Settings of the public listener.
public struct PublicListenerSettings: Sendable {
    public var host: String
    public var port: Int
    /// Largest accepted `/tsa` and `/ocsp` body; larger ones get 413 without being read whole.
    public var maxRequestBytes: Int
    public var idleTimeout: Duration

    public init(host: String, port: Int, maxRequestBytes: Int, idleTimeout: Duration) {
        self.host = host
        self.port = port
        self.maxRequestBytes = maxRequestBytes
        self.idleTimeout = idleTimeout
    }
}

/// The public listener: `POST /tsa` (RFC 3161 §3.4).
public enum PublicService {
    /// Media types of RFC 3161 §3.4.
    static let queryMediaType = "application/timestamp-query"
    static let replyMediaType = "application/timestamp-reply"

    /// The Hummingbird application of the public listener. `onServerRunning` receives the bound port.
    /// A disabled service's paths are not routed (404).
    public static func makeApplication(
        tsa: TimeStampAuthority?,
        ocsp: OCSPResponderService?,
        settings: PublicListenerSettings,
        logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void
    ) -> some ApplicationProtocol {
        let router = Router(context: SigillumRequestContext.self)
        var allowed: [String: [HTTPRequest.Method]] = [:]
        var prefixes: [String: [HTTPRequest.Method]] = [:]
        if tsa != nil { allowed["/tsa"] = [.post] }
        if ocsp != nil {
            allowed["/ocsp"] = [.post]
            prefixes["/ocsp/"] = [.get, .post]
        }
        router.middlewares.add(MethodGuardMiddleware(allowed: allowed, allowedPrefixes: prefixes))
        if let tsa {
            router.post("/tsa") { request, context -> Response in
                try await Self.timeStamp(request: request, context: context, tsa: tsa, limit: settings.maxRequestBytes)
            }
        }
        if let ocsp {
            OCSPRoutes.register(on: router, responder: ocsp, limit: settings.maxRequestBytes)
        }
        return Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: .init(settings.idleTimeout))),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "sigillum"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? settings.port) },
            logger: Self.requestLogger(logger)
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
