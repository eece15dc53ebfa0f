import HummingbirdCore
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import Synchronization

/// How long a connection may take over each part of a request, and how many one client may
/// hold open: without these, half-sent requests keep their sockets forever and a few hundred
/// of them use up the process's file descriptors — the database, `/healthz` and the chain
/// watchers then fail with them.
struct ConnectionPolicy: Sendable {
    /// A connection with no request in progress (none sent yet, or waiting for the next one on
    /// keep-alive) is closed after this long.
    var idleTimeout: Duration
    /// A request head must arrive in full within this long of its first byte.
    var headerTimeout: Duration
    /// A request body must arrive in full within this long of its head.
    var bodyTimeout: Duration
    /// Open connections per client address (an IPv6 /64 counts as one); 0 allows any number.
    var maximumConnectionsPerClient: Int

    init(_ configuration: GatewayConfiguration) {
        idleTimeout = configuration.httpIdleTimeout
        headerTimeout = configuration.httpHeaderTimeout
        bodyTimeout = configuration.httpBodyTimeout
        maximumConnectionsPerClient = configuration.maximumConnectionsPerClient
    }
}

extension HTTPServerBuilder {
    /// Hummingbird's HTTP/1.1 server with the policy's idle timeout, request deadlines and
    /// per-client connection cap. Each server built from it counts its own connections.
    static func guardedHTTP1(_ policy: ConnectionPolicy) -> HTTPServerBuilder {
        let clients = policy.maximumConnectionsPerClient > 0 ? ConnectionsPerClient(maximum: policy.maximumConnectionsPerClient) : nil
        return HTTPServerBuilder { responder in
            GuardedHTTP1Channel(
                base: HTTP1Channel(responder: responder, configuration: .init(idleTimeout: TimeAmount(policy.idleTimeout))),
                policy: policy, clients: clients)
        }
    }
}

/// Hummingbird's HTTP1 channel plus two handlers: ``ClientConnectionLimitHandler`` at the front
/// of the pipeline, ``RequestDeadlineHandler`` right after the HTTP decoder, where it sees the
/// request parts as they are parsed and every read of raw bytes as a read completion.
struct GuardedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let base: HTTP1Channel
    let policy: ConnectionPolicy
    let clients: ConnectionsPerClient?

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            // Runs on the channel's event loop before it is registered, so no byte is read yet.
            let pipeline = channel.pipeline.syncOperations
            let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try pipeline.addHandler(
                RequestDeadlineHandler(headerTimeout: policy.headerTimeout, bodyTimeout: policy.bodyTimeout, logger: logger),
                position: .after(decoder))
            if let clients {
                try pipeline.addHandler(ClientConnectionLimitHandler(clients: clients, logger: logger), position: .first)
            }
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

/// Open connections per client, shared by every connection of one listener.
final class ConnectionsPerClient: Sendable {
    let maximum: Int
    private let open = Mutex<[String: Int]>([:])

    init(maximum: Int) {
        self.maximum = maximum
    }

    /// Counts a new connection from `client`; false (and nothing counted) when it already holds
    /// the maximum.
    func admit(_ client: String) -> Bool {
        open.withLock { open in
            let count = open[client, default: 0]
            guard count < maximum else { return false }
            open[client] = count + 1
            return true
        }
    }

    /// Forgets a closed connection; clients with none left leave the table, so it only ever
    /// holds clients that are connected.
    func release(_ client: String) {
        open.withLock { open in
            let count = open[client, default: 0] - 1
            open[client] = count > 0 ? count : nil
        }
    }
}

/// Closes a connection as soon as it opens when its client already holds the maximum. The
/// client is the socket's peer: behind a reverse proxy every connection is the proxy's, so
/// there the cap must be raised or turned off and enforced by the proxy instead.
final class ClientConnectionLimitHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let clients: ConnectionsPerClient
    private let logger: Logger
    /// The client this connection is counted for, once admitted.
    private var admitted: String?
    private var checked = false

    init(clients: ConnectionsPerClient, logger: Logger) {
        self.clients = clients
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { check(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        check(context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        release()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        release()
    }

    private func check(_ context: ChannelHandlerContext) {
        guard !checked else { return }
        checked = true
        // Unix-socket peers have no address: there is nobody to tell apart.
        guard let address = context.channel.remoteAddress?.ipAddress else { return }
        let client = ClientRateLimiter.bucket(for: address)
        if clients.admit(client) {
            admitted = client
        } else {
            ConnectionClosures.count(.clientLimit)
            logger.debug("connection refused: client holds the maximum", metadata: ["client": "\(client)", "maximum": "\(clients.maximum)"])
            context.close(promise: nil)
        }
    }

    private func release() {
        if let client = admitted {
            admitted = nil
            clients.release(client)
        }
    }
}

/// Closes a connection whose request head has not fully arrived `headerTimeout` after its first
/// byte, or whose body has not `bodyTimeout` after the head. Both are whole-part deadlines,
/// not gaps between reads, so a client trickling a byte at a time gets no more time. Between
/// requests (and before the first byte) Hummingbird's idle timeout applies instead, so a
/// keep-alive connection may rest longer than a head may take.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private enum Phase {
        /// No request is being read or answered.
        case idle
        /// Bytes of a request arrived; its head is not complete.
        case head
        /// The head arrived; its body has not ended.
        case body
        /// The request was read; its response is not written yet.
        case responding
    }

    private let headerTimeout: TimeAmount
    private let bodyTimeout: TimeAmount
    private let logger: Logger
    private var phase = Phase.idle
    /// Requests whose head was read and whose response has not ended (more than one when a
    /// client pipelines).
    private var unanswered = 0
    private var deadline: Scheduled<Void>?

    init(headerTimeout: Duration, bodyTimeout: Duration, logger: Logger) {
        self.headerTimeout = TimeAmount(headerTimeout)
        self.bodyTimeout = TimeAmount(bodyTimeout)
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            cancelDeadline()
            unanswered += 1
            phase = .body
        case .body:
            break
        case .end:
            cancelDeadline()
            // A response may already have been sent before the body ended (413, for one).
            phase = unanswered > 0 ? .responding : .idle
        }
        context.fireChannelRead(data)
    }

    /// Every read of bytes from the socket ends here, after the decoder has passed on whatever
    /// parts they completed: so a read that leaves the connection idle started a request whose
    /// head is not complete, and a body still open after a read has its deadline started.
    /// Timers are armed only here, so a request that arrives whole in one read arms none.
    func channelReadComplete(context: ChannelHandlerContext) {
        switch phase {
        case .idle:
            phase = .head
            arm(context, after: headerTimeout, reason: .headerTimeout)
        case .body where deadline == nil:
            arm(context, after: bodyTimeout, reason: .bodyTimeout)
        case .head, .body, .responding:
            break
        }
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            unanswered = max(0, unanswered - 1)
            if unanswered == 0 && phase == .responding { phase = .idle }
        }
        context.write(data, promise: promise)
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelDeadline()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelDeadline()
    }

    private func arm(_ context: ChannelHandlerContext, after delay: TimeAmount, reason: ConnectionClosures.Reason) {
        cancelDeadline()
        // A read completing as the peer hangs up must not start a timer on a closed channel.
        guard context.channel.isActive else { return }
        let logger = logger
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
            ConnectionClosures.count(reason)
            logger.debug(
                "closing connection", metadata: ["reason": "\(reason.rawValue)", "peer": "\(context.channel.remoteAddress?.description ?? "-")"])
            context.close(promise: nil)
        }
    }

    private func cancelDeadline() {
        deadline?.cancel()
        deadline = nil
    }
}

/// `stablegate_http_connections_closed_total{reason}`: connections the gateway closed to
/// protect itself, so an operator sees slow clients and over-eager ones.
enum ConnectionClosures {
    enum Reason: String {
        case headerTimeout = "header_timeout"
        case bodyTimeout = "body_timeout"
        case clientLimit = "client_limit"
    }

    static func count(_ reason: Reason) {
        Counter(label: "stablegate_http_connections_closed_total", dimensions: [("reason", reason.rawValue)]).increment()
    }
}
