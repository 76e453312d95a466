import Foundation
import StreamTagWire

extension IOLoop {
    /// Control commands for tests and drills, in debug builds only; looked at before the normal
    /// parsing (`ControlRequest`), which never sees them. Returns true when it answered.
    ///
    /// - `{"cmd": "debug_stall", "worker": 0, "seconds": 5}`: that worker sleeps inside its loop
    ///   for that long, as if a step hung; the watchdog pings stop while it does.
    func interceptDebugControl(_ frame: [UInt8]) -> Bool {
        #if DEBUG
        guard frame.count <= 4096, case .success(let request) = JSONValue.parse(frame),
              case .string("debug_stall")? = request["cmd"] else { return false }
        guard case .integer(let worker)? = request["worker"], pool.workers.indices.contains(worker) else {
            reply(.failure("\"worker\" must be an integer from 0 to \(pool.workers.count - 1)"))
            return true
        }
        let seconds: Double
        switch request["seconds"] {
        case .integer(let n)?: seconds = Double(n)
        case .number(let d)?: seconds = d
        default: seconds = .nan
        }
        guard seconds > 0, seconds <= 600 else {
            reply(.failure("\"seconds\" must be a number above 0, at most 600"))
            return true
        }
        logger.warning("debug_stall: a worker sleeps inside its loop", metadata: ["worker": "\(worker)", "seconds": "\(seconds)"])
        pool.workers[worker].submit([.run { _ in Thread.sleep(forTimeInterval: seconds) }])
        reply(.success(fields: [("worker", .integer(worker)), ("seconds", .number(seconds))]))
        return true
        #else
        return false
        #endif
    }
}
