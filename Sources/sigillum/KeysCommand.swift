import ArgumentParser

/// `sigillum keys …`: key files and tokens.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Inspect signing keys.",
        subcommands: [
            KeysInspectCommand.self
        ]
    )
}
