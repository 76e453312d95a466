import ArgumentParser

@main
struct StreamTagCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "streamtag",
        abstract: "Tags token streams as they arrive: LSTM taggers trained offline, served over ZeroMQ.",
        version: streamtagVersion,
        subcommands: [TrainCommand.self, EvalCommand.self, TagCommand.self, BenchCommand.self]
    )
}

let streamtagVersion = "0.1.0"
