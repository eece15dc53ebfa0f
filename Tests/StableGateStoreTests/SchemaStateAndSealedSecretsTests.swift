import Foundation
import SQLKit
import StableGateDomain
import StableGateStore
import StableGateTestSupport
import Testing

/// What `stablegate doctor` reads of a database without changing it: where the schema stands,
/// and whether every sealed secret opens with a key.
@Suite("Schema state and the sealed-secret inventory")
struct SchemaStateAndSealedSecretsTests {
    @Test("A database's schema reads as empty, behind, current or ahead of the binary, without being migrated", arguments: Backend.available)
    func schemaState(_ backend: Backend) async throws {
        try await TestDatabase.with(backend) { test in
            let database = try await test.open(migrate: false)
            let known = SchemaMigrations.all.map(\.version)
            let empty = try await Migrator(database: database, logger: testLogger).schemaState()
            #expect(empty.applied.isEmpty && empty.pending == known && empty.unknown.isEmpty && empty.version == 0)
            #expect(try await Migrator(database: database, logger: testLogger).schemaState() == empty, "reading it created nothing")

            try await Migrator(database: database, migrations: Array(SchemaMigrations.all.prefix(4)), logger: testLogger).migrate(now: 0)
            let behind = try await Migrator(database: database, logger: testLogger).schemaState()
            #expect(behind.version == 4 && behind.pending == Array(known.dropFirst(4)) && behind.unknown.isEmpty)

            try await Migrator(database: database, logger: testLogger).migrate(now: 0)
            let current = try await Migrator(database: database, logger: testLogger).schemaState()
            #expect(current.pending.isEmpty && current.unknown.isEmpty && current.version == known.last)

            try await database.transaction { db in
                try await db.raw("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'from a newer binary', 0)").run()
            }
            let ahead = try await Migrator(database: database, logger: testLogger).schemaState()
            #expect(ahead.unknown == [999] && ahead.version == 999 && ahead.pending.isEmpty)
        }
    }

    @Test("The tally says how many sealed secrets each key opens and which open with none", arguments: Backend.available)
    func inventory(_ backend: Backend) async throws {
        try await TestDatabase.withClient(backend) { database in
            let key = try SecretBox(base64MasterKey: SecretBox.generateMasterKey())
            let other = try SecretBox(base64MasterKey: SecretBox.generateMasterKey())
            let secrets = GatewaySecretRepository(database: database)
            for name in ["a_secret", "b_secret", "c_secret"] {
                _ = try await secrets.sealedSecret(name: name, now: Date()) { try key.seal("value of \(name)", purpose: name) }
            }
            // Sealed under another key, and one sealed for another purpose than its name.
            _ = try await secrets.sealedSecret(name: "d_secret", now: Date()) { try other.seal("x", purpose: "d_secret") }
            _ = try await secrets.sealedSecret(name: "e_secret", now: Date()) { try key.seal("x", purpose: "not e_secret") }

            let tally = try await SealedSecrets.tally(keys: [key, other], in: database)
            #expect(tally.total == 5 && tally.totalByTable == ["gateway_secrets": 5])
            #expect(tally.openedBy == [3, 1], "three under the key, one under the other")
            #expect(tally.openedByNone == 1 && tally.examplesOpenedByNone == ["gateway_secrets e_secret"], "sealed for another purpose")
            #expect(tally.keyOpeningEverything == nil)
        }
    }
}
