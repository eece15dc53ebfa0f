import Hummingbird
import Logging
import NIOCore
import StableGateStore

/// Who signed an API request, once ``SignatureAuthMiddleware`` has verified it, and the
/// request's claim on the key's nonce and rate budget, recorded exactly once: before the
/// handler (``RecordClaimMiddleware``), or by a create inside the transaction that stores the
/// intent.
public struct AuthenticatedCaller: Sendable {
    public let storeId: String
    public let apiKeyId: String
    public let claim: PendingClaim
}

/// What every request context of the gateway carries, whichever group a route is in: the
/// request id, the client's address, the body once read, and the form once decoded.
public protocol GatewayContext: RequestContext, RemoteAddressRequestContext {
    /// The id echoed in the envelope, the `X-Request-Id` header and every log line.
    var requestId: String { get }
    /// The client's address, resolved once per request by ``ClientAddressMiddleware``: the
    /// socket's peer, or behind a trusted proxy the client it forwarded for. Everything that
    /// judges a client by its address (IP allowlists, login throttles, per-client limits)
    /// reads this, never `remoteAddress`.
    var clientAddress: String? { get }
    /// The raw request body, read once by the middleware that needed it first.
    var body: ByteBuffer? { get set }
    /// The submitted form, decoded once by the CSRF middleware of the route's group.
    var form: FormFields { get set }
}

/// The per-request context of the router: request id, client address, and whatever the
/// middleware of the route's group established (the API caller, a dashboard or shopper
/// session, the checkout a token opens). Groups whose routes need an identity turn it into a
/// child context in which the identity is not optional: ``MerchantAPIContext``,
/// ``DashboardContext``, ``ShopperContext``.
public struct GatewayRequestContext: GatewayContext {
    public var coreContext: CoreRequestContextStorage
    /// The socket's peer: a trusted proxy's address when one is in front. Read
    /// ``clientAddress`` for who the client is.
    public let remoteAddress: SocketAddress?
    /// The peer until ``ClientAddressMiddleware`` has looked at `X-Forwarded-For`.
    public var clientAddress: String?
    public var requestId: String = ""
    public var body: ByteBuffer?
    public var form = FormFields()
    /// Set by ``SignatureAuthMiddleware`` on `/v1` routes.
    public var caller: AuthenticatedCaller?
    /// Set by ``DashboardSessionMiddleware`` on `/dashboard` pages.
    var dashboard: DashboardIdentity?
    /// Set by ``ShopperSessionMiddleware`` on shopper-account pages.
    var shopper: ShopperIdentity?
    /// Set by ``CheckoutTokenMiddleware``: the intent the path's checkout token opens.
    var checkoutIntentId: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        clientAddress = remoteAddress?.ipAddress
    }
}

/// An identity a route group's middleware establishes in the router's context, which its
/// routes' ``IdentifiedContext`` then carries as not optional.
public protocol ContextIdentity: Sendable {
    /// The identity in `context`, nil when the middleware did not establish one.
    static func established(in context: GatewayRequestContext) -> Self?
}

/// The context of a route group whose middleware established `Identity` (the API caller, a
/// dashboard user, a shopper): the identity is not optional, so a handler cannot forget to
/// check it, and a route reached without its middleware is a bug (an internal error, never a 200).
public struct IdentifiedContext<Identity: ContextIdentity>: GatewayContext, ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    public let clientAddress: String?
    public let requestId: String
    public var body: ByteBuffer?
    public var form: FormFields
    /// Who the request is from.
    public let identity: Identity
    /// On `/checkout/{token}/…`: the intent the token opens.
    let checkoutIntentId: String?

    public init(context: GatewayRequestContext) throws {
        guard let identity = Identity.established(in: context) else {
            throw APIErrorResponse.internalMisconfiguration("route reached without its \(Identity.self) middleware")
        }
        (coreContext, remoteAddress, clientAddress, requestId, body, form, self.identity, checkoutIntentId) =
            (
                context.coreContext, context.remoteAddress, context.clientAddress, context.requestId, context.body, context.form, identity,
                context.checkoutIntentId
            )
    }
}

/// `/v1` routes: the signed caller.
public typealias MerchantAPIContext = IdentifiedContext<AuthenticatedCaller>
/// Logged-in dashboard pages.
typealias DashboardContext = IdentifiedContext<DashboardIdentity>
/// Logged-in shopper-account pages (and a checkout's account flow).
typealias ShopperContext = IdentifiedContext<ShopperIdentity>

extension AuthenticatedCaller: ContextIdentity {
    public static func established(in context: GatewayRequestContext) -> AuthenticatedCaller? { context.caller }
}

extension IdentifiedContext where Identity == AuthenticatedCaller {
    /// The store and key that signed the request.
    public var caller: AuthenticatedCaller { identity }
}
