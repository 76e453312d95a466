import ArgumentParser

@main
struct StreamTagCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "streamtag",
        abstract: "Tags token streams as they arrive: LSTM taggers trained offline, served over ZeroMQ.",
        version: streamtagVersion,
        subcommands: [ServeCommand.self, DemoCommand.self, SendCommand.self, CtlCommand.self, KeygenCommand.self, TagCommand.self,
                      TrainCommand.self, EvalCommand.self, BenchCommand.self, DocsCommand.self]
    )
}

let streamtagVersion = "0.1.0"
