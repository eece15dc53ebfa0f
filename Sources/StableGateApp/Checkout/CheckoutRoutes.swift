import Foundation
import Hummingbird
import StableGateDomain

/// Public JSON endpoints of the hosted checkout: `GET /checkout/{token}/state` and
/// `POST /checkout/{token}/deposit`. Unsigned (the checkout URL's token is the capability),
/// rate-limited per client address.
struct CheckoutRoutes {
    let checkout: CheckoutService
    let maximumBodyBytes: Int

    /// What the page polls: status, amounts, detected payments.
    @Sendable func state(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        Envelope.success(try await checkout.state(token: try context.parameters.require("token")), requestId: context.requestId)
    }

    /// Chooses the network and coin (JSON body) and answers the deposit address.
    @Sendable func deposit(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let token = try context.parameters.require("token")
        var request = request
        let body = try await request.collectBody(upTo: maximumBodyBytes)
        return Envelope.success(try await checkout.selectDeposit(token: token, body: Array(body.readableBytesView)), requestId: context.requestId)
    }
}
