import ArgumentParser
import Foundation
import Logging
import StreamTagCore
import StreamTagDaemon
import StreamTagClient

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "The tour: start the daemon with the built-in model on free loopback ports, stream a sample text "
            + "through real sockets as three concurrent streams, print the tags as they arrive, stop."
    )

    func run() async throws {
        let logger = bootstrapLogging(level: .warning)
        var config = DaemonConfig()
        config.input.bind = "tcp://127.0.0.1:*"
        config.output.bind = "tcp://127.0.0.1:*"
        config.control.bind = "tcp://127.0.0.1:*"
        config.metrics.listen = ""
        config.heartbeatInterval = .milliseconds(200)
        config.snapshotInterval = .zero
        config.stateDir = NSTemporaryDirectory() + "streamtag-demo-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: config.stateDir) }
        let model = try loadServedModel(config)
        let daemon = try Daemon(config: config, model: model, logger: logger)
        let running = try await RunningDaemon.start(daemon)
        print("daemon up: model \(model.id), input \(daemon.inputEndpoint), output \(daemon.outputEndpoint)")
        do {
            try tour(daemon, model: model)
        } catch {
            // The tour failed: the daemon still stops (and the error is the one to report).
            try? await running.stop()
            throw error
        }
        try await running.stop()
        print("daemon stopped cleanly")
    }

    /// Three streams through the daemon's sockets, the tags printed as they arrive.
    private func tour(_ daemon: Daemon, model: Model) throws {
        let client = try StreamClient(input: daemon.inputEndpoint, output: daemon.outputEndpoint)
        defer { client.close() }
        let streams = ["alice", "bob", "carol"]
        for s in streams { try client.follow(s) }
        try client.waitForHeartbeat(timeout: 10)
        let lines = demoText.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        // Each stream gets every third line, a few tokens per message, interleaved.
        var pending = Set(streams)
        for (n, line) in lines.enumerated() {
            let stream = streams[n % streams.count]
            let seq = UInt64(n / streams.count)
            let last = n + streams.count >= lines.count
            try client.publish(stream: stream, seq: seq, tokens: line, end: last)
        }
        print("sent \(lines.count) messages on \(streams.count) streams; tags as they arrive (k=\(model.k): final tags wait for \(model.k) more tokens):")
        while !pending.isEmpty, let m = try client.receive(timeout: 10) {
            guard streams.contains(m.topic) else { continue }
            if m.type == "tags", case .array(let tags)? = m.body["tags"], !tags.isEmpty {
                let text = tags.map { t -> String in
                    guard case .string(let token)? = t["token"], case .string(let tag)? = t["tag"] else { return "?" }
                    return "\(token)/\(tag)"
                }.joined(separator: " ")
                print("  \(m.topic.padding(toLength: 6, withPad: " ", startingAt: 0)) \(text)")
            } else if m.event == "end" {
                print("  \(m.topic.padding(toLength: 6, withPad: " ", startingAt: 0)) (end)")
                pending.remove(m.topic)
            }
        }
    }
}

let demoText = """
The quick brown fox jumps over the lazy dog .
I booked a flight to Boston for next Tuesday .
Can you send me the report by Friday ?
She has been working at the hospital since 2019 .
They said the new model will be ready in two weeks .
Our team ships a release every month .
Please call me when you land in Chicago .
The meeting was moved to the large room upstairs .
He reads the news on his phone every morning .
"""
