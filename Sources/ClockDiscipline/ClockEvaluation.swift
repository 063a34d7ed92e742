/// One check of every source and what it proves: the offset estimate, the error bound, who agrees, leap state.
///
/// The rule (Docs/operations.md, "The clock gate"):
/// - Probes: a server's answer says UTC − local ∈ [θ − r, θ + r], r = δ/2 + root delay/2 + root dispersion +
///   precision (``ProbeSample/radiusNanoseconds``). The largest set of servers whose intervals share a point
///   agrees (the intersection algorithm of RFC 5905 §11.2.1, after Marzullo); it counts only when it is a
///   majority of the *configured* servers, so one bad or silent server can neither open nor close the gate.
///   The probe bound is the largest |θ| + r among the agreeing servers: each of them vouches for it.
/// - Kernel: when no daemon disciplines the kernel (STA_UNSYNC) its state is reported, not used. When the kernel
///   is synchronised its maxerror counts: the bound is never below it.
/// - chrony: when chronyd answers and is synchronised while the kernel is too, its |offset| + root delay/2 +
///   root dispersion counts as well.
/// - Without configured servers, a synchronised kernel (and chrony) alone can prove UTC; an unsynchronised
///   kernel with no servers proves nothing.
/// The check is good when a proof exists, its bound is at most the configured maximum, and no leap second is
/// near (see ``leapInstantNanoseconds``).
public struct ClockCheck: Sendable {
    public var instant: ClockInstant
    public var kernel: Result<KernelClockState, ClockError>
    public var chrony: Result<ChronyReading, ClockError>?
    public var probes: [ProbeReading]
    /// The servers in the agreeing set (possibly a minority: then it proves nothing).
    public var agreeing: Set<String>
    /// Best estimate of UTC − local, nanoseconds.
    public var offsetNanoseconds: Int64?
    /// The error bound at the time of the check, nanoseconds; nil when nothing proves UTC.
    public var boundNanoseconds: Int64?
    /// What went into the bound, e.g. "2 of 3 servers + kernel maxerror".
    public var basis: String
    /// Why the check is bad; empty when good.
    public var problems: [String]
    /// The announced leap second and which sources announce it.
    public var leap: LeapAnnouncement
    public var leapSources: [String]
    /// When the leap second happens (Unix nanoseconds) — the kernel's next midnight, or the end of the UTC month
    /// for chrony and NTP announcements (ITU-R TF.460 leap seconds end a month) — or the last midnight while the
    /// kernel is in TIME_OOP / TIME_WAIT.
    public var leapInstantNanoseconds: Int64?

    public var isGood: Bool { self.problems.isEmpty }
    /// Whether the kernel is disciplined by a daemon (readable and not STA_UNSYNC).
    public var kernelDisciplined: Bool {
        if case .success(let state) = self.kernel { return !state.isUnsynchronized }
        return false
    }
}

/// Turns readings into a ``ClockCheck``. Pure: no I/O, no clock reads.
public enum ClockEvaluation {
    static let nanosecondsPerDay: Int64 = 86_400 * 1_000_000_000

    public static func evaluate(
        configuration: ClockMonitorConfiguration,
        instant: ClockInstant,
        kernel: Result<KernelClockState, ClockError>,
        chrony: Result<ChronyReading, ClockError>?,
        probes: [ProbeReading]
    ) -> ClockCheck {
        var check = ClockCheck(
            instant: instant, kernel: kernel, chrony: chrony, probes: probes, agreeing: [], offsetNanoseconds: nil,
            boundNanoseconds: nil, basis: "", problems: [], leap: .none, leapSources: [], leapInstantNanoseconds: nil)
        var bound: Int64? = nil
        var basis: [String] = []

        // Probes.
        let samples: [(String, ProbeSample)] = probes.compactMap { reading in
            if case .answered(let sample) = reading.outcome { return (reading.server, sample) }
            return nil
        }
        let configured = configuration.servers.count
        if configured > 0 {
            let agreeing = Self.largestAgreeingSet(samples)
            check.agreeing = Set(agreeing.map(\.0))
            let required = configuration.requiredAgreement
            if agreeing.count >= required {
                let offsets = agreeing.map(\.1.offsetNanoseconds).sorted()
                check.offsetNanoseconds = Self.median(offsets)
                bound = agreeing.map(\.1.boundNanoseconds).max()
                basis.append("\(agreeing.count) of \(configured) servers agree")
            } else {
                let answered = samples.count
                check.problems.append(
                    "only \(agreeing.count) of \(configured) NTP servers agree (\(required) needed; \(answered) answered)"
                )
            }
        }

        // Kernel and chrony.
        let disciplined = check.kernelDisciplined
        if case .success(let state) = kernel, disciplined {
            bound = max(bound ?? 0, state.maxErrorMicroseconds * 1000)
            basis.append("kernel maxerror")
            if check.offsetNanoseconds == nil && configured == 0 {
                check.offsetNanoseconds = -state.offsetNanoseconds
            }
        }
        if case .success(let reading)? = chrony, reading.synchronized, disciplined {
            bound = max(bound ?? 0, reading.boundNanoseconds)
            basis.append("chrony")
            if configured == 0 { check.offsetNanoseconds = reading.offsetNanoseconds }
        }
        if configured == 0 && !disciplined {
            check.problems.append(
                "no source proves UTC: the kernel clock is not disciplined (STA_UNSYNC) and no NTP server is configured"
            )
        }
        if check.problems.isEmpty, let value = bound {
            check.boundNanoseconds = value
            if value > configuration.maximumBoundNanoseconds {
                check.problems.append(
                    "the error bound \(Self.seconds(value)) exceeds the maximum \(Self.seconds(configuration.maximumBoundNanoseconds))"
                )
            }
        } else if !check.problems.isEmpty {
            check.boundNanoseconds = nil
        }
        check.basis = basis.joined(separator: " + ")

        // Leap seconds.
        Self.evaluateLeap(into: &check, samples: samples, now: instant.realtime, configuration: configuration)
        return check
    }

    /// Whether `now` lies in the leap window of `check`.
    public static func inLeapWindow(_ check: ClockCheck, now: Int64, margin: Int64) -> Bool {
        guard let instant = check.leapInstantNanoseconds else { return false }
        return now >= instant - margin && now <= instant + margin
    }

    static func evaluateLeap(
        into check: inout ClockCheck, samples: [(String, ProbeSample)], now: Int64,
        configuration: ClockMonitorConfiguration
    ) {
        var announcement = LeapAnnouncement.none
        var sources: [String] = []
        var instant: Int64? = nil
        if case .success(let state) = check.kernel {
            switch state.leapState {
            case .insert, .delete:
                announcement = state.leapState == .insert ? .insert : .delete
                sources.append("kernel \(state.leapState)")
                instant = Self.nextMidnight(after: now)
            case .inProgress, .wait:
                // The leap second is happening or has just happened: the window is around the last midnight.
                sources.append("kernel \(state.leapState)")
                instant = Self.lastMidnight(atOrBefore: now)
            default:
                break
            }
        }
        if case .success(let reading)? = check.chrony, reading.leap != .none {
            announcement = reading.leap
            sources.append("chrony")
            instant = instant ?? Self.endOfMonth(containing: now)
        }
        // Only agreeing servers count, so that one bad server cannot close the gate with a bogus announcement.
        for (server, sample) in samples where sample.leap != .none && check.agreeing.contains(server) {
            announcement = sample.leap
            sources.append(server)
            instant = instant ?? Self.endOfMonth(containing: now)
        }
        check.leap = announcement
        check.leapSources = sources
        check.leapInstantNanoseconds = instant
        if Self.inLeapWindow(check, now: now, margin: configuration.leapMarginNanoseconds) {
            check.problems.append("inside the leap-second window (announced by \(sources.joined(separator: ", ")))")
        }
    }

    /// The largest set of samples whose intervals [θ − r, θ + r] share a point.
    static func largestAgreeingSet(_ samples: [(String, ProbeSample)]) -> [(String, ProbeSample)] {
        guard !samples.isEmpty else { return [] }
        // Sweep the interval ends; at equal positions an interval opens before another closes (closed intervals).
        var events: [(position: Int64, opens: Bool)] = []
        for (_, sample) in samples {
            let radius = sample.radiusNanoseconds
            events.append((sample.offsetNanoseconds - radius, true))
            events.append((sample.offsetNanoseconds + radius, false))
        }
        events.sort { $0.position != $1.position ? $0.position < $1.position : ($0.opens && !$1.opens) }
        var open = 0
        var best = 0
        var bestPoint = events[0].position
        for event in events {
            if event.opens {
                open += 1
                if open > best {
                    best = open
                    bestPoint = event.position
                }
            } else {
                open -= 1
            }
        }
        return samples.filter { _, sample in
            let radius = sample.radiusNanoseconds
            return sample.offsetNanoseconds - radius <= bestPoint && bestPoint <= sample.offsetNanoseconds + radius
        }
    }

    static func median(_ sorted: [Int64]) -> Int64? {
        guard !sorted.isEmpty else { return nil }
        let middle = sorted.count / 2
        if sorted.count % 2 == 1 { return sorted[middle] }
        return sorted[middle - 1] / 2 + sorted[middle] / 2
    }

    static func nextMidnight(after now: Int64) -> Int64 {
        Self.lastMidnight(atOrBefore: now) + Self.nanosecondsPerDay
    }

    static func lastMidnight(atOrBefore now: Int64) -> Int64 {
        let days = now >= 0 ? now / Self.nanosecondsPerDay : (now - Self.nanosecondsPerDay + 1) / Self.nanosecondsPerDay
        return days * Self.nanosecondsPerDay
    }

    /// The first instant of the next UTC month, in Unix nanoseconds.
    static func endOfMonth(containing now: Int64) -> Int64 {
        let days = Self.lastMidnight(atOrBefore: now) / Self.nanosecondsPerDay
        let (year, month, _) = Self.civil(fromDays: days)
        let nextYear = month == 12 ? year + 1 : year
        let nextMonth = month == 12 ? 1 : month + 1
        return Self.days(fromCivil: nextYear, nextMonth, 1) * Self.nanosecondsPerDay
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (the era-based algorithm of H. Hinnant).
    static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// A duration for messages: "1.234 ms", "3.000 s".
    public static func seconds(_ nanoseconds: Int64) -> String {
        let magnitude = abs(nanoseconds)
        if magnitude < 1_000_000 {
            return "\(Double(nanoseconds) / 1000) µs"
        }
        if magnitude < 1_000_000_000 {
            return Self.fixed(Double(nanoseconds) / 1e6, 3) + " ms"
        }
        return Self.fixed(Double(nanoseconds) / 1e9, 3) + " s"
    }

    static func fixed(_ value: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        var text = "\(rounded)"
        if let dot = text.firstIndex(of: ".") {
            let decimals = text.distance(from: dot, to: text.endIndex) - 1
            if decimals < digits { text += String(repeating: "0", count: digits - decimals) }
        }
        return text
    }
}
