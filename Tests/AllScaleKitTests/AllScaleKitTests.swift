import AllScaleKit
import Foundation
import StableGateDomain
import Synchronization
import Testing

/// The SDK on its own: the server's signing vectors, enums against the server's, open enums,
/// and the retry rules (webhooks, statuses and signed responses, docs/WIRE-CONTRACT.md §7, §6.1, §8, are in
/// AllScaleCurrentTests) with a scripted transport (the live tests against
/// a real gateway are in StableGateAppTests/AllScaleKitLiveTests).
@Suite("AllScaleKit: signing, models, retries")
struct AllScaleKitTests {
    struct Vectors: Decodable {
        struct Vector: Decodable, CustomTestStringConvertible {
            let name, method, path, query, timestamp, nonce, body, canonical, signature: String
            var testDescription: String { name }
        }
        let secret: String
        let vectors: [Vector]
    }

    static let fixture: Vectors = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
            "Fixtures/signing-vectors.json")
        return try! JSONDecoder().decode(Vectors.self, from: Data(contentsOf: url))
    }()

    @Test("Signs exactly as the committed vectors (the same file the server's tests use)", arguments: fixture.vectors)
    func signingVectors(vector: Vectors.Vector) {
        let canonical = RequestSigner.canonicalString(
            method: vector.method, path: vector.path, query: vector.query, timestamp: vector.timestamp, nonce: vector.nonce,
            body: Array(vector.body.utf8))
        #expect(canonical == vector.canonical)
        #expect(RequestSigner.signature(canonical: canonical, secret: Self.fixture.secret) == vector.signature)
    }

    @Test("Every coin, status, payment method and currency matches the server's value and name")
    func enumsMatchTheServer() {
        #expect(AllScaleKit.StableCoin.known.map(\.rawValue) == StableGateDomain.StableCoin.allCases.map(\.rawValue))
        #expect(AllScaleKit.StableCoin.known.map(\.name) == StableGateDomain.StableCoin.allCases.map(\.code))
        #expect(AllScaleKit.CheckoutStatus.known.map(\.rawValue) == StableGateDomain.CheckoutStatus.allCases.map(\.rawValue))
        #expect(AllScaleKit.CheckoutStatus.known.map(\.name) == StableGateDomain.CheckoutStatus.allCases.map(\.name))
        #expect(AllScaleKit.CheckoutStatus.known.map(\.isTerminal) == StableGateDomain.CheckoutStatus.allCases.map(\.isTerminal))
        #expect(AllScaleKit.PaymentMethodType.known.map(\.name) == StableGateDomain.PaymentMethodType.allCases.map(\.name))
        #expect(AllScaleKit.FiatCurrency.known.count == 163)
        #expect(AllScaleKit.FiatCurrency.known.map(\.rawValue) == StableGateDomain.FiatCurrency.allCases.map(\.rawValue))
        #expect(AllScaleKit.FiatCurrency.known.map(\.name) == StableGateDomain.FiatCurrency.allCases.map(\.code))
    }

    @Test("A status, coin or payment method this SDK does not know decodes, prints and round-trips")
    func unknownEnumValues() throws {
        let json =
            #"{"all_scale_checkout_intent_id": "6b0f00000000000000000001", "status": 30, "amount_coins": "1.50", "coin_symbol": "EURC", "stable_coin_type": 11, "payment_method_type": 9, "accepted_stable_coins": [1, 11]}"#
        let intent = try JSONDecoder().decode(CheckoutIntent.self, from: Data(json.utf8))
        #expect(intent.status.rawValue == 30 && intent.status.name == nil && !intent.status.isTerminal && intent.status.description == "30 (unknown)")
        #expect(intent.stableCoinType?.rawValue == 11 && intent.paymentMethodType.rawValue == 9)
        #expect(intent.acceptedStableCoins == [.usdt, StableCoin(rawValue: 11)])
        #expect(String(decoding: try JSONEncoder().encode(intent.status), as: UTF8.self) == "30")
    }

    @Test("A create body uses the wire names, both pricing modes, and exact numbers")
    func createBody() {
        var fiat = CreateCheckoutIntent(pricing: .fiat(.eur), amountCents: 1250, orderId: "A-1")
        fiat.acceptedStableCoins = [.usdc, .usdt]
        fiat.extra = .object([("cart", .array([.number("12.50")]))])
        #expect(
            fiat.body().serialized == #"{"currency":44,"amount_cents":1250,"order_id":"A-1","accepted_stable_coins":[2,1],"extra":{"cart":[12.50]}}"#)
        let coin = CreateCheckoutIntent(pricing: .stableCoin(.usdt), amountCents: 99)
        #expect(coin.body().serialized == #"{"stable_coin":1,"amount_cents":99}"#)
    }

    // MARK: Webhooks and signed responses: AllScaleCurrentTests.swift (docs/WIRE-CONTRACT.md §7, §6.1, §8)

    // MARK: Retries

    /// Answers from a script and records what it was sent.
    final class ScriptedTransport: AllScaleTransport {
        let script: Mutex<[Result<TransportResponse, any Error>]>
        let sent = Mutex<[TransportRequest]>([])
        init(_ script: [Result<TransportResponse, any Error>]) { self.script = Mutex(script) }

        func send(_ request: TransportRequest, timeout: Duration) async throws -> TransportResponse {
            sent.withLock { $0.append(request) }
            return try script.withLock { $0.removeFirst() }.get()
        }
    }

    struct InstantClock: AllScaleClock {
        var now: Date { Date() }
        func sleep(for duration: Duration) async throws {}
    }

    struct Refused: Error {}

    static func envelope(
        _ code: Int, _ payload: String = "null", status: Int = 200, headers: [(String, String)] = []
    ) -> Result<TransportResponse, any Error> {
        let error = code == 0 ? "null" : #"{"message":"nope"}"#
        return .success(
            TransportResponse(
                status: status, headers: headers,
                body: Array(#"{"code":\#(code),"payload":\#(payload),"error":\#(error),"request_id":"req-\#(code)"}"#.utf8)))
    }

    static let created =
        #"{"allscale_checkout_intent_id":"6b0f00000000000000000001","checkout_url":"https://pay.example/checkout/6b0f00000000000000000001","amount_coins":"12.50","stable_coin_type":1,"rate":null}"#

    @Test("GETs are retried after network failures and server errors, re-signed each time; client errors are not")
    func getRetries() async throws {
        let transport = ScriptedTransport([.failure(Refused()), Self.envelope(90000, status: 500), Self.envelope(0, "20")])
        let client = AllScaleClient(baseURL: "https://pay.example/", apiKey: "k", apiSecret: "s", transport: transport, clock: InstantClock())
        #expect(try await client.status(id: "6b0f00000000000000000001") == .confirmed)
        let nonces = transport.sent.withLock { $0.map { request in request.headers.first { $0.name == "X-Nonce" }!.value } }
        #expect(nonces.count == 3 && Set(nonces).count == 3, "every attempt is signed with a fresh nonce")
        #expect(transport.sent.withLock { $0[0].url } == "https://pay.example/v1/checkout_intents/6b0f00000000000000000001/status")

        let notFound = ScriptedTransport([Self.envelope(50001, status: 404)])
        do {
            _ = try await AllScaleClient(baseURL: "https://pay.example", apiKey: "k", apiSecret: "s", transport: notFound, clock: InstantClock())
                .checkoutIntent(id: "x")
            Issue.record("a 50001 was taken for success")
        } catch let error as AllScaleError {
            #expect(error.code == 50001 && error.requestId == "req-50001")
        }
        #expect(notFound.sent.withLock { $0.count } == 1)
    }

    @Test("A create is retried only with an idempotency key, which every attempt carries")
    func createRetries() async throws {
        let request = CreateCheckoutIntent(pricing: .stableCoin(.usdt), amountCents: 1250, orderId: "A-1")
        let bare = ScriptedTransport([.failure(Refused()), Self.envelope(0, Self.created)])
        await #expect(throws: AllScaleError.self) {
            try await AllScaleClient(baseURL: "https://pay.example", apiKey: "k", apiSecret: "s", transport: bare, clock: InstantClock())
                .createCheckoutIntent(request)
        }
        #expect(bare.sent.withLock { $0.count } == 1, "without a key a retry could create a second intent")

        let keyed = ScriptedTransport([.failure(Refused()), Self.envelope(0, Self.created)])
        let created = try await AllScaleClient(baseURL: "https://pay.example", apiKey: "k", apiSecret: "s", transport: keyed, clock: InstantClock())
            .createCheckoutIntent(request, idempotencyKey: "A-1")
        #expect(created.id == "6b0f00000000000000000001" && created.amountCoins == "12.50" && created.stableCoinType == .usdt)
        #expect(keyed.sent.withLock { $0.map { r in r.headers.first { $0.name == "Idempotency-Key" }?.value } } == ["A-1", "A-1"])
    }

    @Test("A rate limit waits for Retry-After; an answer that is not an envelope says so")
    func rateLimitAndGarbage() async throws {
        let limited = ScriptedTransport([Self.envelope(40001, status: 429, headers: [("Retry-After", "2")]), Self.envelope(0, #"{"pong":"ok"}"#)])
        try await AllScaleClient(baseURL: "https://pay.example", apiKey: "k", apiSecret: "s", transport: limited, clock: InstantClock()).ping()
        #expect(limited.sent.withLock { $0.count } == 2)
        let proxy = ScriptedTransport([.success(TransportResponse(status: 404, headers: [], body: Array("<html>Not Found</html>".utf8)))])
        do {
            try await AllScaleClient(baseURL: "https://pay.example", apiKey: "k", apiSecret: "s", transport: proxy, clock: InstantClock()).ping()
            Issue.record("an HTML page was taken for success")
        } catch AllScaleError.unexpectedResponse(let status, let excerpt) {
            #expect(status == 404 && excerpt.contains("Not Found"))
        }
    }
}
