import Logging

/// A log handler that keeps metadata set on a logger copy aside and hands it to the wrapped handler only when a
/// message is actually logged.
///
/// Hummingbird sets `hb.request.id` on the application logger once per request. `StreamLogHandler` renders its
/// whole metadata into a string on every such set, although request logs are only written at debug level; this
/// wrapper makes the set a dictionary insert. What is logged is unchanged: the wrapped handler receives the kept
/// metadata merged under the message's own, and merges its own metadata under both, as it would have.
struct DeferredMetadataLogHandler: LogHandler {
    var base: any LogHandler
    /// Metadata set through this handler, not yet given to `base`.
    var deferred: Logger.Metadata = [:]

    init(wrapping base: any LogHandler) {
        self.base = base
    }

    func log(event: LogEvent) {
        guard !self.deferred.isEmpty else {
            self.base.log(event: event)
            return
        }
        var event = event
        if let metadata = event.metadata {
            event.metadata = self.deferred.merging(metadata) { _, explicit in explicit }
        } else {
            event.metadata = self.deferred
        }
        self.base.log(event: event)
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.deferred[key] ?? self.base[metadataKey: key] }
        set {
            if newValue == nil, self.base[metadataKey: key] != nil {
                self.base[metadataKey: key] = nil
            }
            self.deferred[key] = newValue
        }
    }

    var metadata: Logger.Metadata {
        get { self.base.metadata.merging(self.deferred) { _, deferred in deferred } }
        set {
            self.deferred = [:]
            self.base.metadata = newValue
        }
    }

    var logLevel: Logger.Level {
        get { self.base.logLevel }
        set { self.base.logLevel = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { self.base.metadataProvider }
        set { self.base.metadataProvider = newValue }
    }
}
