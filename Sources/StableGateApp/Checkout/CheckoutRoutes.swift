import Hummingbird
import StableGateDomain

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Public JSON endpoints of the hosted checkout: `GET /checkout/{id}/state` and
/// `POST /checkout/{id}/deposit`. Unsigned (the intent id is the capability), rate-limited per
/// client address.
struct CheckoutRoutes {
    let checkout: CheckoutService
    let limiter: ClientRateLimiter
    let clock: any WallClock
    let maximumBodyBytes: Int

    func register(on router: Router<GatewayRequestContext>) {
        router.get("checkout/:id/state") { _, context in
            try limit(context)
            let id = try context.parameters.require("id")
            return Envelope.success(try await checkout.state(id: id), requestId: context.requestId)
        }
        router.post("checkout/:id/deposit") { request, context in
            try limit(context)
            let id = try context.parameters.require("id")
            var request = request
            let body = try await request.collectBody(upTo: maximumBodyBytes)
            return Envelope.success(try await checkout.selectDeposit(id: id, body: Array(body.readableBytesView)), requestId: context.requestId)
        }
    }

    private func limit(_ context: GatewayRequestContext) throws {
        let client = context.remoteAddress?.ipAddress ?? "unknown"
        if let wait = limiter.take(client: client, now: clock.now) {
            throw APIError(.rateLimited, "too many requests from this address; retry in \(wait) s", retryAfterSeconds: wait)
        }
    }
}
