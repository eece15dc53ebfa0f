import Testing

@testable import StableGateDomain

@Suite("Create checkout intent validation")
struct ValidationTests {
    static let production = ValidationPolicy(allowsInsecureRedirect: false)
    static let sandbox = ValidationPolicy(allowsInsecureRedirect: true)

    func parse(_ body: String, policy: ValidationPolicy = production) throws(APIError) -> CreateCheckoutIntentRequest {
        try CreateCheckoutIntentRequest.parse(body: Array(body.utf8), policy: policy)
    }

    func error(_ body: String, policy: ValidationPolicy = production) -> APIError? {
        do {
            _ = try parse(body, policy: policy)
            return nil
        } catch {
            return error
        }
    }

    @Test("The Postman fiat body is accepted with every optional field")
    func fiatBody() throws {
        let request = try parse(
            """
            {"currency": 1, "amount_cents": 100, "order_id": "qa_order_1", "order_description": "QA test order",
             "user_id": "qa_user_001", "user_name": "QA Tester", "redirect_url": "https://example.com/checkout/allscale",
             "extra": {"source": "postman"}}
            """)
        #expect(request.pricingMode == .fiat(.usd))
        #expect(request.amountCents == 100)
        #expect(request.settlementCoin == .usdt)
        #expect(request.acceptedStableCoins == [.usdt])
        #expect(request.order.orderId == "qa_order_1")
        #expect(request.order.orderDescription == "QA test order")
        #expect(request.order.userId == "qa_user_001")
        #expect(request.order.userName == "QA Tester")
        #expect(request.order.redirectURL == "https://example.com/checkout/allscale")
        #expect(request.order.extra == .object([("source", .string("postman"))]))
    }

    @Test("accepted_stable_coins picks the settlement coin for fiat pricing")
    func acceptedCoins() throws {
        let request = try parse(#"{"currency": 44, "amount_cents": 2500, "accepted_stable_coins": [2, 1]}"#)
        #expect(request.settlementCoin == .usdc)
        #expect(request.acceptedStableCoins == [.usdc, .usdt])
    }

    @Test("Native stable-coin pricing settles in that coin")
    func stableCoin() throws {
        let request = try parse(#"{"stable_coin": 2, "amount_cents": 1000, "currency": null}"#)
        #expect(request.pricingMode == .stableCoin(.usdc))
        #expect(request.settlementCoin == .usdc)
    }

    @Test(
        "Bad input names the field and why",
        arguments: [
            (#"{"amount_cents": 100}"#, "currency", "neither"),
            (#"{"currency": 1, "stable_coin": 1, "amount_cents": 100}"#, "currency", "both"),
            (#"{"currency": "USD", "amount_cents": 100}"#, "currency", "must be an integer"),
            (#"{"currency": 0, "amount_cents": 100}"#, "currency", "not a currency"),
            (#"{"currency": 164, "amount_cents": 100}"#, "currency", "not a currency"),
            (#"{"currency": 1.0, "amount_cents": 100}"#, "currency", "must be an integer"),
            (#"{"currency": true, "amount_cents": 100}"#, "currency", "must be an integer"),
            (#"{"stable_coin": 3, "amount_cents": 100}"#, "stable_coin", "disabled"),
            (#"{"stable_coin": 11, "amount_cents": 100}"#, "stable_coin", "not a stable coin"),
            (#"{"stable_coin": "USDT", "amount_cents": 100}"#, "stable_coin", "must be an integer"),
            (#"{"currency": 1}"#, "amount_cents", "required"),
            (#"{"currency": 1, "amount_cents": 0}"#, "amount_cents", "positive"),
            (#"{"currency": 1, "amount_cents": -100}"#, "amount_cents", "positive"),
            (#"{"currency": 1, "amount_cents": 1e3}"#, "amount_cents", "must be an integer"),
            (#"{"currency": 1, "amount_cents": 100.5}"#, "amount_cents", "must be an integer"),
            (#"{"currency": 1, "amount_cents": "100"}"#, "amount_cents", "must be an integer"),
            (#"{"currency": 1, "amount_cents": 99999999999999999999}"#, "amount_cents", "out of range"),
            (#"{"currency": 1, "amount_cents": 1000000000000001}"#, "amount_cents", "at most"),
            (#"{"currency": 1, "amount_cents": 100, "colour": "red"}"#, "colour", "unknown field"),
            (#"{"currency": 1, "amount_cents": 100, "order_id": 12}"#, "order_id", "must be a string"),
            (#"{"currency": 1, "amount_cents": 100, "order_id": ""}"#, "order_id", "must not be empty"),
            (#"{"currency": 1, "amount_cents": 100, "user_name": "a\u0000b"}"#, "user_name", "control characters"),
            (#"{"currency": 1, "amount_cents": 100, "extra": [1]}"#, "extra", "must be a JSON object"),
            (#"{"currency": 1, "amount_cents": 100, "extra": "x"}"#, "extra", "must be a JSON object"),
            (#"{"currency": 1, "amount_cents": 100, "redirect_url": "http://shop.example/ok"}"#, "redirect_url", "https outside the sandbox"),
            (#"{"currency": 1, "amount_cents": 100, "redirect_url": "javascript:alert(1)"}"#, "redirect_url", "absolute URL"),
            (#"{"currency": 1, "amount_cents": 100, "redirect_url": "ftp://shop.example/x"}"#, "redirect_url", "must use https"),
            (#"{"currency": 1, "amount_cents": 100, "redirect_url": "https://user:pw@shop.example/x"}"#, "redirect_url", "credentials"),
            (#"{"currency": 1, "amount_cents": 100, "redirect_url": "/relative"}"#, "redirect_url", "absolute URL"),
            (#"{"currency": 1, "amount_cents": 100, "accepted_stable_coins": []}"#, "accepted_stable_coins", "must not be empty"),
            (#"{"currency": 1, "amount_cents": 100, "accepted_stable_coins": [1, 1]}"#, "accepted_stable_coins[1]", "twice"),
            (#"{"currency": 1, "amount_cents": 100, "accepted_stable_coins": [4]}"#, "accepted_stable_coins[0]", "disabled"),
            (#"{"currency": 1, "amount_cents": 100, "accepted_stable_coins": "1"}"#, "accepted_stable_coins", "must be an array"),
            (#"{"stable_coin": 1, "amount_cents": 100, "accepted_stable_coins": [2]}"#, "accepted_stable_coins", "must include"),
        ])
    func badInput(body: String, field: String, reason: String) throws {
        let failure = try #require(error(body))
        #expect(failure.code == .validation)
        #expect(failure.field == field)
        #expect(failure.message.contains(reason), "message was: \(failure.message)")
    }

    @Test("Non-objects and broken JSON are validation errors", arguments: ["", "[]", "42", "null", "{", #"{"currency": 1,}"#])
    func notObjects(body: String) throws {
        let failure = try #require(error(body))
        #expect(failure.code == .validation)
    }

    @Test("Overlong strings are refused at the documented limits")
    func lengths() throws {
        let limits = [
            ("order_id", ValidationPolicy.maximumOrderIdLength), ("user_id", ValidationPolicy.maximumUserIdLength),
            ("user_name", ValidationPolicy.maximumUserNameLength),
            ("order_description", ValidationPolicy.maximumOrderDescriptionLength),
        ]
        for (field, limit) in limits {
            _ = try parse(#"{"currency": 1, "amount_cents": 100, "\#(field)": "\#(String(repeating: "é", count: limit))"}"#)
            let failure = try #require(error(#"{"currency": 1, "amount_cents": 100, "\#(field)": "\#(String(repeating: "é", count: limit + 1))"}"#))
            #expect(failure.field == field)
        }
        let bigExtra =
            #"{"currency": 1, "amount_cents": 100, "extra": {"k": "\#(String(repeating: "x", count: ValidationPolicy.maximumExtraBytes))"}}"#
        #expect(error(bigExtra)?.field == "extra")
    }

    @Test("Sandbox accepts http redirects; descriptions may contain line breaks")
    func sandbox() throws {
        let request = try parse(
            #"{"currency": 1, "amount_cents": 100, "redirect_url": "http://localhost:3000/done", "order_description": "line 1\nline 2"}"#,
            policy: Self.sandbox)
        #expect(request.order.redirectURL == "http://localhost:3000/done")
        #expect(request.order.orderDescription == "line 1\nline 2")
    }
}
