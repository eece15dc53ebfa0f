import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import StableGateApp
import StableGateDomain
import StableGateStore
import StableGateTestSupport
import Testing

/// Store settings, logo upload, API keys and the audit log on the merchant dashboard.
@Suite("Dashboard: store settings, logo, API keys, audit")
struct DashboardStoreTests {
    static let wallet = "0x52908400098527886E0F7030069857D2E4169EE7"

    /// Logs `owner@shop.example` of the harness merchant in.
    static func owner(_ harness: GatewayHarness, _ client: any TestClientProtocol) async throws -> DashboardTestClient {
        try await DashboardFixtures.user(harness, merchantId: harness.merchant.merchantId, email: "owner@shop.example")
        let browser = DashboardTestClient(client)
        let login = try await browser.logIn(email: "owner@shop.example", password: DashboardFixtures.password)
        guard login.status == .seeOther else { throw TestSetupError("login failed: \(login.status)") }
        return browser
    }

    static func settings(
        _ csrf: String, name: String = "Renamed Shop", webhook: String = "https://shop.example/hooks/stablegate",
        emails: String = "ops@shop.example\nfinance@shop.example", wallet: String = wallet, window: String = "45", replay: String = "120",
        kyt: Bool = false
    ) -> [(String, String)] {
        var fields = [
            ("csrf", csrf), ("name", name), ("webhook_url", webhook), ("emails", emails), ("wallet", wallet), ("window_minutes", window),
            ("replay_window_seconds", replay),
        ]
        if kyt { fields.append(("kyt", "on")) }
        return fields
    }

    @Test("Settings save, show on the page, and are audited with who, when and what changed", arguments: Backend.available)
    func saveSettings(backend: Backend) async throws {
        try await GatewayHarness.with(backend, configure: DashboardAccessTests.fastHashes) { harness in
            try await harness.test { client in
                let browser = try await Self.owner(harness, client)
                let saved = try await browser.post("/dashboard/settings", Self.settings(try await browser.sessionCSRF()))
                #expect(saved.status == .seeOther && saved.location == "/dashboard/settings?saved=1")
                let store = try #require(try await harness.environment.merchants.store(id: harness.merchant.storeId))
                #expect(store.name == "Renamed Shop")
                #expect(store.webhookURL == "https://shop.example/hooks/stablegate")
                #expect(store.notificationEmails == ["ops@shop.example", "finance@shop.example"])
                #expect(store.paymentWindowSeconds == 45 * 60)
                #expect(store.replayWindowSeconds == 120)
                #expect(!store.kytEnabled)
                let page = try await browser.get("/dashboard/settings?saved=1")
                #expect(page.html.contains("Settings saved.") && page.html.contains("https://shop.example/hooks/stablegate"))

                let audit = try await AuditLogRepository(database: harness.environment.database).auditLog(storeId: harness.merchant.storeId)
                let entry = try #require(audit.first { $0.action == "settings.updated" })
                #expect(entry.actor == "owner@shop.example" && entry.userId != nil)
                let detail = try JSONParser.parse(Array(entry.detail.utf8))
                #expect(detail["name"]?["from"] == .string("Test Shop") && detail["name"]?["to"] == .string("Renamed Shop"))
                #expect(detail["payment_window_seconds"]?["to"] == .string("2700"))
                #expect(detail["replay_window_seconds"]?["to"] == .string("120"))
                // The new window applies to the next signed request at once: 121 s of skew is refused now.
                var late = SignedRequest(.get, "/v1/test/ping", as: harness.merchant, at: harness.clock)
                late.timestamp = String(Int64(harness.clock.now.timeIntervalSince1970) - 121)
                let refused = try await client.send(late)
                #expect(refused.code == 20002 && refused.errorMessage?.contains("±120 s") == true, "\(refused.text)")
                #expect(detail["wallet"] == nil, "unchanged fields are not listed")
                let auditPage = try await browser.get("/dashboard/audit")
                #expect(auditPage.html.contains("settings.updated") && auditPage.html.contains("owner@shop.example"))
            }
        }
    }

    @Test(
        "Both webhook endpoints with their ids, a new id on request, and response signing — in settings and in the keys page's integration details",
        arguments: Backend.available)
    func webhookEndpointsAndSigning(backend: Backend) async throws {
        try await GatewayHarness.with(backend, configure: DashboardAccessTests.fastHashes) { harness in
            try await harness.test { client in
                let browser = try await Self.owner(harness, client)
                let csrf = try await browser.sessionCSRF()
                var fields = Self.settings(csrf) + [("events_url", "https://shop.example/hooks/events"), ("signed_responses", "on")]
                #expect(try await browser.post("/dashboard/settings", fields).status == .seeOther)
                var store = try #require(try await harness.environment.merchants.store(id: harness.merchant.storeId))
                let webhookId = try #require(store.webhookId), eventsId = try #require(store.eventsWebhookId)
                #expect(webhookId != eventsId && store.eventsURL == "https://shop.example/hooks/events" && store.signedResponses)
                let page = try await browser.get("/dashboard/settings").html
                #expect(page.contains(webhookId) && page.contains(eventsId) && page.contains("Send a test event"))
                let keys = try await browser.get("/dashboard/keys").html
                #expect(keys.contains("Integration details") && keys.contains(webhookId) && keys.contains(eventsId))
                // A signed request of this store gets a signed answer at once.
                let signed = try await client.send(SignedRequest(.get, "/v1/test/ping", as: harness.merchant, at: harness.clock))
                #expect(signed.headers[HTTPField.Name("X-Response-Signature")!]?.hasPrefix("v1=") == true)

                // Another URL keeps the id; the checkbox gives a new one; unticking signing stops it.
                fields = Self.settings(csrf, webhook: "https://shop.example/hooks/moved") + [("events_url", "https://shop.example/hooks/events")]
                #expect(try await browser.post("/dashboard/settings", fields).status == .seeOther)
                store = try #require(try await harness.environment.merchants.store(id: harness.merchant.storeId))
                #expect(store.webhookURL == "https://shop.example/hooks/moved" && store.webhookId == webhookId && !store.signedResponses)
                #expect(try await browser.post("/dashboard/settings", fields + [("new_webhook_id", "on")]).status == .seeOther)
                store = try #require(try await harness.environment.merchants.store(id: harness.merchant.storeId))
                #expect(store.webhookId != webhookId && store.eventsWebhookId == eventsId)
                let unsigned = try await client.send(SignedRequest(.get, "/v1/test/ping", as: harness.merchant, at: harness.clock))
                #expect(unsigned.headers[HTTPField.Name("X-Response-Signature")!] == nil)

                let audit = try await AuditLogRepository(database: harness.environment.database).auditLog(storeId: harness.merchant.storeId)
                #expect(audit.contains { $0.detail.contains("webhook_id") && $0.detail.contains(webhookId) })
            }
        }
    }

    @Test(
        "Invalid settings are refused with the reason and change nothing",
        arguments: [
            ("webhook_url", "ftp://shop.example/hook", "webhook URL"),
            ("webhook_url", "https://user:pw@shop.example/hook", "credentials"),
            ("emails", "ops@shop.example\nnot an address", "not an e-mail address"),
            ("wallet", "0x52908400098527886e0F7030069857D2E4169EE7", "EIP-55"),
            ("wallet", "0x1234", "not a valid address"),
            ("window_minutes", "0", "payment window"),
            ("replay_window_seconds", "29", "replay window must be 30–600 seconds"),
            ("replay_window_seconds", "601", "replay window must be 30–600 seconds"),
            ("name", "", "store name"),
        ])
    func refuseSettings(field: String, value: String, reason: String) async throws {
        try await GatewayHarness.with(.sqlite, configure: DashboardAccessTests.fastHashes) { harness in
            try await harness.test { client in
                let browser = try await Self.owner(harness, client)
                let before = try await harness.environment.merchants.store(id: harness.merchant.storeId)
                let fields = Self.settings(try await browser.sessionCSRF()).map { $0.0 == field ? ($0.0, value) : $0 }
                let refused = try await browser.post("/dashboard/settings", fields)
                #expect(refused.status == .badRequest)
                #expect(refused.html.contains("Not saved") && refused.html.contains(reason), "\(reason) not in the page")
                #expect(try await harness.environment.merchants.store(id: harness.merchant.storeId) == before)
                #expect(
                    try await AuditLogRepository(database: harness.environment.database).auditLog(storeId: harness.merchant.storeId)
                        .allSatisfy { $0.action != "settings.updated" })
            }
        }
    }

    @Test("Forms without the session's CSRF token change nothing")
    func csrf() async throws {
        try await GatewayHarness.with(.sqlite, configure: DashboardAccessTests.fastHashes) { harness in
            try await harness.test { client in
                let browser = try await Self.owner(harness, client)
                let before = try await harness.environment.merchants.store(id: harness.merchant.storeId)
                for token in ["", "0123456789abcdef0123456789abcdef"] {
                    let stale = try await browser.post("/dashboard/settings", Self.settings(token))
                    #expect(stale.status == .forbidden && stale.html.contains("This form expired"))
                    let key = try await browser.post("/dashboard/keys", [("csrf", token), ("label", "sneaky"), ("ips", ""), ("rate", "10")])
                    #expect(key.status == .forbidden)
                    let revoke = try await browser.post("/dashboard/keys/\(harness.merchant.apiKey)/revoke", [("csrf", token), ("confirm", "yes")])
                    #expect(revoke.status == .forbidden)
                    let logo = try await browser.postMultipart(
                        "/dashboard/settings/logo", fields: [("csrf", token)],
                        file: ("logo", "logo.png", "image/png", DashboardFixtures.png(width: 64, height: 64)))
                    #expect(logo.status == .forbidden)
                }
                #expect(try await harness.environment.merchants.store(id: harness.merchant.storeId) == before)
                #expect(try await harness.environment.apiKeys.list(storeId: harness.merchant.storeId).count == 1)
                #expect(try await harness.environment.apiKeys.find(id: harness.merchant.apiKey)?.isActive == true)
            }
        }
    }

    @Test("A logo upload is served publicly and shown at checkout; bad uploads are refused", arguments: Backend.available)
    func logo(backend: Backend) async throws {
        try await GatewayHarness.with(backend, configure: DashboardAccessTests.fastHashes) { harness in
            try await harness.test { client in
                let browser = try await Self.owner(harness, client)
                let csrf = try await browser.sessionCSRF()
                let refusals: [([UInt8], String, String)] = [
                    (Array("GIF89a this is not a png".utf8), "image/png", "only PNG and JPEG"),
                    (DashboardFixtures.png(width: 4096, height: 64), "image/png", "16–2048 pixels"),
                    (DashboardFixtures.png(width: 64, height: 64, padding: 300 * 1024), "image/png", "larger than 256 KB"),
                    (Array(DashboardFixtures.png(width: 64, height: 64).prefix(20)), "image/png", "damaged"),
                    ([0xFF, 0xD8, 0xFF, 0xE0, 0, 16] + [UInt8](repeating: 0, count: 14), "image/jpeg", "damaged"),
                    ([], "application/octet-stream", "choose a PNG or JPEG"),
                ]
                for (bytes, type, reason) in refusals {
                    let refused = try await browser.postMultipart(
                        "/dashboard/settings/logo", fields: [("csrf", csrf)], file: ("logo", "logo", type, bytes))
                    #expect(refused.status == .badRequest && refused.html.contains(reason), "\(reason)")
                }
                #expect(try await harness.environment.merchants.logo(storeId: harness.merchant.storeId) == nil)

                let png = DashboardFixtures.png(width: 120, height: 40)
                let saved = try await browser.postMultipart(
                    "/dashboard/settings/logo", fields: [("csrf", csrf)], file: ("logo", "logo.png", "image/png", png))
                #expect(saved.status == .seeOther)
                let served = try await client.execute(uri: "/stores/\(harness.merchant.storeId)/logo", method: .get)
                #expect(served.status == .ok && served.headers[.contentType] == "image/png")
                #expect(Array(served.body.readableBytesView) == png)
                let created = try await client.send(
                    SignedRequest(
                        .post, "/v1/checkout_intents", body: #"{"stable_coin": 1, "amount_cents": 1000}"#, as: harness.merchant, at: harness.clock))
                let checkout = try await client.execute(
                    uri: try await harness.checkoutPath(try #require(created.string("allscale_checkout_intent_id"))), method: .get)
                #expect(String(buffer: checkout.body).contains("/stores/\(harness.merchant.storeId)/logo"))

                try await browser.post("/dashboard/settings/logo/remove", [("csrf", csrf)])
                #expect(try await client.execute(uri: "/stores/\(harness.merchant.storeId)/logo", method: .get).status == .notFound)
                let actions = try await AuditLogRepository(database: harness.environment.database).auditLog(storeId: harness.merchant.storeId).map(
                    \.action)
                #expect(actions.contains("logo.updated") && actions.contains("logo.removed"))
            }
        }
    }

    @Test("A key created in the dashboard shows its secret once, signs requests, and rotates without downtime", arguments: Backend.available)
    func keys(backend: Backend) async throws {
        // A long key cache: revoking in the dashboard must still take effect at once.
        try await GatewayHarness.with(
            backend,
            configure: {
                $0.passwordHashCost = 4
                $0.apiKeyCacheTTL = 300
            }
        ) { harness in
            try await harness.test { client in
                let browser = try await Self.owner(harness, client)
                let csrf = try await browser.sessionCSRF()
                let bad = try await browser.post("/dashboard/keys", [("csrf", csrf), ("label", "x"), ("ips", "300.1.1.1"), ("rate", "10")])
                #expect(bad.status == .badRequest && bad.html.contains("Not created"))
                #expect(try await harness.environment.apiKeys.list(storeId: harness.merchant.storeId).count == 1)

                let created = try await browser.post("/dashboard/keys", [("csrf", csrf), ("label", "new server"), ("ips", ""), ("rate", "120")])
                #expect(created.status == .ok)
                let key = try created.value(after: #"id="new-key">"#).prefix { $0 != "<" }
                let secret = try created.value(after: #"id="new-secret">"#).prefix { $0 != "<" }
                #expect(key.hasPrefix("sgk_") && secret.hasPrefix("sgs_"))
                let list = try await browser.get("/dashboard/keys")
                #expect(list.html.contains(String(key)) && !list.html.contains(String(secret)), "the list never shows a secret")
                #expect(try await !browser.get("/dashboard/keys/\(key)").html.contains(String(secret)))

                // Both keys work during the rotation.
                var signed = SignedRequest(.get, "/v1/test/ping", as: harness.merchant, at: harness.clock)
                signed.apiKey = String(key)
                signed.secret = String(secret)
                #expect(try await client.send(signed).isSuccess)
                #expect(try await client.send(SignedRequest(.get, "/v1/test/ping", as: harness.merchant, at: harness.clock)).isSuccess)

                // Edit: label, allowlist and rate limit.
                let edited = try await browser.post(
                    "/dashboard/keys/\(key)", [("csrf", csrf), ("label", "edge"), ("ips", "203.0.113.0/24\n2001:db8::/32"), ("rate", "30")])
                #expect(edited.status == .seeOther)
                let record = try #require(try await harness.environment.apiKeys.find(id: String(key)))
                #expect(
                    record.label == "edge" && record.rateLimitPerMinute == 30
                        && record.allowedRanges.map(\.description) == ["203.0.113.0/24", "2001:db8::/32"])

                // Revoking the old key needs the confirmation box, then the old key stops working.
                let unconfirmed = try await browser.post("/dashboard/keys/\(harness.merchant.apiKey)/revoke", [("csrf", csrf)])
                #expect(unconfirmed.status == .badRequest)
                #expect(try await harness.environment.apiKeys.find(id: harness.merchant.apiKey)?.isActive == true)
                let revoked = try await browser.post("/dashboard/keys/\(harness.merchant.apiKey)/revoke", [("csrf", csrf), ("confirm", "yes")])
                #expect(revoked.location == "/dashboard/keys?revoked=1")
                let refused = try await client.send(SignedRequest(.get, "/v1/test/ping", as: harness.merchant, at: harness.clock))
                #expect(!refused.isSuccess && refused.status == .unauthorized)
                #expect(try await browser.get("/dashboard/keys/\(harness.merchant.apiKey)").status == .notFound, "a revoked key cannot be edited")

                let actions = try await AuditLogRepository(database: harness.environment.database).auditLog(storeId: harness.merchant.storeId).map(
                    \.action)
                #expect(actions.filter { $0 == "api_key.created" }.count == 1)
                #expect(actions.contains("api_key.updated") && actions.contains("api_key.revoked"))
                let audit = try await browser.get("/dashboard/audit")
                #expect(!audit.html.contains(String(secret)), "the audit log never holds a secret")
            }
        }
    }
}
