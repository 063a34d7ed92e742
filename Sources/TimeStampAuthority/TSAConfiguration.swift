import PKIMessages
public import SwiftASN1

/// A hash algorithm a message imprint may use, with the digest length the imprint must have.
public struct ImprintHash: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    public let oid: ASN1ObjectIdentifier
    public let digestLength: Int
    /// The dotted OID, computed once for audit records.
    public let oidText: String

    public static let sha256 = ImprintHash(name: "sha256", oid: .HashAlgorithm.sha256, digestLength: 32)
    public static let sha384 = ImprintHash(name: "sha384", oid: .HashAlgorithm.sha384, digestLength: 48)
    public static let sha512 = ImprintHash(name: "sha512", oid: .HashAlgorithm.sha512, digestLength: 64)
    // swift-format-ignore: AlwaysUseLowerCamelCase
    public static let sha3_256 = ImprintHash(name: "sha3-256", oid: .HashAlgorithm.sha3_256, digestLength: 32)
    // swift-format-ignore: AlwaysUseLowerCamelCase
    public static let sha3_384 = ImprintHash(name: "sha3-384", oid: .HashAlgorithm.sha3_384, digestLength: 48)
    // swift-format-ignore: AlwaysUseLowerCamelCase
    public static let sha3_512 = ImprintHash(name: "sha3-512", oid: .HashAlgorithm.sha3_512, digestLength: 64)
    /// Weak; accepted only when configured explicitly.
    public static let sha1 = ImprintHash(name: "sha1", oid: .HashAlgorithm.sha1, digestLength: 20)
    /// Broken; accepted only when configured explicitly.
    public static let md5 = ImprintHash(name: "md5", oid: .HashAlgorithm.md5, digestLength: 16)

    /// Every algorithm the TSA knows.
    public static let known: [ImprintHash] = [.sha256, .sha384, .sha512, .sha3_256, .sha3_384, .sha3_512, .sha1, .md5]

    /// The algorithm called `name` (`sha256`, `sha3-256`, ...).
    public init?(name: String) {
        guard let match = Self.known.first(where: { $0.name == name }) else { return nil }
        self = match
    }

    init(name: String, oid: ASN1ObjectIdentifier, digestLength: Int) {
        self.name = name
        self.oid = oid
        self.digestLength = digestLength
        self.oidText = oid.description
    }

    public var description: String { self.name }
}

/// A TSA policy and whether tokens under it are qualified (eIDAS).
public struct TSAPolicy: Sendable, Hashable {
    public var oid: ASN1ObjectIdentifier
    /// Adds the EN 319 422 §9.1 qcStatements extension (esi4-qtstStatement-1) to each token.
    public var qualified: Bool

    public init(oid: ASN1ObjectIdentifier, qualified: Bool) {
        self.oid = oid
        self.qualified = qualified
    }
}

/// What the TSA needs to know, validated by the caller (ApplianceConfig in the daemon).
public struct TSAConfiguration: Sendable, Hashable {
    /// Accepted policies (at least one).
    public var policies: [TSAPolicy]
    /// The policy of tokens whose request names none; must be one of `policies`.
    public var defaultPolicy: ASN1ObjectIdentifier
    public var acceptedHashes: [ImprintHash]
    /// The accuracy stated in each token, in microseconds; 0 leaves `accuracy` out. Ignored when
    /// ``dynamicAccuracy`` is set.
    public var accuracyMicroseconds: Int64
    /// State the clock's error bound at the moment of issue, rounded up to the next millisecond, as the accuracy
    /// of each token (never less than the bound); tokens are refused while no bound is proven.
    public var dynamicAccuracy: Bool
    /// How long a request may wait for the wall clock to pass the last issued genTime (after a backward step or a
    /// restart) before it is refused with timeNotAvailable.
    public var maximumOrderingWait: Duration
    /// TSTInfo `ordering` (RFC 3161 §2.4.2).
    public var ordering: Bool
    /// Put the TSU certificate subject into TSTInfo `tsa` as a directoryName.
    public var includeTSAName: Bool
    /// With certReq, include the issuing chain as well as the TSU certificate.
    public var includeChain: Bool

    public init(
        policies: [TSAPolicy],
        defaultPolicy: ASN1ObjectIdentifier,
        acceptedHashes: [ImprintHash] = [.sha256, .sha384, .sha512, .sha3_256, .sha3_384, .sha3_512],
        accuracyMicroseconds: Int64 = 1_000_000,
        dynamicAccuracy: Bool = false,
        maximumOrderingWait: Duration = .milliseconds(5),
        ordering: Bool = false,
        includeTSAName: Bool = false,
        includeChain: Bool = false
    ) {
        self.policies = policies
        self.defaultPolicy = defaultPolicy
        self.acceptedHashes = acceptedHashes
        self.accuracyMicroseconds = accuracyMicroseconds
        self.dynamicAccuracy = dynamicAccuracy
        self.maximumOrderingWait = maximumOrderingWait
        self.ordering = ordering
        self.includeTSAName = includeTSAName
        self.includeChain = includeChain
    }

    /// genTime carries microseconds (trailing zeros dropped, RFC 3161 §2.4.2), whatever the accuracy: genTime
    /// strictly increases across the instance's tokens, and a coarser grain would limit it to one token per grain.
    public var genTimeFractionDigits: Int { 6 }
}
