import Hummingbird
import StableGateDomain

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Public JSON endpoints of the hosted checkout: `GET /checkout/{token}/state` and
/// `POST /checkout/{token}/deposit`. Unsigned (the checkout URL's token is the capability),
/// rate-limited per client address.
struct CheckoutRoutes {
    let checkout: CheckoutService
    let limiter: ClientRateLimiter
    let clock: any WallClock
    let maximumBodyBytes: Int

    func register(on router: Router<GatewayRequestContext>) {
        router.get("checkout/:token/state") { _, context in
            try limit(context)
            let token = try context.parameters.require("token")
            return Envelope.success(try await checkout.state(token: token), requestId: context.requestId)
        }
        router.post("checkout/:token/deposit") { request, context in
            try limit(context)
            let token = try context.parameters.require("token")
            var request = request
            let body = try await request.collectBody(upTo: maximumBodyBytes)
            return Envelope.success(try await checkout.selectDeposit(token: token, body: Array(body.readableBytesView)), requestId: context.requestId)
        }
    }

    private func limit(_ context: GatewayRequestContext) throws {
        try limiter.admit(context, now: clock.now)
    }
}
