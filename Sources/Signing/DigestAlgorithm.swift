import Crypto

/// A hash function a ``SignatureScheme`` uses.
///
/// The set is open (SHA-3 may follow), so this is a struct with static members rather than an
/// enum: compare with `==`.
public struct DigestAlgorithm: Sendable, Hashable, CustomStringConvertible {
    enum Backing: Sendable, Hashable {
        case sha256
        case sha384
        case sha512
    }

    let backing: Backing

    private init(_ backing: Backing) {
        self.backing = backing
    }

    /// SHA-256 (FIPS 180-4), 32 octets.
    public static let sha256 = DigestAlgorithm(.sha256)

    /// SHA-384 (FIPS 180-4), 48 octets.
    public static let sha384 = DigestAlgorithm(.sha384)

    /// SHA-512 (FIPS 180-4), 64 octets.
    public static let sha512 = DigestAlgorithm(.sha512)

    /// The algorithm's common name, such as `SHA-256`, for logs and messages.
    public var name: String {
        switch self.backing {
        case .sha256: "SHA-256"
        case .sha384: "SHA-384"
        case .sha512: "SHA-512"
        }
    }

    /// The length of a digest in octets.
    public var outputByteCount: Int {
        switch self.backing {
        case .sha256: SHA256.byteCount
        case .sha384: SHA384.byteCount
        case .sha512: SHA512.byteCount
        }
    }

    /// Hashes `message` with this algorithm.
    ///
    /// - Parameter message: The octets to hash.
    /// - Returns: The digest, ``outputByteCount`` octets long.
    public func hash(_ message: [UInt8]) -> [UInt8] {
        switch self.backing {
        case .sha256: SHA256.hash(data: message).withUnsafeBytes { Array($0) }
        case .sha384: SHA384.hash(data: message).withUnsafeBytes { Array($0) }
        case .sha512: SHA512.hash(data: message).withUnsafeBytes { Array($0) }
        }
    }

    public var description: String {
        self.name
    }
}
