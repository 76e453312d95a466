import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import StreamTagCore
import StreamTagDaemon
import UnixSignals

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the daemon: token streams in over ZeroMQ, tags out.",
        discussion: """
        Settings come from the config file (see config/streamtag.yaml), then STREAMTAG_* environment
        variables, then --set KEY=VALUE options, e.g. --set streams.idle_timeout=5m.
        """
    )

    @Option(name: .long, help: "Config file (YAML). Default: the built-in defaults.")
    var config: String?
    @Option(name: .long, help: "Model file (overrides model.path). Default: the built-in model.")
    var model: String?
    @Option(name: .long, parsing: .singleValue, help: "Override one setting: KEY=VALUE (repeatable).")
    var set: [String] = []
    @Flag(name: .long, help: "Print the effective configuration and exit.")
    var printConfig = false

    func run() async throws {
        // SIGHUP's default action kills the process: trap it before anything else.
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        let settings = try loadConfig(file: config, model: model, sets: set)
        if printConfig {
            print(settings.describe())
            return
        }
        let logger = bootstrapLogging(level: settings.logLevel)
        let loaded = try loadServedModel(settings)
        let daemon = try Daemon(config: settings, model: loaded, logger: logger)
        daemon.enableSystemd(.fromEnvironment(ProcessInfo.processInfo.environment))
        let service = DaemonService(daemon: daemon, hangups: hangups, logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: service)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }
}

/// The daemon as a service: starts it, and on SIGTERM/SIGINT lets it finish and snapshot.
struct DaemonService: Service {
    let daemon: Daemon
    let hangups: UnixSignalsSequence
    let logger: Logger

    func run() async throws {
        try daemon.start()
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await _ in hangups { daemon.requestReload(source: "SIGHUP") }
                }
                await daemon.stoppedAsync()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            daemon.requestStop()
        }
    }
}

/// Reads the configuration: file, then environment, then `--model` and `--set` overrides.
func loadConfig(file: String?, model: String?, sets: [String]) throws -> DaemonConfig {
    var overrides: [String: String] = [:]
    for item in sets {
        guard let eq = item.firstIndex(of: "=") else { throw ValidationError("--set takes KEY=VALUE, got \(item)") }
        overrides[String(item[..<eq])] = String(item[item.index(after: eq)...])
    }
    if let model { overrides["model.path"] = model }
    do {
        return try DaemonConfig.load(file: file, environment: ProcessInfo.processInfo.environment, overrides: overrides)
    } catch {
        throw ValidationError(error.description)
    }
}

/// The model the config names, or the built-in one.
func loadServedModel(_ config: DaemonConfig) throws -> Model {
    let result: Result<Model, ModelError>
    if config.model.path.isEmpty {
        result = Result { () throws(ModelError) in try BuiltinModel.load(precision: config.model.precision) }
    } else {
        let path = config.model.path
        result = Result { () throws(ModelError) in try Model(path: path, precision: config.model.precision) }
    }
    switch result {
    case .success(let model): return model
    case .failure(let error): throw ValidationError("cannot load model: \(error.description)")
    }
}

/// swift-log to stderr (journald picks it up, with priorities under systemd), at the
/// configured level. Once per process.
func bootstrapLogging(level: Logger.Level) -> Logger {
    let journal = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] != nil
    LoggingSystem.bootstrap { label in
        if journal {
            var handler = JournalLogHandler(label: label)
            handler.logLevel = level
            return handler
        }
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
    }
    var logger = Logger(label: "streamtag")
    logger.logLevel = level
    return logger
}
