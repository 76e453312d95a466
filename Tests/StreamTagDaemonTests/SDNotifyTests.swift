import Foundation
import Synchronization
import Testing
@testable import StreamTagDaemon
import StreamTagTestSupport

/// SDNotify and SystemdSettings on their own.
@Suite struct SDNotifyTests {
    @Test(arguments: [false, true])
    func sendsOneDatagramToAPathOrAnAbstractName(abstract: Bool) throws {
        let receiver = try NotifyReceiver(abstract: abstract)
        defer { receiver.close() }
        let notify = try SDNotify(socket: receiver.name)
        #expect(notify.isEnabled)
        #expect(notify.send("READY=1", "STATUS=serving x") == nil)
        let m = receiver.wait(for: "READY")
        #expect(m?.text == "READY=1\nSTATUS=serving x")
        #expect(m?.fields["STATUS"] == "serving x")
    }

    @Test func noSocketIsANoOp() throws {
        for name in [nil, ""] as [String?] {
            let notify = try SDNotify(socket: name)
            #expect(!notify.isEnabled)
            #expect(notify.send("READY=1") == nil)
        }
    }

    @Test func badNamesAreRefused() {
        #expect(throws: SDNotify.SetupError.self) { try SDNotify(socket: "run/notify") }
        #expect(throws: SDNotify.SetupError.self) { try SDNotify(socket: "vsock:2:1234") }
        #expect(throws: SDNotify.SetupError.self) { try SDNotify(socket: "/" + String(repeating: "x", count: 200)) }
        // 107 bytes of path plus its NUL fit in sun_path (108); an abstract name may use all 108.
        #expect(throws: Never.self) { try SDNotify(socket: "/" + String(repeating: "x", count: 106)) }
        #expect(throws: SDNotify.SetupError.self) { try SDNotify(socket: "/" + String(repeating: "x", count: 107)) }
        #expect(throws: Never.self) { try SDNotify(socket: "@" + String(repeating: "x", count: 107)) }
    }

    @Test func nobodyListeningIsAnErrorNotACrash() throws {
        let notify = try SDNotify(socket: NSTemporaryDirectory() + "streamtag-nobody-\(UUID().uuidString.prefix(8)).sock")
        #expect(notify.send("READY=1") != nil)
    }

    @Test func settingsFromTheEnvironment() {
        let pid = getpid()
        #expect(SystemdSettings.fromEnvironment([:]) == SystemdSettings())
        #expect(!SystemdSettings.fromEnvironment([:]).isActive)
        let s = SystemdSettings.fromEnvironment(["NOTIFY_SOCKET": "/run/systemd/notify", "WATCHDOG_USEC": "10000000"], pid: pid)
        #expect(s.notifySocket == "/run/systemd/notify")
        #expect(s.watchdogInterval == 10)
        #expect(s.effectiveStallLimit == 10)
        #expect(SystemdSettings.fromEnvironment(["WATCHDOG_USEC": "500000", "WATCHDOG_PID": "\(pid)"], pid: pid).watchdogInterval == 0.5)
        // The watchdog of another process (a parent that did not unset the variables).
        #expect(SystemdSettings.fromEnvironment(["WATCHDOG_USEC": "500000", "WATCHDOG_PID": "\(pid + 1)"], pid: pid).watchdogInterval == nil)
        for bad in ["0", "-5", "ten", ""] {
            #expect(SystemdSettings.fromEnvironment(["WATCHDOG_USEC": bad], pid: pid).watchdogInterval == nil, "\(bad)")
        }
        #expect(SystemdSettings.fromEnvironment(["NOTIFY_SOCKET": ""]).notifySocket == nil)
        // An idle worker turns about once a second: a short watchdog still allows 2 s.
        #expect(SystemdSettings(watchdogInterval: 0.5).effectiveStallLimit == 2)
        #expect(SystemdSettings(watchdogInterval: 0.5, stallLimit: 1).effectiveStallLimit == 1)
    }

    @Test func monotonicMicrosecondsIsClockMonotonic() {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        let reference = UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec) / 1000
        let ours = monotonicMicroseconds()
        #expect(ours >= reference && ours - reference < 1_000_000)
    }
}
