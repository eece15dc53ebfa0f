import Foundation
import HTTPTypes
import HummingbirdTesting
import SQLKit
import StableGateApp
import StableGateDomain
import StableGateStore
import StableGateTestSupport
import Testing

@Suite("Authentication, replay protection, IP allowlists and rate limits")
struct AuthTests {
    @Test("Each missing header is a 20001 that names it", arguments: Backend.available)
    func missingHeaders(backend: Backend) async throws {
        try await GatewayHarness.withClient(backend) { harness, client in
            let signed = SignedRequest(.get, "/v1/test/ping", as: harness.merchant, at: harness.clock)
            for name in [HTTPField.Name.apiKey, .timestamp, .nonce, .signature] {
                var headers = signed.headers
                headers[name] = nil
                let reply = try await client.send(uri: signed.uri, method: .get, headers: headers)
                #expect(reply.code == 20001)
                #expect(reply.status == .unauthorized)
                #expect(reply.errorMessage?.contains(name.rawName) == true, "\(reply.text)")
            }
            let bare = try await client.send(uri: "/v1/test/ping", method: .get)
            #expect(bare.code == 20001)
            #expect(bare.errorMessage == "missing authentication headers: X-API-Key, X-Timestamp, X-Nonce, X-Signature")
        }
    }

    @Test("Bad signatures, unknown keys and stale timestamps are 20002 with their own messages", arguments: Backend.available)
    func invalidSignatures(backend: Backend) async throws {
        // A clock that does not move, so ±301 s is outside the window however slow the machine.
        try await GatewayHarness.with(backend, clock: ManualClock(Date())) { harness in
            try await harness.test { client in
                let now = Int64(harness.clock.now.timeIntervalSince1970)
                func reply(_ change: (inout SignedRequest) -> Void) async throws -> EnvelopeReply {
                    var request = SignedRequest(.post, "/v1/test/post", body: #"{"a":1}"#, as: harness.merchant, at: harness.clock)
                    change(&request)
                    return try await client.send(request)
                }
                let cases: [(String, (inout SignedRequest) -> Void)] = [
                    ("signature does not match", { $0.secret = "sgs_wrong" }),
                    ("unknown API key", { $0.apiKey = "sgk_doesnotexist" }),
                    ("outside the replay window of ±600 s", { $0.timestamp = String(now - 601) }),
                    ("outside the replay window of ±600 s", { $0.timestamp = String(now + 601) }),
                    ("Unix time in seconds", { $0.timestamp = "2026-11-21T10:00:00Z" }),
                    ("Unix time in seconds", { $0.timestamp = "-5" }),
                    ("printable ASCII", { $0.nonce = String(repeating: "n", count: 129) }),
                ]
                for (message, change) in cases {
                    let result = try await reply(change)
                    #expect(result.code == 20002, "\(message): \(result.text)")
                    #expect(result.status == .unauthorized)
                    #expect(result.errorMessage?.contains(message) == true, "expected “\(message)” in \(result.text)")
                }
                // Within the window on either side is fine.
                #expect(try await reply { $0.timestamp = String(now - 599) }.isSuccess)
                #expect(try await reply { $0.timestamp = String(now + 599) }.isSuccess)
            }
        }
    }

    @Test("A store's own replay window: narrower timestamps refused naming the window, nonces kept as long as it", arguments: Backend.available)
    func storeReplayWindow(backend: Backend) async throws {
        try await GatewayHarness.with(backend, clock: ManualClock(Date())) { harness in
            var store = try #require(try await harness.environment.merchants.store(id: harness.merchant.storeId))
            store.replayWindowSeconds = 60
            try await harness.environment.merchants.update(store)
            try await harness.test { client in
                let now = Int64(harness.clock.now.timeIntervalSince1970)
                func reply(timestamp: Int64, nonce: String = UUID().uuidString) async throws -> EnvelopeReply {
                    var request = SignedRequest(.post, "/v1/test/post", body: #"{"a":1}"#, as: harness.merchant, at: harness.clock)
                    request.timestamp = String(timestamp)
                    request.nonce = nonce
                    return try await client.send(request)
                }
                let stale = try await reply(timestamp: now - 61)
                #expect(stale.code == 20002 && stale.errorMessage?.contains("outside the replay window of ±60 s") == true, "\(stale.text)")
                #expect(try await reply(timestamp: now + 61).code == 20002)
                #expect(try await reply(timestamp: now - 59).isSuccess)
                // The nonce of an accepted request is kept until its timestamp leaves the window.
                #expect(try await reply(timestamp: now + 59, nonce: "kept-nonce").isSuccess)
                let expiry = try await harness.environment.database.read { db in
                    try await db.raw("SELECT expires_at FROM api_nonces WHERE nonce = 'kept-nonce'").first()?.decode(
                        column: "expires_at", as: Int64.self)
                }
                #expect(expiry == (now + 59 + 60 + 1) * 1000)
                #expect(try await reply(timestamp: now + 59, nonce: "kept-nonce").code == 20002, "a replay inside the window is refused")
            }
        }
    }

    @Test("The signature covers method, exact path, raw query and body bytes", arguments: Backend.available)
    func signatureCoverage(backend: Backend) async throws {
        try await GatewayHarness.with(backend) { harness in
            try await harness.test { (client: any TestClientProtocol) async throws -> Void in
                let merchant = harness.merchant
                let clock = harness.clock
                // Body changed after signing.
                var tampered = SignedRequest(.post, "/v1/test/post", body: #"{"amount":1}"#, as: merchant, at: clock)
                let headers = tampered.headers
                tampered.body = #"{"amount":9}"#
                #expect(try await client.send(uri: tampered.uri, method: .post, headers: headers, body: tampered.body).code == 20002)
                // Signed without the trailing slash, sent with it.
                var slash = SignedRequest(.post, "/v1/checkout_intents/", body: #"{"stable_coin":1,"amount_cents":1000}"#, as: merchant, at: clock)
                slash.signedPath = "/v1/checkout_intents"
                #expect(try await client.send(slash).code == 20002)
                // Query changed after signing.
                let query = SignedRequest(.get, "/v1/test/ping", query: "a=1", as: merchant, at: clock)
                #expect(try await client.send(uri: "/v1/test/ping?a=2", method: .get, headers: query.headers).code == 20002)
                // Raw query kept as sent, percent-encoding included.
                #expect(try await client.send(SignedRequest(.get, "/v1/test/ping", query: "note=two%20words&b=", as: merchant, at: clock)).isSuccess)
                // Method changed.
                let get = SignedRequest(.get, "/v1/test/post", as: merchant, at: clock)
                #expect(try await client.send(uri: get.uri, method: .post, headers: get.headers).code == 20002)
            }
        }
    }

    @Test("A replayed nonce is refused and writes nothing", arguments: Backend.available)
    func replay(backend: Backend) async throws {
        try await GatewayHarness.withClient(backend) { harness, client in
            let create = SignedRequest(
                .post, "/v1/checkout_intents", body: #"{"stable_coin":1,"amount_cents":1000}"#, as: harness.merchant, at: harness.clock)
            #expect(try await client.send(create).isSuccess)
            let again = try await client.send(create)
            #expect(again.code == 20002)
            #expect(again.errorMessage?.contains("already used") == true)
            #expect(try await harness.intentCount() == 1)
            // The same nonce with another key is fine: nonces are per key.
            let other = try await harness.otherMerchant()
            var otherRequest = SignedRequest(.get, "/v1/test/ping", as: other, at: harness.clock)
            otherRequest.nonce = create.nonce
            #expect(try await client.send(otherRequest).isSuccess)
        }
    }

    @Test("Revoked keys stop working; another key of the store keeps working (rotation)", arguments: Backend.available)
    func revocation(backend: Backend) async throws {
        try await GatewayHarness.with(backend) { harness in
            let second = try await MerchantOnboarding(environment: harness.environment).createKey(
                storeId: harness.merchant.storeId, label: "rotation", allowedCIDRs: [], rateLimitPerMinute: nil)
            try await harness.test { client in
                #expect(try await client.send(SignedRequest(.get, "/v1/test/ping", as: harness.merchant, at: harness.clock)).isSuccess)
                try await harness.environment.apiKeys.revoke(id: harness.merchant.apiKey, at: harness.clock.now)
                let revoked = try await client.send(SignedRequest(.get, "/v1/test/ping", as: harness.merchant, at: harness.clock))
                #expect(revoked.code == 20002)
                #expect(revoked.errorMessage == "API key has been revoked")
                var rotated = SignedRequest(.get, "/v1/test/ping", as: harness.merchant, at: harness.clock)
                rotated.apiKey = second.record.id
                rotated.secret = second.secret
                #expect(try await client.send(rotated).isSuccess)
            }
        }
    }

    @Test("Over the key's per-minute rate: 40001 with Retry-After, counted across instances", arguments: Backend.available)
    func rateLimit(backend: Backend) async throws {
        // A fixed clock 10 s into a minute keeps the whole test inside one rate window.
        let clock = ManualClock(Date(timeIntervalSince1970: 1_767_225_610))
        try await GatewayHarness.with(backend, clock: clock) { harness in
            let limited = try await MerchantOnboarding(environment: harness.environment).createKey(
                storeId: harness.merchant.storeId, label: nil, allowedCIDRs: [], rateLimitPerMinute: 3)
            var credentials = SignedRequest(.get, "/v1/test/ping", as: harness.merchant, at: clock)
            credentials.apiKey = limited.record.id
            credentials.secret = limited.secret
            let template = credentials
            // A second gateway instance on the same database.
            let second = try await buildApplication(harness.configuration, dependencies: GatewayDependencies(clock: clock, logger: testLogger))
            try await harness.test { (client: any TestClientProtocol) async throws -> Void in
                for _ in 0..<2 {
                    var request = template
                    request.nonce = UUID().uuidString
                    #expect(try await client.send(request).isSuccess)
                }
            }
            try await second.application.test(.router) { client in
                var request = template
                request.nonce = UUID().uuidString
                #expect(try await client.send(request).isSuccess)
                request.nonce = UUID().uuidString
                let limitedReply = try await client.send(request)
                #expect(limitedReply.code == 40001)
                #expect(limitedReply.status == .tooManyRequests)
                #expect(limitedReply.headers[.retryAfter] == "50")
                #expect(limitedReply.errorMessage?.contains("3 requests per minute") == true)
            }
            await second.environment.close()
            // The next minute the key works again.
            clock.advance(by: 50)
            try await harness.test { (client: any TestClientProtocol) async throws -> Void in
                var request = template
                request.timestamp = String(Int64(clock.now.timeIntervalSince1970))
                request.nonce = UUID().uuidString
                #expect(try await client.send(request).isSuccess)
            }
        }
    }

    @Test(
        "A create records its nonce and rate count in the intent's transaction: refused claims store nothing and win over body errors",
        arguments: Backend.available)
    func createRecordsItsClaim(backend: Backend) async throws {
        // A fixed clock 10 s into a minute keeps the whole test inside one rate window.
        let clock = ManualClock(Date(timeIntervalSince1970: 1_767_225_610))
        try await GatewayHarness.with(backend, clock: clock) { harness in
            let limited = try await MerchantOnboarding(environment: harness.environment).createKey(
                storeId: harness.merchant.storeId, label: nil, allowedCIDRs: [], rateLimitPerMinute: 25)
            @Sendable func create(_ body: String = #"{"stable_coin":1,"amount_cents":1000}"#) -> SignedRequest {
                var request = SignedRequest(.post, "/v1/checkout_intents", body: body, as: harness.merchant, at: clock)
                request.apiKey = limited.record.id
                request.secret = limited.secret
                return request
            }
            let invalid = create(#"{"stable_coin":1,"amount_cents":-5}"#)
            let first = create()
            try await harness.test { client in
                // A body error under budget is a 10001, and its nonce is spent all the same.
                #expect(try await client.send(invalid).code == 10001)
                #expect(try await client.send(first).isSuccess)
                // Replays: the nonce's answer comes before anything about the body.
                #expect(try await client.send(first).code == 20002)
                let replayedInvalid = try await client.send(invalid)
                #expect(replayedInvalid.code == 20002)
                #expect(replayedInvalid.errorMessage?.contains("already used") == true)
                // 40 creates at once with 23 of the 25 left: one batch or several, exactly 23
                // are stored, and the other 17 are told to wait.
                let replies = try await withThrowingTaskGroup(of: EnvelopeReply.self) { group in
                    for _ in 0..<40 {
                        let request = create()
                        group.addTask { try await client.send(request) }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(replies.filter(\.isSuccess).count == 23)
                let refused = replies.filter { $0.code == 40001 }
                #expect(refused.count == 17)
                #expect(refused.allSatisfy { $0.status == .tooManyRequests && $0.headers[.retryAfter] == "50" })
                // Over the limit, a bad body is still a 40001, and so is a create with an
                // idempotency key (which records its claim in a transaction of its own).
                #expect(try await client.send(create(#"{"amount_cents":"#)).code == 40001)
                var keyed = create()
                keyed.extraHeaders[HTTPField.Name("Idempotency-Key")!] = "order-77"
                #expect(try await client.send(keyed).code == 40001)
            }
            #expect(try await harness.intentCount() == 24)
            // Every attempt was counted, refused ones included; every nonce but the replays' kept.
            let (counted, nonces) = try await harness.environment.database.read { db in
                (
                    try await db.raw(
                        "SELECT CAST(SUM(request_count) AS BIGINT) AS n FROM rate_limit_windows WHERE api_key_id = \(bind: limited.record.id)"
                    )
                    .first()?.decode(column: "n", as: Int.self),
                    try await db.raw("SELECT COUNT(*) AS n FROM api_nonces WHERE api_key_id = \(bind: limited.record.id)")
                        .first()?.decode(column: "n", as: Int.self)
                )
            }
            #expect(counted == 44)
            #expect(nonces == 44)
        }
    }

    @Test("IP allowlists are enforced on the connecting address (30001)", arguments: Backend.available)
    func ipAllowlist(backend: Backend) async throws {
        try await GatewayHarness.with(backend) { harness in
            let onboarding = MerchantOnboarding(environment: harness.environment)
            let elsewhere = try await onboarding.createKey(
                storeId: harness.merchant.storeId, label: nil, allowedCIDRs: ["10.0.0.0/8", "2001:db8::/32"], rateLimitPerMinute: nil)
            let local = try await onboarding.createKey(
                storeId: harness.merchant.storeId, label: nil, allowedCIDRs: ["127.0.0.0/8", "::1"], rateLimitPerMinute: nil)
            try await harness.testLive { client in
                var request = SignedRequest(.get, "/v1/test/ping", as: harness.merchant, at: harness.clock)
                request.apiKey = elsewhere.record.id
                request.secret = elsewhere.secret
                let refused = try await client.send(request)
                #expect(refused.code == 30001)
                #expect(refused.status == .forbidden)
                #expect(refused.errorMessage?.contains("127.0.0.1") == true)
                request.apiKey = local.record.id
                request.secret = local.secret
                request.nonce = UUID().uuidString
                #expect(try await client.send(request).isSuccess)
            }
        }
    }
}
