// A merchant's backend integrating checkout with AllScaleKit: create → redirect → webhook → status.
// Built with the package (target `allscale-example`), so this code compiles in CI; the README
// shows it verbatim. Run: ALLSCALE_BASE_URL=… ALLSCALE_API_KEY=… ALLSCALE_API_SECRET=… ALLSCALE_WEBHOOK_ID=… swift run allscale-example
import AllScaleKit
import Foundation
import Hummingbird
import Logging

let environment = ProcessInfo.processInfo.environment
let apiKey = environment["ALLSCALE_API_KEY"] ?? ""
let apiSecret = environment["ALLSCALE_API_SECRET"] ?? ""
let allscale = AllScaleClient(baseURL: environment["ALLSCALE_BASE_URL"] ?? "http://127.0.0.1:8080", apiKey: apiKey, apiSecret: apiSecret)
// One verifier for the process: it remembers nonces, so a replayed webhook is refused. Pinned to
// the webhook id the dashboard shows for this endpoint: another endpoint's deliveries are refused.
let webhooks = WebhookVerifier(apiKey: apiKey, apiSecret: apiSecret, webhookId: environment["ALLSCALE_WEBHOOK_ID"])

/// Payments already credited, by `all_scale_transaction_id` (in production: a unique column).
actor CreditedPayments {
    private var ids: Set<String> = []
    /// True the first time a transaction id is seen.
    func insert(_ id: String) -> Bool { ids.insert(id).inserted }
}
let credited = CreditedPayments()

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

// 3. Webhook: AllScale's checkout payment, posted once the payment is confirmed. Verify before
//    trusting a byte of it (signature, timestamp within ±5 min, nonce unseen, webhook id), check
//    the money against the order, dedupe on the transaction id, answer 200.
router.post("/webhooks/allscale") { request, context -> HTTPResponse.Status in
    let body = try await request.body.collect(upTo: 1 << 20)
    let headers = request.headers.map { ($0.name.canonicalName, $0.value) }
    let delivery: VerifiedWebhook
    do {
        // The path and query as on the wire (behind a proxy that rewrites them, pass those of
        // the URL you registered: WebhookSigner.pathAndQuery(ofURL:)).
        delivery = try await webhooks.verify(
            path: request.uri.path, query: request.uri.query ?? "", headers: headers, body: Array(body.readableBytesView))
    } catch {
        context.logger.warning("refused a webhook", metadata: ["reason": "\(error)"])
        return .unauthorized
    }
    // `.event` is StableGate's own event envelope (`type`, `data`): not used by this shop.
    guard case .payment(let payment) = delivery, payment.isConfirmed, let order = payment.orderId else { return .ok }
    // The money against the order (this shop prices every order at 25.99 USD, step 1; look
    // yours up by `order`): amount_cents + currency for a fiat price, amount_coins + coin_symbol
    // (exact decimal strings) for a price in a stable coin.
    let paid =
        payment.amountCents != nil
        ? payment.amountCents == 2599 && payment.currency == .usd
        : Decimal(string: payment.amountCoins) == Decimal(string: "25.99") && payment.coinSymbol == "USDT"
    guard paid else {
        context.logger.error(
            "payment does not match the order", metadata: ["order": "\(order)", "paid": "\(payment.amountCoins) \(payment.coinSymbol)"])
        return .ok
    }
    // The same payment may be delivered more than once: credit it once.
    if await credited.insert(payment.allScaleTransactionId) {
        context.logger.info(
            "paid", metadata: ["order": "\(order)", "amount": "\(payment.amountCoins) \(payment.coinSymbol)", "tx": "\(payment.txHash)"])
        // mark the order paid
    }
    return .ok
}

// 4. Status: when the shopper comes back (or a webhook was missed), ask.
router.get("/orders/:order/checkout/:intent") { _, context -> String in
    let intent = try await allscale.checkoutIntent(id: try context.parameters.require("intent"))
    return "\(intent.status.name ?? "UNKNOWN"): paid \(intent.actualPaidAmount ?? "0") \(intent.coinSymbol)"
}

let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 3000)))
try await app.runService()
