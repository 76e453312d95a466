import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Keeps idle or hostile HTTP clients from holding the daemon's descriptors: at most
/// `maxConnections` open connections (more are closed as soon as they are accepted), and a
/// connection that sends nothing for `idleTimeout` is closed. Accept failures for want of
/// descriptors (`EMFILE`, `ENFILE`) are reported, and accepting pauses for a second instead of
/// spinning on them.
final class MetricsConnectionGuard: Sendable {
    /// What the guard enforces (`metrics.read_timeout`, `metrics.max_connections`).
    struct Limits: Sendable {
        var idleTimeout: Double
        var maxConnections: Int

        /// The limits `metrics` sets (by default, the configuration's defaults).
        init(_ metrics: DaemonConfig.Metrics = .init()) {
            idleTimeout = metrics.readTimeout.seconds
            maxConnections = metrics.maxConnections
        }
    }

    /// What the guard reports (any thread): a connection refused over the cap, one closed for
    /// idleness, an accept that failed with this errno.
    struct Events: Sendable {
        var refused: @Sendable () -> Void = {}
        var idleClosed: @Sendable () -> Void = {}
        var acceptFailed: @Sendable (Int32) -> Void = { _ in }
    }

    let limits: Limits
    let events: Events
    private let open = Atomic<Int>(0)

    init(limits: Limits, events: Events) {
        self.limits = limits
        self.events = events
    }

    /// Handlers for the listening channel: back off on accept errors, and report the ones that
    /// mean "out of descriptors".
    func serverHandlers() -> [any ChannelHandler] {
        [AcceptBackoffHandler(), AcceptErrorReporter(events: events)]
    }

    /// For a new connection: nil (and the connection is closed) when the cap is reached;
    /// else the handlers that close it when idle, and it counts until it closes.
    func admit(_ channel: any Channel) -> [any ChannelHandler]? {
        let (_, admitted) = open.wrappingAdd(1, ordering: .relaxed)
        guard admitted <= limits.maxConnections else {
            open.wrappingSubtract(1, ordering: .relaxed)
            events.refused()
            channel.close(promise: nil)
            return nil
        }
        channel.closeFuture.whenComplete { [self] _ in open.wrappingSubtract(1, ordering: .relaxed) }
        let timeout = TimeAmount.nanoseconds(Int64(limits.idleTimeout * 1e9))
        return [IdleStateHandler(readTimeout: timeout), IdleCloser(events: events)]
    }
}

/// Closes the connection when `IdleStateHandler` says it sent nothing for the timeout.
private final class IdleCloser: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny
    let events: MetricsConnectionGuard.Events

    init(events: MetricsConnectionGuard.Events) { self.events = events }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            events.idleClosed()
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}

/// Reports accept failures for want of descriptors; the listener stays open (the backoff
/// handler before it pauses accepting).
private final class AcceptErrorReporter: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny
    let events: MetricsConnectionGuard.Events

    init(events: MetricsConnectionGuard.Events) { self.events = events }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let io = error as? IOError, io.errnoCode == EMFILE || io.errnoCode == ENFILE {
            events.acceptFailed(io.errnoCode)
            return
        }
        context.fireErrorCaught(error)
    }
}
