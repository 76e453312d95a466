import Logging
import Synchronization

/// A log level that can change while loggers that read it are in use (`log_level` on a config
/// reload). swift-log asks the handler for its level before every line, so a handler that
/// reads this atomic follows a change at once, at the cost of one relaxed load per log call.
final class LiveLogLevel: Sendable {
    private let raw: Atomic<UInt8>

    /// Starts at `level`.
    init(_ level: Logger.Level) {
        raw = Atomic(Self.code(level))
    }

    /// The current level (any thread).
    var level: Logger.Level {
        get { Logger.Level.allCases[Int(raw.load(ordering: .relaxed))] }
        set { raw.store(Self.code(newValue), ordering: .relaxed) }
    }

    private static func code(_ level: Logger.Level) -> UInt8 {
        UInt8(Logger.Level.allCases.firstIndex(of: level)!)
    }

    /// `logger` with its handler wrapped so that its level is this one. Setting the returned
    /// logger's `logLevel` sets this level too, for every logger that shares it.
    func wrapping(_ logger: Logger) -> Logger {
        let inner = logger.handler
        return Logger(label: logger.label) { _ in LiveLevelLogHandler(inner: inner, level: self) }
    }
}

/// Forwards to another handler; its level is a ``LiveLogLevel``. `Logger` filters by level
/// before it calls `log`, so the inner handler's own level plays no part.
struct LiveLevelLogHandler: LogHandler {
    var inner: any LogHandler
    let level: LiveLogLevel

    var logLevel: Logger.Level {
        get { level.level }
        nonmutating set { level.level = newValue }
    }

    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { inner.metadataProvider }
        set { inner.metadataProvider = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        inner.log(event: event)
    }
}
