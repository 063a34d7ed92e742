import Crypto

/// The hash chain over the timestamp audit log.
///
/// Every stored record carries `prev_hash` (the previous record's `record_hash`, or 32 zero
/// bytes for record 1) and its own `record_hash`:
///
/// ```
/// record_hash = SHA-256( prev_hash ‖ E )
///
/// E = F("sigillum-tsa-audit-v1")          format tag, UTF-8
///   ‖ F(seq)                               8 bytes, big-endian two's complement
///   ‖ F(instance_id)                       4 bytes, big-endian unsigned
///   ‖ F(serial)                            INTEGER content octets as given
///   ‖ F(gen_time)                          UTF-8
///   ‖ F(policy)                            UTF-8 dotted OID
///   ‖ F(hash_alg)                          UTF-8 dotted OID
///   ‖ F(imprint)
///   ‖ O(nonce)                             INTEGER content octets as given
///   ‖ O(client)                            UTF-8
///   ‖ F(token_sha256)                      32 bytes
///   ‖ O(accuracy_us)                       8 bytes, big-endian two's complement
///   ‖ F(committed_at)                      UTF-8, e.g. "2026-11-25T01:45:00.123Z"
///
/// Records with clock evidence (every record since migration `v4-clock-evidence`, recognised by a non-NULL
/// `clock_gate`) use the tag "sigillum-tsa-audit-v2" and append, after committed_at:
///
///   ‖ O(gen_time_us)                       8 bytes, big-endian two's complement
///   ‖ O(clock_bound_us)                    8 bytes, big-endian two's complement
///   ‖ F(clock_gate)                        UTF-8
///
/// F(x) = length of x as 4 bytes big-endian ‖ x
/// O(x) = F(x) when present, or the 4 bytes FF FF FF FF (and nothing else) when absent
/// ```
///
/// `prev_hash` is always exactly 32 bytes, so it needs no length. Every other field has a
/// length prefix, and an absent optional field (FF FF FF FF) differs from a present empty one
/// (00 00 00 00), so two different records never share an encoding. Fields are never longer
/// than 2³²−2 bytes and text fields hold no NUL (``Ledger/append(_:)`` refuses such
/// records).
package enum AuditChain {
    /// The format tag that opens every encoding.
    static let formatTag: [UInt8] = Array("sigillum-tsa-audit-v1".utf8)
    /// The format tag of records with clock evidence.
    static let formatTagV2: [UInt8] = Array("sigillum-tsa-audit-v2".utf8)

    /// The `prev_hash` of record 1.
    static let genesisHash = [UInt8](repeating: 0, count: 32)

    /// The length of a chain hash.
    static let hashLength = 32

    /// The marker of an absent optional field.
    private static let absentMarker: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF]

    /// The largest field length the encoding allows.
    static let maximumFieldLength = Int(UInt32.max) - 1

    /// Computes a record's chain hash.
    ///
    /// - Parameters:
    ///   - previousHash: The previous record's hash (32 bytes).
    ///   - scratch: A buffer reused between calls to avoid an allocation per record.
    package static func recordHash(
        previousHash: [UInt8],
        sequence: Int64,
        instanceID: UInt32,
        record: TimeStampAuditRecord,
        committedAt: String,
        scratch: inout [UInt8]
    ) -> [UInt8] {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: previousHash)
        appendField(record.clockGate == nil ? formatTag : formatTagV2, to: &scratch)
        appendInteger(UInt64(bitPattern: sequence), byteCount: 8, to: &scratch)
        appendInteger(UInt64(instanceID), byteCount: 4, to: &scratch)
        appendField(record.serialNumber, to: &scratch)
        appendField(record.genTime.utf8, to: &scratch)
        appendField(record.policy.utf8, to: &scratch)
        appendField(record.hashAlgorithm.utf8, to: &scratch)
        appendField(record.imprint, to: &scratch)
        if let nonce = record.nonce {
            appendField(nonce, to: &scratch)
        } else {
            scratch.append(contentsOf: absentMarker)
        }
        if let client = record.clientAddress {
            appendField(client.utf8, to: &scratch)
        } else {
            scratch.append(contentsOf: absentMarker)
        }
        appendField(record.tokenSHA256, to: &scratch)
        appendOptionalInteger(record.accuracyMicros, to: &scratch)
        appendField(committedAt.utf8, to: &scratch)
        if let gate = record.clockGate {
            appendOptionalInteger(record.genTimeMicros, to: &scratch)
            appendOptionalInteger(record.clockBoundMicros, to: &scratch)
            appendField(gate.utf8, to: &scratch)
        }
        // withUnsafeBytes copies in one go; Array(digest) would iterate the Sequence byte by byte.
        return SHA256.hash(data: scratch).withUnsafeBytes { Array($0) }
    }

    /// Checks that a record can be encoded; returns a reason when it cannot.
    static func problem(with record: TimeStampAuditRecord) -> String? {
        if record.serialNumber.isEmpty {
            return "the serial number is empty"
        }
        if record.tokenSHA256.count != 32 {
            return "tokenSHA256 has \(record.tokenSHA256.count) bytes, not 32"
        }
        // No arrays here: this runs once per token.
        if record.serialNumber.count > maximumFieldLength || record.genTime.utf8.count > maximumFieldLength
            || record.policy.utf8.count > maximumFieldLength || record.hashAlgorithm.utf8.count > maximumFieldLength
            || record.imprint.count > maximumFieldLength || (record.nonce?.count ?? 0) > maximumFieldLength
            || (record.clientAddress?.utf8.count ?? 0) > maximumFieldLength
        {
            return "a field is longer than \(maximumFieldLength) bytes"
        }
        // SQLite returns text up to the first NUL, which would change the record's hash.
        if record.genTime.utf8.contains(0) || record.policy.utf8.contains(0) || record.hashAlgorithm.utf8.contains(0)
            || (record.clientAddress?.utf8.contains(0) ?? false)
        {
            return "a text field contains a NUL character"
        }
        return nil
    }

    private static func appendField(_ bytes: some Collection<UInt8>, to buffer: inout [UInt8]) {
        appendLength(bytes.count, to: &buffer)
        buffer.append(contentsOf: bytes)
    }

    private static func appendInteger(_ value: UInt64, byteCount: Int, to buffer: inout [UInt8]) {
        appendLength(byteCount, to: &buffer)
        for index in stride(from: byteCount - 1, through: 0, by: -1) {
            buffer.append(UInt8(truncatingIfNeeded: value >> (UInt64(index) * 8)))
        }
    }

    /// An 8-byte integer field, or the absent marker.
    private static func appendOptionalInteger(_ value: Int64?, to buffer: inout [UInt8]) {
        guard let value else { return buffer.append(contentsOf: absentMarker) }
        appendInteger(UInt64(bitPattern: value), byteCount: 8, to: &buffer)
    }

    private static func appendLength(_ length: Int, to buffer: inout [UInt8]) {
        let value = UInt32(truncatingIfNeeded: length)
        buffer.append(UInt8(truncatingIfNeeded: value >> 24))
        buffer.append(UInt8(truncatingIfNeeded: value >> 16))
        buffer.append(UInt8(truncatingIfNeeded: value >> 8))
        buffer.append(UInt8(truncatingIfNeeded: value))
    }
}
