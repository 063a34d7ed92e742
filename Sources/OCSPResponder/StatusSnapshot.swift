public import Foundation
public import X509

/// The kind of a status source; an open set.
public struct StatusSourceKind: Hashable, Sendable, CustomStringConvertible {
    public let name: String

    public init(name: String) {
        self.name = name
    }

    /// An OpenSSL `ca` database (`index.txt`), see ``OpenSSLIndexFile``.
    public static let openSSLIndex = StatusSourceKind(name: "index")
    /// A CRL file, see ``CRLFile``.
    public static let crl = StatusSourceKind(name: "crl")
    /// The ledger, which `sigillum ocsp revoke|unrevoke|import-*` writes.
    public static let ledger = StatusSourceKind(name: "ledger")

    public var description: String { self.name }
}

/// What a CRL said about itself, kept with a snapshot read from one (RFC 5280 §5.1.2).
public struct CRLMetadata: Hashable, Sendable {
    /// The CRL's issuer.
    public var issuer: DistinguishedName
    /// thisUpdate, whole seconds.
    public var thisUpdate: Date
    /// nextUpdate, whole seconds; a conforming CA always sets it (RFC 5280 §5.1.2.5).
    public var nextUpdate: Date?
    /// The cRLNumber extension's value (RFC 5280 §5.2.3), as the INTEGER's content octets.
    public var crlNumber: [UInt8]?

    public init(issuer: DistinguishedName, thisUpdate: Date, nextUpdate: Date?, crlNumber: [UInt8]?) {
        self.issuer = issuer
        self.thisUpdate = thisUpdate.wholeSeconds
        self.nextUpdate = nextUpdate?.wholeSeconds
        self.crlNumber = crlNumber
    }
}

/// What a status source yields when parsed, before the watcher stamps it with a generation.
public struct ParsedStatus: Sendable {
    /// The listed serials.
    public var entries: [SerialNumberKey: CertificateStatus.Entry]
    /// Whether the source lists every certificate the CA issued (see ``StatusSnapshot/knowsAllIssued``).
    public var knowsAllIssued: Bool
    /// Set for a CRL source.
    public var crl: CRLMetadata?

    public init(entries: [SerialNumberKey: CertificateStatus.Entry], knowsAllIssued: Bool, crl: CRLMetadata? = nil) {
        self.entries = entries
        self.knowsAllIssued = knowsAllIssued
        self.crl = crl
    }
}

/// Answers "what is the status of this serial?" for one issuer. Implementations are cheap and thread-safe: a
/// lookup is a dictionary access, suitable for tens of thousands of requests a second from many tasks.
public protocol StatusLookup: Sendable {
    /// The snapshot answers are currently taken from. Take it once per request, so that every CertID of one
    /// request is answered from the same generation.
    var currentSnapshot: StatusSnapshot { get }

    /// What the current snapshot lists for `serial`, or `nil` when it does not list it.
    func status(of serial: SerialNumberKey) -> CertificateStatus.Entry?
}

extension StatusLookup {
    public func status(of serial: SerialNumberKey) -> CertificateStatus.Entry? {
        self.currentSnapshot.status(of: serial)
    }
}

/// The status of every certificate one issuer's source lists, as read at one moment. Immutable; a new source
/// state yields a new snapshot with a higher ``generation``.
///
/// Whether a serial that is not listed is good or unknown depends on the source (``knowsAllIssued``), see
/// ``resolve(_:nonIssuedIsRevoked:)``.
public final class StatusSnapshot: StatusLookup, Sendable, CustomStringConvertible {
    /// The listed serials.
    public let entries: [SerialNumberKey: CertificateStatus.Entry]

    /// Whether the source lists every certificate the CA issued: true for `index.txt` (one line per issued
    /// certificate), false for a CRL (which lists revoked certificates only). Only then may a serial that is not
    /// listed be answered revoked as "non-issued" (RFC 6960 §2.2).
    public let knowsAllIssued: Bool

    /// Counts the snapshots a watcher has published, from 1 for the one loaded at start-up; caches keyed by it
    /// know when their answers are stale.
    public let generation: UInt64

    /// When the source was read.
    public let loadedAt: Date

    /// The kind of source.
    public let sourceKind: StatusSourceKind

    /// The file it was read from (for logs and `/status`; never a metrics dimension).
    public let sourcePath: String

    /// Set when the source is a CRL: its thisUpdate and nextUpdate.
    public let crl: CRLMetadata?

    public init(
        _ parsed: ParsedStatus,
        sourceKind: StatusSourceKind,
        sourcePath: String,
        generation: UInt64,
        loadedAt: Date
    ) {
        self.entries = parsed.entries
        self.revokedCount = parsed.entries.values.reduce(0) { count, entry in
            if case .revoked = entry { return count + 1 }
            return count
        }
        self.knowsAllIssued = parsed.knowsAllIssued
        self.crl = parsed.crl
        self.sourceKind = sourceKind
        self.sourcePath = sourcePath
        self.generation = generation
        self.loadedAt = loadedAt
    }

    /// The snapshot itself.
    public var currentSnapshot: StatusSnapshot { self }

    /// The number of listed serials.
    public var count: Int { self.entries.count }

    /// How many listed serials are revoked.
    public let revokedCount: Int

    /// What the snapshot lists for `serial`; `nil` when it is not listed. O(1).
    @inlinable
    public func status(of serial: SerialNumberKey) -> CertificateStatus.Entry? {
        self.entries[serial]
    }

    /// The RFC 6960 §2.2 "revoked" answer for `serial` when the CA never issued it, or `nil` when that answer is
    /// not allowed: when `serial` is listed, or when the source does not know every issued certificate (a CRL),
    /// so that a missing serial proves nothing about issuance.
    ///
    /// The answer is revoked, reason certificateHold, revocationTime 1970-01-01T00:00:00Z, and the response
    /// must carry the extended-revoke extension (RFC 6960 §4.4.8); see
    /// ``CertificateStatus/Revocation/isForNonIssuedCertificate``.
    public func nonIssuedRevocation(for serial: SerialNumberKey) -> CertificateStatus.Revocation? {
        guard self.knowsAllIssued, self.entries[serial] == nil else { return nil }
        return .nonIssued
    }

    /// The answer for `serial`:
    ///
    /// - listed: its entry, good or revoked;
    /// - not listed, source knows every issued certificate (`index.txt`): the RFC 6960 §2.2 non-issued revoked
    ///   answer when `nonIssuedIsRevoked`, else unknown;
    /// - not listed, source lists only revocations (a CRL): good, since the CRL says it is not revoked (RFC 6960
    ///   §2.2 lets "good" stand for "not revoked" without proving issuance). Whether a CRL past its nextUpdate
    ///   may still be used is the caller's decision (see ``crl``).
    public func resolve(_ serial: SerialNumberKey, nonIssuedIsRevoked: Bool) -> CertificateStatus {
        switch self.entries[serial] {
        case .good?:
            return .good
        case .revoked(let revocation)?:
            return .revoked(revocation)
        case nil:
            guard self.knowsAllIssued else { return .good }
            return nonIssuedIsRevoked ? .revoked(.nonIssued) : .unknown
        }
    }

    /// Whether `other` says the same about every serial (entries, ``knowsAllIssued`` and the CRL's metadata),
    /// whatever its generation.
    public func hasSameContent(as other: StatusSnapshot) -> Bool {
        self.knowsAllIssued == other.knowsAllIssued && self.crl == other.crl && self.entries == other.entries
    }

    /// Whether `parsed` says the same as this snapshot.
    func hasSameContent(as parsed: ParsedStatus) -> Bool {
        self.knowsAllIssued == parsed.knowsAllIssued && self.crl == parsed.crl && self.entries == parsed.entries
    }

    /// The serials whose answer may differ between `previous` and this snapshot: listed in only one of them, or
    /// listed in both with different entries. A cache of signed answers drops exactly these (all of them when
    /// ``knowsAllIssued`` differs, which a cache should treat as "drop everything").
    public func changedSerials(since previous: StatusSnapshot) -> Set<SerialNumberKey> {
        var changed = Set<SerialNumberKey>()
        for (serial, entry) in self.entries where previous.entries[serial] != entry {
            changed.insert(serial)
        }
        for serial in previous.entries.keys where self.entries[serial] == nil {
            changed.insert(serial)
        }
        return changed
    }

    public var description: String {
        "StatusSnapshot(\(self.sourceKind) \(self.sourcePath), generation \(self.generation), \(self.count) entries)"
    }
}
