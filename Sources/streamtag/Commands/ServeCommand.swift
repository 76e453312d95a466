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
        Settings come from the config file (see config/streamtag.yaml), then STREAMTAG_* environment \
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
        // Model reloads free and allocate tens of MiB at a time on the loader thread; with
        // glibc's dynamic mmap threshold those land in arenas that never shrink, and RSS grew
        // from 131 to ~475 MiB over a 25-minute soak (`bench soak`). Blocks of 1 MiB and more
        // go straight to mmap and back to the system when freed. A setting of the whole
        // process, so the executable makes it, not the daemon library.
        setMmapThreshold(1 << 20)
        let source = try ConfigSource(file: config, model: model, sets: set)
        let settings = try source.loadForStart()
        if printConfig {
            print(settings.describe())
            return
        }
        let loaded = try loadServedModel(settings)
        let daemon = try Daemon(config: settings, model: loaded, logger: bootstrapLogging(level: settings.logLevel))
        daemon.enableSystemd(.fromEnvironment(ProcessInfo.processInfo.environment))
        // The SIGHUP service last: a graceful shutdown (SIGTERM, SIGINT) ends the services in
        // reverse order, so the reloads stop before the daemon stops. The daemon's logger: its
        // level follows log_level when SIGHUP re-reads the file.
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: daemon, serviceName: "streamtag daemon"),
                       .init(service: HangupService(daemon: daemon, hangups: hangups, config: source))],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: daemon.logger))
        // A failed start, or a shutdown snapshot that failed (`ShutdownSnapshotFailed`: the
        // streams were not saved), comes out of the group: serve exits non-zero, so systemd
        // and operators see it.
        try await group.run()
    }
}

/// On SIGHUP: re-reads the configuration and reloads the model, until graceful shutdown.
struct HangupService: Service, CustomStringConvertible {
    let daemon: Daemon
    let hangups: UnixSignalsSequence
    let config: ConfigSource

    /// ServiceLifecycle names the service in its debug lines; the default description would
    /// print the config source's whole environment, secrets included.
    var description: String { "SIGHUP reloads" }

    func run() async throws {
        // The daemon serves first: a SIGHUP that came during its start is a reload of a running
        // daemon (RELOADING=1 after READY=1). A failed start is the daemon's error here too.
        try await daemon.ready()
        for await _ in hangups.cancelOnGracefulShutdown() {
            daemon.reloadConfiguration(source: "SIGHUP") { () throws(ConfigError) in try config.load() }
        }
    }
}

/// Where the configuration comes from: the file, the environment and the `--model` and
/// `--set` overrides, kept so that SIGHUP reads the same sources again.
struct ConfigSource: Sendable, CustomStringConvertible {
    let file: String?
    let environment: [String: String]
    let overrides: [String: String]

    init(file: String?, model: String?, sets: [String]) throws {
        var overrides: [String: String] = [:]
        for item in sets {
            guard let eq = item.firstIndex(of: "=") else { throw ValidationError("--set takes KEY=VALUE, got \(item)") }
            overrides[String(item[..<eq])] = String(item[item.index(after: eq)...])
        }
        if let model { overrides["model.path"] = model }
        self.file = file
        environment = ProcessInfo.processInfo.environment
        self.overrides = overrides
    }

    /// The file only: the environment may hold secrets and has no place in a log line.
    var description: String { "config file \(file ?? "(none)")" }

    /// Reads and checks the configuration (again, on SIGHUP).
    func load() throws(ConfigError) -> DaemonConfig {
        try DaemonConfig.load(file: file, environment: environment, overrides: overrides)
    }

    /// `load`, with the error as a usage error for the command line.
    func loadForStart() throws -> DaemonConfig {
        do {
            return try load()
        } catch {
            throw ValidationError(error.description)
        }
    }
}

/// The model the config names, or the built-in one.
func loadServedModel(_ config: DaemonConfig) throws -> Model {
    try loadModel(path: config.model.path.isEmpty ? nil : config.model.path, precision: config.model.precision)
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

/// glibc's `mallopt(M_MMAP_THRESHOLD, bytes)`. `<malloc.h>` is not part of Swift's Glibc
/// module, so `mallopt` is looked up at run time and called with the C calling convention (as
/// `LoadGenerator` does for `ppoll`); nothing happens on a C library without it.
private func setMmapThreshold(_ bytes: Int32) {
    #if canImport(Glibc)
    typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
    guard let symbol = dlsym(nil, "mallopt") else { return }   // RTLD_DEFAULT
    _ = unsafeBitCast(symbol, to: Mallopt.self)(-3 /* M_MMAP_THRESHOLD */, bytes)
    #endif
}
