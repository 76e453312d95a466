import Foundation
import StreamTagCore
import StreamTagWire
import StreamTagClient
#if canImport(Glibc)
import Glibc
#endif

/// A client session against a drill daemon: the client, its checked streams, and helpers the
/// state-directory and model drills share.
final class DrillSession {
    let daemon: DaemonProcess
    let client: StreamClient
    let driver: DrillStreams

    init(_ daemon: DaemonProcess, prefix: String, words: [String], lookahead: Int) throws {
        self.daemon = daemon
        client = try StreamClient(input: daemon.input, output: daemon.output)
        driver = try DrillStreams(client: client, prefix: "\(prefix)-\(getpid())-", words: words, tokensPerMessage: 4,
                                  lookahead: lookahead)
        guard try driver.waitForHeartbeat(timeout: 30), try driver.probe(timeout: 30) else {
            throw BenchError("no heartbeat or probe answer from the daemon within 30 s")
        }
    }

    deinit { client.close() }

    /// Opens `count` streams that stay open (two messages each) and waits until every message
    /// is answered; returns whether they all were within `timeout`.
    func openStreams(_ count: Int, timeout: Double = 20) throws -> Bool {
        for _ in 0..<count { driver.addStream(planned: 2, fate: .idle) }
        return try driver.drive(timeout: timeout, count: 1000, window: 2, pump: 0.01) {
            driver.unanswered == 0 && driver.streams.allSatisfy { $0.done || $0.sendingDone }
        }
    }

    /// Paced load on the session's long streams for `seconds`.
    func load(seconds: Double, messagesPerSecond: Double = 100) throws {
        try driver.load(seconds: seconds, messagesPerSecond: messagesPerSecond, burst: 0.1, window: 16, pump: 0.005)
    }

    /// Ends every stream that ends and waits for the ends; true if all came.
    func finish(timeout: Double = 30) throws -> Bool {
        driver.endAll()
        return try driver.drive(timeout: timeout, count: 1000, window: 16, pump: 0.01) {
            driver.streams.allSatisfy { $0.done || $0.fate == .idle }
        }
    }
}

/// Runs a command; nil on success, else its output and status.
func runTool(_ path: String, _ arguments: [String]) -> String? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    do { try process.run() } catch { return "\(path): \(error)" }
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    if process.terminationStatus == 0 { return nil }
    return "\(path) \(arguments.joined(separator: " ")): exit \(process.terminationStatus): "
        + String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

/// SHA-256 of a file's bytes (hex), or nil if unreadable.
func fileSHA256(_ path: String) -> String? {
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    return ModelFile.sha256Hex(Array(data))
}

/// The built-in model's file bytes, and a second valid model file that differs from it (the
/// same weights with another `created` stamp, so another SHA-256 and model id): what the soak
/// and the model drills alternate so that every reload really changes the model.
func alternateModelFiles() throws -> (a: [UInt8], b: [UInt8]) {
    let a = BuiltinModel.bytes
    var bundle = try ModelFile.decode(a)
    bundle.created = "2000-01-01T00:00:00Z"
    return (a, ModelFile.encode(bundle))
}

/// The hash part of a model id for a file's bytes (`NAME@` + the first 12 hex digits).
func modelHash(_ bytes: [UInt8]) -> String { String(ModelFile.sha256Hex(bytes).prefix(12)) }

/// Writes a file atomically (temporary file, then rename): what a careful deployer does.
func writeAtomically(_ bytes: [UInt8], to path: String) throws {
    let temporary = path + ".tmp-\(getpid())"
    try Data(bytes).write(to: URL(fileURLWithPath: temporary))
    guard rename(temporary, path) == 0 else { throw BenchError("rename \(temporary) → \(path): errno \(errno)") }
}

/// A box a background thread fills in.
final class Completion<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value?
    private var finished = false

    func set(_ value: Value?) {
        lock.lock()
        stored = value
        finished = true
        lock.unlock()
    }

    var isDone: Bool { lock.lock(); defer { lock.unlock() }; return finished }
    var value: Value? { lock.lock(); defer { lock.unlock() }; return stored }
}

/// A control request on a thread of its own (it may never be answered).
func controlInBackground(_ fields: [(key: String, value: JSONValue)], endpoint: String, timeout: Double) -> Completion<JSONValue> {
    let box = Completion<JSONValue>()
    let request = JSONValue.object(fields)
    let thread = Thread {
        box.set(try? controlRequest(request, endpoint: endpoint, timeout: timeout))
    }
    thread.start()
    return box
}

/// A JSON value as compact text, for expectation details.
func describe(_ value: JSONValue?) -> String {
    guard let value else { return "no answer" }
    return String(decoding: value.encoded, as: UTF8.self)
}
