import ArgumentParser
import Ledger

/// `sigillum ledger …`: administration of the audit ledger.
struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Inspect the appliance's audit ledger.",
        subcommands: [Verify.self]
    )

    /// `sigillum ledger verify`: walks the hash chain of the audit records.
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify the hash chain of the audit ledger (read-only; safe while sigillumd runs).",
            discussion: """
                Opens STATE/ledger.sqlite read-only and recomputes the chain of audit records. Exit status: 0 the \
                chain is intact; 1 it is broken (the first break is described); 2 the ledger is missing or \
                cannot be read.
                """
        )

        @OptionGroup var state: StateDirectoryOptions

        func run() async throws {
            let path = Self.ledgerPath(in: self.state.resolved)
            let report = try await self.reportingFailures { () throws(CLIError) in try Self.verify(path: path) }
            guard report.isIntact else {
                Console.print([report.description])
                throw ExitCode(1)
            }
            Console.print(["ledger intact: \(report.recordCount) records"])
        }

        static func ledgerPath(in stateDirectory: String) -> String {
            var base = stateDirectory
            while base.count > 1, base.hasSuffix("/") { base.removeLast() }
            return base + "/ledger.sqlite"
        }

        static func verify(path: String) throws(CLIError) -> ChainVerificationReport {
            do {
                return try Ledger.openReadOnly(path: path).verifyChain()
            } catch let error as LedgerError where error.code == .databaseNotFound {
                throw CLIError(
                    "no ledger at \(path); pass the appliance's --state-dir (or set STATE_DIRECTORY), "
                        + "or start sigillumd once to create it",
                    exitCode: 2
                )
            } catch let error as LedgerError {
                throw CLIError("\(error.reason)" + (error.remedy.isEmpty ? "" : "; \(error.remedy)"), exitCode: 2)
            } catch {
                throw CLIError("cannot verify the ledger at \(path): \(error)", exitCode: 2)
            }
        }
    }
}
