import AllScaleKit
import Foundation
import HummingbirdTesting
import StableGateApp
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
        AllScaleClient(baseURL: "http://127.0.0.1:\(try #require(live.port))/", apiKey: harness.merchant.apiKey, apiSecret: secret ?? harness.merchant.apiSecret)
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
                #expect(created.stableCoinType == .usdc && created.rate == "0.8528" && created.amountCoins == "11.726079", "10 EUR at 0.8528 EUR per coin, rounded up at 6 decimals")
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
                try await WebhookTests.move(harness, created.id, to: [.viewed, .canceled])
                let intent = try await ended
                #expect(intent.status == .canceled && intent.status.isTerminal)
                #expect(seen.all.first == .created && seen.all.last == .canceled)
            }
        }
    }

    @Test("WebhookVerifier accepts what the gateway really sends, and nothing altered")
    func verifiesRealWebhooks() async throws {
        try await WebhookTests.with(.sqlite) { harness, receiver in
            try await harness.test { client in
                let id = try await WebhookTests.createIntent(harness, client, orderId: "SDK-HOOK")
                try await WebhookTests.deliver(harness, receiver, until: 1)
            }
            let request = try #require(receiver.received.first)
            let headers = request.headers.map { ($0.name.canonicalName, $0.value) }
            let verifier = WebhookVerifier(apiKey: harness.merchant.apiKey, apiSecret: harness.merchant.apiSecret)
            let event = try await verifier.verify(path: request.path, headers: headers, body: Array(request.body.utf8))
            #expect(event.type == "checkout_intent.created" && event.intent?.orderId == "SDK-HOOK" && event.intent?.status == .created)
            await #expect(throws: WebhookVerifier.Failure.replayedNonce) {
                try await verifier.verify(path: request.path, headers: headers, body: Array(request.body.utf8))
            }
            let fresh = WebhookVerifier(apiKey: harness.merchant.apiKey, apiSecret: harness.merchant.apiSecret)
            await #expect(throws: WebhookVerifier.Failure.badSignature) {
                try await fresh.verify(path: request.path, headers: headers, body: Array(request.body.replacingOccurrences(of: "SDK-HOOK", with: "SDK-HACK").utf8))
            }
        }
    }
}

/// Statuses reported by `onChange`, in order.
final class SeenStatuses: Sendable {
    private let statuses = Mutex<[CheckoutStatus]>([])
    func add(_ status: CheckoutStatus) { statuses.withLock { $0.append(status) } }
    var all: [CheckoutStatus] { statuses.withLock { $0 } }
}
