/// The first place where the audit chain does not hold.
public struct ChainBreak: Sendable, Hashable, CustomStringConvertible {
    /// The kind of a break.
    ///
    /// New kinds may be added in later versions; switch over them with a `default` branch.
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        fileprivate enum Backing: Hashable, Sendable {
            case recordAltered
            case linkBroken
            case recordMissing
            case tailTruncated
            case headMismatch
        }

        fileprivate let backing: Backing

        fileprivate init(_ backing: Backing) {
            self.backing = backing
        }

        /// The record's stored hash does not match its content (a field, or its stored
        /// previous hash, was changed after it was written).
        public static let recordAltered = Kind(.recordAltered)

        /// The record's previous hash differs from the hash of the record before it (a record
        /// was rewritten together with its hash, or records were reordered).
        public static let linkBroken = Kind(.linkBroken)

        /// Sequence numbers jump: records between two stored ones were deleted.
        public static let recordMissing = Kind(.recordMissing)

        /// The head in `ledger_meta` counts more records than the table holds: the newest
        /// records were deleted.
        public static let tailTruncated = Kind(.tailTruncated)

        /// The head in `ledger_meta` does not describe the last stored record (records were
        /// added behind the ledger's back, or the head was changed).
        public static let headMismatch = Kind(.headMismatch)

        public var description: String {
            String(describing: self.backing)
        }
    }

    /// What kind of break this is.
    public var kind: Kind

    /// The sequence number the break concerns: the altered or unlinked record, the first
    /// missing record for ``Kind/recordMissing`` and ``Kind/tailTruncated``, or the last stored
    /// record for ``Kind/headMismatch`` (0 when the table is empty).
    public var sequence: Int64

    /// The serial number of the stored record at ``sequence``, when there is one.
    public var serialNumber: [UInt8]?

    /// For ``Kind/recordMissing`` and ``Kind/tailTruncated``: the missing sequence numbers.
    public var missingSequences: ClosedRange<Int64>?

    /// A plain-words account of the break, e.g.
    /// "record 57 (serial 0x01a2…) was altered: its stored hash does not match its content".
    public var description: String

    /// Creates a break description.
    public init(
        kind: Kind,
        sequence: Int64,
        serialNumber: [UInt8]?,
        missingSequences: ClosedRange<Int64>?,
        description: String
    ) {
        self.kind = kind
        self.sequence = sequence
        self.serialNumber = serialNumber
        self.missingSequences = missingSequences
        self.description = description
    }
}

/// The outcome of walking the audit chain (``Ledger/verifyChain()``).
public struct ChainVerificationReport: Sendable, Hashable, CustomStringConvertible {
    /// The number of records found in the table.
    public var recordCount: Int

    /// The number of records the ledger head (`ledger_meta`) says were committed.
    public var headRecordCount: Int64

    /// The hash of the last stored record (32 zero bytes when there is none).
    public var lastRecordHash: [UInt8]

    /// The first break found, or `nil` when the chain is intact.
    public var firstBreak: ChainBreak?

    /// Whether every record matches its hash, links to its predecessor, no sequence number is
    /// missing and the head describes the last record.
    public var isIntact: Bool { self.firstBreak == nil }

    /// Creates a report.
    public init(recordCount: Int, headRecordCount: Int64, lastRecordHash: [UInt8], firstBreak: ChainBreak?) {
        self.recordCount = recordCount
        self.headRecordCount = headRecordCount
        self.lastRecordHash = lastRecordHash
        self.firstBreak = firstBreak
    }

    public var description: String {
        if let firstBreak = self.firstBreak {
            return "ledger chain broken: \(firstBreak.description)"
        }
        let plural = self.recordCount == 1 ? "record" : "records"
        return "ledger chain intact: \(self.recordCount) \(plural), head hash \(Hex.encode(self.lastRecordHash))"
    }
}

// MARK: - Walking the chain

/// Walks stored records in sequence order and finds the first break.
///
/// Order of checks for each record: sequence contiguity (record missing), then the recomputed
/// hash (record altered, which also covers a changed `prev_hash`), then the link to the
/// previous record (link broken). After the last record the head in `ledger_meta` is compared
/// with what was found (tail truncated, head mismatch).
struct ChainVerifier {
    private(set) var recordCount = 0
    private(set) var firstBreak: ChainBreak?
    private var lastSequence: Int64 = 0
    private var lastHash = AuditChain.genesisHash
    private var scratch: [UInt8] = []

    init() {
        self.scratch.reserveCapacity(512)
    }

    /// Feeds the next stored row; returns `false` once a break was found (stop walking).
    mutating func check(_ row: StoredAuditRow) -> Bool {
        guard self.firstBreak == nil else { return false }
        let sequence = row.sequence
        self.recordCount += 1
        if sequence <= self.lastSequence {
            self.firstBreak = ChainBreak(
                kind: .recordAltered,
                sequence: sequence,
                serialNumber: row.serialNumber,
                missingSequences: nil,
                description: "\(Self.name(sequence, row.serialNumber)) was altered: sequence numbers start at 1"
            )
            return false
        }
        if sequence != self.lastSequence + 1 {
            let missing = (self.lastSequence + 1)...max(self.lastSequence + 1, sequence - 1)
            self.firstBreak = ChainBreak(
                kind: .recordMissing,
                sequence: missing.lowerBound,
                serialNumber: nil,
                missingSequences: missing,
                description: Self.describeGap(missing, before: sequence, after: self.lastSequence)
            )
            return false
        }
        guard let stored = row.record else {
            self.firstBreak = ChainBreak(
                kind: .recordAltered,
                sequence: sequence,
                serialNumber: row.serialNumber,
                missingSequences: nil,
                description:
                    "\(Self.name(sequence, row.serialNumber)) was altered: \(row.problem ?? "a stored field is not well-formed")"
            )
            return false
        }
        let recomputed = AuditChain.recordHash(
            previousHash: stored.previousHash,
            sequence: stored.sequence,
            instanceID: stored.instanceID,
            record: stored.record,
            committedAt: stored.committedAt,
            scratch: &self.scratch
        )
        if recomputed != stored.recordHash {
            self.firstBreak = ChainBreak(
                kind: .recordAltered,
                sequence: sequence,
                serialNumber: row.serialNumber,
                missingSequences: nil,
                description:
                    "\(Self.name(sequence, row.serialNumber)) was altered: its stored hash does not match its content"
            )
            return false
        }
        if stored.previousHash != self.lastHash {
            let predecessor = sequence == 1 ? "the chain's start (32 zero bytes)" : "record \(sequence - 1)'s hash"
            self.firstBreak = ChainBreak(
                kind: .linkBroken,
                sequence: sequence,
                serialNumber: row.serialNumber,
                missingSequences: nil,
                description:
                    "\(Self.name(sequence, row.serialNumber)) does not link to its predecessor: its previous hash differs from \(predecessor)"
            )
            return false
        }
        self.lastSequence = sequence
        self.lastHash = stored.recordHash
        return true
    }

    /// Compares the head stored in `ledger_meta` with the last record and makes the report.
    mutating func finish(headCount: Int64?, headHash: [UInt8]?) -> ChainVerificationReport {
        if self.firstBreak == nil {
            self.firstBreak = self.headBreak(headCount: headCount, headHash: headHash)
        }
        return ChainVerificationReport(
            recordCount: self.recordCount,
            headRecordCount: headCount ?? 0,
            lastRecordHash: self.lastHash,
            firstBreak: self.firstBreak
        )
    }

    private func headBreak(headCount: Int64?, headHash: [UInt8]?) -> ChainBreak? {
        guard let headCount, let headHash else {
            return ChainBreak(
                kind: .headMismatch,
                sequence: self.lastSequence,
                serialNumber: nil,
                missingSequences: nil,
                description: "the ledger head (the ledger_meta row) is missing or not well-formed"
            )
        }
        if headCount > self.lastSequence {
            let missing = (self.lastSequence + 1)...headCount
            let removed =
                missing.count == 1
                ? "record \(missing.lowerBound) was removed"
                : "records \(missing.lowerBound) to \(missing.upperBound) were removed"
            return ChainBreak(
                kind: .tailTruncated,
                sequence: missing.lowerBound,
                serialNumber: nil,
                missingSequences: missing,
                description:
                    "the ledger was truncated: its head records \(headCount) records but the table ends at record \(self.lastSequence); \(removed)"
            )
        }
        if headCount < self.lastSequence {
            return ChainBreak(
                kind: .headMismatch,
                sequence: self.lastSequence,
                serialNumber: nil,
                missingSequences: nil,
                description:
                    "the table holds records beyond the ledger head: the head records \(headCount) records but the table ends at record \(self.lastSequence)"
            )
        }
        if headHash != self.lastHash {
            return ChainBreak(
                kind: .headMismatch,
                sequence: self.lastSequence,
                serialNumber: nil,
                missingSequences: nil,
                description:
                    "the ledger head's hash does not match the hash of the last record (\(self.lastSequence))"
            )
        }
        return nil
    }

    private static func name(_ sequence: Int64, _ serial: [UInt8]?) -> String {
        if let serial {
            return "record \(sequence) (serial 0x\(Hex.encode(serial)))"
        }
        return "record \(sequence)"
    }

    private static func describeGap(_ missing: ClosedRange<Int64>, before next: Int64, after previous: Int64) -> String
    {
        let what =
            missing.count == 1
            ? "record \(missing.lowerBound) is missing"
            : "records \(missing.lowerBound) to \(missing.upperBound) are missing"
        if previous == 0 {
            return "\(what): the table starts at record \(next)"
        }
        return "\(what): the sequence jumps from \(previous) to \(next)"
    }
}
