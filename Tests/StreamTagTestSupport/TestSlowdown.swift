import Foundation

/// How many times slower than a plain debug build this test run is expected to be: the value
/// of `STREAMTAG_TEST_SLOWDOWN` (at least 1), else 1. `make test-asan` and `make test-tsan` set
/// it, and the tests that wait for the daemon to do something within a deadline wait that much
/// longer. It stretches deadlines and measuring windows only: what a test expects to happen
/// must still happen.
public let testSlowdown: Double = {
    guard let text = ProcessInfo.processInfo.environment["STREAMTAG_TEST_SLOWDOWN"], let value = Double(text) else { return 1 }
    return max(1, value)
}()

/// `seconds`, stretched by ``testSlowdown``.
public func stretched(_ seconds: Double) -> Double { seconds * testSlowdown }
