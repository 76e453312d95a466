import Foundation
@testable import StreamTagDaemon

// The YAML configuration file, loaded as at start and on SIGHUP (`DaemonConfig.load`). Any
// text must give a configuration or an error naming the problem (`load` runs the
// cross-checks of `validate` itself).

/// The file the loader reads: in /dev/shm where there is one (no disk writes per input).
let path: String = {
    let directory = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    return "\(directory)/streamtag-fuzz-config-\(getpid()).yaml"
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    precondition(descriptor >= 0, "cannot write \(path)")
    precondition(write(descriptor, data, size) == size, "short write to \(path)")
    close(descriptor)
    do {
        _ = try DaemonConfig.load(file: path, environment: ["STATE_DIRECTORY": "/var/lib/streamtag"])
    } catch {
        precondition(!error.message.isEmpty, "a refusal without a message")
    }
    return 0
}
