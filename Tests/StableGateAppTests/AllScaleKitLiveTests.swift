import AllScaleKit
import Foundation
import HTTPTypes
import HummingbirdTesting
import StableGateApp
import StableGateDomain
import StableGateStore
import StableGateTestSupport
import Synchronization
import Testing

/// The SDK against a live StableGate on a loopback socket (the same `buildApplication` as
/// `serve`), through its default AsyncHTTPClient transport: every call, the error envelope,
/// idempotency, waiting for a terminal status, and verifying a webhook the gateway really sent.
@Suite("AllScaleKit against a live gateway")
struct AllScaleKitLiveTests {
    static func client(_ harness: GatewayHarness, _ live: any TestClientProtocol, secret: String? = nil) throws -> AllScaleClient {
        AllScaleClient(
            baseURL: "http://127.0.0.1:\(try #require(live.port))/", apiKey: harness.merchant.apiKey, apiSecret: secret ?? harness.merchant.apiSecret)
    }

    @Test("Ping, create in both pricing modes, status and the full GET; errors carry code, message and request id", arguments: Backend.available)
    func calls(backend: Backend) async throws {
        try await GatewayHarness.with(backend, rateProvider: FixedRates([.usd: "1", .eur: "0.8528"])) { harness in
            try await harness.testLive { live in
                let client = try Self.client(harness, live)
                try await client.ping()

                var fiat = CreateCheckoutIntent(pricing: .fiat(.eur), amountCents: 1000, orderId: "SDK-1")
                fiat.acceptedStableCoins = [.usdc]
                fiat.extra = .object([("cart", .string("3 items"))])
                let created = try await client.createCheckoutIntent(fiat)
                #expect(
                    created.stableCoinType == .usdc && created.rate == "0.8528" && created.amountCoins == "11.726079",
                    "10 EUR at 0.8528 EUR per coin, rounded up at 6 decimals")
                #expect(created.checkoutURL == "https://pay.example.test" + (try await harness.checkoutPath(created.id)))
                #expect(try await client.status(id: created.id) == .created)
                let intent = try await client.checkoutIntent(id: created.id)
                #expect(intent.id == created.id && intent.currency == .eur && intent.amountCents == 1000 && intent.currencyRate == "0.8528")
                #expect(intent.orderId == "SDK-1" && intent.extra?["cart"] == .string("3 items") && intent.paymentMethodType == .unknown)

                let coin = try await client.createCheckoutIntent(CreateCheckoutIntent(pricing: .stableCoin(.usdt), amountCents: 1250))
                #expect(coin.rate == nil && coin.amountCoins == "12.50")

                do {
                    _ = try await client.checkoutIntent(id: "0123456789abcdef01234567")
                    Issue.record("an unknown id was found")
                } catch let error as AllScaleError {
                    #expect(error.code == 50001 && error.requestId?.isEmpty == false, "\(error)")
                }
                do {
                    _ = try await client.createCheckoutIntent(CreateCheckoutIntent(pricing: .stableCoin(.usdt), amountCents: 5))
                    Issue.record("0.05 USDT was accepted")
                } catch let error as AllScaleError {
                    #expect(error.code == 50002, "\(error)")
                }
                do {
                    try await Self.client(harness, live, secret: "sgs_wrong").ping()
                    Issue.record("a wrong secret was accepted")
                } catch let error as AllScaleError {
                    #expect(error.code == 20002, "\(error)")
                }
            }
        }
    }

    @Test("An idempotency key makes a repeated create return the first intent")
    func idempotency() async throws {
        try await GatewayHarness.with(.sqlite) { harness in
            try await harness.testLive { live in
                let client = try Self.client(harness, live)
                let request = CreateCheckoutIntent(pricing: .stableCoin(.usdt), amountCents: 2000, orderId: "SDK-IDEM")
                let first = try await client.createCheckoutIntent(request, idempotencyKey: "SDK-IDEM")
                let second = try await client.createCheckoutIntent(request, idempotencyKey: "SDK-IDEM")
                #expect(first.id == second.id)
                let third = try await client.createCheckoutIntent(request)
                #expect(third.id != first.id)
            }
        }
    }

    @Test("waitForTerminalStatus follows the intent until it ends, and gives up at its timeout")
    func waitForTerminal() async throws {
        try await GatewayHarness.with(.sqlite) { harness in
            try await harness.testLive { live in
                let client = try Self.client(harness, live)
                let created = try await client.createCheckoutIntent(CreateCheckoutIntent(pricing: .stableCoin(.usdt), amountCents: 1000))
                do {
                    _ = try await client.waitForTerminalStatus(id: created.id, timeout: .milliseconds(1500))
                    Issue.record("a CREATED intent was reported terminal")
                } catch AllScaleError.timedOut(let last) {
                    #expect(last == .created)
                }
                let seen = SeenStatuses()
                async let ended = client.waitForTerminalStatus(id: created.id, timeout: .seconds(30)) { seen.add($0) }
                // Move it only once the client has seen it CREATED: a fixed pause lost that race
                // when the whole suite loaded the machine.
                let deadline = Date().addingTimeInterval(20)
                while seen.all.isEmpty, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
                try await WebhookTests.move(harness, created.id, to: [.paying, .canceled])
                let intent = try await ended
                #expect(intent.status == .canceled && intent.status.isTerminal)
                #expect(seen.all.first == .created && seen.all.last == .canceled)
            }
        }
    }

    @Test(
        "Signed responses: AllScaleKit verifies every answer of a store that signs them, errors included, and refuses unsigned ones when told to",
        arguments: Backend.available)
    func signedResponses(backend: Backend) async throws {
        try await GatewayHarness.with(backend, configure: { $0.apiKeyCacheTTL = 0 }) { harness in
            try await harness.testLive { live in
                let port = try #require(live.port)
                let verifying = AllScaleClient(
                    baseURL: "http://127.0.0.1:\(port)", apiKey: harness.merchant.apiKey, apiSecret: harness.merchant.apiSecret,
                    retry: .init(maxAttempts: 1), verifyResponseSignatures: true)
                // Off by default: a client that insists refuses the unsigned answer instead of using it.
                await #expect(throws: AllScaleError.self) { try await verifying.ping() }
                do {
                    try await verifying.ping()
                } catch AllScaleError.unsignedResponse(let status, _) {
                    #expect(status == 200)
                }

                var store = try #require(try await harness.environment.merchants.store(id: harness.merchant.storeId))
                store.signedResponses = true
                try await harness.environment.merchants.update(store)
                try await verifying.ping()
                let created = try await verifying.createCheckoutIntent(CreateCheckoutIntent(pricing: .stableCoin(.usdt), amountCents: 1000))
                #expect(try await verifying.status(id: created.id) == .created)
                #expect(try await verifying.checkoutIntent(id: created.id).id == created.id)
                // An error envelope is signed too: the client verifies it, then reports the API error.
                do {
                    _ = try await verifying.checkoutIntent(id: "6a0000000000000000000fff")
                    Issue.record("an unknown intent was found")
                } catch AllScaleError.api(let code, _, _, let status, _) {
                    #expect(code == 50001 && status == 404)
                }
                // Signed with another secret (the server's answer cannot verify): refused, never used.
                let wrongSecret = AllScaleClient(
                    baseURL: "http://127.0.0.1:\(port)", apiKey: harness.merchant.apiKey, apiSecret: harness.merchant.apiSecret + "x",
                    retry: .init(maxAttempts: 1), verifyResponseSignatures: true)
                await #expect(throws: AllScaleError.self) { try await wrongSecret.ping() }
            }
        }
    }

    @Test("WebhookVerifier accepts what the gateway really sends to both URLs, and nothing altered or pinned elsewhere")
    func verifiesRealWebhooks() async throws {
        try await WebhookTests.with(.sqlite, path: "/hooks/allscale?shop=1", endpoint: .allscale) { harness, receiver in
            let store = try await WebhookTests.setWebhook(harness, receiver.url("/hooks/events"), endpoint: .events)
            try await harness.test { client in
                let id = try await WebhookTests.createIntent(harness, client, orderId: "SDK-HOOK")
                try await WebhookTests.move(harness, id, to: [.tempWalletReceived, .onChain, .confirmed], change: WebhookTests.paid)
                try await WebhookTests.deliver(harness, receiver, until: 5)
            }
            let payment = try #require(receiver.received.first { $0.path.hasPrefix("/hooks/allscale") })
            let headers = payment.headers.map { ($0.name.canonicalName, $0.value) }
            let verifier = WebhookVerifier(apiKey: harness.merchant.apiKey, apiSecret: harness.merchant.apiSecret, webhookId: store.webhookId)
            guard
                case .payment(let paid) = try await verifier.verify(
                    path: "/hooks/allscale", query: "shop=1", headers: headers, body: Array(payment.body.utf8))
            else {
                Issue.record("the webhook URL got something other than a payment")
                return
            }
            #expect(
                paid.orderId == "SDK-HOOK" && paid.isConfirmed && paid.amountCoins == "12.50" && paid.amountCents == nil
                    && paid.webhookId == store.webhookId)
            await #expect(throws: WebhookVerifier.Failure.replayedNonce) {
                try await verifier.verify(path: "/hooks/allscale", query: "shop=1", headers: headers, body: Array(payment.body.utf8))
            }
            let fresh = WebhookVerifier(apiKey: harness.merchant.apiKey, apiSecret: harness.merchant.apiSecret)
            await #expect(throws: WebhookVerifier.Failure.badSignature) {
                try await fresh.verify(
                    path: "/hooks/allscale", query: "shop=1", headers: headers,
                    body: Array(payment.body.replacingOccurrences(of: "SDK-HOOK", with: "SDK-HACK").utf8))
            }
            // The events URL's deliveries verify with the same code, and are refused where the payment endpoint's id is pinned.
            let event = try #require(receiver.received.first { $0.path == "/hooks/events" })
            let eventHeaders = event.headers.map { ($0.name.canonicalName, $0.value) }
            guard case .event(let created) = try await fresh.verify(path: "/hooks/events", headers: eventHeaders, body: Array(event.body.utf8)) else {
                Issue.record("the events URL got something other than an event")
                return
            }
            #expect(created.type == "checkout_intent.created" && created.intent?.orderId == "SDK-HOOK" && created.webhookId == store.eventsWebhookId)
            let pinned = WebhookVerifier(apiKey: harness.merchant.apiKey, apiSecret: harness.merchant.apiSecret, webhookId: store.webhookId)
            await #expect(throws: WebhookVerifier.Failure.wrongWebhookId(store.eventsWebhookId ?? "")) {
                try await pinned.verify(path: "/hooks/events", headers: eventHeaders, body: Array(event.body.utf8))
            }
        }
    }
}

/// Statuses reported by `onChange`, in order.
final class SeenStatuses: Sendable {
    private let statuses = Mutex<[AllScaleKit.CheckoutStatus]>([])
    func add(_ status: AllScaleKit.CheckoutStatus) { statuses.withLock { $0.append(status) } }
    var all: [AllScaleKit.CheckoutStatus] { statuses.withLock { $0 } }
}
