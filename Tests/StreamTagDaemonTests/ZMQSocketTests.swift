import Foundation
import Testing
@testable import StreamTagDaemon
@testable import StreamTagZMQ

@Suite struct ZMQSocketTests {
    @Test(arguments: [1, 2, 20])
    func multipartRoundTripOverInproc(frameCount: Int) throws {
        let context = try ZMQContext()
        let a = try context.socket(.pair)
        let b = try context.socket(.pair)
        try a.bind("inproc://round-trip")
        try b.connect("inproc://round-trip")
        try b.setOption(.receiveTimeout, 1000)

        let frames = sampleFrames(frameCount)
        #expect(try a.send(frames: frames))
        #expect(try b.send(frames: [[9]]))  // the other direction too
        #expect(try b.receive(maxFrames: 32) == frames)
        #expect(try a.receive(dontWait: true) == [[9]])
    }

    @Test func messageWithTooManyFramesIsDrainedAndNextMessageIsIntact() throws {
        let context = try ZMQContext()
        let push = try context.socket(.push)
        let pull = try context.socket(.pull)
        try pull.bind("tcp://127.0.0.1:*")
        try push.connect(try pull.lastEndpoint)
        try pull.setOption(.receiveTimeout, 1000)

        let big = sampleFrames(20)
        #expect(try push.send(frames: big))
        #expect(try push.send(frames: [Array("next".utf8), [1, 2, 3]]))

        let truncated = try #require(try pull.receive())
        #expect(truncated.count == ZMQSocket.defaultMaxFrames)
        #expect(truncated == Array(big.prefix(ZMQSocket.defaultMaxFrames)))
        #expect(try pull.receive() == [Array("next".utf8), [1, 2, 3]])
        #expect(try pull.receive(dontWait: true) == nil)

        // A small bound: three frames expected, so maxFrames 4 flags anything longer.
        #expect(try push.send(frames: sampleFrames(9)))
        #expect(try push.send(frames: sampleFrames(3)))
        #expect(try pull.receive(maxFrames: 4)?.count == 4)
        #expect(try pull.receive(maxFrames: 4) == sampleFrames(3))
    }

    @Test func sendAcceptsAnyContiguousBytes() throws {
        let context = try ZMQContext()
        let a = try context.socket(.pair)
        let b = try context.socket(.pair)
        try a.bind("inproc://bytes")
        try b.connect("inproc://bytes")
        #expect(try a.send([Data("topic".utf8), Data([0, 255])]))
        #expect(try a.send([ArraySlice<UInt8>([1, 2, 3, 4]).dropFirst()]))
        try b.setOption(.receiveTimeout, 1000)
        #expect(try b.receive() == [Array("topic".utf8), [0, 255]])
        #expect(try b.receive() == [[2, 3, 4]])
    }

    @Test func requestReplyOverTCP() throws {
        let context = try ZMQContext()
        let rep = try context.socket(.rep)
        let req = try context.socket(.req)
        try rep.bind("tcp://127.0.0.1:*")
        try req.connect(try rep.lastEndpoint)
        try rep.setOption(.receiveTimeout, 1000)
        try req.setOption(.receiveTimeout, 1000)

        #expect(try req.send(frames: [Array("ping".utf8), [42]]))
        #expect(try rep.receive() == [Array("ping".utf8), [42]])
        #expect(try rep.send(frames: [Array("pong".utf8)]))
        #expect(try req.receive() == [Array("pong".utf8)])

        // REQ enforces send/receive alternation: a second receive is a state error, not a hang.
        #expect { try req.receive() } throws: { ($0 as? ZMQError)?.call == "zmq_msg_recv" }
    }

    @Test func nonBlockingReceiveReturnsNil() throws {
        let context = try ZMQContext()
        let pull = try context.socket(.pull)
        try pull.bind("inproc://empty")
        #expect(try pull.receive(dontWait: true) == nil)

        // A blocking receive with a timeout also ends in nil, after roughly the timeout.
        try pull.setOption(.receiveTimeout, 20)
        var result: [[UInt8]]? = [[1]]
        let elapsed = try milliseconds { result = try pull.receive() }
        #expect(result == nil)
        #expect(elapsed >= 15 && elapsed < 500)
    }

    @Test func sendThatWouldBlockReportsAgain() throws {
        let context = try ZMQContext()

        // No peer at all: a PUSH has nowhere to queue, so a non-blocking send cannot proceed.
        let lonely = try context.socket(.push)
        try lonely.setOption(.sendHighWaterMark, 1)
        try lonely.bind("tcp://127.0.0.1:*")
        #expect(try lonely.send(frames: [[1]], dontWait: true) == false)
        // A blocking send with a send timeout gives up the same way.
        try lonely.setOption(.sendTimeout, 20)
        #expect(try lonely.send(frames: [[1], [2]]) == false)

        // Connected to an inproc endpoint nobody has bound yet: libzmq creates the pipe at once,
        // it fills to HWM 1, then a non-blocking send would block.
        let push = try context.socket(.push)
        try push.setOption(.sendHighWaterMark, 1)
        try push.connect("inproc://not-bound-yet")
        var accepted = 0
        var sent = true
        while sent && accepted < 100 {
            sent = try push.send(frames: [[UInt8(accepted)], [0]], dontWait: true)
            if sent { accepted += 1 }
        }
        #expect(!sent)
        #expect(accepted == 1)
    }

    @Test func closeWithPendingMessagesReturnsPromptly() throws {
        let context = try ZMQContext()
        let push = try context.socket(.push)
        #expect(try push.option(.linger) == 0)
        try push.connect(try deadEndpoint(context))
        #expect(try push.send(frames: [Array(repeating: 7, count: 1000)], dontWait: true))

        let closing = milliseconds { push.close() }
        #expect(push.isClosed)
        push.close()  // idempotent
        let terminating = milliseconds { context.terminate() }
        #expect(closing < 200)
        #expect(terminating < 200)
        #expect(context.isTerminated)

        #expect { try push.send(frames: [[1]]) } throws: { error in
            let error = error as? ZMQError
            return error?.code == ENOTSOCK && error?.call == "zmq_send"
        }
    }

    @Test func bindingAnAddressInUseNamesTheCallAndReason() throws {
        let context = try ZMQContext()
        let first = try context.socket(.pull)
        let second = try context.socket(.pull)
        try first.bind("tcp://127.0.0.1:*")
        let endpoint = try first.lastEndpoint
        #expect(throws: ZMQError(code: EADDRINUSE, call: "zmq_bind")) { try second.bind(endpoint) }
        do {
            try second.bind(endpoint)
        } catch let error as ZMQError {
            #expect(error.call == "zmq_bind")
            #expect(error.message == "Address already in use")
            #expect(error.description.contains("zmq_bind: Address already in use"))
            #expect(!error.isAgain && !error.isInterrupted)
        }
    }

    @Test func lastEndpointResolvesTheWildcardPortAndUnbindNeedsIt() throws {
        let context = try ZMQContext()
        let pull = try context.socket(.pull)
        try pull.bind("tcp://127.0.0.1:*")
        let endpoint = try pull.lastEndpoint
        #expect(endpoint.hasPrefix("tcp://127.0.0.1:"))
        let port = try #require(Int(endpoint.dropFirst("tcp://127.0.0.1:".count)))
        #expect(port > 0 && port < 65536)

        // The wildcard spelling does not name the bound endpoint.
        #expect { try pull.unbind("tcp://127.0.0.1:*") } throws: { ($0 as? ZMQError)?.call == "zmq_unbind" }
        try pull.unbind(endpoint)
        // The port is free again, but only once libzmq's I/O thread has closed the listener:
        // unbind returns before that, so an immediate re-bind can still see EADDRINUSE.
        let other = try context.socket(.pull)
        #expect(eventually { try? other.bind(endpoint) } != nil)

        let push = try context.socket(.push)
        try push.connect(endpoint)
        try push.disconnect(endpoint)
        #expect { try push.disconnect(endpoint) } throws: { ($0 as? ZMQError)?.call == "zmq_disconnect" }
    }

    @Test func optionsRoundTrip() throws {
        let context = try ZMQContext()
        let socket = try context.socket(.dealer)
        let values: [(ZMQSocket.IntOption, Int32)] = [
            (.sendHighWaterMark, 123), (.receiveHighWaterMark, 456), (.linger, 5),
            (.receiveTimeout, 250), (.sendTimeout, 125), (.immediate, 1),
            (.tcpKeepalive, 1), (.tcpKeepaliveIdle, 30), (.tcpKeepaliveCount, 4), (.tcpKeepaliveInterval, 5),
        ]
        for (option, value) in values {
            try socket.setOption(option, value)
            #expect(try socket.option(option) == value, "\(option)")
        }
        try socket.setMaxMessageSize(1 << 20)
        #expect(try socket.maxMessageSize() == 1 << 20)

        let xpub = try context.socket(.xpub)
        try xpub.setOption(.xpubNoDrop, 1)
        #expect(throws: ZMQError.self) { try xpub.option(.xpubNoDrop) }
        #expect(ZMQSocket.SocketType.allCases.count == 10)
        for type in ZMQSocket.SocketType.allCases {
            #expect(try context.socket(type).type == type)
        }
    }

    @Test func terminateAfterClosingSocketsIsPromptAndFinal() throws {
        let context = try ZMQContext()
        let pub = try context.socket(.pub)
        let sub = try context.socket(.sub)
        try pub.bind("tcp://127.0.0.1:*")
        try sub.connect(try pub.lastEndpoint)
        try sub.subscribe(Array("x".utf8))
        #expect(try pub.send(frames: [Array("x".utf8)]))
        pub.close()
        sub.close()

        let elapsed = milliseconds { context.terminate() }
        #expect(elapsed < 200)
        #expect(context.isTerminated)
        context.terminate()  // idempotent
        #expect { try context.socket(.pair) } throws: { error in
            let error = error as? ZMQError
            return error?.isTerminated == true && error?.call == "zmq_socket"
        }
    }
}

