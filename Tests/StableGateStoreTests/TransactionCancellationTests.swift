import Foundation
import SQLKit
import StableGateTestSupport
import Testing

@testable import StableGateStore

/// A service stopping mid-transaction (graceful shutdown cancels its task) must leave nothing
/// half-done and the connection usable: SQLite has one writer, and a PostgreSQL connection goes
/// back to the pool for the next caller.
@Suite("Transactions under cancellation")
struct TransactionCancellationTests {
    @Test("A transaction whose task is cancelled rolls back, and the next transaction runs", arguments: Backend.available)
    func cancelledTransactionRollsBack(backend: Backend) async throws {
        try await TestDatabase.withClient(backend) { database in
            try await database.transaction { db in try await db.raw("CREATE TABLE cancellation_probe (v TEXT NOT NULL)").run() }
            let started = AsyncStream<Void>.makeStream()
            let task = Task {
                try await database.transaction { db in
                    try await db.raw("INSERT INTO cancellation_probe (v) VALUES ('half-done')").run()
                    started.continuation.yield()
                    try await Task.sleep(for: .seconds(60))
                }
            }
            for await _ in started.stream { break }
            task.cancel()
            _ = await task.result
            for attempt in 1...3 {
                try await database.transaction { db in
                    try await db.raw("INSERT INTO cancellation_probe (v) VALUES (\(bind: "after \(attempt)"))").run()
                }
            }
            let values = try await database.read { db in
                try await db.raw("SELECT v FROM cancellation_probe ORDER BY v").all(decodingColumn: "v", as: String.self)
            }
            #expect(values == ["after 1", "after 2", "after 3"], "the cancelled insert rolled back; later transactions committed")
        }
    }
}
