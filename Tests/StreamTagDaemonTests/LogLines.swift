import Logging
import Synchronization

/// Log lines kept for inspection.
final class LogLines: Sendable {
    private let lines = Mutex<[(level: Logger.Level, text: String)]>([])

    /// A logger at `info` that records here.
    func logger() -> Logger {
        Logger(label: "test") { _ in LevelCapturingLogHandler(sink: self) }
    }

    func append(_ level: Logger.Level, _ text: String) { lines.withLock { $0.append((level, text)) } }

    /// The texts of the lines, in order.
    var texts: [String] { lines.withLock { $0.map(\.text) } }

    /// Whether a line at `level` contains `text`.
    func contains(_ level: Logger.Level, _ text: String) -> Bool {
        lines.withLock { $0.contains { $0.level == level && $0.text.contains(text) } }
    }
}

/// Records each line with its level.
struct LevelCapturingLogHandler: LogHandler {
    let sink: LogLines
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) { sink.append(event.level, event.message.description) }
}
