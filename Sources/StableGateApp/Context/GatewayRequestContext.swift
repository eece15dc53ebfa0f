import Hummingbird
import Logging
import NIOCore

/// Who signed an API request, once ``SignatureAuthMiddleware`` has verified it.
public struct AuthenticatedCaller: Sendable, Equatable {
    public let storeId: String
    public let apiKeyId: String
}

/// The per-request context: request id, peer address, and the authenticated caller.
public struct GatewayRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connected peer, used for IP allowlists.
    public let remoteAddress: SocketAddress?
    /// The id echoed in the envelope, the `X-Request-Id` header and every log line.
    public var requestId: String = ""
    /// Set by the signature middleware on `/v1` routes.
    public var caller: AuthenticatedCaller?
    /// The raw request body, read once by the middleware that needed it first.
    public var body: ByteBuffer?
    /// The logged-in dashboard user and their store, on `/dashboard` pages.
    var dashboard: DashboardIdentity?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The caller, or an internal error if a route forgot its middleware (a bug, never a 200).
    public func requireCaller() throws -> AuthenticatedCaller {
        guard let caller else { throw APIErrorResponse.internalMisconfiguration("route reached without authentication") }
        return caller
    }
}
