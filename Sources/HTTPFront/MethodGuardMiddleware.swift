import HTTPTypes
import Hummingbird

/// Answers 405 with an `Allow` header when a known path is asked with a method it does not serve
/// (RFC 9110 §15.5.6), before the router would answer 404.
struct MethodGuardMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Path → the methods it serves.
    let allowed: [String: [HTTPRequest.Method]]
    /// Path prefix (e.g. `/ocsp/`) → the methods every path under it serves.
    var allowedPrefixes: [String: [HTTPRequest.Method]] = [:]

    func methods(for path: String) -> [HTTPRequest.Method]? {
        if let methods = self.allowed[path] { return methods }
        return self.allowedPrefixes.first { path.hasPrefix($0.key) }?.value
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if let methods = self.methods(for: request.uri.path), !methods.contains(request.method) {
            var headers = HTTPFields()
            headers[.allow] = methods.map(\.rawValue).joined(separator: ", ")
            headers[.contentType] = "text/plain; charset=utf-8"
            headers[.connection] = "close"
            return Response(
                status: .methodNotAllowed,
                headers: headers,
                body: .init(
                    byteBuffer: ByteBuffer(
                        string: "\(request.method) is not allowed here; use \(headers[.allow] ?? "")\n"))
            )
        }
        return try await next(request, context)
    }
}
