import Foundation
import SQLKit
import StableGateDomain
import StableGateTestSupport
import Testing

@testable import StableGateStore

/// Builds records for store tests.
enum Fixtures {
    static let now = Date(timeIntervalSince1970: 1_767_225_600)
    static let box = try! SecretBox(masterKey: Array(repeating: 7, count: 32))

    static func onboard(_ database: any DatabaseClient, storeId: String = "6a0000000000000000000001", keyId: String = "sgk_test") async throws {
        try await MerchantRepository(database: database).onboard(
            merchant: Merchant(id: "m-" + storeId, name: "Shop", createdAt: now),
            store: Store(
                id: storeId, merchantId: "m-" + storeId, name: "Shop", walletAddress: "0x52908400098527886E0F7030069857D2E4169EE7", createdAt: now),
            firstKey: key(id: keyId, storeId: storeId))
    }

    /// How many merchants the database holds.
    static func merchantCount(_ database: any DatabaseClient) async throws -> Int? {
        try await database.read { db in
            try await db.raw("SELECT COUNT(*) AS n FROM merchants").first()?.decode(column: "n", as: Int.self)
        }
    }

    static func key(id: String, storeId: String, ranges: [IPAddressRange] = [], limit: Int = 600) -> APIKeyRecord {
        APIKeyRecord(
            id: id, storeId: storeId, sealedSecret: try! box.seal("secret-\(id)", purpose: APIKeyRecord.secretPurpose), label: "label",
            allowedRanges: ranges, rateLimitPerMinute: limit, createdAt: now)
    }

    static func intent(id: String, storeId: String = "6a0000000000000000000001", fiat: Bool = true) -> (CheckoutIntent, StatusTransition) {
        let body =
            fiat
            ? #"{"currency": 44, "amount_cents": 1999, "order_id": "ord-1", "order_description": "Tee — size M\n2 items", "user_id": "u1", "user_name": "Zoë 支付", "redirect_url": "https://shop.example/r?x=1", "extra": {"a": [1, 2.50, null], "b": {"c": "d"}}, "accepted_stable_coins": [2]}"#
            : #"{"stable_coin": 1, "amount_cents": 1000}"#
        let request = try! CreateCheckoutIntentRequest.parse(body: Array(body.utf8), policy: .init(allowsInsecureRedirect: false))
        let rate = ExchangeRate(currency: .eur, fiatPerCoin: DecimalAmount("0.8528")!, asOf: now.addingTimeInterval(-30), source: "test")
        return try! IntentFactory.makeIntent(request: request, rate: fiat ? rate : nil, id: id, storeId: storeId, settlementWallet: "0xabc", now: now)
    }
}

@Suite("Store on SQLite and PostgreSQL")
struct StoreTests {
    @Test("Migrations apply once and are idempotent", arguments: Backend.available)
    func migrations(backend: Backend) async throws {
        try await TestDatabase.with(backend) { test in
            let database = try await test.open(migrate: false)
            let migrator = Migrator(database: database, logger: testLogger)
            #expect(try await migrator.migrate(now: 1) == SchemaMigrations.all.map(\.version))
            #expect(try await migrator.migrate(now: 2) == [])
            #expect(try await migrator.appliedVersions() == SchemaMigrations.all.map(\.version))
            await database.shutdown()
        }
    }

    @Test("Concurrent migrators (two instances starting at once) apply each migration exactly once", arguments: Backend.available)
    func concurrentMigrations(backend: Backend) async throws {
        try await TestDatabase.with(backend) { test in
            let first = try await test.open(migrate: false)
            let second = try await test.open(migrate: false)
            async let a = Migrator(database: first, logger: testLogger).migrate(now: 1)
            async let b = Migrator(database: second, logger: testLogger).migrate(now: 1)
            let applied = try await a + b
            #expect(applied.sorted() == SchemaMigrations.all.map(\.version))
            await first.shutdown()
            await second.shutdown()
        }
    }

    @Test("A failing transaction leaves nothing behind", arguments: Backend.available)
    func rollback(backend: Backend) async throws {
        try await TestDatabase.withClient(backend) { database in
            struct Boom: Error {}
            await #expect(throws: Boom.self) {
                try await database.transaction { db in
                    try await db.raw("INSERT INTO merchants (id, name, created_at) VALUES ('m1', 'x', 0)").run()
                    throw Boom()
                }
            }
            let count = try await Fixtures.merchantCount(database)
            #expect(count == 0)
        }
    }

    @Test("Onboarding writes merchant, store and key together or not at all", arguments: Backend.available)
    func onboardingIsAtomic(backend: Backend) async throws {
        try await TestDatabase.withClient(backend) { database in
            try await Fixtures.onboard(database, storeId: "6a0000000000000000000001", keyId: "sgk_a")
            // The same key id again: the unique key fails, so the second merchant and store must not exist.
            await #expect(throws: (any Error).self) {
                try await Fixtures.onboard(database, storeId: "6a0000000000000000000002", keyId: "sgk_a")
            }
            let merchants = MerchantRepository(database: database)
            #expect(try await merchants.store(id: "6a0000000000000000000001") != nil)
            #expect(try await merchants.store(id: "6a0000000000000000000002") == nil)
            let count = try await Fixtures.merchantCount(database)
            #expect(count == 1)
        }
    }

    @Test("API keys are created, listed, found and revoked; secrets are stored sealed", arguments: Backend.available)
    func apiKeys(backend: Backend) async throws {
        try await TestDatabase.withClient(backend) { database in
            try await Fixtures.onboard(database, keyId: "sgk_first")
            let keys = APIKeyRepository(database: database)
            let second = Fixtures.key(id: "sgk_second", storeId: "6a0000000000000000000001", ranges: [IPAddressRange("10.0.0.0/8")!], limit: 5)
            try await keys.create(second)
            let listed = try await keys.list(storeId: "6a0000000000000000000001")
            #expect(Set(listed.map(\.id)) == ["sgk_first", "sgk_second"])
            let found = try #require(try await keys.find(id: "sgk_second"))
            #expect(found == second)
            #expect(!found.sealedSecret.contains("secret-sgk_second"))
            #expect(try Fixtures.box.open(found.sealedSecret, purpose: APIKeyRecord.secretPurpose) == "secret-sgk_second")
            let raw = try await database.read { db in
                try await db.raw("SELECT secret_ciphertext FROM api_keys WHERE id = 'sgk_second'").first()?.decode(
                    column: "secret_ciphertext", as: String.self)
            }
            #expect(raw?.hasPrefix("v1:") == true)
            #expect(try await keys.revoke(id: "sgk_second", at: Fixtures.now))
            #expect(try await keys.revoke(id: "sgk_second", at: Fixtures.now.addingTimeInterval(60)))
            #expect(try await keys.find(id: "sgk_second")?.revokedAt == Fixtures.now)
            #expect(try await !keys.revoke(id: "sgk_nope", at: Fixtures.now))
        }
    }

    @Test("Intents round-trip every field exactly, for both pricing modes", arguments: Backend.available)
    func intentRoundTrip(backend: Backend) async throws {
        try await TestDatabase.withClient(backend) { database in
            try await Fixtures.onboard(database)
            let repository = CheckoutIntentRepository(database: database)
            for (id, fiat) in [("6a5f0c2e9b1d4e7f8a9b0c1d", true), ("6a5f0c2e9b1d4e7f8a9b0c1e", false)] {
                let (intent, transition) = Fixtures.intent(id: id, fiat: fiat)
                #expect(try await repository.create(intent, transition: transition, idempotency: nil) == .created)
                #expect(try await repository.find(id: id) == intent)
                #expect(try await repository.status(id: id) == IntentStatusRow(storeId: intent.storeId, status: .created))
                #expect(try await repository.transitions(intentId: id) == [transition])
            }
            #expect(try await repository.find(id: "6a5f0c2e9b1d4e7f8a9b0c1f") == nil)
            #expect(try await repository.count() == 2)
        }
    }

    @Test("Concurrent creates are batched; a bad row in a batch fails alone", arguments: Backend.available)
    func batchedCreates(backend: Backend) async throws {
        try await TestDatabase.withClient(backend) { database in
            try await Fixtures.onboard(database)
            let repository = CheckoutIntentRepository(database: database)
            let (existing, transition) = Fixtures.intent(id: "6a5f0c2e9b1d4e7f8a9b0000")
            _ = try await repository.create(existing, transition: transition, idempotency: nil)
            // 40 concurrent creates, one of which reuses the existing id.
            let results = await withTaskGroup(of: (Int, Bool).self) { group in
                for index in 1...40 {
                    group.addTask {
                        let id = index == 20 ? "6a5f0c2e9b1d4e7f8a9b0000" : String(format: "6a5f0c2e9b1d4e7f8a9b%04x", index)
                        let (intent, transition) = Fixtures.intent(id: id, fiat: index.isMultiple(of: 2))
                        do {
                            return (index, try await repository.create(intent, transition: transition, idempotency: nil) == .created)
                        } catch {
                            return (index, false)
                        }
                    }
                }
                return await group.reduce(into: [Int: Bool]()) { $0[$1.0] = $1.1 }
            }
            #expect(results.filter { !$0.value }.map(\.key) == [20])
            #expect(try await repository.count() == 40)
            for index in [1, 2, 39, 40] {
                let id = String(format: "6a5f0c2e9b1d4e7f8a9b%04x", index)
                #expect(try await repository.find(id: id) == Fixtures.intent(id: id, fiat: index.isMultiple(of: 2)).0)
                #expect(try await repository.transitions(intentId: id).count == 1)
            }
        }
    }

    @Test("An idempotency key writes one intent, even under concurrent repeats", arguments: Backend.available)
    func idempotency(backend: Backend) async throws {
        try await TestDatabase.withClient(backend) { database in
            try await Fixtures.onboard(database)
            let repository = CheckoutIntentRepository(database: database)
            let outcomes = try await withThrowingTaskGroup(of: CreateIntentOutcome.self) { group in
                for index in 0..<12 {
                    group.addTask {
                        let id = String(format: "6a5f0c2e9b1d4e7f8a9b%04x", index)
                        let (intent, transition) = Fixtures.intent(id: id)
                        let claim = IdempotencyClaim(
                            key: "order-42", requestHash: "hash", responsePayload: #"{"allscale_checkout_intent_id":"\#(id)"}"#,
                            expiresAt: Fixtures.now.addingTimeInterval(86_400))
                        return try await repository.create(intent, transition: transition, idempotency: claim)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == .created }.count == 1)
            #expect(try await repository.count() == 1)
            let record = try #require(try await repository.idempotencyRecord(storeId: "6a0000000000000000000001", key: "order-42", now: Fixtures.now))
            for outcome in outcomes where outcome != .created {
                #expect(outcome == .alreadyRecorded(record))
            }
            // After expiry the key is free again.
            let later = Fixtures.now.addingTimeInterval(86_401)
            #expect(try await repository.idempotencyRecord(storeId: "6a0000000000000000000001", key: "order-42", now: later) == nil)
        }
    }
}

@Suite("Secret box")
struct SecretBoxTests {
    @Test("Seals and opens; wrong key, wrong purpose and tampering fail")
    func roundTrip() throws {
        let box = try SecretBox(masterKey: Array(repeating: 1, count: 32))
        let sealed = try box.seal("sgs_supersecret", purpose: "api_key_secret")
        #expect(!sealed.contains("supersecret"))
        #expect(try box.open(sealed, purpose: "api_key_secret") == "sgs_supersecret")
        #expect(try box.seal("sgs_supersecret", purpose: "api_key_secret") != sealed, "nonces must differ")
        #expect(throws: SecretBoxError.self) { try box.open(sealed, purpose: "wallet_seed") }
        let other = try SecretBox(masterKey: Array(repeating: 2, count: 32))
        #expect(throws: SecretBoxError.self) { try other.open(sealed, purpose: "api_key_secret") }
        var bytes = Array(Data(base64Encoded: String(sealed.dropFirst(3)))!)
        bytes[bytes.count / 2] ^= 1
        #expect(throws: SecretBoxError.self) { try box.open("v1:" + Data(bytes).base64EncodedString(), purpose: "api_key_secret") }
        #expect(throws: SecretBoxError.self) { try SecretBox(masterKey: Array(repeating: 1, count: 16)) }
        #expect(throws: SecretBoxError.self) { try SecretBox(base64MasterKey: "not base64!") }
    }
}
