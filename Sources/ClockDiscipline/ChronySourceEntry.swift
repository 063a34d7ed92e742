/// One time source of chronyd, as a line of `chronyc -c -n sources` prints it (chrony 4.3).
///
/// The CSV line has 10 fields: mode (`^` server, `=` peer, `#` reference clock), state, name or address, stratum,
/// poll (log2 s), reach (the octal register of the last eight polls), seconds since the last sample
/// (4294967295 when there was none), the adjusted and the measured offset of the last sample and its error bound
/// (seconds).
///
/// Offsets keep chrony's sign (chronyc(1), "Last sample"): positive when the local clock is ahead of the source,
/// the opposite of `NTPSample.offsetNanoseconds`. Checked against chronyd 4.3 here: with the source shifted 3 s ahead,
/// `chronyc sources` printed `-3000ms` and `-c` printed `-3.000020504`.
public struct ChronySourceEntry: Sendable, Hashable, Codable {
    public enum Mode: String, Sendable, Hashable, Codable, CaseIterable {
        case server = "^"
        case peer = "="
        case referenceClock = "#"
    }

    /// The selection state chronyd gives the source (chronyc(1), "S" column).
    public enum State: String, Sendable, Hashable, Codable, CaseIterable {
        /// `*`: the source the clock is synchronised to.
        case selected = "*"
        /// `+`: combined with the selected source.
        case combined = "+"
        /// `-`: acceptable but left out of the combination.
        case notCombined = "-"
        /// `?`: unusable: connectivity lost, too few samples yet, or its packets fail the tests.
        case unreachable = "?"
        /// `x`: a falseticker, disagreeing with the majority.
        case falseticker = "x"
        /// `~`: too variable to be used.
        case tooVariable = "~"
    }

    public var mode: Mode
    public var state: State
    /// The address (with `-n`), host name, or reference clock ID.
    public var name: String
    public var stratum: Int
    /// log2 of the polling interval in seconds (−2 is 0.25 s).
    public var poll: Int
    /// The reachability register: bit 0 is the latest poll, set when it was answered.
    public var reach: UInt8
    /// Seconds since the last good sample; nil when none arrived yet.
    public var lastSampleAgeSeconds: Int?
    /// The last sample's offset, adjusted for slews since: positive when the local clock is ahead of the source.
    public var adjustedOffsetNanoseconds: Int64
    /// The last sample's offset as measured.
    public var measuredOffsetNanoseconds: Int64
    /// The estimated error bound of the last sample.
    public var errorNanoseconds: Int64

    public init(
        mode: Mode,
        state: State,
        name: String,
        stratum: Int,
        poll: Int,
        reach: UInt8,
        lastSampleAgeSeconds: Int?,
        adjustedOffsetNanoseconds: Int64,
        measuredOffsetNanoseconds: Int64,
        errorNanoseconds: Int64
    ) {
        self.mode = mode
        self.state = state
        self.name = name
        self.stratum = stratum
        self.poll = poll
        self.reach = reach
        self.lastSampleAgeSeconds = lastSampleAgeSeconds
        self.adjustedOffsetNanoseconds = adjustedOffsetNanoseconds
        self.measuredOffsetNanoseconds = measuredOffsetNanoseconds
        self.errorNanoseconds = errorNanoseconds
    }

    /// The "no sample yet" value chronyc prints in the last-sample-age column.
    static let noSampleAge: UInt64 = 4_294_967_295

    /// Parses the output of `chronyc -c sources`: one line per source; no sources gives an empty array.
    public static func parse(csv text: String) throws(ClockError) -> [ChronySourceEntry] {
        var entries: [ChronySourceEntry] = []
        for line in text.split(whereSeparator: \.isNewline) where !line.allSatisfy(\.isWhitespace) {
            entries.append(try Self.parse(line: line))
        }
        return entries
    }

    private static func parse(line: Substring) throws(ClockError) -> ChronySourceEntry {
        var fields = try ChronyCSV.Fields(line, expected: 10, command: "sources")
        let modeText = try fields.text("mode")
        guard let mode = Mode(rawValue: modeText) else { throw fields.error("unknown source mode '\(modeText)'") }
        let stateText = try fields.text("state")
        guard let state = State(rawValue: stateText) else {
            throw fields.error("unknown source state '\(stateText)'")
        }
        let name = try fields.text("name")
        guard !name.isEmpty else { throw fields.error("the source name is empty") }
        let stratum = try fields.integer("stratum")
        let poll = try fields.integer("poll")
        let reachText = try fields.text("reach")
        guard let reach = UInt8(reachText, radix: 8) else {
            throw fields.error("the reach register '\(reachText)' is not an octal byte")
        }
        let ageText = try fields.text("last sample age")
        guard let age = UInt64(ageText) else {
            throw fields.error("the last sample age '\(ageText)' is not a whole number of seconds")
        }
        let adjusted = try fields.seconds("adjusted offset")
        let measured = try fields.seconds("measured offset")
        let errorBound = try fields.seconds("error bound")
        return ChronySourceEntry(
            mode: mode,
            state: state,
            name: name,
            stratum: stratum,
            poll: poll,
            reach: reach,
            lastSampleAgeSeconds: age == Self.noSampleAge ? nil : Int(clamping: age),
            adjustedOffsetNanoseconds: adjusted,
            measuredOffsetNanoseconds: measured,
            errorNanoseconds: errorBound
        )
    }
}
