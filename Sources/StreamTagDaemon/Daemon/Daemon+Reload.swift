import Logging
import Synchronization
import StreamTagWire

extension Daemon {
    /// Reloads the model file (any thread): on SIGHUP, the control `reload`, or when the
    /// watcher sees the file change. `completion` gets the control answer once the outcome is
    /// known. Requests that arrive while a load runs share its outcome, and the file is looked
    /// at again right after (it may have changed meanwhile).
    func requestReload(source: String, completion: (@Sendable (ControlAnswer) -> Void)? = nil) {
        onIOThread { loop in loop.startReload(source: source, completion: completion) }
    }

    /// Re-reads the configuration, applies what can change live, then reloads the model as
    /// ``requestReload(source:completion:)`` does. This is what SIGHUP does.
    ///
    /// - `read` loads the configuration the way the daemon was started: the same file, the
    ///   same environment, the same command-line overrides (typically a closure over
    ///   ``DaemonConfig/load(file:environment:overrides:)``). It runs on the calling thread, so
    ///   the file is read off the I/O thread.
    /// - If it throws, one error line names the key and the reason, the running configuration
    ///   stays as it is, and the model reload happens all the same.
    /// - Otherwise the settings of ``ConfigChange/liveKeys`` that changed take effect (the
    ///   workers take theirs between two steps), one info line lists them (or says `config
    ///   unchanged`), and one warning lists the changed settings that wait for a restart.
    ///   A changed `model.path` is live: the model reload that follows loads the new file (and
    ///   the watcher follows it); until that file loads, the old model keeps serving.
    ///
    /// `completion` gets the change once every worker has its new settings, or the error.
    package func reloadConfiguration(
        source: String,
        read: () throws(ConfigError) -> DaemonConfig,
        completion: (@Sendable (Result<ConfigChange, ConfigError>) -> Void)? = nil
    ) {
        let result = Result { () throws(ConfigError) in try read() }
        onIOThread { loop in
            // A configuration reload is a reload, with or without a model file: RELOADING=1
            // now, READY=1 when the model reload that follows is answered (at once when the
            // built-in model serves).
            loop.daemon.notifyReloading(status: "reloading the configuration")
            loop.applyConfigReload(result, source: source, completion: completion)
            loop.security?.reloadKeys(source: source)
            loop.startReload(source: source, completion: nil)
        }
    }

    /// Counters of reload outcomes (for status and metrics).
    final class ReloadCounters: Sendable {
        let loaded = Atomic<Int>(0)
        let rejected = Atomic<Int>(0)
        let unchanged = Atomic<Int>(0)
    }
}

