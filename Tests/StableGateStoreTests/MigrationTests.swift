import Crypto
import Foundation
import SQLKit
import StableGateDomain
import StableGateTestSupport
import Testing

@testable import StableGateStore

/// Migrations applied to databases that already hold rows from before them.
@Suite("Migrations over existing rows")
struct MigrationTests {
    /// An intent row as version 6 of the schema stored it.
    static func insertIntent(_ db: any SQLDatabase, id: String, status: Int, txHash: String?, txFrom: String?, method: Int) async throws {
        try await db.raw(
            """
            INSERT INTO checkout_intents (id, store_id, status, pricing_mode, amount_cents, stable_coin, accepted_stable_coins, amount_coins,
                amount_micro, tx_hash, tx_from, payment_method_type, created_at, updated_at)
            VALUES (\(bind: id), '6a0000000000000000000001', \(bind: Int64(status)), 'stable_coin', 1000, 1, '1', '10', 10000000,
                \(bind: txHash), \(bind: txFrom), \(bind: Int64(method)), 0, 0)
            """
        ).run()
    }

    static func insertTransfer(_ db: any SQLDatabase, intent: String, hash: String, log: Int, amount: String, from: String, kyt: String) async throws
    {
        try await db.raw(
            """
            INSERT INTO chain_transfers (id, chain_id, tx_hash, log_index, block_number, block_hash, token_contract, stable_coin, decimals,
                from_address, to_address, amount, intent_id, kind, state, kyt_status, credited, detected_at)
            VALUES (\(bind: "t-\(hash)-\(log)"), 1, \(bind: hash), \(bind: Int64(log)), \(bind: Int64(10 + log)), '0xblock', '0xtoken', 1, 6,
                \(bind: from), '0xdeposit', \(bind: amount), \(bind: intent), 'payment', 'confirmed', \(bind: kyt), \(bind: Int64(amount == "0" ? 0 : 1)), 0)
            """
        ).run()
    }

    /// SHA-256 of each migration's SQL as it shipped (both dialects, in the layout
    /// ``migrationText(_:)`` writes): installed databases already ran it.
    static let shippedDigests: [Int: String] = [
        1: "dbd41f14264bbe66c3ff212af5a6685dfdb08380b06c854b5d1b77199ac35b7d",
        2: "96fb705cc2bc6c37a23fa18d3cca52ef14143cd73b01dc5945c364c4f69cab45",
        3: "e1b9cf52fabb9df936920ea27c41f5326e496e5adf72db8d3bc07983952fedc0",
        4: "50c82cec2b2a6a9a021dba06bad33f981d1830263030fb1756f7003d075a5352",
        5: "e8c6d834e5d1bc0a7d206821e5796427e2eae97da4937462469ce6845779c06b",
        6: "46930062766359641dd905c6e58da9b93b0aa13bba62186a2f5761a62566585a",
        7: "c8afd3fa08e10e87e3fc6ab671dcc7911bcb2b2208f5ad9c8ed6457b7ee6e2fd",
        8: "3f3dc7c9c8c7978507225633ecf032e4012dcbaca104b882e558f15d5ff51d7d",
        9: "63e182d99101872bb089e599549fb64150df215d1c27b84a426ccc7c5428a224",
        10: "abfb3b2bb2bf8294ef670be227562bddc2db23b23eb1f71e90f3a41dc75d7a04",
        11: "14b7540cccd0131e1a7e16a3bcd633e962b0fba794e9f51b3ca641e8b28cc347",
    ]

    /// A migration's name and statements for both dialects, as one text.
    static func migrationText(_ migration: Migration) -> String {
        var text = "== \(migration.version) \(migration.name)\n"
        for dialect in [DatabaseDialect.sqlite, .postgres] {
            text += "-- \(dialect)\n"
            for statement in migration.statements(for: dialect) { text += statement + "\n;;\n" }
        }
        return text
    }

    /// However the code around them is arranged, shipped migrations execute the SQL they shipped with.
    @Test("Every shipped migration's SQL is the text it shipped with", arguments: shippedDigests.keys.sorted())
    func migrationTextUnchanged(version: Int) throws {
        let migration = try #require(SchemaMigrations.all.first { $0.version == version })
        let digest = SHA256.hash(data: Array(Self.migrationText(migration).utf8)).map { String(format: "%02x", $0) }.joined()
        #expect(digest == Self.shippedDigests[version], "migration \(version) no longer executes the SQL it shipped with")
    }

    @Test("Intents from before checkout links each get one, page by page, and a second run gives none", arguments: Backend.available)
    func checkoutLinkBackfill(backend: Backend) async throws {
        try await TestDatabase.withClient(backend) { database in
            try await Fixtures.onboard(database)
            let intents = CheckoutIntentRepository(database: database)
            try await intents.insertAll((1...5).map { Fixtures.intent(id: String(format: "6a00000000000000000000b%d", $0), fiat: false) })
            let issue: @Sendable () throws -> CheckoutLink = {
                let token = CheckoutLink.token(from: SystemIdentifierGenerator().randomBytes(CheckoutLink.byteCount))
                return CheckoutLink(
                    tokenHash: CheckoutLink.digest(token), sealedToken: try Fixtures.box.seal(token, purpose: CheckoutLink.sealPurpose))
            }
            #expect(try await intents.issueMissingCheckoutLinks(batchSize: 2, issue: issue) == 5)
            #expect(try await intents.issueMissingCheckoutLinks(batchSize: 2, issue: issue) == 0)
            var hashes = Set<String>()
            for index in 1...5 {
                let intent = try #require(try await intents.find(id: String(format: "6a00000000000000000000b%d", index)))
                let link = try #require(intent.checkoutLink)
                let token = try Fixtures.box.open(link.sealedToken, purpose: CheckoutLink.sealPurpose)
                #expect(CheckoutLink.digest(token) == link.tokenHash)
                #expect(try await intents.find(checkoutTokenHash: link.tokenHash)?.id == intent.id)
                hashes.insert(link.tokenHash)
            }
            #expect(hashes.count == 5)
        }
    }

    @Test("Migration 7: forged zero-value transfers stop being an order's tx_hash/tx_from; browser reports move apart", arguments: Backend.available)
    func zeroValueAndWalletReports(backend: Backend) async throws {
        try await TestDatabase.with(backend) { test in
            let database = try await test.open(migrate: false)
            try await Migrator(database: database, migrations: SchemaMigrations.all.filter { $0.version <= 6 }, logger: testLogger).migrate(now: 1)
            try await Fixtures.onboard(database)
            try await database.transaction { db in
                // Paid, but the forger's zero-value transfer came first and became tx_hash/tx_from.
                try await Self.insertIntent(db, id: "6a00000000000000000000a1", status: 20, txHash: "0xzero", txFrom: "0xforger", method: 1)
                try await Self.insertTransfer(
                    db, intent: "6a00000000000000000000a1", hash: "0xzero", log: 0, amount: "0", from: "0xforger", kyt: "clear")
                try await Self.insertTransfer(
                    db, intent: "6a00000000000000000000a1", hash: "0xreal", log: 1, amount: "10000000", from: "0xpayer", kyt: "clear")
                // Open, with only what a browser reported.
                try await Self.insertIntent(db, id: "6a00000000000000000000a2", status: 3, txHash: "0xreport", txFrom: "0xbrowser", method: 2)
                // Rejected by a forged zero-value transfer from a flagged address.
                try await Self.insertIntent(db, id: "6a00000000000000000000a3", status: -2, txHash: "0xflag", txFrom: "0xbad", method: 1)
                try await Self.insertTransfer(
                    db, intent: "6a00000000000000000000a3", hash: "0xflag", log: 0, amount: "0", from: "0xbad", kyt: "flagged")
            }
            #expect(
                try await Migrator(database: database, logger: testLogger).migrate(now: 2) == SchemaMigrations.all.map(\.version).filter { $0 > 6 })

            let intents = CheckoutIntentRepository(database: database)
            let paid = try #require(try await intents.find(id: "6a00000000000000000000a1"))
            #expect(paid.payment.txHash == "0xreal" && paid.payment.txFrom == "0xpayer", "the refund address is the payer's")
            let open = try #require(try await intents.find(id: "6a00000000000000000000a2"))
            #expect(open.payment.txHash == nil && open.payment.txFrom == nil && open.payment.paymentMethodType == .unknown)
            #expect(open.walletReport == WalletReport(transactionHash: "0xreport", from: "0xbrowser"))
            let payments = ChainTransferRepository(database: database)
            #expect(try await payments.transfers(intentId: "6a00000000000000000000a1").map(\.transactionHash) == ["0xreal"])
            #expect(
                try await payments.transfers(screening: [.flagged]).map(\.intentId) == ["6a00000000000000000000a3"],
                "the forged transfer that rejected an order stays visible to the operator")
            #expect(paid.checkoutLink == nil, "links are issued at start-up, with the master key")
            await database.shutdown()
        }
    }

    @Test(
        "Migration 10: an expired-with-nothing FAILED becomes TIMEOUT (history too); existing webhook URLs get an id; queued events keep their format",
        arguments: Backend.available)
    func timeoutAndWebhookIds(backend: Backend) async throws {
        try await TestDatabase.with(backend) { test in
            let database = try await test.open(migrate: false)
            try await Migrator(database: database, migrations: SchemaMigrations.all.filter { $0.version <= 9 }, logger: testLogger).migrate(now: 1)
            try await Fixtures.onboard(database)
            try await Fixtures.onboard(database, storeId: "6a0000000000000000000002", keyId: "sgk_quiet")
            let expired = "payment window expired with nothing received"
            try await database.transaction { db in
                try await db.raw("UPDATE stores SET webhook_url = 'https://shop.example/hook' WHERE id = '6a0000000000000000000001'").run()
                for (id, reason) in [("6a00000000000000000000b1", expired), ("6a00000000000000000000b2", "settlement could not be queued")] {
                    try await Self.insertIntent(db, id: id, status: -1, txHash: nil, txFrom: nil, method: 0)
                    try await db.raw("UPDATE checkout_intents SET error_message = \(bind: reason) WHERE id = \(bind: id)").run()
                    try await db.raw(
                        """
                        INSERT INTO intent_transitions (intent_id, seq, from_status, to_status, reason, at) VALUES
                            (\(bind: id), 1, NULL, 1, 'created', 0), (\(bind: id), 2, 1, -1, \(bind: reason), 1)
                        """
                    ).run()
                }
                try await db.raw(
                    """
                    INSERT INTO webhook_events (id, store_id, intent_id, seq, type, body, created_at, state, next_attempt_at, updated_at)
                    VALUES ('evt_old', '6a0000000000000000000001', '6a00000000000000000000b1', 1, 'checkout_intent.failed', '{}', 0, 'pending', 0, 0)
                    """
                ).run()
            }
            #expect(
                try await Migrator(database: database, logger: testLogger).migrate(now: 2) == SchemaMigrations.all.map(\.version).filter { $0 > 9 })

            let intents = CheckoutIntentRepository(database: database)
            #expect(try await intents.find(id: "6a00000000000000000000b1")?.status == .timeout)
            #expect(try await intents.transitions(intentId: "6a00000000000000000000b1").map(\.to) == [.created, .timeout])
            #expect(try await intents.find(id: "6a00000000000000000000b2")?.status == .failed, "a processing error stays FAILED")
            #expect(try await intents.transitions(intentId: "6a00000000000000000000b2").map(\.to) == [.created, .failed])

            let merchants = MerchantRepository(database: database)
            let store = try #require(try await merchants.store(id: "6a0000000000000000000001"))
            let id = try #require(store.webhookId)
            #expect(id.hasPrefix("wh_") && id.count == 35 && id.dropFirst(3).allSatisfy(\.isHexDigit))
            #expect(
                store.webhookURL == "https://shop.example/hook" && store.eventsURL == nil && store.eventsWebhookId == nil && !store.signedResponses)
            #expect(try await merchants.store(id: "6a0000000000000000000002")?.webhookId == nil, "no URL, no id")
            #expect(
                try await WebhookRepository(database: database).event(id: "evt_old")?.endpoint == .events,
                "queued StableGate envelopes go to the events URL, never to an AllScale receiver")
            await database.shutdown()
        }
    }
}
