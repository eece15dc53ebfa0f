import Foundation
import SQLKit
import StableGateApp
import StableGateDomain
import StableGateStore
import StableGateTestSupport
import Testing

/// `stablegate keys rotate-master` and `keys verify-master` on real databases: every kind of
/// sealed secret the gateway stores, read back with plain SQL.
@Suite("Master key rotation")
struct MasterKeyRotationTests {
    /// A sandbox configuration on `database` with a chains file, so the gateway generates and
    /// seals its deposit seed and hot wallet key too (the RPC URL is never called here).
    static func configuration(_ database: TestDatabase, key: String) throws -> GatewayConfiguration {
        let chains = database.directory + "/chains.json"
        try #"""
        {"chains": [{"chain_id": 31337, "name": "Unused", "rpc_url": "http://127.0.0.1:9",
          "tokens": [{"stable_coin": 1, "contract": "0xdAC17F958D2ee523a2206206994597C13D831ec7", "decimals": 6}]}]}
        """#.write(toFile: chains, atomically: true, encoding: .utf8)
        var configuration = GatewayConfiguration()
        configuration.databaseURL = database.url
        configuration.dataDirectory = database.directory
        configuration.masterKey = key
        configuration.chainsFile = chains
        return configuration
    }

    /// Merchants with API keys, a second key, and `intents` checkout intents with their sealed
    /// link tokens (more than one page of the rotation's scan). Returns the plaintexts the
    /// caller was given: API secrets and link tokens.
    static func populate(_ environment: GatewayEnvironment, intents: Int) async throws -> Set<String> {
        var given: Set<String> = []
        let onboarding = MerchantOnboarding(environment: environment)
        var storeId = ""
        for index in 0..<3 {
            let credentials = try await onboarding.createMerchant(name: "Shop \(index)", wallet: nil)
            given.insert(credentials.apiSecret)
            storeId = credentials.storeId
        }
        given.insert(try await onboarding.createKey(storeId: storeId, label: "second", allowedCIDRs: [], rateLimitPerMinute: nil).secret)
        var batch: [(CheckoutIntent, StatusTransition)] = []
        let now = environment.clock.now
        for index in 0..<intents {
            let request = try CreateCheckoutIntentRequest.parse(
                body: Array(#"{"stable_coin": 1, "amount_cents": \#(100 + index)}"#.utf8), policy: .init(allowsInsecureRedirect: true))
            var (intent, transition) = try IntentFactory.makeIntent(
                request: request, rate: nil, id: environment.identifiers.objectId(at: now), storeId: storeId, settlementWallet: nil, now: now)
            let (token, link) = try environment.links.issue()
            intent.checkoutLink = link
            given.insert(token)
            batch.append((intent, transition))
        }
        try await environment.intents.insertAll(batch)
        return given
    }

    /// Every sealed value, read with plain SQL: `table id` → (sealed text, purpose).
    static func sealedValues(_ database: any DatabaseClient) async throws -> [String: (sealed: String, purpose: String)] {
        try await database.read { db in
            var values: [String: (sealed: String, purpose: String)] = [:]
            for row in try await db.raw("SELECT id, secret_ciphertext FROM api_keys").all() {
                values["api_keys " + (try row.decode(column: "id", as: String.self))] = (
                    try row.decode(column: "secret_ciphertext", as: String.self), "api_key_secret"
                )
            }
            for row in try await db.raw("SELECT name, sealed FROM gateway_secrets").all() {
                let name = try row.decode(column: "name", as: String.self)
                values["gateway_secrets " + name] = (try row.decode(column: "sealed", as: String.self), name)
            }
            for row in try await db.raw("SELECT id, checkout_token_sealed FROM checkout_intents WHERE checkout_token_sealed IS NOT NULL").all() {
                values["checkout_intents " + (try row.decode(column: "id", as: String.self))] = (
                    try row.decode(column: "checkout_token_sealed", as: String.self), "checkout_link"
                )
            }
            return values
        }
    }

    /// Every (table, column) holding text that looks sealed (`v1:` + base64), found by scanning
    /// every text column of every table: a sealed column missing from ``SealedSecrets/columns``
    /// would be left under the old key by a rotation.
    static func sealedLookingColumns(_ database: any DatabaseClient) async throws -> Set<String> {
        let dialect = database.dialect
        return try await database.read { db in
            var columns: [(String, String)] = []
            if dialect == .postgres {
                for row in try await db.raw(
                    """
                    SELECT table_name, column_name FROM information_schema.columns
                    WHERE table_schema = current_schema() AND data_type = 'text'
                    """
                ).all() {
                    columns.append((try row.decode(column: "table_name", as: String.self), try row.decode(column: "column_name", as: String.self)))
                }
            } else {
                let tables = try await db.raw("SELECT name FROM sqlite_master WHERE type = 'table'").all(decodingColumn: "name", as: String.self)
                for table in tables {
                    let rows = try await db.raw("SELECT name, type FROM pragma_table_info(\(bind: table))").all()
                    for row in rows where (try? row.decode(column: "type", as: String.self))?.uppercased() == "TEXT" {
                        columns.append((table, try row.decode(column: "name", as: String.self)))
                    }
                }
            }
            var found: Set<String> = []
            for (table, column) in columns {
                let hit = try await db.raw(
                    "SELECT 1 AS hit FROM \(ident: table) WHERE CAST(\(ident: column) AS TEXT) LIKE 'v1:%' LIMIT 1"
                ).first()
                if hit != nil { found.insert("\(table).\(column)") }
            }
            return found
        }
    }

    @Test("After a rotation every sealed secret opens with the new key, to the same value, and none with the old", arguments: Backend.available)
    func rotation(backend: Backend) async throws {
        try await TestDatabase.with(backend) { database in
            let oldKey = SecretBox.generateMasterKey()
            let newKey = SecretBox.generateMasterKey()
            let old = try SecretBox(base64MasterKey: oldKey)
            let new = try SecretBox(base64MasterKey: newKey)
            let configuration = try Self.configuration(database, key: oldKey)

            let environment = try await GatewayEnvironment.open(configuration, logger: testLogger)
            let given: Set<String>
            let before: [String: String]
            do {
                given = try await Self.populate(environment, intents: 1_200)
                #expect(
                    try await Self.sealedLookingColumns(environment.database)
                        == Set(SealedSecrets.columns.map { "\($0.table).\($0.sealedColumn)" }),
                    "every column holding sealed text is one the rotation re-seals")
                before = try await Self.sealedValues(environment.database).mapValues { try old.open($0.sealed, purpose: $0.purpose) }
                await environment.close()
            } catch {
                await environment.close()
                throw error
            }
            // 4 API secrets, 1 200 link tokens, the deposit seed, the hot wallet key and the check value.
            #expect(before.count == 4 + 1_200 + 3)
            #expect(given.isSubset(of: Set(before.values)), "what the merchants and shoppers hold is what is sealed")
            #expect(
                Set(before.keys.filter { $0.hasPrefix("gateway_secrets ") }) == [
                    "gateway_secrets deposit_seed", "gateway_secrets hot_wallet_key", "gateway_secrets master_key_check",
                ])

            let rotation = try await DatabaseCare.rotateMasterKey(configuration, newKey: newKey, logger: testLogger)
            #expect(rotation.resealed == ["api_keys": 4, "checkout_intents": 1_200, "gateway_secrets": 3])
            #expect(rotation.oldFingerprint == old.fingerprint && rotation.newFingerprint == new.fingerprint)
            #expect(rotation.rewrittenKeyFile == nil)

            let client = try await database.open(migrate: false)
            let after = try await Self.sealedValues(client)
            #expect(Set(after.keys) == Set(before.keys))
            for (name, value) in after {
                #expect((try? new.open(value.sealed, purpose: value.purpose)) == before[name], "\(name) opens with the new key")
                #expect((try? old.open(value.sealed, purpose: value.purpose)) == nil, "\(name) no longer opens with the old key")
            }
            let report = try await DatabaseCare.checkKeys(
                [.init(source: "old", box: old), .init(source: "new", box: new)], in: client)
            #expect(report.tally.openedBy == [0, 1_207] && report.tally.openedByNone == 0)
            #expect(report.keyOpeningEverything?.source == "new")
            await client.shutdown()

            // The gateway starts with the new key and refuses the old one.
            let reopened = try await GatewayEnvironment.open(Self.configuration(database, key: newKey), logger: testLogger)
            await reopened.close()
            await #expect(throws: ConfigurationError.self) {
                let stale = try await GatewayEnvironment.open(Self.configuration(database, key: oldKey), logger: testLogger)
                await stale.close()
            }
        }
    }

    @Test("A rotation refuses, and writes nothing, when the current key does not open every secret", arguments: Backend.available)
    func refusal(backend: Backend) async throws {
        try await TestDatabase.with(backend) { database in
            let oldKey = SecretBox.generateMasterKey()
            let old = try SecretBox(base64MasterKey: oldKey)
            let stranger = try SecretBox(base64MasterKey: SecretBox.generateMasterKey())
            let configuration = try Self.configuration(database, key: oldKey)
            let environment = try await GatewayEnvironment.open(configuration, logger: testLogger)
            do {
                _ = try await Self.populate(environment, intents: 20)
                await environment.close()
            } catch {
                await environment.close()
                throw error
            }
            // One intent's link token sealed under some other key, as a stray process would have.
            let client = try await database.open(migrate: false)
            let victim = try #require(
                try await client.read { db in
                    try await db.raw("SELECT id FROM checkout_intents ORDER BY id DESC LIMIT 1").first()?.decode(column: "id", as: String.self)
                })
            try await client.transaction { db in
                try await db.raw(
                    """
                    UPDATE checkout_intents SET checkout_token_sealed = \(bind: try stranger.seal("stray", purpose: CheckoutLink.sealPurpose))
                    WHERE id = \(bind: victim)
                    """
                ).run()
            }
            let before = try await Self.sealedValues(client)
            await client.shutdown()  // a rotation refuses an SQLite file another connection has open

            let error = await #expect(throws: RotationRefused.self) {
                _ = try await DatabaseCare.rotateMasterKey(configuration, newKey: SecretBox.generateMasterKey(), logger: testLogger)
            }
            let reader = try await database.open(migrate: false)
            #expect(error?.unopened == ["checkout_intents": 1])
            #expect(error?.examples == ["checkout_intents \(victim)"])
            let after = try await Self.sealedValues(reader)
            #expect(after.mapValues(\.sealed) == before.mapValues(\.sealed), "nothing was re-sealed")
            let report = try await DatabaseCare.checkKeys([.init(source: "configured", box: old)], in: reader)
            #expect(report.keyOpeningEverything == nil)
            #expect(report.tally.openedByNone == 1 && report.tally.examplesOpenedByNone == ["checkout_intents \(victim)"])
            await reader.shutdown()
        }
    }
}
