import Foundation
import Testing
@testable import StreamTagDaemon
@testable import StreamTagZMQ

@Suite struct ZMQPubSubTests {
    @Test func subscriberOnlyGetsItsTopicPrefix() throws {
        let context = try ZMQContext()
        let pub = try context.socket(.pub)
        let sub = try context.socket(.sub)
        try pub.bind("tcp://127.0.0.1:*")
        try sub.connect(try pub.lastEndpoint)
        try sub.subscribe(Array("tags.".utf8))

        // Slow joiner: until the subscription reaches the publisher, everything is dropped.
        // Publish a probe on both topics until one arrives.
        let first = eventually {
            _ = try? pub.send(frames: [Array("other.probe".utf8)], dontWait: true)
            _ = try? pub.send(frames: [Array("tags.probe".utf8)], dontWait: true)
            return try? sub.receive(dontWait: true)
        }
        #expect(first == [Array("tags.probe".utf8)])
        while try sub.receive(dontWait: true) != nil {}  // probes still in flight

        // Now the filter is in place: interleave topics, then a final marker on the subscribed one.
        for (index, topic) in ["other.1", "tags.1", "tagsX", "other.2", "tags.2", "tags.end"].enumerated() {
            #expect(try pub.send(frames: [Array(topic.utf8), [UInt8(index)]]))
        }
        try sub.setOption(.receiveTimeout, 1000)
        var received: [String] = []
        while let frames = try sub.receive(), received.count < 10 {
            let topic = String(decoding: frames[0], as: UTF8.self)
            if topic == "tags.probe" { continue }
            received.append(topic)
            if topic == "tags.end" { break }
        }
        #expect(received == ["tags.1", "tags.2", "tags.end"])
    }

    @Test func xpubSeesSubscribeAndUnsubscribe() throws {
        let context = try ZMQContext()
        let xpub = try context.socket(.xpub)
        let sub = try context.socket(.sub)
        try xpub.bind("inproc://xpub")
        try sub.connect("inproc://xpub")
        try xpub.setOption(.receiveTimeout, 1000)

        try sub.subscribe(Array("tags.".utf8))
        #expect(try xpub.receive() == [[1] + Array("tags.".utf8)])
        try sub.unsubscribe(Array("tags.".utf8))
        #expect(try xpub.receive() == [[0] + Array("tags.".utf8)])
    }

    @Test func xpubWithNoDropReportsFullQueuesSoDropsCanBeCounted() throws {
        let context = try ZMQContext()
        let xpub = try context.socket(.xpub)
        let sub = try context.socket(.sub)
        try xpub.setOption(.sendHighWaterMark, 2)
        try xpub.setOption(.xpubNoDrop, 1)
        try sub.setOption(.receiveHighWaterMark, 2)
        try xpub.bind("inproc://nodrop")
        try sub.connect("inproc://nodrop")
        try sub.subscribe([UInt8]())
        try xpub.setOption(.receiveTimeout, 1000)
        #expect(try xpub.receive() == [[1]])  // the subscription has arrived

        var sent = 0
        var dropped = 0
        for index in 0..<50 {
            if try xpub.send(frames: [[UInt8(index)], [0]], dontWait: true) { sent += 1 } else { dropped += 1 }
        }
        #expect(sent > 0 && sent <= 4)
        #expect(dropped == 50 - sent)

        // What was queued arrives intact, in order.
        for index in 0..<sent {
            #expect(try sub.receive(dontWait: true) == [[UInt8(index)], [0]])
        }
        #expect(try sub.receive(dontWait: true) == nil)
    }
}
