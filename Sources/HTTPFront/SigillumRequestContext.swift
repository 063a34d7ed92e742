public import Hummingbird
import NIOCore

/// The request context of both listeners: Hummingbird's core storage plus the client address.
public struct SigillumRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's IP address (no port), for the audit record.
    public let clientAddress: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.clientAddress = source.channel.remoteAddress?.ipAddress
    }

    /// Bodies are checked against the configured limit by each handler; this cap only bounds what any route could
    /// ever collect.
    public var maxUploadSize: Int { 1 << 20 }
}
