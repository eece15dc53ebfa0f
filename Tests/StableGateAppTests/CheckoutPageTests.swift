import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SQLKit
import StableGateApp
import StableGateDomain
import StableGateStore
import StableGateTestSupport
import Testing

@Suite("Hosted checkout page, rendered in process")
struct CheckoutPageTests {
    /// Creates an intent and drives it to `path` of statuses through the state machine.
    func intent(
        _ harness: GatewayHarness, client: any TestClientProtocol, through path: [CheckoutStatus], error: String? = nil
    ) async throws -> String {
        let created = try await client.send(
            SignedRequest(
                .post, "/v1/checkout_intents", body: #"{"stable_coin": 1, "amount_cents": 1000, "redirect_url": "https://shop.example/r"}"#,
                as: harness.merchant, at: harness.clock))
        let id = try #require(created.string("allscale_checkout_intent_id"))
        _ = try await harness.environment.intents.modify(id: id) { intent, _ -> (transitions: [StatusTransition], result: Bool)? in
            var transitions: [StatusTransition] = []
            for status in path { transitions.append(try IntentStateMachine.transition(&intent, to: status, reason: "test", at: Date())) }
            intent.payment.errorMessage = error
            return (transitions, true)
        }
        return id
    }

    @Test(
        "Every status has its own screen, with the security headers",
        arguments: [
            ([CheckoutStatus](), "Choose how to pay", 2),
            ([.paying, .tempWalletReceived, .onChain, .pendingManualOperation, .rejected], "Payment not accepted", -2),
            ([.paying, .failed], "Payment failed", -1),
            ([.paying, .canceled], "Payment canceled", -4),
            ([.paying, .timeout], "Payment window ended", -5),
            ([.tempWalletReceived, .onChain, .pendingManualOperation], "Payment under review", 4),
            ([.tempWalletReceived, .pendingManualOperation, .sendBack], "Payment being returned", 5),
        ])
    func screens(path: [CheckoutStatus], heading: String, status: Int) async throws {
        try await GatewayHarness.with(.sqlite) { harness in
            try await harness.test { client in
                let id = try await intent(harness, client: client, through: path)
                let response = try await client.execute(uri: try await harness.checkoutPath(id), method: .get)
                let html = String(buffer: response.body)
                #expect(response.status == .ok)
                #expect(html.contains(heading), "\(heading) missing")
                #expect(html.contains(#"data-status="\#(status)""#))
                #expect(response.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("script-src 'self'") == true)
                #expect(response.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
                #expect(response.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
                #expect(!html.contains("<script>") && !html.contains("style="), "no inline script or style")
                #expect(!html.contains(">nil<") && !html.contains("Optional("), "absent fields render as nothing")
                if CheckoutStatus(rawValue: status)!.isTerminal {
                    #expect(html.contains("https://shop.example/r?allscale_checkout_intent_id=\(id)"))
                    #expect(!html.contains("Cancel payment"))
                }
            }
        }
    }

    @Test("A FAILED intent says it failed, whatever its error text: the window's end is TIMEOUT now")
    func failedScreen() async throws {
        try await GatewayHarness.with(.sqlite) { harness in
            try await harness.test { client in
                let id = try await intent(
                    harness, client: client, through: [.paying, .failed], error: "settlement could not be queued: expired lease")
                let html = String(buffer: try await client.execute(uri: try await harness.checkoutPath(id), method: .get).body)
                #expect(html.contains("Payment failed") && !html.contains("Payment window ended"))
            }
        }
    }

    @Test("Forms need the CSRF cookie: a cross-site post cancels nothing")
    func csrf() async throws {
        try await GatewayHarness.with(.sqlite) { harness in
            try await harness.test { client in
                let id = try await intent(harness, client: client, through: [])
                let path = try await harness.checkoutPath(id)
                let forged = try await client.execute(
                    uri: "\(path)/cancel", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                    body: ByteBuffer(string: "csrf=guess"))
                #expect(forged.status == .forbidden)
                #expect(try await harness.environment.intents.find(id: id)?.status == .paying, "the forged form only rendered the page")
                let genuine = try await client.cancelCheckout(path: path)
                #expect(genuine.status == .seeOther)
                #expect(try await harness.environment.intents.find(id: id)?.status == .canceled)
                let wallet = try await client.execute(
                    uri: "\(path)/wallet-tx", method: .post, headers: [.contentType: "application/json"],
                    body: ByteBuffer(
                        string: #"{"tx_hash": "0x\#(String(repeating: "ab", count: 32))", "from": "0x52908400098527886E0F7030069857D2E4169EE7"}"#))
                #expect(wallet.status == .forbidden)
            }
        }
    }

    @Test(
        "The checkout URL carries its own random token, kept only as a digest and sealed; the intent id opens nothing", arguments: Backend.available)
    func capability(backend: Backend) async throws {
        try await GatewayHarness.withClient(backend) { harness, client in
            let created = try await client.send(
                SignedRequest(
                    .post, "/v1/checkout_intents", body: #"{"stable_coin": 1, "amount_cents": 1000}"#, as: harness.merchant, at: harness.clock))
            let id = try #require(created.string("allscale_checkout_intent_id"))
            let url = try #require(created.string("checkout_url"))
            let base = "https://pay.example.test/checkout/"
            #expect(url.hasPrefix(base))
            let token = String(url.dropFirst(base.count))
            #expect(CheckoutLink.isWellFormed(token) && token != id)
            let full = try await client.send(SignedRequest(.get, "/v1/checkout_intents/\(id)", as: harness.merchant, at: harness.clock))
            #expect(full.string("checkout_url") == url, "the full GET gives the same URL")

            // The database holds the token's SHA-256 and a sealed copy; no column holds the token.
            let stored = try await harness.environment.database.read { db -> [String: String] in
                let row = try #require(try await db.raw("SELECT * FROM checkout_intents WHERE id = \(bind: id)").first())
                var texts: [String: String] = [:]
                for column in row.allColumns { if let text = try? row.decode(column: column, as: String?.self) { texts[column] = text } }
                return texts
            }
            #expect(stored["checkout_token_hash"] == CheckoutLink.digest(token))
            #expect(stored.values.allSatisfy { !$0.contains(token) }, "the token is stored in plain text")

            let page = try await client.execute(uri: "/checkout/\(token)", method: .get)
            #expect(page.status == .ok)
            #expect(String(buffer: page.body).contains(#"data-path="/checkout/\#(token)""#))

            // The intent id, a neighbour of it and a random token: the same 404 page, nothing changed.
            let unknown = try await client.execute(
                uri: "/checkout/\(CheckoutLink.token(from: SystemIdentifierGenerator().randomBytes(CheckoutLink.byteCount)))", method: .get)
            #expect(unknown.status == .notFound)
            for guess in [id, String(id.dropLast()) + (id.last == "0" ? "1" : "0"), "not-a-token", token + "x"] {
                let answer = try await client.execute(uri: "/checkout/\(guess)", method: .get)
                #expect(
                    answer.status == .notFound && String(buffer: answer.body) == String(buffer: unknown.body), "\(guess) answered differently")
                let state = try await client.send(uri: "/checkout/\(guess)/state", method: .get)
                #expect(state.status == .notFound && state.code == 50001 && state.errorMessage == "checkout not found")
                let cancel = try await client.cancelCheckout(path: "/checkout/\(guess)")
                #expect(cancel.status == .notFound)
                let deposit = try await client.send(uri: "/checkout/\(guess)/deposit", method: .post, body: #"{"chain_id": 1, "stable_coin": 1}"#)
                #expect(deposit.code == 50001)
            }
            let after = try #require(try await harness.environment.intents.find(id: id))
            #expect(after.status == .paying, "only the owner's own visit changed it")
            #expect(try await harness.environment.intents.transitions(intentId: id).count == 2)
        }
    }

    @Test("A wallet report is kept apart from what the chain proved, and forgotten when the order ends unpaid")
    func walletReport() async throws {
        try await GatewayHarness.with(.sqlite) { harness in
            try await harness.test { client in
                let id = try await intent(harness, client: client, through: [.paying, .tempWalletReceived])
                let path = try await harness.checkoutPath(id)
                let hash = "0x" + String(repeating: "ab", count: 32)
                let reported = try await client.reportWalletTransaction(path: path, hash: hash, from: "0x52908400098527886E0F7030069857D2E4169EE7")
                #expect(reported.isSuccess)
                let intent = try #require(try await harness.environment.intents.find(id: id))
                #expect(intent.walletReport == WalletReport(transactionHash: hash, from: "0x52908400098527886e0f7030069857d2e4169ee7"))
                #expect(
                    intent.payment.txHash == nil && intent.payment.txFrom == nil && intent.payment.paymentMethodType == .unknown,
                    "what a browser says is not what the chain proved")
                let full = try await client.send(SignedRequest(.get, "/v1/checkout_intents/\(id)", as: harness.merchant, at: harness.clock))
                #expect(full.payload?["tx_hash"] == .null && full.payload?["payment_method_type"] == .number("0"))

                let canceled = try await client.cancelCheckout(path: path)
                #expect(canceled.status == .seeOther)
                let ended = try #require(try await harness.environment.intents.find(id: id))
                #expect(ended.status == .canceled && ended.walletReport == nil)
            }
        }
    }

    @Test("Languages: Accept-Language picks Chinese, ?lang= overrides and is remembered")
    func languages() {
        #expect(CheckoutLocale.negotiate(explicit: nil, acceptLanguage: "zh-CN,zh;q=0.9,en;q=0.8") == .simplifiedChinese)
        #expect(CheckoutLocale.negotiate(explicit: nil, acceptLanguage: "fr-FR,en;q=0.5,zh;q=0.4") == .english)
        #expect(CheckoutLocale.negotiate(explicit: nil, acceptLanguage: "de, zh-Hans;q=0.7") == .simplifiedChinese)
        #expect(CheckoutLocale.negotiate(explicit: "en", acceptLanguage: "zh-CN") == .english)
        #expect(CheckoutLocale.negotiate(explicit: nil, acceptLanguage: nil) == .english)
        for text in CheckoutText.allCases {
            #expect(
                !CheckoutLocale.simplifiedChinese.text(text).isEmpty
                    && CheckoutLocale.simplifiedChinese.text(text) != CheckoutLocale.english.text(text) || text == .rate,
                "\(text) is not translated")
        }
    }

    @Test("QR codes round-trip their text size and draw without inline styles")
    func qr() throws {
        let uri =
            "ethereum:0xF2E246BB76DF876Cef8b38ae84130F4F55De395b@131277322940537/transfer?address=0x206782073284336124a8d0B783E4fD91f31cc83d&uint256=10000000"
        let code = try #require(QRCode(uri))
        #expect(code.size >= 21 && (code.size - 17) % 4 == 0, "a valid QR size is 17 + 4 × version")
        // The three finder patterns: dark 7×7 outlines at three corners.
        for (x, y) in [(0, 0), (code.size - 7, 0), (0, code.size - 7)] {
            #expect(code.isDark(x: x, y: y) && code.isDark(x: x + 6, y: y + 6) && !code.isDark(x: x + 1, y: y + 1) && code.isDark(x: x + 3, y: y + 3))
        }
        let svg = code.svg(label: "pay <me>")
        #expect(svg.hasPrefix("<svg") && !svg.contains("style="))
        #expect(svg.contains("aria-label=\"pay &lt;me>\""))
    }
}
