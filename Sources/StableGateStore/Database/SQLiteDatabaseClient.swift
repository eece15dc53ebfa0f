import Logging
import NIOCore
import NIOPosix
import SQLKit
import SQLiteKit
import SQLiteNIO
import Synchronization

/// SQLite in WAL mode: one writer connection that every transaction and write goes through in
/// turn (so writes never meet SQLITE_BUSY), and a few reader connections that see the last
/// committed state concurrently.
///
/// The writer has a thread of its own and the readers share their own pool, so a write never
/// queues behind reads, and a writer waiting on SQLite's busy timeout (another process holds
/// the lock) cannot starve the threads the lock holder needs to finish.
///
/// Durability is chosen with ``Durability``: `synchronous=NORMAL` in WAL mode survives a killed
/// process without losing a commit, but an operating-system crash or power cut can drop the
/// last moments of commits; `FULL` syncs the WAL at every commit, so a committed payment
/// survives those too (README "Durability" has the measured cost).
public final class SQLiteDatabaseClient: DatabaseClient {
    /// SQLite's `synchronous` setting.
    public enum Durability: String, Sendable, CaseIterable {
        /// Every commit synced to disk: nothing committed is lost, even on power failure.
        case full
        /// Commits survive a process crash; the last ones may not survive an OS crash or power cut.
        case normal
    }

    public let dialect = DatabaseDialect.sqlite
    private let writer: SQLiteConnection
    private let readers: [SQLiteConnection]
    private let threadPools: [NIOThreadPool]
    private let writeLock = AsyncSerialLock()
    private let nextReader = Atomic<Int>(0)
    private let isShutDown = Atomic<Bool>(false)
    private let logger: Logger

    private init(writer: SQLiteConnection, readers: [SQLiteConnection], threadPools: [NIOThreadPool], logger: Logger) {
        self.writer = writer
        self.readers = readers
        self.threadPools = threadPools
        self.logger = logger
    }

    /// Opens or creates the database file and configures its connections.
    public static func open(path: String, readerCount: Int = 3, durability: Durability = .full, logger: Logger) async throws -> SQLiteDatabaseClient {
        let eventLoop = MultiThreadedEventLoopGroup.singleton.any()
        let writerThread = NIOThreadPool(numberOfThreads: 1)
        let readerThreads = NIOThreadPool(numberOfThreads: 2)
        writerThread.start()
        readerThreads.start()
        func connect(on pool: NIOThreadPool) async throws -> SQLiteConnection {
            try await SQLiteConnection.open(storage: .file(path: path), threadPool: pool, logger: logger, on: eventLoop).get()
        }
        var opened: [SQLiteConnection] = []
        do {
            let writer = try await connect(on: writerThread)
            opened.append(writer)
            // busy_timeout first: it governs every statement after it, journal_mode included.
            for pragma in [
                "PRAGMA busy_timeout=10000", "PRAGMA journal_mode=WAL", "PRAGMA synchronous=\(durability.rawValue.uppercased())",
                "PRAGMA foreign_keys=ON",
            ] {
                try await writer.sql().raw(SQLQueryString(pragma)).run()
            }
            try await writer.install(customFunction: ExactDecimalSum.function)
            var readers: [SQLiteConnection] = []
            for _ in 0..<readerCount {
                let reader = try await connect(on: readerThreads)
                opened.append(reader)
                try await reader.sql().raw("PRAGMA busy_timeout=10000").run()
                try await reader.sql().raw("PRAGMA query_only=ON").run()
                try await reader.install(customFunction: ExactDecimalSum.function)
                readers.append(reader)
            }
            return SQLiteDatabaseClient(writer: writer, readers: readers, threadPools: [writerThread, readerThreads], logger: logger)
        } catch {
            // sqlite-nio requires every connection to be closed, also when opening fails.
            for connection in opened { try? await connection.close() }
            try? await writerThread.shutdownGracefully()
            try? await readerThreads.shutdownGracefully()
            throw error
        }
    }

    public func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let index = nextReader.wrappingAdd(1, ordering: .relaxed).oldValue
        return try await body(readers[index % readers.count].sql(queryLogLevel: nil))
    }

    public func textRows(_ query: SQLQueryString) async throws -> [[String?]] {
        let index = nextReader.wrappingAdd(1, ordering: .relaxed).oldValue
        let connection = readers[index % readers.count]
        var serializer = SQLSerializer(database: connection.sql(queryLogLevel: nil))
        query.serialize(to: &serializer)
        let encoder = SQLiteDataEncoder()
        let binds = try serializer.binds.map { try encoder.encode($0) }
        // Rows arrive on the reader's thread, one callback each.
        let rows = Mutex<[[String?]]>([])
        try await connection.query(serializer.sql, binds) { row in
            let cells = row.columns.map(\.data.string)
            rows.withLock { $0.append(cells) }
        }
        return rows.withLock { rows in
            defer { rows = [] }
            return rows
        }
    }

    public func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await writeLock.withLock {
            try await writer.sql(queryLogLevel: nil).inTransaction(begin: "BEGIN IMMEDIATE", logger: logger, body)
        }
    }

    /// Closes the connections and stops their threads. Calling it again does nothing.
    public func shutdown() async {
        guard !isShutDown.exchange(true, ordering: .relaxed) else { return }
        for connection in readers + [writer] {
            try? await connection.close()
        }
        for pool in threadPools {
            try? await pool.shutdownGracefully()
        }
    }
}
