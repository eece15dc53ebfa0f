import Foundation
import SQLKit
import StableGateDomain

/// Where each chain's watcher has scanned to (its cursor) and which instance holds the lease
/// to watch it.
public struct ChainCursorRepository: Sendable {
    public let database: any DatabaseClient

    public init(database: any DatabaseClient) {
        self.database = database
    }

    /// The next block a chain's watcher will scan, nil before its first scan.
    public func cursor(chainId: Int64) async throws -> Int64? {
        try await database.read { db in
            try await db.raw("SELECT next_block FROM chain_cursors WHERE chain_id = \(bind: chainId)").first()?.decode(
                column: "next_block", as: Int64.self)
        }
    }

    /// Moves a chain's cursor (inside the transaction that recorded what was scanned).
    public static func setCursor(chainId: Int64, nextBlock: Int64, at date: Date, on db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO chain_cursors (chain_id, next_block, updated_at) VALUES (\(bind: chainId), \(bind: nextBlock), \(bind: date.unixMilliseconds))
            ON CONFLICT (chain_id) DO UPDATE SET next_block = excluded.next_block, updated_at = excluded.updated_at
            """
        ).run()
    }

    /// Takes or renews the lease on a chain: true when `holder` holds it until `now + ttl`.
    /// A lease whose holder stopped renewing it is taken over once it expires.
    public func acquireLease(chainId: Int64, holder: String, ttl: TimeInterval, now: Date) async throws -> Bool {
        try await database.transaction { db in
            let row = try await db.raw(
                """
                INSERT INTO chain_leases (chain_id, holder, expires_at) VALUES (\(bind: chainId), \(bind: holder), \(bind: now.addingTimeInterval(ttl).unixMilliseconds))
                ON CONFLICT (chain_id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
                WHERE chain_leases.holder = excluded.holder OR chain_leases.expires_at < \(bind: now.unixMilliseconds)
                RETURNING holder
                """
            ).first()
            return try row?.decode(column: "holder", as: String.self) == holder
        }
    }

    /// Who holds a chain's lease now, if anyone.
    public func leaseHolder(chainId: Int64) async throws -> String? {
        try await database.read { db in
            try await db.raw("SELECT holder FROM chain_leases WHERE chain_id = \(bind: chainId)").first()?.decode(column: "holder", as: String.self)
        }
    }

    /// Takes the lease from `previous` (a holder proven gone) before it expires; false when
    /// someone else changed it meanwhile.
    public func takeOverLease(chainId: Int64, from previous: String, holder: String, ttl: TimeInterval, now: Date) async throws -> Bool {
        try await database.transaction { db in
            try await db.raw(
                """
                UPDATE chain_leases SET holder = \(bind: holder), expires_at = \(bind: now.addingTimeInterval(ttl).unixMilliseconds)
                WHERE chain_id = \(bind: chainId) AND holder = \(bind: previous) RETURNING holder
                """
            ).first() != nil
        }
    }

    /// Gives a lease up (on shutdown), so another instance can take it at once.
    public func releaseLease(chainId: Int64, holder: String) async throws {
        _ = try await database.transaction { db in
            try await db.raw("DELETE FROM chain_leases WHERE chain_id = \(bind: chainId) AND holder = \(bind: holder)").run()
        }
    }
}
