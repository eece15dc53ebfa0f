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

/// Logging in, sessions, CSRF, throttling and ownership on the merchant dashboard.
@Suite("Dashboard: login, sessions and access")
struct DashboardAccessTests {
    static func fastHashes(_ configuration: inout GatewayConfiguration) { configuration.passwordHashCost = 4 }

    /// Builds a gateway with fast password hashes and the dashboard login `owner@shop.example`
    /// for its merchant, and runs `body` with it and a client of its router.
    static func withOwner(
        _ backend: Backend, clock: any WallClock = SystemClock(), _ body: @Sendable (GatewayHarness, any TestClientProtocol) async throws -> Void
    ) async throws {
        try await GatewayHarness.with(backend, configure: fastHashes, clock: clock) { harness in
            try await DashboardFixtures.user(harness, merchantId: harness.merchant.merchantId, email: "owner@shop.example")
            try await harness.test { client in try await body(harness, client) }
        }
    }

    @Test("bcrypt: published vectors verify, new hashes are $2b$ at the configured cost and salted")
    func passwordHasher() async throws {
        let hasher = PasswordHasher(cost: 5)
        // Openwall crypt_blowfish test vectors.
        #expect(try await hasher.verify("U*U", hash: "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"))
        #expect(try await hasher.verify("U*U*", hash: "$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK"))
        #expect(try await !hasher.verify("U*U*", hash: "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"))
        let first = try await hasher.hash("a long enough password")
        let second = try await hasher.hash("a long enough password")
        #expect(first.hasPrefix("$2b$05$") && first.count == 60)
        #expect(first != second, "each hash has its own salt")
        #expect(try await hasher.verify("a long enough password", hash: first))
        #expect(try await !hasher.verify("a long enough passworD", hash: first))
        #expect(try await !hasher.verify("anything", hash: "not a hash"))
        #expect(PasswordHasher.problem(with: "short") != nil)
        #expect(PasswordHasher.problem(with: String(repeating: "x", count: 73)) != nil)
        #expect(PasswordHasher.problem(with: "ten chars!") == nil)
    }

    @Test("The operator's setup link sets a password once; then e-mail and password log in with a hardened cookie")
    func setupLinkAndLogin() async throws {
        try await GatewayHarness.with(.sqlite, configure: Self.fastHashes) { harness in
            let link = try await DashboardUserOnboarding(environment: harness.environment).invite(
                merchantId: harness.merchant.merchantId, email: "Owner@Shop.example", reset: false)
            #expect(link.url.hasPrefix("https://pay.example.test/dashboard/setup?token="))
            #expect(link.email == "owner@shop.example")
            let path = String(link.url.dropFirst("https://pay.example.test".count))
            let token = String(path.split(separator: "=")[1])
            try await harness.test { client in
                let browser = DashboardTestClient(client)
                let setup = try await browser.get(path)
                #expect(setup.status == .ok)
                #expect(setup.html.contains("owner@shop.example"))
                let mismatch = try await browser.post(
                    "/dashboard/setup",
                    [("csrf", try setup.csrf()), ("token", token), ("password", "first password 1"), ("password2", "other password 1")])
                #expect(mismatch.status == .badRequest && mismatch.html.contains("the two passwords differ"))
                let short = try await browser.post(
                    "/dashboard/setup", [("csrf", try setup.csrf()), ("token", token), ("password", "short"), ("password2", "short")])
                #expect(short.status == .badRequest && short.html.contains("at least 10 characters"))
                let forged = DashboardTestClient(client)  // no pre-session cookie: a cross-site post
                let refused = try await forged.post(
                    "/dashboard/setup",
                    [("csrf", try setup.csrf()), ("token", token), ("password", "first password 1"), ("password2", "first password 1")])
                #expect(refused.status == .forbidden)
                let set = try await browser.post(
                    "/dashboard/setup",
                    [("csrf", try setup.csrf()), ("token", token), ("password", "first password 1"), ("password2", "first password 1")])
                #expect(set.status == .seeOther && set.location == "/dashboard/login?set=1")
                #expect(try await browser.get(path).status == .notFound, "the link works once")

                let wrong = try await browser.logIn(email: "owner@shop.example", password: "not the password")
                #expect(wrong.status == .unauthorized && wrong.html.contains("not right"))
                #expect(browser.cookies["sg_session"] == nil)
                let login = try await browser.logIn(email: "OWNER@shop.example", password: "first password 1")
                #expect(login.status == .seeOther && login.location == "/dashboard")
                let cookie = try #require(browser.setCookieHeaders.last { $0.hasPrefix("sg_session=") })
                for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/dashboard"] {
                    #expect(cookie.localizedCaseInsensitiveContains(attribute), "\(attribute) missing from \(cookie)")
                }
                let overview = try await browser.get("/dashboard")
                #expect(overview.status == .ok && overview.html.contains("Test Shop"))
                // The stored session id is the token's hash, never the token.
                let stored = try await harness.environment.database.read { db in
                    try await db.raw("SELECT id FROM sessions").all().map { try $0.decode(column: "id", as: String.self) }
                }
                #expect(!stored.contains(browser.cookies["sg_session"]!))
                #expect(stored.count == 1)
            }
        }
    }

    @Test("A new setup link (--reset) replaces the old one; a user of another merchant cannot be re-invited")
    func resetLink() async throws {
        try await GatewayHarness.with(.sqlite, configure: Self.fastHashes) { harness in
            let onboarding = DashboardUserOnboarding(environment: harness.environment)
            let first = try await onboarding.invite(merchantId: harness.merchant.merchantId, email: "a@shop.example", reset: false)
            await #expect(throws: MerchantOnboarding.InputError.self) {
                try await onboarding.invite(merchantId: harness.merchant.merchantId, email: "a@shop.example", reset: false)
            }
            let other = try await harness.otherMerchant()
            await #expect(throws: MerchantOnboarding.InputError.self) {
                try await onboarding.invite(merchantId: other.merchantId, email: "a@shop.example", reset: true)
            }
            await #expect(throws: MerchantOnboarding.InputError.self) {
                try await onboarding.invite(merchantId: harness.merchant.merchantId, email: "not-an-address", reset: false)
            }
            let second = try await onboarding.invite(merchantId: harness.merchant.merchantId, email: "a@shop.example", reset: true)
            #expect(second.userId == first.userId)
            try await harness.test { client in
                let browser = DashboardTestClient(client)
                let old = try await browser.get(String(first.url.dropFirst("https://pay.example.test".count)))
                let new = try await browser.get(String(second.url.dropFirst("https://pay.example.test".count)))
                #expect(old.status == .notFound)
                #expect(new.status == .ok)
            }
        }
    }

    @Test("Login forms need the pre-session token; pages need a session; next never leaves the dashboard")
    func loginCSRFAndRedirects() async throws {
        try await Self.withOwner(.sqlite) { harness, client in
            let anonymous = DashboardTestClient(client)
            let bounced = try await anonymous.get("/dashboard/orders?status=20")
            #expect(bounced.status == .seeOther)
            let back = try #require(bounced.location.flatMap(URLComponents.init(string:)))
            #expect(back.path == "/dashboard/login" && back.queryItems?.first { $0.name == "next" }?.value == "/dashboard/orders?status=20")
            for path in ["/dashboard/settings", "/dashboard/keys", "/dashboard/orders.csv", "/dashboard/audit"] {
                #expect(try await anonymous.get(path).location?.hasPrefix("/dashboard/login") == true, "\(path) without a session")
            }
            // A cross-site login post carries no pre-session cookie.
            let forged = try await anonymous.post(
                "/dashboard/login", [("csrf", "guess"), ("email", "owner@shop.example"), ("password", DashboardFixtures.password)])
            #expect(forged.status == .forbidden)
            #expect(anonymous.cookies["sg_session"] == nil)

            let browser = DashboardTestClient(client)
            let login = try await browser.logIn(email: "owner@shop.example", password: DashboardFixtures.password, next: "//evil.example/steal")
            #expect(login.location == "/dashboard")
            let fresh = DashboardTestClient(client)
            let deep = try await fresh.logIn(
                email: "owner@shop.example", password: DashboardFixtures.password, next: "/dashboard/orders?status=20")
            #expect(deep.location == "/dashboard/orders?status=20")
        }
    }

    @Test("Five wrong passwords lock the address for 15 minutes, even against the right password")
    func throttle() async throws {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_795_000_000))
        try await Self.withOwner(.sqlite, clock: clock) { harness, client in
            let browser = DashboardTestClient(client)
            for _ in 0..<5 {
                #expect(try await browser.logIn(email: "owner@shop.example", password: "wrong password").status == .unauthorized)
            }
            let locked = try await browser.logIn(email: "owner@shop.example", password: DashboardFixtures.password)
            #expect(locked.status == .tooManyRequests)
            #expect(browser.cookies["sg_session"] == nil)
            clock.advance(by: 15 * 60 + 1)
            let open = try await browser.logIn(email: "owner@shop.example", password: DashboardFixtures.password)
            #expect(open.status == .seeOther && browser.cookies["sg_session"] != nil)
        }
    }

    @Test("60 wrong passwords sent at once: 5 are checked, the other 55 refused with 429, and the e-mail stays locked", arguments: Backend.available)
    func parallelGuessesThrottled(backend: Backend) async throws {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_795_000_000))
        try await Self.withOwner(backend, clock: clock) { harness, client in
            // One login page's pre-session cookie and token, posted 60 times at once.
            let browser = DashboardTestClient(client)
            let form = try await browser.get("/dashboard/login")
            let cookie = try #require(browser.cookies["sg_dcsrf"])
            let headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .cookie: "sg_dcsrf=\(cookie)"]
            let body = DashboardTestClient.formEncode([
                ("csrf", try form.csrf()), ("email", "owner@shop.example"), ("password", "wrong password"),
            ])
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<60 {
                    group.addTask {
                        try await client.execute(uri: "/dashboard/login", method: .post, headers: headers, body: ByteBuffer(string: body)).status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .unauthorized }.count == 5, "password checks")
            #expect(statuses.filter { $0 == .tooManyRequests }.count == 55)
            // A minute later the address may post again, but the e-mail is locked, even
            // against the right password.
            clock.advance(by: 60)
            let locked = try await browser.logIn(email: "owner@shop.example", password: DashboardFixtures.password)
            #expect(locked.status == .tooManyRequests && locked.html.contains("Too many failed attempts"))
            #expect(browser.cookies["sg_session"] == nil)
        }
    }

    @Test("The login form takes a burst of 20 posts from one address, then one every 2 seconds")
    func loginRateLimitedPerClient() async throws {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_795_000_000))
        try await GatewayHarness.with(.sqlite, configure: Self.fastHashes, clock: clock) { harness in
            try await harness.test { client in
                let browser = DashboardTestClient(client)
                // Unknown e-mails, so the e-mail throttle never steps in.
                for index in 0..<20 {
                    #expect(try await browser.logIn(email: "nobody\(index)@shop.example", password: "wrong password").status == .unauthorized)
                }
                let limited = try await browser.logIn(email: "nobody20@shop.example", password: "wrong password")
                #expect(limited.status == .tooManyRequests && limited.headers[.retryAfter] == "2")
                // Two seconds later one more post is let through — to the throttle, which has
                // counted the address's 20 failures.
                clock.advance(by: 2)
                let throttled = try await browser.logIn(email: "nobody21@shop.example", password: "wrong password")
                #expect(throttled.status == .tooManyRequests && throttled.html.contains("Too many failed attempts"))
            }
        }
    }

    @Test("Sessions end on logout, on logout-everywhere for every device, and after 8 idle hours")
    func sessionsEnd() async throws {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_795_000_000))
        try await Self.withOwner(.sqlite, clock: clock) { harness, client in
            let laptop = DashboardTestClient(client), phone = DashboardTestClient(client)
            try await laptop.logIn(email: "owner@shop.example", password: DashboardFixtures.password)
            try await phone.logIn(email: "owner@shop.example", password: DashboardFixtures.password)
            #expect(try await phone.get("/dashboard").status == .ok)
            // Logging out needs the session's CSRF token: a forged post ends nothing.
            #expect(try await laptop.post("/dashboard/logout-everywhere", [("csrf", "guess")]).location == "/dashboard/login")
            #expect(try await phone.get("/dashboard").status == .ok)
            let everywhere = try await laptop.post("/dashboard/logout-everywhere", [("csrf", try await laptop.sessionCSRF())])
            #expect(everywhere.location == "/dashboard/login?everywhere=1")
            #expect(try await phone.get("/dashboard").status == .seeOther, "the phone's session ended too")

            let again = DashboardTestClient(client)
            try await again.logIn(email: "owner@shop.example", password: DashboardFixtures.password)
            let stolenCookie = try #require(again.cookies["sg_session"])
            try await again.post("/dashboard/logout", [("csrf", try await again.sessionCSRF())])
            let replay = try await client.execute(uri: "/dashboard", method: .get, headers: [.cookie: "sg_session=\(stolenCookie)"])
            #expect(replay.status == .seeOther, "a logged-out cookie does not come back to life")

            let idle = DashboardTestClient(client)
            try await idle.logIn(email: "owner@shop.example", password: DashboardFixtures.password)
            clock.advance(by: 7 * 3600)
            #expect(try await idle.get("/dashboard").status == .ok, "use slides the idle expiry")
            clock.advance(by: 8 * 3600 + 60)
            #expect(try await idle.get("/dashboard").status == .seeOther)
        }
    }

    @Test("Another merchant's orders, keys and forms are 404s and change nothing", arguments: Backend.available)
    func ownership(backend: Backend) async throws {
        try await GatewayHarness.with(backend, configure: Self.fastHashes) { harness in
            let other = try await harness.otherMerchant()
            try await DashboardFixtures.user(harness, merchantId: other.merchantId, email: "intruder@other.example")
            try await harness.test { client in
                let created = try await client.send(
                    SignedRequest(
                        .post, "/v1/checkout_intents", body: #"{"stable_coin": 1, "amount_cents": 1000, "order_id": "VICTIM-1"}"#,
                        as: harness.merchant, at: harness.clock))
                let intentId = try #require(created.string("allscale_checkout_intent_id"))
                let intruder = DashboardTestClient(client)
                try await intruder.logIn(email: "intruder@other.example", password: DashboardFixtures.password)
                let csrf = try await intruder.sessionCSRF()
                let order = try await intruder.get("/dashboard/orders/\(intentId)")
                #expect(order.status == .notFound && !order.html.contains("VICTIM-1"))
                #expect(try await intruder.get("/dashboard/keys/\(harness.merchant.apiKey)").status == .notFound)
                let revoke = try await intruder.post("/dashboard/keys/\(harness.merchant.apiKey)/revoke", [("csrf", csrf), ("confirm", "yes")])
                #expect(revoke.status == .notFound)
                let edit = try await intruder.post(
                    "/dashboard/keys/\(harness.merchant.apiKey)", [("csrf", csrf), ("label", "mine now"), ("ips", ""), ("rate", "1")])
                #expect(edit.status == .notFound)
                let key = try #require(try await harness.environment.apiKeys.find(id: harness.merchant.apiKey))
                #expect(key.isActive && key.label == "first key" && key.rateLimitPerMinute != 1)
                let list = try await intruder.get("/dashboard/orders?q=VICTIM-1")
                #expect(list.status == .ok && !list.html.contains(intentId))
                let csv = try await intruder.get("/dashboard/orders.csv")
                #expect(!csv.html.contains(intentId))
                #expect(!(try await intruder.get("/dashboard/keys")).html.contains(harness.merchant.apiKey))
            }
        }
    }
}
