import Foundation
import SQLKit
import StableGateDomain

/// The deposit addresses handed to intents and the HD derivation index each was derived at.
public struct DepositAddressRepository: Sendable {
    public let database: any DatabaseClient

    public init(database: any DatabaseClient) {
        self.database = database
    }

    /// The next unused derivation index (never handed out twice, even across instances).
    public static func nextDerivationIndex(on db: any SQLDatabase) async throws -> Int64 {
        let row = try await db.raw(
            """
            INSERT INTO counters (name, value) VALUES ('deposit_derivation_index', 0)
            ON CONFLICT (name) DO UPDATE SET value = counters.value + 1
            RETURNING value
            """
        ).first()
        guard let value = try row?.decode(column: "value", as: Int64.self) else { throw StoreDataError("counter did not return a value") }
        return value
    }

    /// Records an intent's deposit address.
    public static func insertDepositAddress(_ address: String, intentId: String, index: Int64, at date: Date, on db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO deposit_addresses (address, intent_id, derivation_index, created_at)
            VALUES (\(bind: address), \(bind: intentId), \(bind: index), \(bind: date.unixMilliseconds))
            """
        ).run()
    }

    /// Records many deposit addresses at once (bulk loads and benchmarks).
    public func insertDepositAddresses(_ rows: [(address: String, intentId: String, index: Int64)], at date: Date) async throws {
        for start in stride(from: 0, to: rows.count, by: 500) {
            var query = SQLQueryString("INSERT INTO deposit_addresses (address, intent_id, derivation_index, created_at) VALUES ")
            for (offset, row) in rows[start..<min(start + 500, rows.count)].enumerated() {
                if offset > 0 { query.appendLiteral(", ") }
                query.appendTuple([row.address, row.intentId, row.index, date.unixMilliseconds])
            }
            let statement = query
            try await database.transaction { db in try await db.raw(statement).run() }
        }
    }

    /// The derivation index of an intent's deposit address.
    public func derivationIndex(intentId: String) async throws -> Int64? {
        try await database.read { db in
            try await db.raw("SELECT derivation_index FROM deposit_addresses WHERE intent_id = \(bind: intentId)").first()?
                .decode(column: "derivation_index", as: Int64.self)
        }
    }

    /// The intents owning any of `addresses` (lower-case), by address: one indexed lookup per
    /// batch of recipients, whatever the number of open intents.
    public func intents(forDepositAddresses addresses: Set<String>) async throws -> [String: String] {
        try await database.lookup(addresses, table: "deposit_addresses", key: "address", value: "intent_id")
    }
}
