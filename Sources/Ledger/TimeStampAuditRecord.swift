/// One timestamp audit record: the evidence ETSI EN 319 421 asks a TSA to keep for each token.
///
/// All fields are plain data; the ledger neither parses nor checks their ASN.1 meaning.
public struct TimeStampAuditRecord: Sendable, Hashable {
    /// The token's serial number: the content octets of its INTEGER (big-endian, minimal).
    public var serialNumber: [UInt8]

    /// The GeneralizedTime text exactly as in the token, for example `20261125014500.123Z`.
    public var genTime: String

    /// The TSA policy of the token, as a dotted OID.
    public var policy: String

    /// The hash algorithm of the message imprint, as a dotted OID.
    public var hashAlgorithm: String

    /// The hashed message (the imprint) the client sent.
    public var imprint: [UInt8]

    /// The nonce as the client sent it (INTEGER content octets), or `nil` when the request had none.
    public var nonce: [UInt8]?

    /// The client's network address, when known.
    public var clientAddress: String?

    /// The SHA-256 digest of the TimeStampToken DER (its ContentInfo).
    public var tokenSHA256: [UInt8]

    /// The accuracy stated in the token in microseconds, or `nil` when the token states none.
    public var accuracyMicros: Int64?

    /// genTime as microseconds since 1970, for ordering across restarts (``Ledger/lastGenTimeMicroseconds()``);
    /// `nil` only in records written before the clock monitor.
    public var genTimeMicros: Int64?

    /// The clock's error bound when the token was issued, in microseconds (rounded up), when one was proven.
    public var clockBoundMicros: Int64?

    /// The clock gate's state when the token was issued: `open`, or `disabled` in development; `nil` only in
    /// records written before the clock monitor. With ``clockBoundMicros`` this is the EN 319 421 evidence
    /// that the token was issued while UTC was known within the bound.
    public var clockGate: String?

    /// Creates an audit record.
    public init(
        serialNumber: [UInt8],
        genTime: String,
        policy: String,
        hashAlgorithm: String,
        imprint: [UInt8],
        nonce: [UInt8]? = nil,
        clientAddress: String? = nil,
        tokenSHA256: [UInt8],
        accuracyMicros: Int64? = nil,
        genTimeMicros: Int64? = nil,
        clockBoundMicros: Int64? = nil,
        clockGate: String? = nil
    ) {
        self.serialNumber = serialNumber
        self.genTime = genTime
        self.policy = policy
        self.hashAlgorithm = hashAlgorithm
        self.imprint = imprint
        self.nonce = nonce
        self.clientAddress = clientAddress
        self.tokenSHA256 = tokenSHA256
        self.accuracyMicros = accuracyMicros
        self.genTimeMicros = genTimeMicros
        self.clockBoundMicros = clockBoundMicros
        self.clockGate = clockGate
    }
}

/// What ``Ledger/append(_:)`` committed.
public struct TimeStampAuditReceipt: Sendable, Hashable {
    /// The record's position in the ledger (1, 2, 3…, without gaps).
    public var sequence: Int64

    /// The record's chain hash: SHA-256 over the previous hash and the record, 32 bytes.
    public var recordHash: [UInt8]

    /// Creates a receipt.
    public init(sequence: Int64, recordHash: [UInt8]) {
        self.sequence = sequence
        self.recordHash = recordHash
    }
}

/// An audit record as stored, with the chain data the ledger added to it.
public struct StoredAuditRecord: Sendable, Hashable {
    /// The record's position in the ledger.
    public var sequence: Int64

    /// The instance id of the ledger that wrote the record.
    public var instanceID: UInt32

    /// The record as it was appended.
    public var record: TimeStampAuditRecord

    /// When the record's transaction was committed: UTC, ISO 8601 with milliseconds.
    public var committedAt: String

    /// The previous record's hash (32 zero bytes for the first record).
    public var previousHash: [UInt8]

    /// This record's chain hash.
    public var recordHash: [UInt8]

    /// Creates a stored record.
    public init(
        sequence: Int64,
        instanceID: UInt32,
        record: TimeStampAuditRecord,
        committedAt: String,
        previousHash: [UInt8],
        recordHash: [UInt8]
    ) {
        self.sequence = sequence
        self.instanceID = instanceID
        self.record = record
        self.committedAt = committedAt
        self.previousHash = previousHash
        self.recordHash = recordHash
    }
}
