import Foundation
import Testing
@testable import StreamTagDaemon
@testable import StreamTagZMQ

@Suite struct ZMQPollerTests {
    @Test func pollsTwoSocketsAndAnEventFDSignalledFromAnotherThread() throws {
        let context = try ZMQContext()
        let pullA = try context.socket(.pull)
        let pullB = try context.socket(.pull)
        let pushA = try context.socket(.push)
        try pullA.bind("tcp://127.0.0.1:*")
        try pullB.bind("inproc://poller-b")
        try pushA.connect(try pullA.lastEndpoint)
        let wake = try EventFD()

        let poller = ZMQPoller()
        let a = poller.add(pullA)
        let b = poller.add(pullB, events: .readable)
        let w = poller.add(fd: wake.fd)
        #expect(poller.count == 3)

        // Nothing ready: the poll times out after roughly its timeout and reports nothing.
        var ready = -1
        let idle = try milliseconds { ready = try poller.poll(timeoutMilliseconds: 20) }
        #expect(ready == 0)
        #expect(idle >= 15 && idle < 500)
        #expect(poller.readyEvents(at: a).isEmpty && poller.readyEvents(at: w).isEmpty)

        // A message on socket A only.
        #expect(try pushA.send(frames: [Array("hello".utf8)]))
        #expect(try poller.poll(timeoutMilliseconds: 1000) == 1)
        #expect(poller.isReadable(a) && !poller.isReadable(b) && !poller.isReadable(w))
        #expect(try pullA.receive(dontWait: true) == [Array("hello".utf8)])

        // A worker thread wakes the poller through the eventfd.
        let thread = Thread { try? wake.signal() }
        var woke = 0
        let waited = try milliseconds {
            thread.start()
            woke = try poller.poll(timeoutMilliseconds: 1000)
        }
        #expect(woke == 1)
        #expect(waited < 500)
        #expect(poller.isReadable(w) && !poller.isReadable(a) && !poller.isReadable(b))
        #expect(try wake.drain() == 1)

        // Drained: nothing is ready any more.
        #expect(try poller.poll(timeoutMilliseconds: 0) == 0)
        #expect(!poller.isReadable(w))
    }

    @Test func reportsWritabilityAndCanChangeEvents() throws {
        let context = try ZMQContext()
        let pull = try context.socket(.pull)
        let push = try context.socket(.push)
        let lonely = try context.socket(.push)
        try pull.bind("inproc://writable")
        try push.connect("inproc://writable")

        let poller = ZMQPoller()
        let connected = poller.add(push, events: .writable)
        let unconnected = poller.add(lonely, events: [.readable, .writable])
        #expect(try poller.poll(timeoutMilliseconds: 0) == 1)
        #expect(poller.readyEvents(at: connected) == .writable)
        #expect(poller.readyEvents(at: unconnected).isEmpty)

        poller.setEvents(.readable, at: connected)  // a PUSH is never readable
        #expect(try poller.poll(timeoutMilliseconds: 0) == 0)
    }

    @Test func pollingAClosedSocketThrows() throws {
        let context = try ZMQContext()
        let socket = try context.socket(.pull)
        let poller = ZMQPoller()
        poller.add(socket)
        socket.close()
        #expect { try poller.poll(timeoutMilliseconds: 0) } throws: { ($0 as? ZMQError)?.call == "zmq_poll" }
    }

    @Test func eventFDSignalsCoalesceUntilDrained() throws {
        let wake = try EventFD()
        #expect(wake.fd >= 0)
        #expect(try wake.drain() == 0)
        try wake.signal()
        try wake.signal()
        try wake.signal()
        #expect(try wake.drain() == 3)
        #expect(try wake.drain() == 0)
    }
}
