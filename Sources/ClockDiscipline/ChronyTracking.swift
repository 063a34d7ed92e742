/// chronyd's view of the system clock, as `chronyc -c tracking` prints it (chrony 4.3).
///
/// The CSV line has 14 fields: reference ID (hex), reference name or address, stratum, reference time (Unix
/// seconds), system time offset, last offset, RMS offset (seconds), frequency, residual frequency, skew (ppm), root
/// delay, root dispersion, update interval (seconds) and the leap status text.
///
/// Signs, checked against chronyd 4.3 on this appliance's Debian release (a client chronyd following a server shifted
/// 3 s ahead printed `System time : 3.000007391 seconds slow of NTP time` and, with `-c`, `3.000007391`):
/// - `systemTimeOffsetNanoseconds` is NTP time minus system time, the correction chronyd still has to apply:
///   positive when the system clock is slow (behind), like `NTPSample.offsetNanoseconds`;
/// - `lastOffsetNanoseconds` keeps chrony's own sign (chronyc(1)): positive when the local clock was ahead;
/// - `frequencyPPM` is negative when the uncorrected clock runs slow (`0.078 ppm slow` prints `-0.078`).
public struct ChronyTracking: Sendable, Hashable, Codable {
    /// The leap status chronyd reports (and would announce to its NTP clients).
    public enum LeapStatus: String, Sendable, Hashable, Codable, CaseIterable {
        case normal = "Normal"
        case insertSecond = "Insert second"
        case deleteSecond = "Delete second"
        case notSynchronised = "Not synchronised"
    }

    /// The reference ID of the selected source (an IPv4 address for NTP servers; 0x7F7F0101 for the `local`
    /// reference; 0 when unsynchronised).
    public var referenceID: UInt32
    /// The selected source's address (with `-n`) or name; empty for `local` and when unsynchronised.
    public var referenceName: String
    /// chronyd's own stratum; 0 when unsynchronised.
    public var stratum: Int
    /// When the last measurement from the reference was processed (Unix nanoseconds); 0 when never.
    public var referenceTimeNanoseconds: Int64
    /// NTP time minus system time: positive when the system clock is behind chronyd's NTP clock.
    public var systemTimeOffsetNanoseconds: Int64
    /// The offset estimated at the last clock update; positive when the local clock was ahead of the sources.
    public var lastOffsetNanoseconds: Int64
    /// A long-term average of the last offsets.
    public var rmsOffsetNanoseconds: Int64
    /// The rate at which the clock would gain (positive) or lose (negative) time without correction, in ppm.
    public var frequencyPPM: Double
    /// The difference between the frequency the reference indicates and the one in use, in ppm.
    public var residualFrequencyPPM: Double
    /// The estimated error bound of the frequency, in ppm.
    public var skewPPM: Double
    /// The total network path delay to the stratum-1 computer, in nanoseconds.
    public var rootDelayNanoseconds: Int64
    /// The total dispersion accumulated through the path to the stratum-1 computer, in nanoseconds.
    public var rootDispersionNanoseconds: Int64
    /// The interval between the last two clock updates, in nanoseconds.
    public var updateIntervalNanoseconds: Int64
    public var leapStatus: LeapStatus

    public init(
        referenceID: UInt32,
        referenceName: String,
        stratum: Int,
        referenceTimeNanoseconds: Int64,
        systemTimeOffsetNanoseconds: Int64,
        lastOffsetNanoseconds: Int64,
        rmsOffsetNanoseconds: Int64,
        frequencyPPM: Double,
        residualFrequencyPPM: Double,
        skewPPM: Double,
        rootDelayNanoseconds: Int64,
        rootDispersionNanoseconds: Int64,
        updateIntervalNanoseconds: Int64,
        leapStatus: LeapStatus
    ) {
        self.referenceID = referenceID
        self.referenceName = referenceName
        self.stratum = stratum
        self.referenceTimeNanoseconds = referenceTimeNanoseconds
        self.systemTimeOffsetNanoseconds = systemTimeOffsetNanoseconds
        self.lastOffsetNanoseconds = lastOffsetNanoseconds
        self.rmsOffsetNanoseconds = rmsOffsetNanoseconds
        self.frequencyPPM = frequencyPPM
        self.residualFrequencyPPM = residualFrequencyPPM
        self.skewPPM = skewPPM
        self.rootDelayNanoseconds = rootDelayNanoseconds
        self.rootDispersionNanoseconds = rootDispersionNanoseconds
        self.updateIntervalNanoseconds = updateIntervalNanoseconds
        self.leapStatus = leapStatus
    }

    /// True when chronyd follows a source (or its `local` reference) and is not in the unsynchronised state.
    public var isSynchronised: Bool { self.leapStatus != .notSynchronised && self.stratum > 0 }

    /// The reference ID as eight hexadecimal digits, as chronyc prints it.
    public var referenceIDHex: String {
        let digits = String(self.referenceID, radix: 16, uppercase: true)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }

    /// Parses the output of `chronyc -c tracking`: one CSV line (a trailing newline is fine).
    public static func parse(csv text: String) throws(ClockError) -> ChronyTracking {
        let lines = text.split(whereSeparator: \.isNewline).filter { !$0.allSatisfy(\.isWhitespace) }
        guard lines.count == 1, let line = lines.first else {
            throw ClockError.chronyOutputUnparsable(
                reason: "chronyc -c tracking printed \(lines.count) lines, expected one: \(ChronyCSV.excerpt(text))"
            )
        }
        var fields = try ChronyCSV.Fields(line, expected: 14, command: "tracking")
        let referenceIDText = try fields.text("reference ID")
        guard referenceIDText.count <= 8, let referenceID = UInt32(referenceIDText, radix: 16) else {
            throw fields.error("the reference ID '\(referenceIDText)' is not eight hexadecimal digits")
        }
        let referenceName = try fields.text("reference name")
        let stratum = try fields.integer("stratum")
        let referenceTime = try fields.seconds("reference time")
        let systemOffset = try fields.seconds("system time offset")
        let lastOffset = try fields.seconds("last offset")
        let rmsOffset = try fields.seconds("RMS offset")
        let frequency = try fields.double("frequency")
        let residual = try fields.double("residual frequency")
        let skew = try fields.double("skew")
        let rootDelay = try fields.seconds("root delay")
        let rootDispersion = try fields.seconds("root dispersion")
        let updateInterval = try fields.seconds("update interval")
        let leapText = try fields.text("leap status")
        guard let leap = LeapStatus(rawValue: leapText) else {
            throw fields.error("unknown leap status '\(leapText)'")
        }
        return ChronyTracking(
            referenceID: referenceID,
            referenceName: referenceName,
            stratum: stratum,
            referenceTimeNanoseconds: referenceTime,
            systemTimeOffsetNanoseconds: systemOffset,
            lastOffsetNanoseconds: lastOffset,
            rmsOffsetNanoseconds: rmsOffset,
            frequencyPPM: frequency,
            residualFrequencyPPM: residual,
            skewPPM: skew,
            rootDelayNanoseconds: rootDelay,
            rootDispersionNanoseconds: rootDispersion,
            updateIntervalNanoseconds: updateInterval,
            leapStatus: leap
        )
    }
}

/// Field-by-field reading of one `chronyc -c` line, with errors that name the field.
enum ChronyCSV {
    struct Fields {
        private let line: Substring
        private let command: String
        private var values: [Substring]
        private var index = 0

        init(_ line: Substring, expected: Int, command: String) throws(ClockError) {
            self.line = line
            self.command = command
            self.values = line.split(separator: ",", omittingEmptySubsequences: false)
            guard self.values.count == expected else {
                throw ClockError.chronyOutputUnparsable(
                    reason: "chronyc -c \(command) printed \(self.values.count) fields, expected \(expected): "
                        + ChronyCSV.excerpt(String(line))
                )
            }
        }

        func error(_ reason: String) -> ClockError {
            ClockError.chronyOutputUnparsable(
                reason: "chronyc -c \(self.command): \(reason) in \(ChronyCSV.excerpt(String(self.line)))"
            )
        }

        mutating func text(_ name: String) throws(ClockError) -> String {
            guard self.index < self.values.count else { throw self.error("the \(name) field is missing") }
            defer { self.index += 1 }
            return String(self.values[self.index]).trimmingSpaces()
        }

        mutating func integer(_ name: String) throws(ClockError) -> Int {
            let value = try self.text(name)
            guard let number = Int(value) else { throw self.error("the \(name) '\(value)' is not an integer") }
            return number
        }

        mutating func double(_ name: String) throws(ClockError) -> Double {
            let value = try self.text(name)
            guard let number = Double(value), number.isFinite else {
                throw self.error("the \(name) '\(value)' is not a number")
            }
            return number
        }

        /// A decimal number of seconds as exact nanoseconds.
        mutating func seconds(_ name: String) throws(ClockError) -> Int64 {
            let value = try self.text(name)
            guard let nanoseconds = ChronyCSV.nanoseconds(fromDecimalSeconds: value) else {
                throw self.error("the \(name) '\(value)' is not a decimal number of seconds")
            }
            return nanoseconds
        }
    }

    /// `-12.345678901` → -12 345 678 901. Digits beyond nanoseconds are rounded half away from zero; nil for
    /// anything but an optional sign, digits and one optional point, or a value outside Int64 nanoseconds.
    static func nanoseconds(fromDecimalSeconds text: String) -> Int64? {
        var digits = Substring(text)
        var negative = false
        if let sign = digits.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            digits = digits.dropFirst()
        }
        let parts = digits.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty || parts.count == 2 else { return nil }
        let fractionText = parts.count == 2 ? parts[1] : ""
        guard whole.allSatisfy({ $0.isASCII && $0.isNumber }), fractionText.allSatisfy({ $0.isASCII && $0.isNumber }),
            !(whole.isEmpty && fractionText.isEmpty)
        else { return nil }
        guard let seconds = whole.isEmpty ? 0 : Int64(whole) else { return nil }
        var fraction: Int64 = 0
        for (position, digit) in fractionText.prefix(9).enumerated() {
            fraction += Int64(digit.wholeNumberValue ?? 0) * Self.powersOfTen[8 - position]
        }
        if let next = fractionText.dropFirst(9).first, (next.wholeNumberValue ?? 0) >= 5 {
            fraction += 1
        }
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return nil }
        let (total, overflowAgain) = scaled.addingReportingOverflow(fraction)
        guard !overflowAgain else { return nil }
        return negative ? -total : total
    }

    private static let powersOfTen: [Int64] = [
        1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000,
    ]

    /// The start of a text for an error message, with control characters made visible.
    static func excerpt(_ text: String) -> String {
        let shown = text.prefix(200).map { $0.isNewline ? "\\n" : String($0) }.joined()
        return "'" + shown + (text.count > 200 ? "…" : "") + "'"
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        let skip: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        guard let first = self.firstIndex(where: { !skip($0) }), let last = self.lastIndex(where: { !skip($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
