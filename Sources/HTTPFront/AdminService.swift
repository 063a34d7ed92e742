import ClockDiscipline
import Foundation
import Hummingbird
public import Logging
import NIOCore
import OCSPResponder
public import Prometheus
public import ServiceLifecycle
import TimeStampAuthority
import X509

/// The admin listener: `GET /` (status page), `GET /health`, `GET /metrics`, `GET /status`,
/// `GET /status/clock-history`. Never expose it publicly.
public enum AdminService {
    /// What `/status` reports besides health.
    public struct StatusInfo: Sendable {
        public var version: String
        public var stateDirectory: String
        public var publicURL: String
        public init(version: String, stateDirectory: String, publicURL: String) {
            self.version = version
            self.stateDirectory = stateDirectory
            self.publicURL = publicURL
        }
    }

    /// The admin listener on `bindings`, reporting on the services current in `slot`. `daemonProblems` adds what
    /// the daemon itself knows is wrong (a withheld watchdog keep-alive) to `/health`.
    public static func makeListener(
        bindings: [ListenerBinding],
        slot: ServingSlot,
        registry: PrometheusCollectorRegistry,
        status: StatusInfo,
        daemonProblems: @escaping @Sendable () -> [String] = { [] },
        drainTimeout: Duration = .seconds(10),
        logger: Logger,
        onRunning: @escaping @Sendable ([Int]) async -> Void
    ) -> some Service {
        let router = Router(context: SigillumRequestContext.self)
        router.middlewares.add(
            MethodGuardMiddleware(allowed: [
                "/health": [.get, .head], "/metrics": [.get, .head], "/status": [.get, .head],
                "/status/clock-history": [.get, .head], "/": [.get, .head],
            ])
        )
        router.get("/") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [
                    .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                    // Self-contained: nothing is loaded from elsewhere, and nothing may be.
                    .contentSecurityPolicy:
                        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:",
                ],
                body: .init(byteBuffer: ByteBuffer(string: StatusPage.html))
            )
        }
        router.get("/status/clock-history") { _, _ -> Response in
            try Self.json(ClockHistoryBody(points: slot.set.clock?.history() ?? []), status: .ok)
        }
        router.get("/health") { _, _ -> Response in
            // 200 only when every enabled service can serve.
            let (tsa, ocsp, clock) = (slot.set.tsa, slot.set.ocsp, slot.set.clock)
            let health = tsa?.health()
            let problems = (health?.problems ?? []) + (ocsp?.problems() ?? []) + daemonProblems()
            let body = HealthBody(
                status: problems.isEmpty ? "ok" : "unavailable",
                problems: problems,
                tsa: health.map { .init(serving: $0.isServing, signer: $0.signer, clockGate: $0.clockGate) },
                clock: clock.map { clock in
                    let report = clock.report()
                    return .init(
                        enforced: report.gate.enforced, open: report.gate.open, reason: report.gate.reason,
                        boundSeconds: report.boundSeconds)
                },
                ocsp: ocsp.map { .init(serving: $0.problems().isEmpty, cachedAnswers: $0.cachedAnswerCount) }
            )
            return try Self.json(body, status: problems.isEmpty ? .ok : .serviceUnavailable)
        }
        router.get("/metrics") { _, _ -> Response in
            var buffer: [UInt8] = []
            buffer.reserveCapacity(16 * 1024)
            registry.emit(into: &buffer)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer))
            )
        }
        router.get("/status") { _, _ -> Response in
            let (tsa, ocsp, clock) = (slot.set.tsa, slot.set.ocsp, slot.set.clock)
            let body = StatusBody(
                version: status.version,
                configurationGeneration: slot.generation,
                stateDirectory: status.stateDirectory,
                publicURL: status.publicURL,
                tsa: tsa.map { tsa in
                    let health = tsa.health()
                    return .init(
                        serving: health.isServing,
                        problems: health.problems,
                        signer: health.signer,
                        clockGate: health.clockGate,
                        certificateSubject: tsa.certificate.subject.description,
                        serialInstanceID: String(tsa.serialInstanceID, radix: 16),
                        serialEpoch: tsa.serialEpoch,
                        counts: tsa.counts
                    )
                },
                ocsp: ocsp.map {
                    .init(serving: $0.problems().isEmpty, problems: $0.problems(), cachedAnswers: $0.cachedAnswerCount)
                },
                clock: clock?.report()
            )
            return try Self.json(body, status: .ok)
        }
        return HTTPListener(
            bindings: bindings,
            responder: router.buildResponder(),
            idleTimeout: .seconds(60),
            drainTimeout: drainTimeout,
            serverName: "sigillum-admin",
            logger: logger,
            onRunning: onRunning
        )
    }

    struct HealthBody: Encodable {
        struct TSA: Encodable {
            var serving: Bool
            var signer: String
            var clockGate: String
        }
        struct OCSP: Encodable {
            var serving: Bool
            var cachedAnswers: Int
        }
        struct Clock: Encodable {
            var enforced: Bool
            var open: Bool
            var reason: String?
            var boundSeconds: Double?
        }
        var status: String
        var problems: [String]
        /// Absent when the TSA is disabled.
        var tsa: TSA?
        var clock: Clock?
        /// Absent when the OCSP responder is disabled.
        var ocsp: OCSP?
    }

    struct StatusBody: Encodable {
        struct TSA: Encodable {
            var serving: Bool
            var problems: [String]
            var signer: String
            var clockGate: String
            var certificateSubject: String
            var serialInstanceID: String
            var serialEpoch: UInt32
            var counts: TSACounts
        }
        struct OCSP: Encodable {
            var serving: Bool
            var problems: [String]
            var cachedAnswers: Int
        }
        var version: String
        /// 1 at start, one more for every reload that took effect.
        var configurationGeneration: Int
        var stateDirectory: String
        var publicURL: String
        /// Absent when the TSA is disabled.
        var tsa: TSA?
        var ocsp: OCSP?
        var clock: ClockReport?
    }

    struct ClockHistoryBody: Encodable {
        var points: [ClockHistoryPoint]
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        var data = try encoder.encode(value)
        data.append(0x0A)
        return Response(
            status: status,
            headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: data))
        )
    }
}
