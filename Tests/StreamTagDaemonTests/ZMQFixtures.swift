import Foundation
import Testing
@testable import StreamTagDaemon
@testable import StreamTagZMQ

/// Polls `body` every few milliseconds until it returns a value or `milliseconds` pass.
/// Shared by the ZMQ test suites (slow-joiner waits and other "eventually" conditions).
func eventually<T>(within milliseconds: Int = 1000, _ body: () throws -> T?) rethrows -> T? {
    let deadline = ContinuousClock.now + .milliseconds(milliseconds)
    while true {
        if let value = try body() { return value }
        if ContinuousClock.now >= deadline { return nil }
        Thread.sleep(forTimeInterval: 0.002)
    }
}

/// Milliseconds taken by `body`.
func milliseconds(_ body: () throws -> Void) rethrows -> Double {
    let elapsed = try ContinuousClock().measure(body)
    return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
}

/// Frames whose sizes and contents differ, including an empty frame, so mix-ups show.
func sampleFrames(_ count: Int) -> [[UInt8]] {
    (0..<count).map { index in (0..<(index * 7 % 23)).map { UInt8(truncatingIfNeeded: index &* 31 &+ $0) } }
}

/// A TCP endpoint on loopback that nothing listens on (bound once, then closed).
func deadEndpoint(_ context: ZMQContext) throws -> String {
    let socket = try context.socket(.pull)
    try socket.bind("tcp://127.0.0.1:*")
    let endpoint = try socket.lastEndpoint
    socket.close()
    return endpoint
}
