import Foundation
import Logging
import NIOCore
import NIOHTTP1
import OCSPResponder
import TimeStampAuthority

/// The public listener's resources and how each is answered: `POST /tsa` (RFC 3161 §3.4), `POST /ocsp` and
/// `GET /ocsp/{request}` (RFC 6960 App. A, RFC 5019 §5–6). It knows HTTP semantics, not sockets: the channel
/// handler reads and writes, this decides.
final class ProtocolRoutes: Sendable {
    /// Media types of RFC 3161 §3.4.
    static let queryMediaType = "application/timestamp-query"
    static let replyMediaType = "application/timestamp-reply"

    let slot: ServingSlot
    let maxRequestBytes: Int
    let tsaEnabled: Bool
    let ocspEnabled: Bool
    let serverName: String
    let dates = DateHeaderCache()
    let cachingFields = CachingHeaderCache()
    let logger: Logger

    init(slot: ServingSlot, settings: PublicListenerSettings, serverName: String = "sigillum", logger: Logger) {
        self.slot = slot
        self.maxRequestBytes = settings.maxRequestBytes
        self.tsaEnabled = settings.tsaEnabled
        self.ocspEnabled = settings.ocspEnabled
        self.serverName = serverName
        self.logger = logger
    }

    enum Route: Sendable {
        case timeStamp
        case ocspPost
        /// The encoded request: the path after `/ocsp/`.
        case ocspGet(Substring.UTF8View)

        /// Whether the request's body is the protocol message (and its type and size are checked first).
        var readsBody: Bool {
            switch self {
            case .timeStamp, .ocspPost: true
            case .ocspGet: false
            }
        }

        var mediaType: String {
            switch self {
            case .timeStamp: ProtocolRoutes.queryMediaType
            case .ocspPost, .ocspGet: OCSPRoutes.requestMediaType
            }
        }

        var message: String {
            switch self {
            case .timeStamp: "TimeStampReq"
            case .ocspPost, .ocspGet: "OCSPRequest"
            }
        }
    }

    enum Routing {
        case route(Route)
        case notFound
        /// The resource exists, with these methods (the `Allow` header, RFC 9110 §15.5.6).
        case methodNotAllowed(String)
        case failed(HTTPResponseStatus, String)
        /// `OPTIONS *`: what the server as a whole supports (RFC 9110 §9.3.7), these methods.
        case serverOptions(String)
    }

    /// Which resource a request names. A disabled service's paths do not exist (404).
    func route(method: HTTPMethod, uri: String) -> Routing {
        // The query, if any, is not part of the resource (RFC 3986 §3.4); base64 has no '?'. Compared as UTF-8:
        // this runs for every request.
        let utf8 = uri.utf8
        // RFC 9112 §3.2.4: the asterisk-form names the server itself, and only OPTIONS may use it.
        if utf8.count == 1, utf8.first == UInt8(ascii: "*") {
            guard method == .OPTIONS else { return .failed(.badRequest, "only OPTIONS may name the server (*)\n") }
            return .serverOptions(self.ocspEnabled ? "GET, HEAD, POST" : "POST")
        }
        var path = utf8.firstIndex(of: UInt8(ascii: "?")).map { utf8[..<$0] } ?? utf8[...]
        if path.first != UInt8(ascii: "/") {
            // RFC 9112 §3.2.2: a server MUST accept the absolute-form (`http://host/tsa`), which clients send when
            // they think they talk to a proxy; the resource is its path.
            guard let absolutePath = Self.pathOfAbsoluteForm(path) else { return .notFound }
            path = absolutePath
        }
        if self.tsaEnabled, path.elementsEqual("/tsa".utf8) {
            return method == .POST ? .route(.timeStamp) : .methodNotAllowed("POST")
        }
        guard self.ocspEnabled else { return .notFound }
        if path.elementsEqual("/ocsp".utf8) {
            return method == .POST ? .route(.ocspPost) : .methodNotAllowed("POST")
        }
        let prefix = "/ocsp/".utf8
        guard path.starts(with: prefix) else { return .notFound }
        switch method {
        case .POST:
            // The responder URL of a certificate's AIA may carry a path below /ocsp/; the CertID names the issuer.
            return .route(.ocspPost)
        case .GET, .HEAD:
            guard path.count <= OCSPRoutes.maxGETPathLength else {
                return .failed(
                    .uriTooLong, "the GET request is longer than \(OCSPRoutes.maxGETPathLength) bytes; use POST\n")
            }
            // Everything after /ocsp/ is the request, '/' included: base64 may contain it, and many clients do not
            // percent-encode it (RFC 6960 App. A.1 asks for url-encoding; RFC 5019 §5 the same).
            return .route(.ocspGet(path.dropFirst(prefix.count)))
        default:
            return .methodNotAllowed("GET, HEAD, POST")
        }
    }

    /// The path of an absolute-form request target `http[s]://authority[/path]` (RFC 9112 §3.2.2); `nil` for any
    /// other form (`*`, authority-form, garbage).
    static func pathOfAbsoluteForm(_ target: Substring.UTF8View) -> Substring.UTF8View? {
        for scheme in ["http://", "https://"] where Self.hasCaseInsensitivePrefix(target, scheme) {
            let rest = target.dropFirst(scheme.utf8.count)
            // An empty path is the root (RFC 9110 §4.2.1); it names no resource here either way.
            return rest.firstIndex(of: UInt8(ascii: "/")).map { rest[$0...] } ?? rest[rest.endIndex...]
        }
        return nil
    }

    private static func hasCaseInsensitivePrefix(_ bytes: Substring.UTF8View, _ prefix: String) -> Bool {
        bytes.count >= prefix.utf8.count
            && zip(bytes, prefix.utf8).allSatisfy { byte, expected in
                byte == expected || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") && byte | 0x20 == expected)
            }
    }

    enum BodyProblem {
        case tooLarge
        case unsupportedMediaType(String)
    }

    /// The checks before a body is read: the media type (the route's, or none: old clients send none; else 415)
    /// and the announced `Content-Length` (413 without reading anything).
    func bodyProblem(_ route: Route, headers: HTTPHeaders) -> BodyProblem? {
        let expected = route.mediaType
        if let contentType = headers.first(name: "content-type"), contentType != expected {
            // Media types compare case-insensitively and may carry parameters (RFC 9110 §8.3.1).
            let mediaType = contentType.split(separator: ";", maxSplits: 1).first.map {
                $0.trimmingCharacters(in: .whitespaces).lowercased()
            }
            guard mediaType == expected else {
                return .unsupportedMediaType("send the \(route.message) as \(expected), not \(contentType)\n")
            }
        }
        if let lengthText = headers.first(name: "content-length"), let length = Int(lengthText),
            length > self.maxRequestBytes
        {
            return .tooLarge
        }
        return nil
    }

    /// A response to write.
    struct Answer: Sendable {
        var status: HTTPResponseStatus
        /// Header fields besides `content-length`, `date`, `server` and `connection`, which the writer adds.
        var headers: [(String, String)]
        var body: [UInt8]
    }

    /// Answers a read request through `deliver`, exactly once, from whatever thread the answer is ready on.
    func answer(
        _ route: Route,
        head: HTTPRequestHead,
        body: ByteBufferView,
        clientAddress: String?,
        deliver: @escaping @Sendable (Answer) -> Void
    ) {
        let ticket = self.slot.enter()
        switch route {
        case .timeStamp:
            guard let tsa = ticket.set.tsa else {
                ticket.leave()
                return deliver(Self.notFound)
            }
            tsa.respond(to: ArraySlice(body), clientAddress: clientAddress) { outcome in
                ticket.leave()
                // Once a request was read, the answer is a TimeStampResp with 200, whatever the status (RFC 3161 §3.4).
                deliver(Answer(status: .ok, headers: [("content-type", Self.replyMediaType)], body: outcome.response))
            }
        case .ocspPost:
            guard let ocsp = ticket.set.ocsp else {
                ticket.leave()
                return deliver(Self.notFound)
            }
            self.ocspAnswer(ocsp, request: ArraySlice(body), ticket: ticket, deliver: deliver) { outcome in
                // RFC 5019 §5: answers to POST are not meant for caches; no caching headers.
                Answer(status: .ok, headers: [("content-type", OCSPRoutes.responseMediaType)], body: outcome.response)
            }
        case .ocspGet(let encoded):
            guard let ocsp = ticket.set.ocsp else {
                ticket.leave()
                return deliver(Self.notFound)
            }
            // An undecodable request is answered malformedRequest, as an OCSP answer.
            let der = OCSPRoutes.decodeGETRequest(encoded) ?? []
            let ifNoneMatch =
                head.headers.contains(name: "if-none-match")
                ? head.headers["if-none-match"].joined(separator: ",") : nil
            self.ocspAnswer(ocsp, request: der[...], ticket: ticket, deliver: deliver) { outcome in
                self.getAnswer(outcome, ifNoneMatch: ifNoneMatch)
            }
        }
    }

    /// The responder's answer, on this thread when it needs no waiting, else from a task.
    private func ocspAnswer(
        _ ocsp: OCSPResponderService,
        request: ArraySlice<UInt8>,
        ticket: ServingSlot.Ticket,
        deliver: @escaping @Sendable (Answer) -> Void,
        shape: @escaping @Sendable (OCSPOutcome) -> Answer
    ) {
        if let outcome = ocsp.respondWithoutSuspending(to: request) {
            ticket.leave()
            return deliver(shape(outcome))
        }
        Task {
            let outcome = await ocsp.respond(to: request)
            ticket.leave()
            deliver(shape(outcome))
        }
    }

    /// A GET answer with the RFC 5019 §6.2 caching headers, or 304 when the client has it (RFC 9110 §13.1.2).
    private func getAnswer(_ outcome: OCSPOutcome, ifNoneMatch: String?) -> Answer {
        guard let validity = outcome.validity else {
            return Answer(
                status: .ok, headers: [("content-type", OCSPRoutes.responseMediaType)], body: outcome.response)
        }
        let fields = self.cachingFields.fields(for: validity, now: self.dates.currentSecond())
        if let ifNoneMatch, OCSPRoutes.matches(ifNoneMatch, validity.entityTag) {
            return Answer(status: .notModified, headers: fields, body: [])
        }
        return Answer(
            status: .ok, headers: [("content-type", OCSPRoutes.responseMediaType)] + fields, body: outcome.response)
    }

    static let notFound = Answer(
        status: .notFound, headers: [("content-type", "text/plain; charset=utf-8")],
        body: Array("this service is not enabled\n".utf8))
}
