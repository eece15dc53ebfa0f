import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import StableGateApp
import StableGateDomain
import StableGateStore
import StableGateTestSupport
import Testing

@Suite("Open API v1 endpoints")
struct CheckoutIntentAPITests {
    @Test("Test endpoints: ping, fail and post echo", arguments: Backend.available)
    func testEndpoints(backend: Backend) async throws {
        try await GatewayHarness.withClient(backend) { harness, client in
            let ping = try await client.send(SignedRequest(.get, "/v1/test/ping", as: harness.merchant, at: harness.clock))
            #expect(ping.status == .ok)
            #expect(ping.text.hasPrefix(#"{"code":0,"payload":{"pong":"ok"},"error":null,"request_id":""#))
            let fail = try await client.send(SignedRequest(.get, "/v1/test/fail", as: harness.merchant, at: harness.clock))
            #expect(fail.code == 10001)
            #expect(fail.status == .badRequest)
            #expect(fail.payload == .null)
            let body = #"{"everything": "is_fine", "nested": {"list": [1, 2.50, "Zoë 💸"], "n": null}}"#
            let post = try await client.send(SignedRequest(.post, "/v1/test/post", body: body, as: harness.merchant, at: harness.clock))
            #expect(post.isSuccess)
            #expect(post.payload?["your_request_body"] == (try JSONParser.parse(body)))
            let broken = try await client.send(SignedRequest(.post, "/v1/test/post", body: "{nope", as: harness.merchant, at: harness.clock))
            #expect(broken.code == 10001)
        }
    }

    @Test("Create, status and full GET for a fiat intent, with and without the trailing slash", arguments: Backend.available)
    func fiatLifecycle(backend: Backend) async throws {
        try await GatewayHarness.withClient(backend) { harness, client in
            for path in ["/v1/checkout_intents", "/v1/checkout_intents/"] {
                let body = """
                    {"currency": 44, "amount_cents": 1000, "order_id": "A-1001", "order_description": "Two mugs",
                     "user_id": "u-7", "user_name": "Zoë", "redirect_url": "https://shop.example/return",
                     "extra": {"cart": [1, 2], "coupon": null}}
                    """
                let created = try await client.send(SignedRequest(.post, path, body: body, as: harness.merchant, at: harness.clock))
                #expect(created.isSuccess, "\(created.text)")
                guard case .object(let members)? = created.payload else {
                    Issue.record("no payload")
                    return
                }
                #expect(members.map(\.0) == ["checkout_url", "allscale_checkout_intent_id", "amount_coins", "stable_coin_type", "rate"])
                let id = try #require(created.string("allscale_checkout_intent_id"))
                #expect(ObjectIdFormat.isValid(id))
                #expect(created.string("checkout_url") == "https://pay.example.test" + (try await harness.checkoutPath(id)))
                #expect(created.string("checkout_url")?.contains(id) == false, "the intent id is no part of the public URL")
                #expect(created.string("amount_coins") == "11.726079")  // 10.00 EUR at the snapshot's 0.8528 EUR per USDT
                #expect(created.payload?["stable_coin_type"] == .number("1"))
                #expect(created.string("rate") == "0.8528")

                let status = try await client.send(
                    SignedRequest(.get, "/v1/checkout_intents/\(id)/status", as: harness.merchant, at: harness.clock))
                #expect(status.payload == .number("1"))

                let full = try await client.send(SignedRequest(.get, "/v1/checkout_intents/\(id)", as: harness.merchant, at: harness.clock))
                guard case .object(let fields)? = full.payload else {
                    Issue.record("no payload")
                    return
                }
                #expect(
                    Array(fields.map(\.0).prefix(23)) == [
                        "all_scale_checkout_intent_id", "currency", "currency_symbol", "amount_cents", "chain_id", "amount_coins",
                        "coin_symbol", "coin_contract", "currency_rate", "status", "order_id", "order_description", "user_id",
                        "user_name", "error_message", "tx_hash", "tx_hash_2", "tx_from", "tx_to", "actual_paid_amount",
                        "service_fee_amount", "net_income_amount", "payment_method_type",
                    ])
                let expected: [String: JSONValue] = [
                    "all_scale_checkout_intent_id": .string(id), "currency": .number("44"), "currency_symbol": .string("EUR"),
                    "amount_cents": .number("1000"), "chain_id": .null, "amount_coins": .string("11.726079"),
                    "coin_symbol": .string("USDT"), "coin_contract": .null, "currency_rate": .string("0.8528"), "status": .number("1"),
                    "order_id": .string("A-1001"), "order_description": .string("Two mugs"), "user_id": .string("u-7"),
                    "user_name": .string("Zoë"), "error_message": .null, "tx_hash": .null, "tx_hash_2": .null, "tx_from": .null,
                    "tx_to": .string("0x52908400098527886E0F7030069857D2E4169EE7"), "actual_paid_amount": .null,
                    "service_fee_amount": .null, "net_income_amount": .null, "payment_method_type": .number("0"),
                    "redirect_url": .string("https://shop.example/return"),
                    "extra": try JSONParser.parse(#"{"cart": [1, 2], "coupon": null}"#),
                    "accepted_stable_coins": .array([.number("1")]), "stable_coin_type": .number("1"),
                ]
                for (key, value) in expected {
                    #expect(full.payload?[key] == value, "\(key)")
                }
            }
            #expect(try await harness.intentCount() == 2)
        }
    }

    @Test("Native stable-coin pricing: no FX, fiat fields null; accepted_stable_coins picks USDC", arguments: Backend.available)
    func stableCoinPricing(backend: Backend) async throws {
        try await GatewayHarness.withClient(backend) { harness, client in
            let created = try await client.send(
                SignedRequest(
                    .post, "/v1/checkout_intents/", body: #"{"stable_coin": 2, "amount_cents": 1000}"#, as: harness.merchant, at: harness.clock))
            #expect(created.string("amount_coins") == "10.00")
            #expect(created.payload?["stable_coin_type"] == .number("2"))
            #expect(created.payload?["rate"] == .null)
            let id = try #require(created.string("allscale_checkout_intent_id"))
            let full = try await client.send(SignedRequest(.get, "/v1/checkout_intents/\(id)", as: harness.merchant, at: harness.clock))
            for key in ["currency", "currency_symbol", "amount_cents", "currency_rate"] {
                #expect(full.payload?[key] == .null, "\(key)")
            }
            #expect(full.payload?["coin_symbol"] == .string("USDC"))

            let fiatUSDC = try await client.send(
                SignedRequest(
                    .post, "/v1/checkout_intents", body: #"{"currency": 1, "amount_cents": 2500, "accepted_stable_coins": [2, 1]}"#,
                    as: harness.merchant, at: harness.clock))
            #expect(fiatUSDC.payload?["stable_coin_type"] == .number("2"))
            #expect(fiatUSDC.string("amount_coins") == "25.00")
            #expect(fiatUSDC.string("rate") == "1")
        }
    }

    @Test("Another store's intent is 30001 without its data; unknown is 50001; malformed is 10001", arguments: Backend.available)
    func ownership(backend: Backend) async throws {
        try await GatewayHarness.with(backend) { harness in
            let other = try await harness.otherMerchant()
            try await harness.test { client in
                let created = try await client.send(
                    SignedRequest(
                        .post, "/v1/checkout_intents", body: #"{"stable_coin": 1, "amount_cents": 1000, "order_id": "secret-order"}"#,
                        as: harness.merchant, at: harness.clock))
                let id = try #require(created.string("allscale_checkout_intent_id"))
                for path in ["/v1/checkout_intents/\(id)", "/v1/checkout_intents/\(id)/status"] {
                    let foreign = try await client.send(SignedRequest(.get, path, as: other, at: harness.clock))
                    #expect(foreign.code == 30001)
                    #expect(foreign.status == .forbidden)
                    #expect(foreign.payload == .null)
                    #expect(!foreign.text.contains("secret-order"))
                }
                let unknown = try await client.send(
                    SignedRequest(.get, "/v1/checkout_intents/0123456789abcdef01234567", as: harness.merchant, at: harness.clock))
                #expect(unknown.code == 50001)
                #expect(unknown.status == .notFound)
                let unknownStatus = try await client.send(
                    SignedRequest(.get, "/v1/checkout_intents/0123456789abcdef01234567/status", as: harness.merchant, at: harness.clock))
                #expect(unknownStatus.code == 50001)
                for bad in ["xyz", "0123456789ABCDEF01234567", "0123456789abcdef0123456", "0123456789abcdef012345678", "%27%20OR%201=1--"] {
                    let malformed = try await client.send(SignedRequest(.get, "/v1/checkout_intents/\(bad)", as: harness.merchant, at: harness.clock))
                    #expect(malformed.code == 10001, "\(bad): \(malformed.text)")
                    #expect(malformed.errorField == "checkout_intent_id")
                }
            }
        }
    }

    @Test("Bad create input gets its documented error and writes nothing", arguments: Backend.available)
    func badInput(backend: Backend) async throws {
        try await GatewayHarness.with(
            backend,
            configure: {
                $0.mode = .sandbox
                $0.maximumBodyBytes = 4096
            }
        ) { harness in
            try await harness.test { client in
                let cases: [(String, Int, String?)] = [
                    ("", 10001, nil), ("not json", 10001, nil), ("[1,2]", 10001, nil),
                    (#"{"currency": "USD", "amount_cents": 100}"#, 10001, "currency"),
                    (#"{"currency": 1, "stable_coin": 1, "amount_cents": 100}"#, 10001, "currency"),
                    (#"{"amount_cents": 100}"#, 10001, "currency"),
                    (#"{"currency": 1, "amount_cents": -5}"#, 10001, "amount_cents"),
                    (#"{"currency": 1, "amount_cents": 0}"#, 10001, "amount_cents"),
                    (#"{"currency": 1, "amount_cents": "100"}"#, 10001, "amount_cents"),
                    (#"{"currency": 1, "amount_cents": 100, "surprise": 1}"#, 10001, "surprise"),
                    (#"{"currency": 1, "amount_cents": 100, "order_id": "\#(String(repeating: "x", count: 129))"}"#, 10001, "order_id"),
                    (#"{"stable_coin": 5, "amount_cents": 100}"#, 10001, "stable_coin"),
                    (#"{"stable_coin": 1, "amount_cents": 10}"#, 50002, "amount_cents"),  // exactly 0.1 USDT
                    (#"{"currency": 1, "amount_cents": 9}"#, 50002, "amount_cents"),
                ]
                for (body, code, field) in cases {
                    let reply = try await client.send(
                        SignedRequest(.post, "/v1/checkout_intents", body: body, as: harness.merchant, at: harness.clock))
                    #expect(reply.code == code, "\(body): \(reply.text)")
                    #expect(reply.errorField == field, "\(body): \(reply.text)")
                    #expect(reply.status.code == (code == 10001 ? 400 : 422))
                }
                let huge = #"{"currency": 1, "amount_cents": 100, "order_description": "\#(String(repeating: "x", count: 5000))"}"#
                let tooLarge = try await client.send(
                    SignedRequest(.post, "/v1/checkout_intents", body: huge, as: harness.merchant, at: harness.clock))
                #expect(tooLarge.code == 10001)
                #expect(tooLarge.status == .contentTooLarge)
                #expect(try await harness.intentCount() == 0)
            }
        }
    }

    @Test("http redirect URLs are refused outside the sandbox")
    func productionRedirects() async throws {
        try await GatewayHarness.withProduction { harness in
            try await harness.test { client in
                let reply = try await client.send(
                    SignedRequest(
                        .post, "/v1/checkout_intents", body: #"{"currency": 1, "amount_cents": 100, "redirect_url": "http://shop.example/r"}"#,
                        as: harness.merchant, at: harness.clock))
                #expect(reply.code == 10001)
                #expect(reply.errorField == "redirect_url")
                #expect(try await harness.intentCount() == 0)
            }
        }
    }

    @Test("Idempotency-Key: same body replays the first response, another body is 10001", arguments: Backend.available)
    func idempotency(backend: Backend) async throws {
        try await GatewayHarness.withClient(backend) { harness, client in
            func create(_ body: String, key: String?) async throws -> EnvelopeReply {
                var request = SignedRequest(.post, "/v1/checkout_intents", body: body, as: harness.merchant, at: harness.clock)
                if let key { request.extraHeaders[.idempotencyKey] = key }
                return try await client.send(request)
            }
            let body = #"{"currency": 1, "amount_cents": 4200, "order_id": "idem-1"}"#
            let first = try await create(body, key: "order-idem-1")
            let second = try await create(body, key: "order-idem-1")
            #expect(first.isSuccess && second.isSuccess)
            #expect(first.payload == second.payload)
            #expect(first.headers[.idempotentReplayed] == nil)
            #expect(second.headers[.idempotentReplayed] == "true")
            #expect(first.json["request_id"] != second.json["request_id"])
            let changed = try await create(#"{"currency": 1, "amount_cents": 4300, "order_id": "idem-1"}"#, key: "order-idem-1")
            #expect(changed.code == 10001)
            #expect(changed.errorField == "Idempotency-Key")
            let badKey = try await create(body, key: String(repeating: "k", count: 256))
            #expect(badKey.code == 10001)
            #expect(try await harness.intentCount() == 1)
            // Another store may use the same key for its own request.
            let other = try await harness.otherMerchant()
            var request = SignedRequest(.post, "/v1/checkout_intents", body: body, as: other, at: harness.clock)
            request.extraHeaders[.idempotencyKey] = "order-idem-1"
            let otherReply = try await client.send(request)
            #expect(otherReply.isSuccess)
            #expect(otherReply.payload != first.payload)
            #expect(try await harness.intentCount() == 2)
        }
    }

    @Test("Unknown routes and methods answer with an envelope; health endpoints answer", arguments: Backend.available)
    func routing(backend: Backend) async throws {
        try await GatewayHarness.withClient(backend) { harness, client in
            let missing = try await client.send(uri: "/nope", method: .get)
            #expect(missing.code == 10001)
            #expect(missing.status == .notFound)
            let wrongMethod = try await client.send(uri: "/healthz", method: .delete)
            #expect(wrongMethod.code == 10001)
            let health = try await client.execute(uri: "/healthz", method: .get)
            // Liveness names the build: a test binary is never a packaged one.
            #expect(String(buffer: health.body) == #"{"status":"ok","version":"\#(BuildInfo.version)","commit":"dev"}"#)
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .ok)
            #expect(String(buffer: ready.body) == #"{"status":"ready"}"#)
            // Metrics tell anyone every route's traffic: not on the public port by default.
            let metrics = try await client.send(uri: "/metrics", method: .get)
            #expect(metrics.status == .notFound)
            #expect(metrics.code == 10001)
        }
    }

    @Test("With metrics.token, /metrics answers only the right bearer token", arguments: Backend.available)
    func metricsToken(backend: Backend) async throws {
        let token = "metrics-0123456789abcdef"
        try await GatewayHarness.with(backend, configure: { $0.metricsToken = token }) { harness in
            try await harness.test { client in
                let missing = try await client.send(uri: "/metrics", method: .get)
                #expect(missing.status == .unauthorized)
                #expect(missing.code == 20001)
                #expect(missing.headers[.wwwAuthenticate] == #"Bearer realm="metrics""#)
                for wrong in ["Bearer metrics-0123456789abcdeX", "Bearer metrics-0123456789abcde", "Bearer", "Basic \(token)", token] {
                    let reply = try await client.send(uri: "/metrics", method: .get, headers: [.authorization: wrong])
                    #expect(reply.status == .unauthorized, "\(wrong)")
                    #expect(reply.code == 20002, "\(wrong)")
                }
                for right in ["Bearer \(token)", "bearer  \(token)"] {
                    let reply = try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: right])
                    #expect(reply.status == .ok, "\(right)")
                    #expect(reply.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
                }
            }
        }
    }
}
