import Foundation
import Logging
import PostgresNIO
import SQLKit
import StableGateStore
import Synchronization
import Testing

/// The databases the store and API suites run on: SQLite always, PostgreSQL when
/// `STABLEGATE_TEST_POSTGRES_URL` is set (the README's test command always sets it).
public enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    public var testDescription: String { rawValue }

    /// The URL of a PostgreSQL database whose role may create databases.
    public static var postgresURL: String? {
        ProcessInfo.processInfo.environment["STABLEGATE_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The backends to run on in this process.
    public static var available: [Backend] {
        postgresURL == nil ? [.sqlite] : [.sqlite, .postgres]
    }
}

/// A logger that stays quiet unless a test fails loudly.
public let testLogger: Logger = {
    var logger = Logger(label: "stablegate.test")
    logger.logLevel = ProcessInfo.processInfo.environment["STABLEGATE_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
    return logger
}()

/// A fresh, empty database for one test, removed afterwards.
public struct TestDatabase: Sendable {
    /// The URL to hand to the gateway (`sqlite:…` or `postgres://…`).
    public let url: String
    /// A scratch directory for this test (data dir, master key).
    public let directory: String
    private let cleanup: @Sendable () async -> Void
    private let clients = OpenedClients()

    /// Creates a fresh database, runs `body`, then drops it.
    public static func with<T: Sendable>(_ backend: Backend, _ body: (TestDatabase) async throws -> T) async throws -> T {
        let database = try await make(backend)
        do {
            let result = try await body(database)
            await database.closeClients()
            await database.cleanup()
            return result
        } catch {
            // Close what the test opened (shutting down twice is harmless), so the test's own
            // error is what gets reported.
            await database.closeClients()
            await database.cleanup()
            throw error
        }
    }

    /// Creates a fresh database, runs `body` with one migrated client on it, shuts the client
    /// down, then drops the database.
    public static func withClient<T: Sendable>(_ backend: Backend, _ body: (any DatabaseClient) async throws -> T) async throws -> T {
        try await with(backend) { test in
            let database = try await test.open()
            let result = try await body(database)
            await database.shutdown()
            return result
        }
    }

    /// Opens a client on this database (migrated when `migrate` is true). It is closed when
    /// the test ends, whether or not the test closed it.
    public func open(migrate: Bool = true) async throws -> any DatabaseClient {
        let client = try await DatabaseFactory.open(try DatabaseLocation(url: url), logger: testLogger)
        clients.append(client)
        if migrate {
            try await Migrator(database: client, logger: testLogger).migrate(now: 0)
        }
        return client
    }

    private func closeClients() async {
        for client in clients.all() { await client.shutdown() }
    }

    static func make(_ backend: Backend) async throws -> TestDatabase {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("stablegate-test-\(UUID().uuidString.prefix(12))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let removeDirectory: @Sendable () -> Void = { try? FileManager.default.removeItem(atPath: directory) }
        switch backend {
        case .sqlite:
            return TestDatabase(url: "sqlite:\(directory)/test.sqlite", directory: directory, cleanup: removeDirectory)
        case .postgres:
            guard let base = Backend.postgresURL, let slash = base.lastIndex(of: "/") else {
                throw TestSetupError("STABLEGATE_TEST_POSTGRES_URL is not set; run the README's test command")
            }
            let name = "sgtest_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
            try await adminExecute(base, "CREATE DATABASE \(name)")
            let url = String(base[..<slash]) + "/" + name
            return TestDatabase(url: url, directory: directory) {
                removeDirectory()
                try? await adminExecute(base, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            }
        }
    }

    /// Runs one statement on its own connection (no pool: nothing to start or stop around a
    /// CREATE or DROP DATABASE), giving up on a server that does not accept it within 10 s.
    private static func adminExecute(_ url: String, _ sql: String) async throws {
        try await PostgresDatabaseClient.withOneConnection(url: url, timeout: .seconds(10), logger: testLogger) { connection in
            _ = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: testLogger)
        }
    }

    private init(url: String, directory: String, cleanup: @escaping @Sendable () async -> Void) {
        self.url = url
        self.directory = directory
        self.cleanup = cleanup
    }
}

/// The clients a test opened, shared between copies of its ``TestDatabase``.
final class OpenedClients: Sendable {
    private let clients = Mutex<[any DatabaseClient]>([])
    func append(_ client: any DatabaseClient) { clients.withLock { $0.append(client) } }
    func all() -> [any DatabaseClient] { clients.withLock { $0 } }
}

/// A test environment that is not set up as the README says.
public struct TestSetupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
