import Hummingbird
import Logging
import StableGateDomain

/// In front of the routes under `/checkout/{token}/…` that need a checkout before anything
/// else (the account flow): an unknown or malformed token gets the checkout's one 404 page —
/// logged in or not, like every other checkout route — and a known one puts its intent's id
/// into the context.
struct CheckoutTokenMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext
    let checkout: CheckoutService
    let renderer: CheckoutPageRenderer

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let intent: CheckoutIntent
        do {
            intent = try await checkout.intent(token: try context.parameters.require("token"))
        } catch let failure as APIError where failure.code == .notFound {
            return renderer.notFoundResponse(request)
        }
        var context = context
        context.checkoutIntentId = intent.id
        context.logger[metadataKey: "intent_id"] = .string(intent.id)
        return try await next(request, context)
    }
}
