import SmartCardSigning
import X509

/// The report of `sigillum keys list --pcsc`: readers, cards, PIV slots, PIN tries left.
enum SmartCardReport {
    /// Asks pcscd and the cards (blocking), and formats what it finds.
    static func lines() throws(CLIError) -> [String] {
        let readers: [SmartCardReaderSummary]
        do {
            readers = try SmartCardInventory.list()
        } catch {
            throw CLIError(error.reason, exitCode: 1)
        }
        return self.format(readers)
    }

    static func format(_ readers: [SmartCardReaderSummary]) -> [String] {
        guard !readers.isEmpty else { return ["PC/SC: no readers"] }
        var lines: [String] = []
        for summary in readers {
            lines.append("Reader \"\(summary.reader)\"")
            guard let atr = summary.atr else {
                lines.append("  no card")
                continue
            }
            lines.append("  card ATR \(atr.map { hexByte($0) }.joined(separator: " "))")
            if let problem = summary.problem {
                lines.append("  cannot read the card: \(problem)")
                continue
            }
            guard summary.hasPIV else {
                lines.append("  no PIV application")
                continue
            }
            let retries = summary.pinRetriesLeft.map { $0 == 0 ? "blocked" : "\($0) tries left" } ?? "not reported"
            lines.append("  PIV application; PIN: \(retries)")
            for slot in summary.slots {
                var parts = ["    \(slot.key)"]
                if let certificate = slot.certificate {
                    parts.append(slot.algorithm?.name ?? "unsupported key (\(certificate.publicKey))")
                    parts.append("subject \(certificate.subject)")
                    parts.append("serial \(certificate.serialNumber)")
                    parts.append("valid until \(certificate.notValidAfter)")
                } else if let problem = slot.problem {
                    parts.append("certificate unreadable: \(problem)")
                } else {
                    parts.append("no certificate")
                }
                lines.append(parts.joined(separator: "  "))
            }
        }
        return lines
    }

    private static func hexByte(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16, uppercase: true)
        return digits.count == 1 ? "0" + digits : digits
    }
}
