import ArgumentParser
import Foundation

/// The Sigillum command-line client for clients and administrators.
@main
struct Sigillum: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sigillum",
        abstract: "Client and administration tool for the Sigillum appliance (RFC 3161 time-stamps, RFC 6960 OCSP).",
        subcommands: [
            StampCommand.self,
            InspectCommand.self,
            LedgerCommand.self,
            InitCommand.self,
            OCSPGroupCommand.self,
            KeysCommand.self,
        ]
    )
}

/// A failure the CLI reports on stderr with a message that says what to fix, then exits with `exitCode`.
struct CLIError: Error, CustomStringConvertible {
    var message: String
    var exitCode: Int32

    init(_ message: String, exitCode: Int32) {
        self.message = message
        self.exitCode = exitCode
    }

    var description: String { self.message }
}

/// Standard output and error of the process.
enum Console {
    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static func print(_ lines: [String]) {
        guard !lines.isEmpty else { return }
        FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }
}

extension AsyncParsableCommand {
    /// Runs `body`, turning a `CLIError` into its message on stderr and its exit code.
    func reportingFailures<Result>(_ body: () async throws(CLIError) -> Result) async throws -> Result {
        do {
            return try await body()
        } catch {
            Console.error("sigillum: \(error.message)")
            throw ExitCode(error.exitCode)
        }
    }
}

/// `--state-dir`, shared by the administrative commands.
struct StateDirectoryOptions: ParsableArguments {
    @Option(
        name: .customLong("state-dir"),
        help: ArgumentHelp(
            "The appliance's state folder.",
            discussion: "Defaults to $STATE_DIRECTORY when set (as systemd sets it), else ./.sigillum.",
            valueName: "dir"
        )
    )
    var stateDirectory: String?

    /// The folder to use: the option, else `$STATE_DIRECTORY` (its first entry, systemd separates several with
    /// `:`), else `./.sigillum`.
    var resolved: String {
        if let stateDirectory, !stateDirectory.isEmpty { return stateDirectory }
        if let fromEnvironment = ProcessInfo.processInfo.environment["STATE_DIRECTORY"],
            let first = fromEnvironment.split(separator: ":").first, !first.isEmpty
        {
            return String(first)
        }
        return "./.sigillum"
    }
}
