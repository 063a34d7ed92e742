/// A status source kept in one file, which ``StatusSourceWatcher`` re-reads when it changes.
///
/// `parse` must be a pure function of the bytes: it either accepts the whole file or throws, so that a
/// half-written or damaged file never replaces a good snapshot.
public protocol StatusFileSource: Sendable {
    /// The file the source reads.
    var path: String { get }

    /// The kind of source, for snapshots, logs and metrics.
    var kind: StatusSourceKind { get }

    /// Parses the whole content of the file.
    ///
    /// - Throws: ``OCSPResponderError`` naming the file (and, for line-oriented formats, the line).
    func parse(_ contents: [UInt8]) throws(OCSPResponderError) -> ParsedStatus
}
