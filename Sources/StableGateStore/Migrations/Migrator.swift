import Logging
import SQLKit

/// Applies pending ``SchemaMigrations`` in order, each in its own transaction.
///
/// Safe to run from several gateway instances at once: on PostgreSQL each migration
/// transaction first takes an advisory lock and re-reads the applied versions; SQLite has a
/// single writer anyway.
public struct Migrator: Sendable {
    private let database: any DatabaseClient
    private let migrations: [Migration]
    private let logger: Logger

    /// Lock id for `pg_advisory_xact_lock` ("SGMIGRAT" in ASCII, truncated to 63 bits).
    private static let advisoryLockId: Int64 = 0x5347_4D49_4752_4154

    public init(database: any DatabaseClient, migrations: [Migration] = SchemaMigrations.all, logger: Logger) {
        self.database = database
        self.migrations = migrations
        self.logger = logger
    }

    /// Applies what is missing and returns the versions applied now.
    @discardableResult
    public func migrate(now: Int64) async throws -> [Int] {
        let dialect = database.dialect
        try await database.transaction { db in
            // Concurrent CREATE TABLE IF NOT EXISTS can still collide on PostgreSQL's catalog,
            // so even this takes the lock.
            if dialect == .postgres {
                try await db.raw("SELECT pg_advisory_xact_lock(\(bind: Self.advisoryLockId))").run()
            }
            try await db.raw(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
            ).run()
        }
        var applied: [Int] = []
        for migration in migrations.sorted(by: { $0.version < $1.version }) {
            let didApply = try await database.transaction { db -> Bool in
                if dialect == .postgres {
                    try await db.raw("SELECT pg_advisory_xact_lock(\(bind: Self.advisoryLockId))").run()
                }
                let existing = try await db.raw("SELECT version FROM schema_migrations WHERE version = \(bind: migration.version)").first()
                guard existing == nil else { return false }
                for statement in migration.statements(for: dialect) {
                    try await db.raw(SQLQueryString(statement)).run()
                }
                try await db.raw(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (\(bind: migration.version), \(bind: migration.name), \(bind: now))"
                ).run()
                return true
            }
            if didApply {
                logger.info("applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
                applied.append(migration.version)
            }
        }
        return applied
    }

    /// Where the database's schema stands against the migrations this binary knows, read
    /// without changing anything (a database never migrated has none applied).
    public func schemaState() async throws -> SchemaState {
        let dialect = database.dialect
        let hasTable = try await database.read { db in
            let query: SQLQueryString =
                dialect == .postgres
                ? "SELECT 1 AS present FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = 'schema_migrations'"
                : "SELECT 1 AS present FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
            return try await db.raw(query).first() != nil
        }
        return SchemaState(applied: hasTable ? try await appliedVersions() : [], known: migrations.map(\.version))
    }

    /// The versions already applied.
    public func appliedVersions() async throws -> [Int] {
        try await database.read { db in
            try await db.raw("SELECT version FROM schema_migrations ORDER BY version").all(decodingColumn: "version", as: Int.self)
        }
    }
}

/// The applied schema versions against the ones a binary knows.
public struct SchemaState: Sendable, Equatable {
    /// Versions recorded in `schema_migrations`, ascending.
    public let applied: [Int]
    /// Versions this binary's ``SchemaMigrations`` hold, ascending.
    public let known: [Int]

    public init(applied: [Int], known: [Int]) {
        self.applied = applied.sorted()
        self.known = known.sorted()
    }

    /// Known migrations not applied yet (`stablegate migrate` applies them).
    public var pending: [Int] { known.filter { !applied.contains($0) } }
    /// Applied migrations this binary does not know: a newer binary migrated the database.
    public var unknown: [Int] { applied.filter { !known.contains($0) } }
    /// The highest applied version (0 when none).
    public var version: Int { applied.last ?? 0 }
}
