import Foundation
import Testing

/// A ledger of 10 records written by a real daemon and stopped gracefully; made once, copied by each case.
actor StoppedLedger {
    static let shared = StoppedLedger()
    private var made: Task<String, any Error>?

    /// The state folder holding `ledger.sqlite` (never modified: tamper cases work on copies).
    func stateDirectory() async throws -> String {
        if let made { return try await made.value }
        let task = Task {
            let state = SharedFixtures.root + "/ledger-10"
            try await withDaemon(developmentArguments(stateDirectory: state), logDirectory: SharedFixtures.root) {
                _,
                banner in
                for _ in 0..<10 { _ = try await issueToken(banner) }
            }
            return state
        }
        self.made = task
        return try await task.value
    }
}

/// How a copy of the ledger is damaged, and what `sigillum ledger verify` must say.
enum Tamper: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case alterImprint = "UPDATE imprint of record 5"
    case alterTokenHash = "UPDATE token_sha256 of record 5"
    case deleteMiddle = "DELETE record 5"
    case deleteLast = "DELETE the last record"

    var testDescription: String { self.rawValue }

    var sql: String {
        switch self {
        case .alterImprint: "UPDATE tsa_audit SET imprint = zeroblob(32) WHERE seq = 5"
        case .alterTokenHash: "UPDATE tsa_audit SET token_sha256 = zeroblob(32) WHERE seq = 5"
        case .deleteMiddle: "DELETE FROM tsa_audit WHERE seq = 5"
        case .deleteLast: "DELETE FROM tsa_audit WHERE seq = (SELECT max(seq) FROM tsa_audit)"
        }
    }

    /// Words the report must contain.
    var expectedWords: [String] {
        switch self {
        case .alterImprint, .alterTokenHash: ["record 5", "altered"]
        case .deleteMiddle: ["record 5", "missing", "4 to 6"]
        case .deleteLast: ["truncated", "record 10"]
        }
    }
}

@Suite("sigillum ledger verify")
struct LedgerVerifyTests {
    @Test func intactLedgerPasses() async throws {
        let state = try await StoppedLedger.shared.stateDirectory()
        try await withTemporaryDirectory("ledger-intact") { directory in
            try copyLedger(from: state, to: directory)
            let result = try await Tool.sigillum(["ledger", "verify", "--state-dir", directory])
            #expect(result.status == 0, "\(result)")
            #expect(result.output.contains("ledger intact: 10 records"), "\(result)")
            // The table as sqlite3 sees it: seq 1…10, and 32-octet token hashes.
            let rows = try await Tool.sqlite(
                directory + "/ledger.sqlite", "SELECT seq, length(token_sha256) FROM tsa_audit ORDER BY seq")
            #expect(rows == (1...10).map { "\($0)|32" }, "\(rows)")
        }
    }

    @Test(arguments: Tamper.allCases)
    func tamperedLedgerFails(_ tamper: Tamper) async throws {
        let state = try await StoppedLedger.shared.stateDirectory()
        try await withTemporaryDirectory("ledger-tamper") { directory in
            try copyLedger(from: state, to: directory)
            _ = try await Tool.sqlite(directory + "/ledger.sqlite", tamper.sql, readOnly: false)
            let result = try await Tool.sigillum(["ledger", "verify", "--state-dir", directory])
            #expect(result.status == 1, "\(result)")
            for word in tamper.expectedWords {
                #expect(result.allOutput.contains(word), "the report does not say \"\(word)\":\n\(result)")
            }
        }
    }

    /// Read-only and safe while the daemon runs (the command's own promise).
    @Test func verifyWhileTheDaemonRuns() async throws {
        try await withDevelopmentDaemon("ledger-live") { state, _, banner in
            for _ in 0..<3 { _ = try await issueToken(banner) }
            let result = try await Tool.sigillum(["ledger", "verify", "--state-dir", state])
            #expect(result.status == 0, "\(result)")
            #expect(result.output.contains("ledger intact: 3 records"), "\(result)")
            _ = try await issueToken(banner)
        }
    }

    @Test func missingLedgerExitsTwo() async throws {
        try await withTemporaryDirectory("ledger-missing") { directory in
            let result = try await Tool.sigillum(["ledger", "verify", "--state-dir", directory])
            #expect(result.status == 2, "\(result)")
            #expect(result.errorOutput.contains("no ledger"), "\(result)")
        }
    }
}
