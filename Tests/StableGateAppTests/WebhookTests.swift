import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import StableGateApp
import StableGateDomain
import StableGateStore
import StableGateTestSupport
import Testing

/// Webhooks end to end in process: the outbox written with each change, the dispatcher
/// delivering to a real loopback receiver that checks signatures, the AllScale format on the
/// webhook URL (confirmed payments only) and StableGate events on the events URL, retries on a
/// manual clock, ordering per intent that no failing event can block, 410, the schedule's end,
/// redelivery, the outbound address guard and exclusive claims.
@Suite("Webhooks: outbox, signed delivery, retries, guard")
struct WebhookTests {
    /// A harness whose store posts its StableGate events (or, with `endpoint`, its AllScale
    /// webhooks) to a fresh receiver; `body` gets both.
    static func with(
        _ backend: Backend, clock: any WallClock = SystemClock(), configure: @escaping (inout GatewayConfiguration) -> Void = { _ in },
        path: String = "/hooks/stablegate", endpoint: WebhookEndpoint = .events, _ body: (GatewayHarness, WebhookReceiver) async throws -> Void
    ) async throws {
        try await GatewayHarness.with(backend, configure: configure, clock: clock) { harness in
            let merchant = harness.merchant
            let receiver = try await WebhookReceiver.start { key in key == merchant.apiKey ? merchant.apiSecret : nil }
            defer { receiver.stop() }
            try await setWebhook(harness, receiver.url(path), endpoint: endpoint)
            try await body(harness, receiver)
        }
    }

    /// Points one of the store's endpoints at `url` (nil removes it); returns the store after.
    @discardableResult
    static func setWebhook(_ harness: GatewayHarness, _ url: String?, endpoint: WebhookEndpoint = .events, newId: Bool = false) async throws -> Store
    {
        var store = try #require(try await harness.environment.merchants.store(id: harness.merchant.storeId))
        store.setEndpoint(endpoint, url: url, newId: newId) { WebhookSigning.newWebhookId(harness.environment.identifiers) }
        try await harness.environment.merchants.update(store)
        return store
    }

    static func createIntent(_ harness: GatewayHarness, _ client: any TestClientProtocol, orderId: String = "W-1") async throws -> String {
        let created = try await client.send(
            SignedRequest(
                .post, "/v1/checkout_intents", body: #"{"stable_coin": 1, "amount_cents": 1250, "order_id": "\#(orderId)"}"#, as: harness.merchant,
                at: harness.clock))
        return try #require(created.string("allscale_checkout_intent_id"))
    }

    static func move(
        _ harness: GatewayHarness, _ id: String, to statuses: [CheckoutStatus], change: @escaping @Sendable (inout CheckoutIntent) -> Void = { _ in }
    ) async throws {
        let clock = harness.clock
        _ = try await harness.environment.intents.modify(id: id) { intent, _ -> (transitions: [StatusTransition], result: Bool)? in
            var transitions: [StatusTransition] = []
            for status in statuses { transitions.append(try IntentStateMachine.transition(&intent, to: status, reason: "test", at: clock.now)) }
            change(&intent)
            intent.updatedAt = clock.now
            return (transitions, true)
        }
    }

    /// Runs dispatcher passes until `count` requests arrived (or 50 passes).
    static func deliver(_ harness: GatewayHarness, _ receiver: WebhookReceiver, until count: Int) async throws {
        for _ in 0..<50 where receiver.received.count < count {
            if await harness.gateway.deliverWebhooks() == 0 { try await Task.sleep(for: .milliseconds(20)) }
        }
    }

    @Test("Every transition becomes one signed event, in order, whose data is the full GET", arguments: Backend.available)
    func signedEventsInOrder(backend: Backend) async throws {
        try await Self.with(backend) { harness, receiver in
            try await harness.test { client in
                let id = try await Self.createIntent(harness, client)
                try await Self.move(harness, id, to: [.paying])
                try await Self.move(harness, id, to: [.canceled])
                try await Self.deliver(harness, receiver, until: 3)
                let got = receiver.received
                #expect(got.map(\.type) == ["checkout_intent.created", "checkout_intent.paying", "checkout_intent.canceled"])
                #expect(got.allSatisfy { $0.signatureValid }, "signed with the store's key as AllScale signs webhooks")
                #expect(
                    got.allSatisfy {
                        $0.headers[HTTPField.Name("X-Event-Id")!] == $0.eventId && $0.headers[HTTPField.Name("X-API-Key")!] == harness.merchant.apiKey
                    })
                let store = try #require(try await harness.environment.merchants.store(id: harness.merchant.storeId))
                #expect(got.allSatisfy { $0.webhookId == store.eventsWebhookId && $0.json?["webhook_id"] == .string(store.eventsWebhookId ?? "-") })
                #expect(got.allSatisfy { $0.path == "/hooks/stablegate" && $0.headers[.contentType] == "application/json" })
                #expect(got.map { $0.json?["data"]?["status"] } == [.number("1"), .number("2"), .number("-4")])
                #expect(got.allSatisfy { $0.intentId == id })
                // The last event's data is exactly what the full GET returns now.
                let full = try await client.send(SignedRequest(.get, "/v1/checkout_intents/\(id)", as: harness.merchant, at: harness.clock))
                #expect(got.last?.json?["data"] == full.payload)
                let keys: [String] = { if case .object(let members)? = got.first?.json { members.map(\.0) } else { [] } }()
                #expect(keys == ["event_id", "type", "created_at", "webhook_id", "data"])

                let events = try await harness.environment.webhooks.events(intentId: id)
                #expect(events.map(\.state) == [.delivered, .delivered, .delivered])
                #expect(events.map(\.sequence) == [1, 2, 3])
                let attempts = try await harness.environment.webhooks.attempts(eventId: events[0].id)
                #expect(
                    attempts.count == 1 && attempts[0].httpStatus == 200 && attempts[0].durationMilliseconds != nil
                        && attempts[0].responseExcerpt == "ok")
                #expect(await harness.gateway.deliverWebhooks() == 0, "nothing is sent twice")
            }
        }
    }

    @Test("A refused event is retried on its schedule and never holds back the order's later events or its outcome", arguments: Backend.available)
    func retriesNeverBlockTheOutcome(backend: Backend) async throws {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_795_000_000))
        try await Self.with(backend, clock: clock) { harness, receiver in
            // The receiver's handler for "created" is broken; everything else it takes.
            receiver.answerByContent { request in
                request.type == "checkout_intent.created" ? .init(status: .internalServerError, body: "database down") : .init()
            }
            try await harness.test { client in
                let id = try await Self.createIntent(harness, client)
                try await Self.move(harness, id, to: [.paying])
                #expect(await harness.gateway.deliverWebhooks() == 1, "while the first event has its first try, the next waits: order holds")
                var events = try await harness.environment.webhooks.events(intentId: id)
                #expect(events[0].state == .pending && events[0].nextAttemptAt == clock.now.addingTimeInterval(5))
                #expect(events[0].lastStatus == 500 && events[1].attempts == 0)
                // Refused once, the first event waits for its retry; the later one goes now.
                #expect(await harness.gateway.deliverWebhooks() == 1)
                try await Self.move(harness, id, to: [.tempWalletReceived, .onChain, .confirmed])
                try await Self.deliver(harness, receiver, until: 5)
                #expect(
                    receiver.received.map(\.type) == [
                        "checkout_intent.created", "checkout_intent.paying", "checkout_intent.temp_wallet_received", "checkout_intent.on_chain",
                        "checkout_intent.confirmed",
                    ], "the outcome arrived while the refused event was still waiting for its retry")
                events = try await harness.environment.webhooks.events(intentId: id)
                #expect(events.map(\.state) == [.pending, .delivered, .delivered, .delivered, .delivered])
                clock.advance(by: 5)
                #expect(await harness.gateway.deliverWebhooks() == 1)
                events = try await harness.environment.webhooks.events(intentId: id)
                #expect(events[0].nextAttemptAt == clock.now.addingTimeInterval(300), "retried on the schedule")
                receiver.answer { _ in .init() }
                clock.advance(by: 300)
                try await Self.deliver(harness, receiver, until: 7)
                let attempts = try await harness.environment.webhooks.attempts(eventId: events[0].id)
                #expect(attempts.map(\.httpStatus) == [500, 500, 200])
                #expect(attempts[0].responseExcerpt == "database down" && attempts[0].error == "HTTP 500")
                #expect(try await harness.environment.webhooks.events(intentId: id).allSatisfy { $0.state == .delivered })
            }
        }
    }

    /// Sets what detection records for a payment: the chain, token, transaction and sender.
    static func paid(_ intent: inout CheckoutIntent) {
        intent.payment.chainId = 31337
        intent.payment.coinContract = "0x5fbdb2315678afecb367f032d93f642f64180aa3"
        intent.payment.txHash = "0x" + String(repeating: "ab", count: 32)
        intent.payment.txFrom = "0x8ba1f109551bd432803012645ac136ddd64dba72"
        intent.payment.paymentMethodType = .walletScan
        intent.payment.actualPaidAmount = DecimalAmount("12.50")
    }

    @Test(
        "The webhook URL gets AllScale's format for a confirmed payment — and for nothing else; the events URL gets every change",
        arguments: Backend.available)
    func allScaleFormat(backend: Backend) async throws {
        try await Self.with(backend, path: "/wc-api/allscale_checkout?store=7&v=2", endpoint: .allscale) { harness, receiver in
            let store = try await Self.setWebhook(harness, receiver.url("/hooks/stablegate"), endpoint: .events)
            let webhookId = try #require(store.webhookId)
            try await harness.test { client in
                // Native stable-coin pricing with extra, and fiat pricing: both confirmed.
                let coin = try #require(
                    try await client.send(
                        SignedRequest(
                            .post, "/v1/checkout_intents",
                            body:
                                #"{"stable_coin": 1, "amount_cents": 1250, "order_id": "A-1", "user_id": "u-9", "extra": {"cart": [1, 2], "note": "ü"}}"#,
                            as: harness.merchant, at: harness.clock)
                    ).string("allscale_checkout_intent_id"))
                let fiat = try #require(
                    try await client.send(
                        SignedRequest(
                            .post, "/v1/checkout_intents", body: #"{"currency": 1, "amount_cents": 2599, "order_id": "A-2", "user_name": "alice"}"#,
                            as: harness.merchant, at: harness.clock)
                    ).string("allscale_checkout_intent_id"))
                for id in [coin, fiat] {
                    try await Self.move(harness, id, to: [.paying, .tempWalletReceived, .onChain, .confirmed], change: Self.paid)
                }
                // Every other ending, and a late payment after a confirmation: none may reach the webhook URL.
                let endings: [[CheckoutStatus]] = [
                    [.tempWalletReceived, .onChain, .underpaid], [.canceled], [.paying, .timeout],
                    [.tempWalletReceived, .onChain, .pendingManualOperation, .rejected],
                    [.failed], [.tempWalletReceived, .pendingManualOperation, .sendBack, .canceled],
                ]
                var others: [String] = []
                for (index, path) in endings.enumerated() {
                    let id = try await Self.createIntent(harness, client, orderId: "NOT-PAID-\(index)")
                    try await Self.move(harness, id, to: path, change: Self.paid)
                    others.append(id)
                }
                try await Self.move(harness, coin, to: []) { $0.latePaidAmount = DecimalAmount("3") }
                for _ in 0..<10 { _ = await harness.gateway.deliverWebhooks() }

                let allscale = receiver.received.filter { $0.path.hasPrefix("/wc-api/") }
                #expect(allscale.count == 2, "one delivery per confirmed payment: \(allscale.map(\.body))")
                #expect(Set(allscale.compactMap(\.intentId)) == [coin, fiat])
                #expect(allscale.allSatisfy { $0.signatureValid && $0.path == "/wc-api/allscale_checkout?store=7&v=2" && $0.webhookId == webhookId })
                #expect(allscale.allSatisfy { $0.headers[HTTPField.Name("X-Event-Id")!] == nil && $0.type == nil })
                let byIntent = Dictionary(uniqueKeysWithValues: allscale.map { ($0.intentId ?? "", $0.json) })
                let coinBody = try #require(byIntent[coin] ?? nil)
                let keys: [String] = { if case .object(let members) = coinBody { members.map(\.0) } else { [] } }()
                #expect(
                    keys == [
                        "all_scale_transaction_id", "all_scale_checkout_intent_id", "webhook_id", "amount_cents", "currency", "currency_symbol",
                        "amount_coins",
                        "coin_symbol", "coin_contract_address", "chain_id", "tx_hash", "tx_from", "payment_method_type", "order_id", "user_id",
                        "user_name",
                        "extra_obj", "status",
                    ])
                #expect(coinBody["amount_cents"] == .null && coinBody["currency"] == .null && coinBody["currency_symbol"] == .null)
                #expect(
                    coinBody["amount_coins"] == .string("12.50") && coinBody["coin_symbol"] == .string("USDT") && coinBody["status"] == .number("20"))
                #expect(coinBody["chain_id"] == .number("31337") && coinBody["payment_method_type"] == .number("1"))
                #expect(coinBody["tx_from"] == .string("0x8ba1f109551bD432803012645Ac136ddd64DBA72"), "EIP-55, as the full GET")
                #expect(coinBody["extra_obj"] == .object([("cart", .array([.number("1"), .number("2")])), ("note", .string("ü"))]))
                #expect(coinBody["order_id"] == .string("A-1") && coinBody["user_id"] == .string("u-9") && coinBody["user_name"] == .null)
                #expect(coinBody["webhook_id"] == .string(webhookId))
                let fiatBody = try #require(byIntent[fiat] ?? nil)
                #expect(
                    fiatBody["amount_cents"] == .number("2599") && fiatBody["currency"] == .number("1")
                        && fiatBody["currency_symbol"] == .string("USD"))
                #expect(fiatBody["extra_obj"] == .null && fiatBody["user_name"] == .string("alice"))
                #expect(coinBody["all_scale_transaction_id"] != fiatBody["all_scale_transaction_id"], "unique across payments")

                // The events URL saw every change of every order, late payment included.
                let events = receiver.received.filter { $0.path == "/hooks/stablegate" }
                #expect(events.allSatisfy { $0.signatureValid && $0.webhookId == store.eventsWebhookId })
                for id in others {
                    #expect(events.contains { $0.intentId == id && $0.type != "checkout_intent.created" }, "the events URL hears of \(id)")
                }
                #expect(events.contains { $0.intentId == coin && $0.type == "checkout_intent.late_payment" })
                #expect(events.filter { $0.type == "checkout_intent.confirmed" }.count == 2)

                // A redelivery repeats the payment's transaction id.
                let first = try #require(try await harness.environment.webhooks.events(intentId: coin).first { $0.endpoint == .allscale })
                #expect(first.type == WebhookEventType.allScalePaymentConfirmed)
                #expect(try await WebhookOperations(environment: harness.environment).redeliver(eventId: first.id))
                _ = await harness.gateway.deliverWebhooks()
                let again = receiver.received.filter { $0.path.hasPrefix("/wc-api/") }
                #expect(again.count == 3 && again[2].json?["all_scale_transaction_id"] == coinBody["all_scale_transaction_id"])
                #expect(again[2].headers[HTTPField.Name("X-Webhook-Nonce")!] != allscale[0].headers[HTTPField.Name("X-Webhook-Nonce")!])
            }
        }
    }

    @Test("A webhook id stays when the URL changes, changes only when asked, and every delivery names the current one", arguments: Backend.available)
    func webhookIds(backend: Backend) async throws {
        try await Self.with(backend, endpoint: .allscale) { harness, receiver in
            let first = try #require(try await harness.environment.merchants.store(id: harness.merchant.storeId)?.webhookId)
            #expect(first.hasPrefix("wh_"))
            let moved = try await Self.setWebhook(harness, receiver.url("/moved"), endpoint: .allscale)
            #expect(moved.webhookId == first, "a new URL keeps the id a receiver pinned")
            #expect(moved.eventsWebhookId == nil, "no events URL, no id")
            try await harness.test { client in
                let id = try await Self.createIntent(harness, client, orderId: "ID-1")
                try await Self.move(harness, id, to: [.tempWalletReceived, .onChain, .confirmed], change: Self.paid)
                let renamed = try await Self.setWebhook(harness, receiver.url("/moved"), endpoint: .allscale, newId: true)
                let second = try #require(renamed.webhookId)
                #expect(second != first)
                try await Self.deliver(harness, receiver, until: 1)
                let got = try #require(receiver.received.first)
                #expect(
                    got.signatureValid && got.webhookId == second && got.json?["webhook_id"] == .string(second),
                    "queued under the old id, delivered under the current one")
            }
            let removed = try await Self.setWebhook(harness, nil, endpoint: .allscale)
            #expect(removed.webhookURL == nil)
            let back = try await Self.setWebhook(harness, receiver.url("/again"), endpoint: .allscale)
            #expect(back.webhookId != nil)
        }
    }

    @Test("410 Gone stops an event; when the schedule runs out it fails; a redelivery sends it again", arguments: Backend.available)
    func goneFailedRedelivered(backend: Backend) async throws {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_795_000_000))
        try await Self.with(backend, clock: clock, configure: { $0.webhookRetrySchedule = RetrySchedule(delays: [1, 1]) }) { harness, receiver in
            try await harness.test { client in
                receiver.answer { _ in .init(status: .gone) }
                let gone = try await Self.createIntent(harness, client, orderId: "GONE")
                #expect(await harness.gateway.deliverWebhooks() == 1)
                clock.advance(by: 3600)
                #expect(await harness.gateway.deliverWebhooks() == 0)
                #expect(try await harness.environment.webhooks.events(intentId: gone).map(\.state) == [.gone])

                receiver.answer { _ in .init(status: .serviceUnavailable) }
                let failing = try await Self.createIntent(harness, client, orderId: "FAIL")
                for _ in 0..<3 {
                    #expect(await harness.gateway.deliverWebhooks() == 1)
                    clock.advance(by: 1)
                }
                #expect(await harness.gateway.deliverWebhooks() == 0)
                let failed = try #require(try await harness.environment.webhooks.events(intentId: failing).first)
                #expect(failed.state == .failed && failed.attempts == 3)

                receiver.answer { _ in .init() }
                #expect(try await WebhookOperations(environment: harness.environment).redeliver(eventId: failed.id))
                #expect(await harness.gateway.deliverWebhooks() == 1)
                let redelivered = try #require(try await harness.environment.webhooks.event(id: failed.id))
                #expect(redelivered.state == .delivered && redelivered.attempts == 4)
                #expect(try await WebhookOperations(environment: harness.environment).redeliver(eventId: "evt_nope") == false)
            }
        }
    }

    @Test("A slow receiver times out and a redirect is not followed; both are retried")
    func timeoutsAndRedirects() async throws {
        try await Self.with(.sqlite, configure: { $0.webhookTimeout = 1 }) { harness, receiver in
            try await harness.test { client in
                receiver.answer { _ in .init(delay: .seconds(3)) }
                let slow = try await Self.createIntent(harness, client, orderId: "SLOW")
                #expect(await harness.gateway.deliverWebhooks() == 1)
                let attempt = try #require(
                    try await harness.environment.webhooks.attempts(eventId: try await harness.environment.webhooks.events(intentId: slow)[0].id)
                        .first)
                #expect(attempt.error == "timed out after 1 s" && attempt.httpStatus == nil)

                receiver.answer { _ in .init(status: .found, location: receiver.url("/elsewhere")) }
                try await Self.move(harness, slow, to: [.canceled])
                try await Task.sleep(for: .seconds(5))  // the first event's retry (5 s) comes due
                _ = await harness.gateway.deliverWebhooks()
                let events = try await harness.environment.webhooks.events(intentId: slow)
                #expect(events[0].lastStatus == 302 && events[0].state == .pending)
                #expect(!receiver.received.contains { $0.path == "/elsewhere" }, "redirects are not followed")
            }
        }
    }

    @Test("The dashboard sends a test event and redelivers a gone event — CSRF-checked, audited, never another store's", arguments: Backend.available)
    func dashboard(backend: Backend) async throws {
        try await Self.with(backend, configure: DashboardAccessTests.fastHashes) { harness, receiver in
            let other = try await harness.otherMerchant()
            try await DashboardFixtures.user(harness, merchantId: other.merchantId, email: "intruder@other.example")
            try await harness.test { client in
                let browser = try await DashboardStoreTests.owner(harness, client)
                let csrf = try await browser.sessionCSRF()
                let settings = try await browser.get("/dashboard/settings").html
                #expect(settings.contains("Send a test event"))
                let store = try #require(try await harness.environment.merchants.store(id: harness.merchant.storeId))
                #expect(settings.contains(try #require(store.eventsWebhookId)), "the events URL's webhook id is shown next to it")
                let forged = try await browser.post("/dashboard/webhooks/test", [("csrf", "guess")])
                #expect(forged.status == .forbidden)
                #expect(try await harness.environment.webhooks.events(storeId: harness.merchant.storeId).isEmpty, "a forged form queues nothing")

                let sent = try await browser.post("/dashboard/webhooks/test", [("csrf", csrf)])
                #expect(sent.status == .seeOther)
                try await Self.deliver(harness, receiver, until: 1)
                let test = try #require(receiver.received.first)
                #expect(test.type == "webhook.test" && test.signatureValid && test.json?["data"]?["store_id"] == .string(harness.merchant.storeId))
                #expect(try await browser.get("/dashboard/settings").html.contains(try #require(test.eventId)))

                // An order's event the receiver refuses for good, redelivered from the order page.
                receiver.answer { number in number == 2 ? .init(status: .gone, body: "unsubscribed") : .init() }
                let id = try await Self.createIntent(harness, client, orderId: "DASH-1")
                try await Self.deliver(harness, receiver, until: 2)
                let gone = try #require(try await harness.environment.webhooks.events(intentId: id).first)
                #expect(gone.state == .gone && gone.lastStatus == 410)
                let order = try await browser.get("/dashboard/orders/\(id)")
                #expect(order.html.contains(gone.id) && order.html.contains("HTTP 410"))

                let intruder = DashboardTestClient(client)
                try await intruder.logIn(email: "intruder@other.example", password: DashboardFixtures.password)
                let stolen = try await intruder.post(
                    "/dashboard/webhooks/redeliver", [("csrf", try await intruder.sessionCSRF()), ("event", gone.id)])
                #expect(stolen.status == .notFound)
                #expect(try await harness.environment.webhooks.event(id: gone.id)?.state == .gone, "another store's event is untouched")

                let again = try await browser.post("/dashboard/orders/\(id)/redeliver", [("csrf", csrf), ("event", gone.id)])
                #expect(again.status == .seeOther)
                try await Self.deliver(harness, receiver, until: 3)
                #expect(receiver.received.map(\.eventId) == [test.eventId, gone.id, gone.id])
                #expect(try await harness.environment.webhooks.event(id: gone.id)?.state == .delivered)

                let audit = try await AuditLogRepository(database: harness.environment.database).auditLog(storeId: harness.merchant.storeId)
                #expect(audit.contains { $0.action == "webhook.test_sent" && $0.actor == "owner@shop.example" })
                #expect(audit.contains { $0.action == "webhook.redelivered" && $0.detail.contains(gone.id) })
            }
        }
    }

    @Test("Outside the sandbox only https, and never to loopback, private or metadata addresses — checked where the name resolves")
    func outboundGuard() async throws {
        // A manual clock, so one case's retry never comes due during the next.
        try await GatewayHarness.withProduction(clock: ManualClock(Date(timeIntervalSince1970: 1_795_000_000))) { harness in
            let merchant = harness.merchant
            let receiver = try await WebhookReceiver.start { key in key == merchant.apiKey ? merchant.apiSecret : nil }
            defer { receiver.stop() }
            let cases: [(String, String)] = [
                (receiver.url(), "https URLs only"), ("https://localhost:\(receiver.port)/hook", "a loopback address"),
                ("https://127.0.0.1:\(receiver.port)/hook", "a loopback address"),
                ("https://[::ffff:127.0.0.1]:\(receiver.port)/", "a loopback address"),
                ("https://10.20.30.40/hook", "a private address"), ("https://169.254.169.254/latest/meta-data", "a metadata address"),
            ]
            try await harness.test { client in
                for (index, (url, reason)) in cases.enumerated() {
                    try await Self.setWebhook(harness, url)
                    let id = try await Self.createIntent(harness, client, orderId: "G-\(index)")
                    #expect(await harness.gateway.deliverWebhooks() == 1)
                    let event = try #require(try await harness.environment.webhooks.events(intentId: id).first)
                    #expect(event.state == .pending && event.lastError?.contains(reason) == true, "\(url): \(event.lastError ?? "-")")
                }
                #expect(receiver.received.isEmpty, "nothing reached the loopback receiver")
            }
        }
        // The sandbox lets a developer's local receiver through, but never the metadata service.
        try await Self.with(.sqlite) { harness, receiver in
            try await harness.test { client in
                try await Self.setWebhook(harness, "http://169.254.169.254/latest/meta-data")
                let id = try await Self.createIntent(harness, client, orderId: "META")
                #expect(await harness.gateway.deliverWebhooks() == 1)
                #expect(try await harness.environment.webhooks.events(intentId: id).first?.lastError?.contains("metadata address") == true)
            }
        }
    }

    @Test("Late payments get their own event; a change that rolls back announces nothing; no URL, no events", arguments: Backend.available)
    func latePaymentsRollbacksAndNoURL(backend: Backend) async throws {
        try await Self.with(backend) { harness, receiver in
            try await harness.test { client in
                let id = try await Self.createIntent(harness, client)
                try await Self.move(harness, id, to: [.paying, .failed])
                try await Self.move(harness, id, to: []) { $0.latePaidAmount = DecimalAmount("12.5") }
                struct Boom: Error {}
                await #expect(throws: Boom.self) {
                    _ = try await harness.environment.intents.modify(id: id) { intent, _ -> (transitions: [StatusTransition], result: Bool)? in
                        intent.latePaidAmount = DecimalAmount("20")
                        throw Boom()
                    }
                }
                try await Self.deliver(harness, receiver, until: 4)
                #expect(
                    receiver.received.map(\.type) == [
                        "checkout_intent.created", "checkout_intent.paying", "checkout_intent.failed", "checkout_intent.late_payment",
                    ])
                #expect(receiver.received.last?.json?["data"]?["late_paid_amount"] == .string("12.50"))

                try await Self.setWebhook(harness, nil)
                let quiet = try await Self.createIntent(harness, client, orderId: "QUIET")
                try await Self.move(harness, quiet, to: [.canceled])
                #expect(try await harness.environment.webhooks.events(intentId: quiet).isEmpty)
            }
        }
    }

    @Test("Test events: queued for the events URL, signed, refused without one — never sent to the AllScale-format URL", arguments: Backend.available)
    func testEvents(backend: Backend) async throws {
        try await Self.with(backend) { harness, receiver in
            let operations = WebhookOperations(environment: harness.environment)
            let id = try await operations.queueTestEvent(storeId: harness.merchant.storeId)
            try await Self.deliver(harness, receiver, until: 1)
            let got = try #require(receiver.received.first)
            #expect(got.eventId == id && got.type == "webhook.test" && got.signatureValid)
            #expect(got.json?["data"]?["store_id"] == .string(harness.merchant.storeId))
            try await Self.setWebhook(harness, nil)
            try await Self.setWebhook(harness, receiver.url("/allscale"), endpoint: .allscale)
            await #expect(throws: MerchantOnboarding.InputError.self) { try await operations.queueTestEvent(storeId: harness.merchant.storeId) }
        }
    }

    @Test("Claims are exclusive: two instances claiming at once share the work; an expired lease is taken over", arguments: Backend.available)
    func exclusiveClaims(backend: Backend) async throws {
        try await Self.with(backend) { harness, _ in
            let operations = WebhookOperations(environment: harness.environment)
            var ids: Set<String> = []
            for _ in 0..<40 { ids.insert(try await operations.queueTestEvent(storeId: harness.merchant.storeId)) }
            let webhooks = harness.environment.webhooks
            let now = Date()
            async let first = webhooks.claim(now: now, owner: "instance-a", lease: 60, limit: 40)
            async let second = webhooks.claim(now: now, owner: "instance-b", lease: 60, limit: 40)
            let (a, b) = try await (first, second)
            #expect(Set(a.map(\.event.id)).isDisjoint(with: b.map(\.event.id)), "no event claimed by both")
            #expect(Set(a.map(\.event.id)).union(b.map(\.event.id)) == ids)
            #expect(try await webhooks.claim(now: now.addingTimeInterval(30), owner: "instance-c", lease: 60, limit: 40).isEmpty, "leases hold")
            let takenOver = try await webhooks.claim(now: now.addingTimeInterval(61), owner: "instance-c", lease: 60, limit: 40)
            #expect(takenOver.count == 40 && takenOver.allSatisfy { $0.attempt == 2 })
            let attempts = try await webhooks.attempts(eventId: takenOver[0].event.id)
            #expect(attempts.count == 2 && attempts[0].error?.hasPrefix("interrupted") == true && attempts[1].owner == "instance-c")
        }
    }
}
