import Logging
import SQLKit

/// Applies pending ``SchemaMigrations`` in order, each in its own transaction.
///
/// Safe to run from several gateway instances at once: on PostgreSQL each migration
/// transaction first takes an advisory lock and re-reads the applied versions; SQLite has a
/// single writer anyway. Migrations only go forward: a database that has a migration this
/// binary does not know (a newer binary migrated it) is refused with ``SchemaTooNewError``
/// before anything is applied, since this binary's SQL was not written for that schema.
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
            try Self.checkCompatible(applied: try await Self.appliedVersions(on: db), known: migrations)
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
        SchemaState(applied: try await appliedVersions(), known: migrations.map(\.version))
    }

    /// The versions already applied.
    public func appliedVersions() async throws -> [Int] {
        try await database.read { db in try await Self.appliedVersions(on: db) }
    }

    /// The versions applied to the database `db` is connected to, in order; empty when it has
    /// no `schema_migrations` table yet.
    public static func appliedVersions(on db: any SQLDatabase) async throws -> [Int] {
        let exists: Bool
        switch db.databaseDialect {
        case .postgres:
            exists =
                try await db.raw("SELECT to_regclass('schema_migrations') IS NOT NULL AS present").first()?.decode(
                    column: "present", as: Bool.self) ?? false
        case .sqlite:
            exists = try await db.raw("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").first() != nil
        }
        guard exists else { return [] }
        return try await db.raw("SELECT version FROM schema_migrations ORDER BY version").all(decodingColumn: "version", as: Int.self)
    }

    /// The newest schema version this binary knows.
    public static var latestVersion: Int { SchemaMigrations.all.map(\.version).max() ?? 0 }

    /// Throws ``SchemaTooNewError`` when `applied` holds a version that is not among `known`.
    public static func checkCompatible(applied: [Int], known: [Migration] = SchemaMigrations.all) throws(SchemaTooNewError) {
        let knownVersions = Set(known.map(\.version))
        let unknown = applied.filter { !knownVersions.contains($0) }
        guard unknown.isEmpty else {
            throw SchemaTooNewError(databaseVersion: applied.max() ?? 0, binaryVersion: knownVersions.max() ?? 0, unknownVersions: unknown)
        }
    }
}

/// The database was migrated by a newer StableGate than this one: this binary's queries were
/// not written for that schema, so it refuses to run on it rather than guess.
public struct SchemaTooNewError: Error, Sendable, CustomStringConvertible {
    /// The newest schema version the database has.
    public let databaseVersion: Int
    /// The newest schema version this binary knows.
    public let binaryVersion: Int
    /// The applied versions this binary does not know.
    public let unknownVersions: [Int]

    public var description: String {
        """
        database schema \(databaseVersion) is newer than this binary (\(binaryVersion)): it has migration(s) \
        \(unknownVersions.map(String.init).joined(separator: ", ")) that this binary does not know. Upgrade the binary to the \
        version that migrated it, or restore a backup taken before that upgrade (README "Upgrades"). Nothing was changed.
        """
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
