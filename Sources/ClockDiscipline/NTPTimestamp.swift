/// The 64-bit NTP timestamp format of RFC 5905 §6: 32 bits of seconds since the era's start and 32 bits of
/// fraction.
///
/// Era 0 began at 1900-01-01T00:00:00Z and ends in February 2036; a timestamp does not carry its era, so turning it
/// into Unix time needs a reference instant: `unixNanoseconds(near:)` takes the era that puts the value closest to the
/// reference (RFC 5905 §6 relies on the same rule), which is right whenever the true time is within 68 years of it.
public struct NTPTimestamp: Sendable, Hashable, CustomStringConvertible {
    /// Seconds between the NTP epoch (1900-01-01) and the Unix epoch (1970-01-01): 70 years, 17 of them leap years.
    public static let unixEpochOffsetSeconds: Int64 = 2_208_988_800

    /// The value as it travels: seconds in the high 32 bits, fraction in the low 32 bits.
    public var rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public init(seconds: UInt32, fraction: UInt32) {
        self.rawValue = UInt64(seconds) << 32 | UInt64(fraction)
    }

    /// The all-zero timestamp, which RFC 5905 §7.3 uses for "unknown".
    public static let zero = NTPTimestamp(rawValue: 0)

    public var seconds: UInt32 { UInt32(truncatingIfNeeded: self.rawValue >> 32) }
    public var fraction: UInt32 { UInt32(truncatingIfNeeded: self.rawValue) }
    public var isZero: Bool { self.rawValue == 0 }

    /// The timestamp of a Unix instant in nanoseconds, its seconds taken modulo 2^32 (the era is dropped).
    ///
    /// The fraction is rounded to the nearest 2^-32 s (it stays below 2^32: 999 999 999 ns rounds to 2^32 − 4).
    public init(unixNanoseconds: Int64) {
        let (unixSeconds, nanoseconds) = unixNanoseconds.floorDivided(by: 1_000_000_000)
        let ntpSeconds = unixSeconds &+ Self.unixEpochOffsetSeconds
        // nanoseconds < 10^9 < 2^30, so the product stays below 2^62.
        let fraction = (UInt64(nanoseconds) << 32 + 500_000_000) / 1_000_000_000
        self.rawValue = (UInt64(truncatingIfNeeded: ntpSeconds) << 32) &+ fraction
    }

    /// The Unix instant in nanoseconds, in the NTP era that brings it nearest to `reference` (Unix nanoseconds).
    ///
    /// The fraction is rounded to the nearest nanosecond. Results are exact within Int64's range (years 1678–2262).
    public func unixNanoseconds(near reference: Int64) -> Int64 {
        let referenceSeconds = reference.floorDivided(by: 1_000_000_000).quotient &+ Self.unixEpochOffsetSeconds
        // The signed 32-bit distance from the reference's position in its era picks the nearest era.
        let distance = Int64(Int32(bitPattern: self.seconds &- UInt32(truncatingIfNeeded: referenceSeconds)))
        let ntpSeconds = referenceSeconds &+ distance
        let nanoseconds = (UInt64(self.fraction) * 1_000_000_000 + (1 << 31)) >> 32
        return (ntpSeconds &- Self.unixEpochOffsetSeconds) &* 1_000_000_000 &+ Int64(nanoseconds)
    }

    /// `seconds.fraction` in hexadecimal, as packet dumps show it.
    public var description: String {
        let high = String(self.seconds, radix: 16)
        let low = String(self.fraction, radix: 16)
        return String(repeating: "0", count: 8 - high.count) + high + "." + String(repeating: "0", count: 8 - low.count)
            + low
    }
}

/// The 32-bit NTP short format of RFC 5905 §6: 16 bits of seconds and 16 bits of fraction, used for the root delay
/// and root dispersion.
public struct NTPShort: Sendable, Hashable {
    public var rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// The value of a non-negative duration in nanoseconds, rounded to 2^-16 s and clamped to 0…65535.99998 s.
    public init(nanoseconds: Int64) {
        let clamped = UInt64(min(max(nanoseconds, 0), 65_535_999_984_741))
        let scaled = (clamped << 16 + 500_000_000) / 1_000_000_000
        self.rawValue = UInt32(min(scaled, UInt64(UInt32.max)))
    }

    /// The value in nanoseconds, rounded to the nearest nanosecond.
    public var nanoseconds: Int64 {
        Int64((UInt64(self.rawValue) * 1_000_000_000 + (1 << 15)) >> 16)
    }
}

extension Int64 {
    /// Division rounding toward minus infinity, with a remainder in 0..<divisor (divisor > 0).
    fileprivate func floorDivided(by divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let (quotient, remainder) = self.quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }
}
