// A merchant's backend integrating checkout with AllScaleKit: create → redirect → webhook → status.
// Built with the package (target `allscale-example`), so this code compiles in CI; the README
// shows it verbatim. Run: ALLSCALE_BASE_URL=… ALLSCALE_API_KEY=… ALLSCALE_API_SECRET=… swift run allscale-example
import AllScaleKit
import Foundation
import Hummingbird

let environment = ProcessInfo.processInfo.environment
let apiKey = environment["ALLSCALE_API_KEY"] ?? ""
let apiSecret = environment["ALLSCALE_API_SECRET"] ?? ""
let allscale = AllScaleClient(baseURL: environment["ALLSCALE_BASE_URL"] ?? "http://127.0.0.1:8080", apiKey: apiKey, apiSecret: apiSecret)
// One verifier for the process: it remembers nonces, so a replayed webhook is refused.
let webhooks = WebhookVerifier(apiKey: apiKey, apiSecret: apiSecret)

let router = Router()

// 1. Create: the shopper clicks "Pay with USDT/USDC". The order id doubles as the idempotency
//    key, so a retried request can never create a second checkout.
router.post("/orders/:order/pay") { _, context -> Response in
    let order = try context.parameters.require("order")
    var request = CreateCheckoutIntent(pricing: .fiat(.usd), amountCents: 2599, orderId: order)
    request.redirectURL = "https://shop.example/orders/\(order)/thanks"
    let created = try await allscale.createCheckoutIntent(request, idempotencyKey: "order-\(order)")
    // 2. Redirect: the hosted checkout page takes it from here.
    return Response(status: .seeOther, headers: [.location: created.checkoutURL])
}

// 3. Webhook: StableGate posts every status change. Verify before trusting a byte of it.
router.post("/webhooks/allscale") { request, context -> HTTPResponse.Status in
    let body = try await request.body.collect(upTo: 1 << 20)
    let headers = request.headers.map { ($0.name.canonicalName, $0.value) }
    do {
        let event = try await webhooks.verify(
            method: request.method.rawValue, path: request.uri.path, query: request.uri.query ?? "", headers: headers,
            body: Array(body.readableBytesView))
        if let intent = event.intent, intent.status == .confirmed {
            context.logger.info("paid", metadata: ["order": "\(intent.orderId ?? "?")", "amount": "\(intent.actualPaidAmount ?? "?") \(intent.coinSymbol)"])
            // mark the order paid — idempotently: the same event may arrive more than once
        }
        return .ok
    } catch let failure as WebhookVerifier.Failure {
        context.logger.warning("refused a webhook", metadata: ["reason": "\(failure)"])
        return .unauthorized
    }
}

// 4. Status: when the shopper comes back (or a webhook was missed), ask.
router.get("/orders/:order/checkout/:intent") { _, context -> String in
    let intent = try await allscale.checkoutIntent(id: try context.parameters.require("intent"))
    return "\(intent.status.name ?? "UNKNOWN"): paid \(intent.actualPaidAmount ?? "0") \(intent.coinSymbol)"
}

let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 3000)))
try await app.runService()
