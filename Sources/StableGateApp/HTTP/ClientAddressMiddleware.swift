import HTTPTypes
import Hummingbird
import StableGateDomain

/// Resolves the client's address once, before anything judges it: the socket's peer, or —
/// when the peer is one of the ``TrustedProxies`` — the client its `X-Forwarded-For` names
/// (the rightmost entry that is not a trusted proxy). The result is the context's
/// ``GatewayContext/clientAddress``, which IP allowlists, login throttles and per-client
/// limits read.
struct ClientAddressMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    let proxies: TrustedProxies

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !proxies.ranges.isEmpty else { return try await next(request, context) }
        var context = context
        context.clientAddress = proxies.clientAddress(
            peer: context.remoteAddress?.ipAddress, forwardedFor: request.headers[values: .xForwardedFor])
        return try await next(request, context)
    }
}

extension HTTPField.Name {
    /// The de-facto standard header in which reverse proxies name the client they forward for.
    static let xForwardedFor = Self("X-Forwarded-For")!
}
