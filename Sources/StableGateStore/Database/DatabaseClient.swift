import Foundation
import Logging
import SQLKit

/// The SQL dialects StableGate runs on. Queries branch on it only where the SQL really differs.
public enum DatabaseDialect: String, Sendable {
    case sqlite
    case postgres
}

/// A database StableGate can run queries and transactions on.
///
/// SQLKit has no portable transaction API, so a transaction here is `BEGIN`…`COMMIT` on one
/// leased connection: on SQLite the single serialized writer, on PostgreSQL a pooled connection.
///
/// Repositories share one convention for "inside the caller's transaction": an operation that
/// callers compose into their own transaction is written once, as `static func …(on db:)`
/// taking the `SQLDatabase` of that transaction; the instance method of the same name, where
/// there is one, runs it on the repository's own database in a transaction (or a read) of its
/// own — never a second copy of the SQL.
public protocol DatabaseClient: Sendable {
    /// Which SQL dialect this is.
    var dialect: DatabaseDialect { get }

    /// Runs `body` with a connection for reads or single auto-committed statements.
    func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T

    /// Runs a read-only query and returns its rows' cells as text, by position (integers in
    /// decimal, NULL as nil): for bulk reads such as exports, where decoding every cell by name
    /// through SQLKit's `Decodable` path costs several times the query itself. Binds may be
    /// text or integers.
    func textRows(_ query: SQLQueryString) async throws -> [[String?]]

    /// Closes every connection.
    func shutdown() async
}

/// Where a database lives, parsed from `sqlite:PATH` or `postgres://user:pass@host:port/db`.
public enum DatabaseLocation: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(url: String)

    /// Parses a database URL.
    public init(url: String) throws(DatabaseConfigurationError) {
        if url.hasPrefix("sqlite:") {
            var path = String(url.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path.removeFirst(2) }
            guard !path.isEmpty else { throw DatabaseConfigurationError("sqlite URL needs a path, as in sqlite:./data/stablegate.sqlite") }
            self = .sqlite(path: path)
        } else if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            self = .postgres(url: url)
        } else {
            throw DatabaseConfigurationError("unsupported database URL; use sqlite:PATH or postgres://user:pass@host:port/db")
        }
    }

    /// The location with any password masked, safe to log.
    public var description: String {
        switch self {
        case .sqlite(let path): return "sqlite:\(path)"
        case .postgres(let url):
            guard let at = url.lastIndex(of: "@"), let schemeEnd = url.range(of: "://") else { return url }
            let credentials = url[schemeEnd.upperBound..<at]
            guard let colon = credentials.firstIndex(of: ":") else { return url }
            return String(url[..<colon]) + ":***" + String(url[at...])
        }
    }
}

/// A database URL or setting that cannot be used.
public struct DatabaseConfigurationError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Opens the database at a location.
public enum DatabaseFactory {
    /// Opens (and for SQLite creates) the database. PostgreSQL connections are made lazily by
    /// its pool, which `PostgresDatabaseClient.run()` drives.
    public static func open(
        _ location: DatabaseLocation, sqliteDurability: SQLiteDatabaseClient.Durability = .full, logger: Logger
    ) async throws -> any DatabaseClient {
        switch location {
        case .sqlite(let path):
            return try await SQLiteDatabaseClient.open(path: path, durability: sqliteDurability, logger: logger)
        case .postgres(let url):
            return try PostgresDatabaseClient(url: url, logger: logger)
        }
    }
}

extension DatabaseClient {
    /// `key → value` for the rows of `table` whose `key` column is one of `keys`: one indexed
    /// query per 500 keys (bind-parameter limits), whatever the table's size. The table and
    /// column names are this module's own constants, never input.
    func lookup(_ keys: Set<String>, table: String, key: String, value: String) async throws -> [String: String] {
        guard !keys.isEmpty else { return [:] }
        return try await read { db in
            var result: [String: String] = [:]
            let list = Array(keys)
            for start in stride(from: 0, to: list.count, by: 500) {
                let chunk = Array(list[start..<min(start + 500, list.count)])
                let rows = try await db.raw(
                    """
                    SELECT \(unsafeRaw: key) AS k, \(unsafeRaw: value) AS v FROM \(unsafeRaw: table) WHERE \(unsafeRaw: key) IN (\(binds: chunk))
                    """
                ).all()
                for row in rows { result[try row.decode(column: "k", as: String.self)] = try row.decode(column: "v", as: String.self) }
            }
            return result
        }
    }
}

extension SQLDatabase {
    /// Runs `body` between `begin` and `COMMIT` on this one connection; any error — the task
    /// being cancelled included — rolls back (a failed rollback is logged, the original error is
    /// thrown). Both clients' transactions.
    func inTransaction<T: Sendable>(
        begin: String, logger: Logger, _ body: @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T {
        try await raw("\(unsafeRaw: begin)").run()
        do {
            let result = try await body(self)
            try await raw("COMMIT").run()
            return result
        } catch {
            // In a task of its own: when the error is the caller's task being cancelled (a
            // service stopping mid-transaction), a ROLLBACK issued from that task would be
            // cancelled too and leave the connection inside the transaction — SQLite's one
            // writer, or a pooled PostgreSQL connection handed to the next caller.
            do {
                try await Task { try await self.raw("ROLLBACK").run() }.value
            } catch let rollbackError {
                logger.error("rollback failed", metadata: ["error": "\(rollbackError)"])
            }
            throw error
        }
    }
}

extension SQLDatabase {
    /// Which of StableGate's dialects this connection speaks, for statements that take a
    /// connection rather than a ``DatabaseClient``.
    var databaseDialect: DatabaseDialect {
        dialect.name == "postgresql" ? .postgres : .sqlite
    }
}

extension DatabaseClient {
    /// Whether the database answers a trivial query now (readiness checks).
    public func ping() async throws {
        _ = try await read { db in try await db.raw("SELECT 1 AS ok").first() }
    }
}
