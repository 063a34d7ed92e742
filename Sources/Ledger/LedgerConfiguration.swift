/// How a ``Ledger`` opens its database and commits records.
///
/// A plain value with no I/O: ``Ledger/init(configuration:logger:)`` does the work.
public struct LedgerConfiguration: Sendable {
    /// The path of the SQLite database file, for example `STATE/ledger.sqlite`.
    ///
    /// The file is created when missing; its directory is created with mode 0700 when missing.
    public var databasePath: String

    /// The largest number of records written in one transaction (group commit). Default 512.
    ///
    /// Values below 1 are treated as 1.
    public var maxBatchSize: Int

    /// The instance id to use, or `nil` to generate a random one once and keep it in the database.
    ///
    /// When set, it replaces the stored id. Token serials embed it, so two appliances that
    /// share a policy must not share an instance id.
    public var configuredInstanceID: UInt32?

    /// How long a write waits for a lock held by another connection before it fails.
    ///
    /// Only another process (a backup tool, an operator's `sqlite3` shell) can hold the lock.
    package var lockTimeoutSeconds: Double = 5

    /// After a failed commit, how often the idle writer tries an empty transaction to find out
    /// whether commits work again.
    package var healthProbeIntervalSeconds: Double = 1

    /// Creates a configuration.
    ///
    /// - Parameters:
    ///   - databasePath: The path of the SQLite database file.
    ///   - maxBatchSize: The largest number of records per transaction.
    ///   - configuredInstanceID: A fixed instance id, or `nil` to keep a generated one.
    public init(databasePath: String, maxBatchSize: Int = 512, configuredInstanceID: UInt32? = nil) {
        self.databasePath = databasePath
        self.maxBatchSize = maxBatchSize
        self.configuredInstanceID = configuredInstanceID
    }
}
