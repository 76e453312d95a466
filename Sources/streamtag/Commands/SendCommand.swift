import ArgumentParser
import Foundation
import StreamTagWire
import StreamTagClient

struct SendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Publish a text file (or stdin) as one stream and print its tags as they arrive.",
        discussion: "One line per message, tokens split on spaces and tabs; the last message ends the stream. Prints `i token tag p`."
    )

    @Argument(help: "Text file (default: standard input).")
    var file: String?
    @Option(name: .long, help: "The daemon's input endpoint (default: the client config's, else tcp://127.0.0.1:5560).")
    var input: String?
    @Option(name: .long, help: "The daemon's output endpoint (default: the client config's, else tcp://127.0.0.1:5561).")
    var output: String?
    @Option(name: .long, help: "Stream id (default: send-PID).")
    var stream: String?
    @Option(name: .long, help: "First seq.")
    var seq: UInt64 = 0
    @Flag(name: .long, help: "Also print provisional tags (marked with ~).")
    var partial = false
    @Option(name: .long, help: "Seconds to wait for the daemon's heartbeat, and for each answer.")
    var timeout: Double = 10
    @OptionGroup var keys: ClientKeyOptions

    func run() throws {
        let text: String
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ValidationError("cannot read \(file): \(String(cString: strerror(errno)))")
            }
            text = String(decoding: data, as: UTF8.self)
        } else {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
            .map { $0.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init) }
            .filter { !$0.isEmpty }
        let id = stream ?? "send-\(getpid())"
        let connection = try keys.resolve()
        let client = try StreamClient(input: connection.endpoint(input, \.input, default: "tcp://127.0.0.1:5560"),
                                      output: connection.endpoint(output, \.output, default: "tcp://127.0.0.1:5561"),
                                      security: connection.security)
        defer { client.close() }
        try client.follow(id)
        try client.waitForHeartbeat(timeout: timeout)
        var next = seq
        let messages = lines.isEmpty ? [[String]()] : lines
        for (n, tokens) in messages.enumerated() {
            try client.publish(stream: id, seq: next, tokens: tokens, end: n == messages.count - 1)
            next += 1
        }
        // Print until the stream's `end` event; give up after `timeout` seconds without news
        // of this stream (heartbeats don't count).
        var deadline = Date().addingTimeInterval(timeout)
        while let m = try client.receive(timeout: deadline.timeIntervalSinceNow) {
            guard m.topic == id else { continue }
            deadline = Date().addingTimeInterval(timeout)
            switch m.type {
            case "tags":
                if case .array(let tags)? = m.body["tags"] { for t in tags { print(describe(t)) } }
                if partial, case .array(let tags)? = m.body["partial"] { for t in tags { print("~ " + describe(t)) } }
            case "event":
                if m.event == "end" { return }
                printError("event: " + String(decoding: m.body.encoded, as: UTF8.self))
            default:
                break
            }
        }
        throw ValidationError("no answer from the daemon for \(Int(timeout)) s")
    }

    private func describe(_ t: JSONValue) -> String {
        func field(_ key: String) -> String {
            switch t[key] {
            case .string(let s)?: s
            case .integer(let i)?: String(i)
            case .number(let d)?: String(d)
            default: "?"
            }
        }
        return "\(field("i"))\t\(field("token"))\t\(field("tag"))\t\(field("p"))"
    }
}

struct CtlCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ctl",
        abstract: "Talk to the daemon's control socket: status, streams [LIMIT], drop ID, snapshot, reload."
    )

    @Argument(help: "status | streams | drop | snapshot | reload")
    var command: String
    @Argument(help: "drop: the stream id; streams: the most to list.")
    var argument: String?
    @Option(name: .long, help: "The daemon's control endpoint (default: the client config's, else tcp://127.0.0.1:5562).")
    var control: String?
    @Option(name: .long, help: "Seconds to wait for the answer.")
    var timeout: Double = 30
    @OptionGroup var keys: ClientKeyOptions

    func run() throws {
        var request: [(key: String, value: JSONValue)] = [("cmd", .string(command))]
        switch command {
        case "drop":
            guard let argument else { throw ValidationError("drop needs a stream id") }
            request.append(("stream", .string(argument)))
        case "streams":
            if let argument {
                guard let limit = Int(argument) else { throw ValidationError("streams takes a number") }
                request.append(("limit", .integer(limit)))
            }
        case "status", "snapshot", "reload":
            break
        default:
            throw ValidationError("unknown command \(command) (status, streams, drop, snapshot, reload)")
        }
        let connection = try keys.resolve()
        let answer = try controlRequest(.object(request), endpoint: connection.endpoint(control, \.control, default: "tcp://127.0.0.1:5562"),
                                        timeout: timeout, security: connection.security)
        print(String(decoding: answer.encoded, as: UTF8.self))
        if case .bool(false)? = answer["ok"] { throw ExitCode(1) }
    }
}
