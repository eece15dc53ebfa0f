import Foundation
import SQLKit
import StableGateTestSupport
import Testing

@testable import StableGateStore

/// Migrations go forward only: an older schema is brought up to date, a newer one (migrated by
/// a newer binary) is refused before anything runs.
@Suite("Schema versions")
struct SchemaVersionTests {
    @Test("A database with a migration this binary does not know is refused, unchanged", arguments: Backend.available)
    func newerSchemaRefused(backend: Backend) async throws {
        try await TestDatabase.with(backend) { database in
            let client = try await database.open()
            let known = Migrator.latestVersion
            let future = known + 1
            try await client.transaction { db in
                try await db.raw(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (\(bind: future), 'from a newer StableGate', 0)"
                ).run()
            }
            let error = await #expect(throws: SchemaTooNewError.self) {
                try await Migrator(database: client, logger: testLogger).migrate(now: 1)
            }
            #expect(error?.databaseVersion == future && error?.binaryVersion == known && error?.unknownVersions == [future])
            #expect(
                error?.description.hasPrefix("database schema \(future) is newer than this binary (\(known))") == true,
                "\(String(describing: error))")
            let versions = try await Migrator(database: client, logger: testLogger).appliedVersions()
            #expect(versions == SchemaMigrations.all.map(\.version) + [future])
        }
    }

    @Test("An older schema is migrated forward; a current one is left as it is", arguments: Backend.available)
    func olderSchemaMigrated(backend: Backend) async throws {
        try await TestDatabase.with(backend) { database in
            let client = try await database.open(migrate: false)
            #expect(try await client.read { db in try await Migrator.appliedVersions(on: db) } == [], "a new database has no schema yet")
            let older = SchemaMigrations.all.filter { $0.version <= 5 }
            try await Migrator(database: client, migrations: older, logger: testLogger).migrate(now: 1)
            let applied = try await Migrator(database: client, logger: testLogger).migrate(now: 2)
            #expect(applied == SchemaMigrations.all.map(\.version).filter { $0 > 5 })
            #expect(try await Migrator(database: client, logger: testLogger).migrate(now: 3) == [])
            #expect(try await client.read { db in try await Migrator.appliedVersions(on: db) } == SchemaMigrations.all.map(\.version))
        }
    }
}
