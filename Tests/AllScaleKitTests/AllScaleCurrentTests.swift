import AllScaleKit
import Foundation
import StableGateDomain
import Synchronization
import Testing

/// The current edition of the contract (docs/WIRE-CONTRACT.md): the status enum (§6.1), webhook
/// signatures and both body formats (§7), and signed responses (§8), against
/// Tests/Fixtures/allscale-current-vectors.json (computed with Python's hashlib/hmac/base64;
/// the server's tests read the same file).
@Suite("AllScaleKit: current edition — statuses, AllScale webhooks, signed responses")
struct AllScaleCurrentTests {
    struct Vectors: Decodable {
        struct Webhook: Decodable, CustomTestStringConvertible {
            let name, url, path, query, webhookId, timestamp, nonce, body, bodySha256, canonical, signature: String
            var testDescription: String { name }
            enum CodingKeys: String, CodingKey {
                case name, url, path, query, webhookId = "webhook_id", timestamp, nonce, body, bodySha256 = "body_sha256", canonical, signature
            }
        }
        struct Response: Decodable, CustomTestStringConvertible {
            let name: String
            let status: Int
            let path, requestNonce, requestBody, requestBodySha256, timestamp, nonce, body, bodySha256, canonical, signature: String
            var testDescription: String { name }
            enum CodingKeys: String, CodingKey {
                case name, status, path, requestNonce = "request_nonce", requestBody = "request_body", requestBodySha256 = "request_body_sha256"
                case timestamp, nonce, body, bodySha256 = "body_sha256", canonical, signature
            }

            /// The response as the client receives it, with the four signature headers.
            var transportResponse: TransportResponse {
                TransportResponse(
                    status: status,
                    headers: [
                        ("Content-Type", "application/json"), ("X-Response-Timestamp", timestamp), ("X-Response-Nonce", nonce),
                        ("X-Response-Signature", signature), ("X-Request-Nonce", requestNonce), ("X-Request-Id", "req"),
                    ], body: Array(body.utf8))
            }
        }
        let secret: String
        let webhooks: [Webhook]
        let responses: [Response]
    }

    static let fixture: Vectors = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
            "Fixtures/allscale-current-vectors.json")
        return try! JSONDecoder().decode(Vectors.self, from: Data(contentsOf: url))
    }()

    static let apiKey = "sgk_current"

    /// A verifier for the fixture's secret whose clock reads `now`.
    static func verifier(secret: String = fixture.secret, webhookId: String? = nil, now: Date = Date()) -> WebhookVerifier {
        var verifier = WebhookVerifier(apiKey: apiKey, apiSecret: secret, webhookId: webhookId)
        verifier.now = { now }
        return verifier
    }

    static func headers(of vector: Vectors.Webhook) -> [(String, String)] {
        [
            ("x-api-key", apiKey), ("X-WEBHOOK-ID", vector.webhookId), ("x-webhook-timestamp", vector.timestamp), ("X-Webhook-Nonce", vector.nonce),
            ("x-webhook-signature", vector.signature), ("content-type", "application/json"),
        ]
    }

    static func vector(_ prefix: String) -> Vectors.Webhook { fixture.webhooks.first { $0.name.hasPrefix(prefix) }! }

    /// Verifies the committed webhook vector whose name starts with `prefix`, delivered to
    /// `path` and `query`, with a verifier (pinned to `webhookId`) whose clock reads `time`.
    static func deliver(
        _ prefix: String, to path: String, query: String = "", webhookId: String? = nil, at time: TimeInterval
    ) async throws -> VerifiedWebhook {
        let vector = vector(prefix)
        return try await verifier(webhookId: webhookId, now: Date(timeIntervalSince1970: time))
            .verify(path: path, query: query, headers: headers(of: vector), body: Array(vector.body.utf8))
    }

    // MARK: Statuses (docs/WIRE-CONTRACT.md §6.1)

    @Test("Statuses of the current edition: values, names, PAYING alias VIEWED, terminal set, lookup by name")
    func statuses() {
        #expect(AllScaleKit.CheckoutStatus.known.map(\.rawValue) == [-5, -4, -3, -2, -1, 1, 2, 3, 4, 5, 10, 20])
        #expect(
            AllScaleKit.CheckoutStatus.known.compactMap(\.name) == [
                "TIMEOUT", "CANCELED", "UNDERPAID", "REJECTED", "FAILED", "CREATED", "PAYING", "TEMP_WALLET_RECEIVED", "PENDING_MANUAL_OPERATION",
                "SEND_BACK", "ON_CHAIN", "CONFIRMED",
            ])
        #expect(AllScaleKit.CheckoutStatus.viewed == .paying && AllScaleKit.CheckoutStatus.names[2] == "PAYING")
        #expect(
            AllScaleKit.CheckoutStatus.timeout.rawValue == -5 && AllScaleKit.CheckoutStatus.pendingManualOperation.rawValue == 4
                && AllScaleKit.CheckoutStatus.sendBack.rawValue == 5)
        #expect(AllScaleKit.CheckoutStatus.known.filter(\.isTerminal) == [.timeout, .canceled, .underpaid, .rejected, .failed, .confirmed])
        #expect(AllScaleKit.CheckoutStatus(rawValue: -9).isTerminal, "any negative value ends an intent")
        for status in AllScaleKit.CheckoutStatus.known {
            #expect(AllScaleKit.CheckoutStatus(name: status.name!) == status)
            #expect(AllScaleKit.CheckoutStatus(name: status.name!.lowercased()) == status)
        }
        #expect(
            AllScaleKit.CheckoutStatus(name: "PAYING") == .paying && AllScaleKit.CheckoutStatus(name: "VIEWED") == .paying
                && AllScaleKit.CheckoutStatus(name: "Viewed") == .paying)
        #expect(
            AllScaleKit.CheckoutStatus(name: "pending_manual_operation") == .pendingManualOperation
                && AllScaleKit.CheckoutStatus(name: "send_back") == .sendBack)
        #expect(AllScaleKit.CheckoutStatus(name: "DONE") == nil && AllScaleKit.CheckoutStatus(name: "") == nil)
    }

    @Test("Status names look up as the server's do (PAYING and VIEWED included)")
    func statusLookupMatchesTheServer() {
        for name in StableGateDomain.CheckoutStatus.allCases.map(\.name) + ["VIEWED", "viewed", "paying", "Timeout", "NOPE"] {
            #expect(AllScaleKit.CheckoutStatus(name: name)?.rawValue == StableGateDomain.CheckoutStatus(name: name)?.rawValue, "\(name)")
        }
    }

    // MARK: Webhook vectors (docs/WIRE-CONTRACT.md §7.2, §7.6)

    @Test("Webhook canonical string and signature match the Python vectors byte for byte", arguments: fixture.webhooks)
    func webhookVectors(vector: Vectors.Webhook) {
        let split = WebhookSigner.pathAndQuery(ofURL: vector.url)
        #expect(split.path == vector.path && split.query == vector.query, "PATH and QUERY cut from the URL as written")
        #expect(RequestSigner.sha256Hex(Array(vector.body.utf8)) == vector.bodySha256)
        let canonical = WebhookSigner.canonicalString(
            path: vector.path, query: vector.query, webhookId: vector.webhookId, timestamp: vector.timestamp, nonce: vector.nonce,
            body: Array(vector.body.utf8))
        #expect(Array(canonical.utf8) == Array(vector.canonical.utf8))
        #expect(WebhookSigner.signature(canonical: canonical, secret: Self.fixture.secret) == vector.signature)
        let headers = WebhookSigner.headers(
            path: vector.path, query: vector.query, webhookId: vector.webhookId, body: Array(vector.body.utf8), apiKey: Self.apiKey,
            secret: Self.fixture.secret, timestamp: Date(timeIntervalSince1970: TimeInterval(vector.timestamp)!), nonce: vector.nonce)
        #expect(headers.map(\.name) == ["X-API-Key", "X-Webhook-Id", "X-Webhook-Timestamp", "X-Webhook-Nonce", "X-Webhook-Signature"])
        #expect(headers.map(\.value) == [Self.apiKey, vector.webhookId, vector.timestamp, vector.nonce, vector.signature])
    }

    @Test("Every webhook vector verifies (at its own time) and decodes in its format", arguments: fixture.webhooks)
    func webhookVectorsVerify(vector: Vectors.Webhook) async throws {
        let verifier = Self.verifier(webhookId: vector.webhookId, now: Date(timeIntervalSince1970: TimeInterval(vector.timestamp)! + 299))
        let delivery = try await verifier.verify(
            path: vector.path, query: vector.query, headers: Self.headers(of: vector), body: Array(vector.body.utf8))
        #expect(delivery.webhookId == vector.webhookId)
        switch delivery {
        case .payment(let payment): #expect(!vector.name.contains("envelope") && payment.isConfirmed)
        case .event(let event): #expect(vector.name.contains("envelope") && event.type == "checkout_intent.confirmed")
        }
    }

    @Test("URL splitting keeps the text as written")
    func pathAndQuery() {
        #expect(WebhookSigner.pathAndQuery(ofURL: "https://shop.example") == ("/", ""))
        #expect(WebhookSigner.pathAndQuery(ofURL: "https://shop.example/") == ("/", ""))
        #expect(WebhookSigner.pathAndQuery(ofURL: "https://shop.example:8443/a%2Fb?x=%20&y#frag") == ("/a%2Fb", "x=%20&y"))
        #expect(WebhookSigner.pathAndQuery(ofURL: "https://shop.example/hooks?") == ("/hooks", ""))
        #expect(WebhookSigner.pathAndQuery(ofURL: "/hooks/allscale?store=7") == ("/hooks/allscale", "store=7"))
        #expect(
            WebhookSigner.canonicalString(path: "", query: "", webhookId: "w", timestamp: "1", nonce: "n", body: []).split(separator: "\n")[2] == "/")
    }

    // MARK: Decoding (docs/WIRE-CONTRACT.md §7.3, §7.4)

    @Test("An AllScale-format delivery decodes with exact member values (fiat, no status member)")
    func decodesFiatPayment() async throws {
        let delivery = try await Self.deliver("WooCommerce", to: "/wc-api/allscale_checkout", at: 1_767_225_700)
        let payment = try #require(delivery.payment, "not decoded as a payment: \(delivery)")
        #expect(
            payment
                == AllScaleCheckoutWebhook(
                    allScaleTransactionId: "6a7b1c2d3e4f5a6b7c8d9e0f", allScaleCheckoutIntentId: "6a7b1c2d3e4f5a6b7c8d9e01",
                    webhookId: "wh_5f2c8a91d3b7e604",
                    amountCents: 2599, currency: .usd, currencySymbol: "USD", amountCoins: "25.99", coinSymbol: "USDT",
                    coinContractAddress: "0xdAC17F958D2ee523a2206206994597C13D831ec7", chainId: 1,
                    txHash: "0x3f1d9a6c2b8e4f7a0c5d1e9b6a3f8c2d7e4b1a9f6c3d8e2b5a7f0c4d9e1b6a3f",
                    txFrom: "0x8ba1f109551bD432803012645Ac136ddd64DBA72",
                    paymentMethodType: .walletScan, orderId: "wc_1042", userId: "17", userName: "alice", extraObj: nil, status: nil))
        #expect(payment.status == nil && payment.isConfirmed, "no status member means confirmed")
    }

    @Test("Native stable-coin pricing: fiat members null, amount an exact string, extra_obj an object, status 20")
    func decodesCoinPayment() async throws {
        let delivery = try await Self.deliver(
            "query kept", to: "/hooks/allscale", query: "store=7&v=2", webhookId: "wh_5f2c8a91d3b7e604", at: 1_767_225_701)
        let payment = try #require(delivery.payment, "not decoded as a payment: \(delivery)")
        #expect(payment.amountCents == nil && payment.currency == nil && payment.currencySymbol == nil)
        #expect(
            payment.amountCoins == "12.50" && payment.coinSymbol == "USDC" && payment.chainId == 8453 && payment.paymentMethodType == .walletConnect)
        #expect(
            payment.coinContractAddress == "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913" && payment.allScaleTransactionId == "6a7b1c2d3e4f5a6b7c8d9e10"
        )
        #expect(payment.orderId == "A-7" && payment.userId == nil && payment.userName == nil)
        #expect(payment.extraObj?["cart"] == .string("A-7") && payment.extraObj?["items"] == .array([.number("1"), .number("2")]))
        #expect(payment.extraObj?["gift"] == .bool(true))
        #expect(payment.status == .confirmed && payment.isConfirmed)
    }

    @Test("Non-ASCII text and percent-encoded URLs verify as sent")
    func nonASCIIAndPercentEncoding() async throws {
        let unicode = Self.vector("non-ASCII")
        guard
            case .payment(let payment) = try await Self.verifier(now: Date(timeIntervalSince1970: 1_767_225_703))
                .verify(path: "/notify", headers: Self.headers(of: unicode), body: Array(unicode.body.utf8))
        else {
            Issue.record("not a payment")
            return
        }
        #expect(payment.userName == "Zoë Ålander" && payment.orderId == "订单-42" && payment.extraObj?["note"] == .string("支付成功 💸"))

        let encoded = Self.vector("percent-encoded")
        let verifier = Self.verifier(now: Date(timeIntervalSince1970: 1_767_225_702))
        // The decoded path is not what was signed.
        await #expect(throws: WebhookVerifier.Failure.badSignature) {
            try await verifier.verify(
                path: "/hooks/all scale/café", query: "tenant=eu-west&x=~", headers: Self.headers(of: encoded), body: Array(encoded.body.utf8))
        }
        guard
            case .payment(let euro) = try await verifier.verify(
                path: "/hooks/all%20scale/caf%C3%A9", query: "tenant=eu%2Dwest&x=%7E", headers: Self.headers(of: encoded),
                body: Array(encoded.body.utf8))
        else {
            Issue.record("not a payment")
            return
        }
        #expect(euro.currency == .eur && euro.amountCents == 1000 && euro.amountCoins == "11.726079" && euro.paymentMethodType == .allScalePay)
    }

    @Test("StableGate's event envelope decodes as an event, with its webhook_id and intent")
    func decodesEnvelope() async throws {
        let delivery = try await Self.deliver(
            "StableGate event envelope", to: "/hooks/allscale", query: "store=7&v=2", webhookId: "wh_5f2c8a91d3b7e604", at: 1_767_225_705)
        let event = try #require(delivery.event, "not decoded as an event: \(delivery)")
        #expect(
            event.eventId == "evt_6a7b1c2d3e4f5a6b7c8d9e14" && event.type == "checkout_intent.confirmed" && event.webhookId == "wh_5f2c8a91d3b7e604")
        #expect(event.intent?.status == .confirmed && event.intent?.amountCoins == "25.99" && event.intent?.orderId == "wc_1042")
    }

    // MARK: Refusals (docs/WIRE-CONTRACT.md §7.6)

    static let webhookId = "wh_5f2c8a91d3b7e604"

    /// A fresh AllScale-format body (optionally with other members).
    static func paymentBody(webhookId: String = webhookId, status: String? = nil, amountCoins: String = #""25.99""#) -> String {
        #"{"all_scale_transaction_id":"tx-1","all_scale_checkout_intent_id":"ci-1","webhook_id":"\#(webhookId)","amount_cents":null,"currency":null,"currency_symbol":null,"amount_coins":\#(amountCoins),"coin_symbol":"USDT","coin_contract_address":"0xdAC17F958D2ee523a2206206994597C13D831ec7","chain_id":1,"tx_hash":"0xabc","tx_from":"0xdef","payment_method_type":1,"order_id":"o-1","user_id":null,"user_name":null,"extra_obj":null"#
            + (status.map { #","status":\#($0)"# } ?? "") + "}"
    }

    static func signed(
        _ body: String, secret: String = fixture.secret, webhookId: String = webhookId, path: String = "/hooks", query: String = "",
        at: Date = Date(),
        nonce: String = UUID().uuidString
    ) -> [(String, String)] {
        WebhookSigner.headers(
            path: path, query: query, webhookId: webhookId, body: Array(body.utf8), apiKey: apiKey, secret: secret, timestamp: at, nonce: nonce
        )
        .map { ($0.name, $0.value) }
    }

    @Test("Refused: tampered body, other path or query, wrong secret, unknown key, stale timestamp, replay, every missing header")
    func refusals() async throws {
        let body = Self.paymentBody(), bytes = Array(body.utf8)
        let verifier = Self.verifier()
        let headers = Self.signed(body, nonce: "n-1")
        #expect(try await verifier.verify(path: "/hooks", headers: headers, body: bytes).webhookId == Self.webhookId)
        await #expect(throws: WebhookVerifier.Failure.replayedNonce) {
            try await verifier.verify(path: "/hooks", headers: headers, body: bytes)
        }
        await #expect(throws: WebhookVerifier.Failure.badSignature) {
            try await verifier.verify(
                path: "/hooks", headers: Self.signed(body), body: Array(body.replacingOccurrences(of: "25.99", with: "2599.00").utf8))
        }
        await #expect(throws: WebhookVerifier.Failure.badSignature) {
            try await verifier.verify(path: "/other", headers: Self.signed(body), body: bytes)
        }
        await #expect(throws: WebhookVerifier.Failure.badSignature) {
            try await verifier.verify(path: "/hooks", query: "store=8", headers: Self.signed(body), body: bytes)
        }
        await #expect(throws: WebhookVerifier.Failure.badSignature) {
            try await verifier.verify(path: "/hooks", headers: Self.signed(body, secret: "sgs_wrong"), body: bytes)
        }
        await #expect(throws: WebhookVerifier.Failure.badSignature, "the webhook id is signed") {
            let forged = Self.signed(body).map { $0.0 == "X-Webhook-Id" ? ($0.0, "wh_other") : $0 }
            _ = try await verifier.verify(path: "/hooks", headers: forged, body: bytes)
        }
        await #expect(throws: WebhookVerifier.Failure.unknownKey("sgk_other")) {
            let other = Self.signed(body).map { $0.0 == "X-API-Key" ? ($0.0, "sgk_other") : $0 }
            _ = try await verifier.verify(path: "/hooks", headers: other, body: bytes)
        }
        let old = Date().addingTimeInterval(-301)
        await #expect(throws: WebhookVerifier.Failure.staleTimestamp(String(Int64(old.timeIntervalSince1970)))) {
            try await verifier.verify(path: "/hooks", headers: Self.signed(body, at: old), body: bytes)
        }
        let future = Date().addingTimeInterval(400)
        await #expect(throws: WebhookVerifier.Failure.staleTimestamp(String(Int64(future.timeIntervalSince1970)))) {
            try await verifier.verify(path: "/hooks", headers: Self.signed(body, at: future), body: bytes)
        }
        for name in ["X-API-Key", "X-Webhook-Id", "X-Webhook-Timestamp", "X-Webhook-Nonce", "X-Webhook-Signature"] {
            await #expect(throws: WebhookVerifier.Failure.missingHeader(name)) {
                try await verifier.verify(path: "/hooks", headers: Self.signed(body).filter { $0.0 != name }, body: bytes)
            }
            await #expect(throws: WebhookVerifier.Failure.missingHeader(name), "an empty header is missing") {
                try await verifier.verify(path: "/hooks", headers: Self.signed(body).map { $0.0 == name ? ($0.0, "") : $0 }, body: bytes)
            }
        }
        // A refused delivery did not spend its nonce; a good one with it is accepted once.
        await #expect(throws: WebhookVerifier.Failure.badSignature) {
            try await verifier.verify(path: "/hooks", headers: Self.signed(body, secret: "sgs_wrong", nonce: "n-2"), body: bytes)
        }
        _ = try await verifier.verify(path: "/hooks", headers: Self.signed(body, nonce: "n-2"), body: bytes)
    }

    @Test("A replayed nonce stays refused for 10 minutes, after the timestamp window too")
    func nonceRetention() async throws {
        let body = Self.paymentBody(), bytes = Array(body.utf8)
        let store = RecordingNonceStore()
        let start = Date()
        var verifier = WebhookVerifier(apiKey: Self.apiKey, apiSecret: Self.fixture.secret, nonces: store)
        verifier.now = { start }
        _ = try await verifier.verify(path: "/hooks", headers: Self.signed(body, at: start.addingTimeInterval(-250), nonce: "n-keep"), body: bytes)
        let kept = try #require(store.expiries.withLock { $0["n-keep"] })
        #expect(kept.timeIntervalSince(start) >= 600 - 1, "kept at least nonceRetention (10 min) from now")
        _ = try await verifier.verify(path: "/hooks", headers: Self.signed(body, at: start.addingTimeInterval(290), nonce: "n-late"), body: bytes)
        let late = try #require(store.expiries.withLock { $0["n-late"] })
        #expect(
            late.timeIntervalSince(start) >= 290 + 300 - 1 && late.timeIntervalSince(start) >= 600 - 1, "and until its timestamp leaves the window")
    }

    @Test("A pinned webhook id refuses other endpoints' deliveries; the body's webhook_id must equal the header")
    func webhookIds() async throws {
        let pinned = Self.verifier(webhookId: Self.webhookId)
        let other = Self.paymentBody(webhookId: "wh_other")
        await #expect(throws: WebhookVerifier.Failure.wrongWebhookId("wh_other")) {
            try await pinned.verify(path: "/hooks", headers: Self.signed(other, webhookId: "wh_other"), body: Array(other.utf8))
        }
        let mismatched = Self.paymentBody(webhookId: "wh_body")
        await #expect(throws: WebhookVerifier.Failure.wrongWebhookId("wh_body")) {
            try await pinned.verify(path: "/hooks", headers: Self.signed(mismatched), body: Array(mismatched.utf8))
        }
        await #expect(throws: WebhookVerifier.Failure.wrongWebhookId("wh_body"), "also without a pin") {
            try await Self.verifier().verify(path: "/hooks", headers: Self.signed(mismatched), body: Array(mismatched.utf8))
        }
        // An envelope whose webhook_id differs from the header, too.
        let envelope = #"{"event_id":"evt_1","type":"webhook.test","created_at":"2026-11-21T08:00:00.000Z","webhook_id":"wh_body","data":{}}"#
        await #expect(throws: WebhookVerifier.Failure.wrongWebhookId("wh_body")) {
            try await Self.verifier().verify(path: "/hooks", headers: Self.signed(envelope), body: Array(envelope.utf8))
        }
        // Several pinned ids (two endpoints, or a rotation).
        var both = Self.verifier()
        both.webhookIds = [Self.webhookId, "wh_other"]
        #expect(
            try await both.verify(path: "/hooks", headers: Self.signed(other, webhookId: "wh_other"), body: Array(other.utf8)).webhookId == "wh_other"
        )
        let third = Self.paymentBody(webhookId: "wh_third")
        await #expect(throws: WebhookVerifier.Failure.wrongWebhookId("wh_third")) {
            try await both.verify(path: "/hooks", headers: Self.signed(third, webhookId: "wh_third"), body: Array(third.utf8))
        }
    }

    @Test("Signed bodies of the wrong shape are malformed; a status other than CONFIRMED is surfaced, not confirmed")
    func bodyShapes() async throws {
        let verifier = Self.verifier()
        for (body, reason) in [
            (Self.paymentBody(amountCoins: "25.99"), "amount_coins"),  // a JSON number, not a decimal string
            (#"{"webhook_id":"wh_5f2c8a91d3b7e604","order_id":"o-1"}"#, "all_scale_transaction_id"),
            ("[1,2]", "not a JSON object"),
            ("not json", "not a JSON object"),
        ] {
            do {
                _ = try await verifier.verify(path: "/hooks", headers: Self.signed(body), body: Array(body.utf8))
                Issue.record("accepted \(body)")
            } catch {
                guard case .malformedBody(let text) = error else {
                    Issue.record("\(error)")
                    continue
                }
                #expect(text.contains(reason), "\(text)")
            }
        }
        let pending = Self.paymentBody(status: "10")
        guard case .payment(let payment) = try await verifier.verify(path: "/hooks", headers: Self.signed(pending), body: Array(pending.utf8)) else {
            Issue.record("not a payment")
            return
        }
        #expect(payment.status == .onChain && !payment.isConfirmed)
    }

    @Test("The model encodes AllScale's members, nulls included, status only when set")
    func encodesAllScaleMembers() throws {
        let vector = Self.vector("WooCommerce")
        let decoded = try JSONDecoder().decode(AllScaleCheckoutWebhook.self, from: Data(vector.body.utf8))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let object = try #require(JSONSerialization.jsonObject(with: encoder.encode(decoded)) as? [String: Any])
        let original = try #require(JSONSerialization.jsonObject(with: Data(vector.body.utf8)) as? [String: Any])
        #expect(Set(object.keys) == Set(original.keys) && object["status"] == nil)
        #expect(object["extra_obj"] is NSNull && object["amount_coins"] as? String == "25.99")
        #expect(try JSONDecoder().decode(AllScaleCheckoutWebhook.self, from: encoder.encode(decoded)) == decoded)
    }

    // MARK: Signed responses (docs/WIRE-CONTRACT.md §8)

    @Test("Response canonical string and signature match the Python vectors; each vector verifies", arguments: fixture.responses)
    func responseVectors(vector: Vectors.Response) throws {
        #expect(RequestSigner.sha256Hex(Array(vector.requestBody.utf8)) == vector.requestBodySha256)
        #expect(RequestSigner.sha256Hex(Array(vector.body.utf8)) == vector.bodySha256)
        let canonical = ResponseSigner.canonicalString(
            status: vector.status, requestPath: vector.path, requestNonce: vector.requestNonce, requestBody: Array(vector.requestBody.utf8),
            timestamp: vector.timestamp, nonce: vector.nonce, body: Array(vector.body.utf8))
        #expect(Array(canonical.utf8) == Array(vector.canonical.utf8))
        #expect(ResponseSigner.signature(canonical: canonical, secret: Self.fixture.secret) == vector.signature)
        let headers = ResponseSigner.headers(
            status: vector.status, requestPath: vector.path, requestNonce: vector.requestNonce, requestBody: Array(vector.requestBody.utf8),
            body: Array(vector.body.utf8), secret: Self.fixture.secret, timestamp: Date(timeIntervalSince1970: TimeInterval(vector.timestamp)!),
            nonce: vector.nonce)
        #expect(headers.map(\.value) == [vector.timestamp, vector.nonce, vector.signature, vector.requestNonce])
        try ResponseSigner.verify(
            vector.transportResponse, requestPath: vector.path, requestNonce: vector.requestNonce, requestBody: Array(vector.requestBody.utf8),
            secret: Self.fixture.secret)
    }

    /// The `AllScaleError` a verification throws, nil when it passes.
    static func failure(
        _ response: TransportResponse, path: String, nonce: String, requestBody: String, secret: String = fixture.secret
    ) -> AllScaleError? {
        do {
            try ResponseSigner.verify(response, requestPath: path, requestNonce: nonce, requestBody: Array(requestBody.utf8), secret: secret)
            return nil
        } catch {
            return error
        }
    }

    static func isBadSignature(_ error: AllScaleError?) -> Bool { if case .badResponseSignature = error { true } else { false } }
    static func passes(_ error: AllScaleError?) -> Bool { if case .none = error { true } else { false } }

    @Test(
        "A response with a tampered body, status, nonce, path, request body or secret, or a missing header, is refused", arguments: fixture.responses)
    func responseTampering(vector: Vectors.Response) {
        let good = vector.transportResponse, body = vector.requestBody
        #expect(Self.passes(Self.failure(good, path: vector.path, nonce: vector.requestNonce, requestBody: body)))

        var tampered = good
        tampered.body = Array(vector.body.replacingOccurrences(of: "req_", with: "rex_").utf8)
        #expect(Self.isBadSignature(Self.failure(tampered, path: vector.path, nonce: vector.requestNonce, requestBody: body)), "body")
        tampered = good
        tampered.status = vector.status == 200 ? 201 : 200
        #expect(Self.isBadSignature(Self.failure(tampered, path: vector.path, nonce: vector.requestNonce, requestBody: body)), "status")
        tampered = good
        tampered.headers = good.headers.map { $0.name == "X-Response-Nonce" ? ($0.name, "rn-other") : $0 }
        #expect(Self.isBadSignature(Self.failure(tampered, path: vector.path, nonce: vector.requestNonce, requestBody: body)), "response nonce")
        tampered = good
        tampered.headers = good.headers.map { $0.name == "X-Response-Timestamp" ? ($0.name, "1767229999") : $0 }
        #expect(Self.isBadSignature(Self.failure(tampered, path: vector.path, nonce: vector.requestNonce, requestBody: body)), "timestamp")
        // Another request's answer: its nonce echoed, or ours echoed over its signature.
        #expect(Self.isBadSignature(Self.failure(good, path: vector.path, nonce: "n-mine", requestBody: body)), "request nonce")
        tampered = good
        tampered.headers = good.headers.map { $0.name == "X-Request-Nonce" ? ($0.name, "n-mine") : $0 }
        #expect(Self.isBadSignature(Self.failure(tampered, path: vector.path, nonce: "n-mine", requestBody: body)), "request nonce echoed")
        #expect(Self.isBadSignature(Self.failure(good, path: vector.path + "x", nonce: vector.requestNonce, requestBody: body)), "path")
        #expect(Self.isBadSignature(Self.failure(good, path: vector.path, nonce: vector.requestNonce, requestBody: body + " ")), "request body")
        #expect(
            Self.isBadSignature(Self.failure(good, path: vector.path, nonce: vector.requestNonce, requestBody: body, secret: "sgs_wrong")), "secret")
        for name in ["X-Response-Timestamp", "X-Response-Nonce", "X-Response-Signature", "X-Request-Nonce"] {
            tampered = good
            tampered.headers = good.headers.filter { $0.name != name }
            let error = Self.failure(tampered, path: vector.path, nonce: vector.requestNonce, requestBody: body)
            guard case .unsignedResponse(let status, let reason) = error else {
                Issue.record("missing \(name): \(String(describing: error))")
                continue
            }
            #expect(status == vector.status && reason.contains(name))
        }
        // Header names are matched case-insensitively.
        tampered = good
        tampered.headers = good.headers.map { ($0.name.lowercased(), $0.value) }
        #expect(Self.passes(Self.failure(tampered, path: vector.path, nonce: vector.requestNonce, requestBody: body)))
    }

    // MARK: Signed responses in the client (docs/WIRE-CONTRACT.md §8; scripted transport; the live path is tested against a gateway)

    /// Answers every request through `answer`, signing the answer as a server would when `sign`
    /// says so (with the request's own path, nonce and body), and records the requests.
    final class SigningTransport: AllScaleTransport {
        let secret: String
        let answer: @Sendable (TransportRequest) -> (status: Int, body: String, sign: Bool, tamper: Bool)
        let sent = Mutex<[TransportRequest]>([])
        init(secret: String, answer: @escaping @Sendable (TransportRequest) -> (status: Int, body: String, sign: Bool, tamper: Bool)) {
            self.secret = secret
            self.answer = answer
        }

        func send(_ request: TransportRequest, timeout: Duration) async throws -> TransportResponse {
            sent.withLock { $0.append(request) }
            let (status, body, sign, tamper) = answer(request)
            var headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
            if sign {
                let nonce = request.headers.first { $0.name == "X-Nonce" }!.value
                headers += ResponseSigner.headers(
                    status: status, requestPath: WebhookSigner.pathAndQuery(ofURL: request.url).path, requestNonce: nonce, requestBody: request.body,
                    body: Array(body.utf8), secret: secret, timestamp: Date())
            }
            return TransportResponse(
                status: status, headers: headers, body: Array((tamper ? body.replacingOccurrences(of: "12.50", with: "1.25") : body).utf8))
        }
    }

    static func envelope(_ payload: String) -> String { #"{"code":0,"payload":\#(payload),"error":null,"request_id":"req-1"}"# }

    @Test("verifyResponseSignatures: signed answers are returned, unsigned or tampered ones throw; off by default")
    func clientVerifiesResponses() async throws {
        let secret = Self.fixture.secret
        func client(_ transport: SigningTransport, verify: Bool = true) -> AllScaleClient {
            AllScaleClient(
                baseURL: "https://pay.example/", apiKey: "k", apiSecret: secret, transport: transport, clock: AllScaleKitTests.InstantClock(),
                verifyResponseSignatures: verify)
        }
        let signed = SigningTransport(secret: secret) { request in
            request.method == "POST" ? (200, Self.envelope(AllScaleKitTests.created), true, false) : (200, Self.envelope("20"), true, false)
        }
        #expect(try await client(signed).status(id: "6b0f00000000000000000001") == .confirmed)
        let created = try await client(signed).createCheckoutIntent(
            CreateCheckoutIntent(pricing: .stableCoin(.usdt), amountCents: 1250, orderId: "A-1"))
        #expect(created.amountCoins == "12.50")

        // An error envelope that is signed is the API error it says.
        let refused = SigningTransport(secret: secret) { _ in
            (401, #"{"code":20002,"payload":null,"error":{"message":"invalid signature"},"request_id":"req-2"}"#, true, false)
        }
        do {
            try await client(refused).ping()
            Issue.record("a 20002 was taken for success")
        } catch let error as AllScaleError {
            #expect(error.code == 20002)
        }

        let unsigned = SigningTransport(secret: secret) { _ in (200, Self.envelope("20"), false, false) }
        do {
            _ = try await client(unsigned).status(id: "6b0f00000000000000000001")
            Issue.record("an unsigned answer was returned")
        } catch AllScaleError.unsignedResponse(let status, let reason) {
            #expect(status == 200 && reason.contains("X-Response-Signature"))
        }
        #expect(unsigned.sent.withLock { $0.count } == 1, "a 200 without a signature is not retried")
        #expect(try await client(unsigned, verify: false).status(id: "6b0f00000000000000000001") == .confirmed, "off by default: as before")
        #expect(AllScaleClient(baseURL: "https://pay.example", apiKey: "k", apiSecret: "s").verifyResponseSignatures == false)

        let tampered = SigningTransport(secret: secret) { _ in (200, Self.envelope(AllScaleKitTests.created), true, true) }
        do {
            _ = try await client(tampered).createCheckoutIntent(
                CreateCheckoutIntent(pricing: .stableCoin(.usdt), amountCents: 1250), idempotencyKey: "A-2")
            Issue.record("a tampered answer was returned")
        } catch AllScaleError.badResponseSignature(let status, _) {
            #expect(status == 200)
        }
        #expect(tampered.sent.withLock { $0.count } == 1, "a bad signature is never retried")

        let wrongSecret = SigningTransport(secret: "sgs_other") { _ in (200, Self.envelope("20"), true, false) }
        await #expect(throws: AllScaleError.self) { try await client(wrongSecret).status(id: "6b0f00000000000000000001") }

        // An unsigned 502 from a proxy is retried for a GET, then the signed answer is taken.
        let attempts = Counter()
        let flaky = SigningTransport(secret: secret) { _ in
            attempts.next() == 1 ? (502, "<html>Bad Gateway</html>", false, false) : (200, Self.envelope("3"), true, false)
        }
        #expect(try await client(flaky).status(id: "6b0f00000000000000000001") == .tempWalletReceived)
        #expect(flaky.sent.withLock { $0.count } == 2)
    }

    // MARK: The README's receiver

    /// Payments already credited, by `all_scale_transaction_id` (as in the README).
    actor Credited {
        private var ids: Set<String> = []
        func insert(_ id: String) -> Bool { ids.insert(id).inserted }
    }

    enum Outcome: Equatable { case refused, ignored, wrongAmount, credited, duplicate }

    /// The README receiver's steps without Hummingbird: verify (401 when refused), then only a
    /// confirmed payment, the money against the order (2599 USD cents, or 25.99 USDT), dedupe.
    static func receive(
        _ verifier: WebhookVerifier, _ credited: Credited, path: String, query: String, headers: [(String, String)], body: [UInt8]
    ) async -> Outcome {
        let delivery: VerifiedWebhook
        do {
            delivery = try await verifier.verify(path: path, query: query, headers: headers, body: body)
        } catch {
            return .refused
        }
        guard case .payment(let payment) = delivery, payment.isConfirmed, payment.orderId != nil else { return .ignored }
        let paid =
            payment.amountCents != nil
            ? payment.amountCents == 2599 && payment.currency == .usd
            : Decimal(string: payment.amountCoins) == Decimal(string: "25.99") && payment.coinSymbol == "USDT"
        guard paid else { return .wrongAmount }
        return await credited.insert(payment.allScaleTransactionId) ? .credited : .duplicate
    }

    @Test("The README receiver: verify, check the money, dedupe on the transaction id")
    func readmeReceiver() async {
        let credited = Credited()
        let vector = Self.vector("WooCommerce")
        let verifier = Self.verifier(webhookId: vector.webhookId, now: Date(timeIntervalSince1970: 1_767_225_700))
        #expect(
            await Self.receive(verifier, credited, path: vector.path, query: "x=1", headers: Self.headers(of: vector), body: Array(vector.body.utf8))
                == .refused)
        #expect(
            await Self.receive(
                verifier, credited, path: vector.path, query: vector.query, headers: Self.headers(of: vector), body: Array(vector.body.utf8))
                == .credited)
        // The same payment again, with a new nonce (a redelivery): acknowledged, not credited twice.
        let body = vector.body
        let again = WebhookSigner.headers(
            path: vector.path, query: "", webhookId: vector.webhookId, body: Array(body.utf8), apiKey: Self.apiKey, secret: Self.fixture.secret,
            timestamp: Date(timeIntervalSince1970: 1_767_225_700), nonce: "n-redelivery"
        ).map { ($0.name, $0.value) }
        #expect(await Self.receive(verifier, credited, path: vector.path, query: "", headers: again, body: Array(body.utf8)) == .duplicate)
        let coin = Self.paymentBody(webhookId: vector.webhookId, amountCoins: #""25.990""#)
        #expect(
            await Self.receive(Self.verifier(), credited, path: "/hooks", query: "", headers: Self.signed(coin), body: Array(coin.utf8)) == .credited)
        let short = Self.paymentBody(webhookId: vector.webhookId, amountCoins: #""25.98""#)
        #expect(
            await Self.receive(Self.verifier(), credited, path: "/hooks", query: "", headers: Self.signed(short), body: Array(short.utf8))
                == .wrongAmount)
    }
}

/// Counts calls.
final class Counter: Sendable {
    private let count = Mutex(0)
    func next() -> Int {
        count.withLock {
            $0 += 1
            return $0
        }
    }
}

/// Records the expiry asked for each nonce.
final class RecordingNonceStore: NonceStore {
    let expiries = Mutex<[String: Date]>([:])
    func remember(nonce: String, key: String, expiresAt: Date) async -> Bool {
        expiries.withLock { seen in
            guard seen[nonce] == nil else { return false }
            seen[nonce] = expiresAt
            return true
        }
    }
}

extension VerifiedWebhook {
    /// The AllScale-format payment, when the delivery is one.
    var payment: AllScaleCheckoutWebhook? {
        guard case .payment(let payment) = self else { return nil }
        return payment
    }

    /// StableGate's event envelope, when the delivery is one.
    var event: WebhookEvent? {
        guard case .event(let event) = self else { return nil }
        return event
    }
}
