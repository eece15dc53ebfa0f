import Logging
import NIOCore
import PostgresKit
import PostgresNIO
import SQLKit

/// PostgreSQL through PostgresNIO's `PostgresClient` pool, which runs in a task this client
/// owns from creation until ``shutdown()``.
public final class PostgresDatabaseClient: DatabaseClient {
    public let dialect = DatabaseDialect.postgres
    /// The underlying pool.
    public let client: PostgresClient
    private let logger: Logger
    private let runTask: Task<Void, Never>

    /// Creates a pool for `postgres://user:pass@host:port/db` (add `?sslmode=require` for TLS).
    public init(url: String, maximumConnections: Int = 20, logger: Logger) throws {
        guard let configuration = try? SQLPostgresConfiguration(url: url) else {
            throw DatabaseConfigurationError("invalid PostgreSQL URL; use postgres://user:pass@host:port/db")
        }
        let core = configuration.coreConfiguration
        let tls: PostgresClient.Configuration.TLS =
            switch (core.tls.isEnforced, core.tls.isAllowed) {
            case (true, _): .require(core.tls.sslContext!.configuration)
            case (_, true): .prefer(core.tls.sslContext!.configuration)
            default: .disable
            }
        guard let host = core.host, let port = core.port else {
            throw DatabaseConfigurationError("PostgreSQL URL must name a host and port")
        }
        var clientConfiguration = PostgresClient.Configuration(
            host: host, port: port, username: core.username, password: core.password, database: core.database, tls: tls)
        clientConfiguration.options.maximumConnections = maximumConnections
        clientConfiguration.options.minimumConnections = min(2, maximumConnections)
        let client = PostgresClient(configuration: clientConfiguration, backgroundLogger: logger)
        self.client = client
        self.logger = logger
        self.runTask = Task { await client.run() }
    }

    public func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            try await body(connection.sql(queryLogLevel: nil))
        }
    }

    public func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            try await connection.sql(queryLogLevel: nil).inTransaction(begin: "BEGIN", logger: logger, body)
        }
    }

    public func textRows(_ query: SQLQueryString) async throws -> [[String?]] {
        try await client.withConnection { connection in
            var serializer = SQLSerializer(database: connection.sql(queryLogLevel: nil))
            query.serialize(to: &serializer)
            var bindings = PostgresBindings(capacity: serializer.binds.count)
            for bind in serializer.binds {
                switch bind {
                case let text as String: bindings.append(text)
                case let number as Int64: bindings.append(number)
                case let number as Int: bindings.append(number)
                default: throw StoreDataError("textRows binds text or integers, not \(type(of: bind))")
                }
            }
            var rows: [[String?]] = []
            for try await row in try await connection.query(PostgresQuery(unsafeSQL: serializer.sql, binds: bindings), logger: logger) {
                var cells: [String?] = []
                cells.reserveCapacity(row.count)
                for cell in row { cells.append(try Self.text(of: cell)) }
                rows.append(cells)
            }
            return rows
        }
    }

    /// A cell's value as text. Results come in PostgreSQL's binary format: text types are their
    /// UTF-8 bytes, integers big-endian.
    private static func text(of cell: PostgresCell) throws -> String? {
        guard var bytes = cell.bytes else { return nil }
        switch cell.dataType {
        case .text, .varchar, .bpchar, .name: return String(buffer: bytes)
        case .int8: return bytes.readInteger(as: Int64.self).map { String($0) }
        case .int4: return bytes.readInteger(as: Int32.self).map { String($0) }
        case .int2: return bytes.readInteger(as: Int16.self).map { String($0) }
        default: throw StoreDataError("column \(cell.columnName) has type \(cell.dataType), which textRows does not read")
        }
    }

    /// How long ``shutdown()`` waits for the pool to close its connections.
    static let shutdownGrace: Duration = .seconds(10)

    /// Closes the pool's connections: cancels the pool's task and waits for it, at most
    /// ``shutdownGrace``. A pool that has not finished by then is left behind with a warning,
    /// so that stopping the gateway (or a test) can never hang on it; whatever it still holds
    /// is closed when the process exits.
    public func shutdown() async {
        runTask.cancel()
        if await !runTask.finishes(within: Self.shutdownGrace) {
            logger.warning(
                "PostgreSQL pool did not close within the shutdown grace; leaving it behind",
                metadata: ["grace_seconds": "\(Self.shutdownGrace.components.seconds)"])
        }
    }

    /// Opens one connection to `url` and closes it again, so a caller learns at once why the
    /// server cannot be used (refused, unknown database, wrong password) — the pool instead
    /// keeps retrying in the background while requests wait.
    public static func probe(url: String, timeout: Duration, logger: Logger) async throws {
        try await withOneConnection(url: url, timeout: timeout, logger: logger) { _ in }
    }

    /// Runs `body` on a connection of its own to `url`, outside any pool, and closes it
    /// afterwards; gives up when the server does not accept the connection within `timeout`.
    public static func withOneConnection<T: Sendable>(
        url: String, timeout: Duration, logger: Logger, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        guard let configuration = try? SQLPostgresConfiguration(url: url) else {
            throw DatabaseConfigurationError("invalid PostgreSQL URL; use postgres://user:pass@host:port/db")
        }
        var core = configuration.coreConfiguration
        core.options.connectTimeout = .init(timeout)
        let connection = try await PostgresConnection.connect(configuration: core, id: 0, logger: logger)
        do {
            let result = try await body(connection)
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }
}

/// Database errors in words fit for a log line: PostgreSQL's own SQLSTATE and message
/// (PSQLError's description hides them; its debug description would include bound values,
/// which may be secrets, so it is not logged).
public enum DatabaseErrorText {
    public static func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        guard let info = error.serverInfo else { return "PostgreSQL \(error.code)" + (error.underlying.map { ": \($0)" } ?? "") }
        // Not `detail`: for a unique violation it repeats the key's values (e-mail addresses).
        return "PostgreSQL \(info[.sqlState] ?? "?"): \(info[.message] ?? "")"
    }

    /// Whether the error is a unique-constraint violation (SQLSTATE 23505, or SQLite's UNIQUE).
    public static func isUniqueViolation(_ error: any Error) -> Bool {
        if let error = error as? PSQLError { return error.serverInfo?[.sqlState] == "23505" }
        return "\(error)".contains("UNIQUE constraint failed")
    }
}
