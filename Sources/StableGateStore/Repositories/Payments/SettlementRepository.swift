import BigInt
import Foundation
import SQLKit
import StableGateDomain

/// Settlements: money confirmed for an intent, to forward from its deposit address to the
/// merchant (net) and the fee address.
public struct SettlementRepository: Sendable {
    public let database: any DatabaseClient

    public init(database: any DatabaseClient) {
        self.database = database
    }

    /// Records a settlement to forward.
    public static func insert(_ settlement: SettlementRecord, on db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO settlements (id, intent_id, chain_id, token_contract, decimals, deposit_address, gross, fee, net, merchant_address,
                fee_address, state, attempts, last_error, next_attempt_at, created_at, updated_at)
            VALUES (\(bind: settlement.id), \(bind: settlement.intentId), \(bind: settlement.chainId), \(bind: settlement.tokenContract),
                \(bind: Int64(settlement.decimals)), \(bind: settlement.depositAddress), \(bind: String(settlement.gross)), \(bind: String(settlement.fee)),
                \(bind: String(settlement.net)), \(bind: settlement.merchantAddress), \(bind: settlement.feeAddress), \(bind: settlement.state.rawValue),
                \(bind: Int64(settlement.attempts)), \(bind: settlement.lastError), \(bind: settlement.nextAttemptAt.unixMilliseconds),
                \(bind: settlement.createdAt.unixMilliseconds), \(bind: settlement.updatedAt.unixMilliseconds))
            """
        ).run()
    }

    /// Stores a settlement's mutable fields.
    public static func update(_ settlement: SettlementRecord, on db: any SQLDatabase) async throws {
        try await db.raw(
            """
            UPDATE settlements SET merchant_address = \(bind: settlement.merchantAddress), fee_address = \(bind: settlement.feeAddress),
                state = \(bind: settlement.state.rawValue), attempts = \(bind: Int64(settlement.attempts)), last_error = \(bind: settlement.lastError),
                next_attempt_at = \(bind: settlement.nextAttemptAt.unixMilliseconds), updated_at = \(bind: settlement.updatedAt.unixMilliseconds)
            WHERE id = \(bind: settlement.id)
            """
        ).run()
    }

    /// Stores a settlement's mutable fields in its own transaction.
    public func update(_ settlement: SettlementRecord) async throws {
        try await database.transaction { db in try await Self.update(settlement, on: db) }
    }

    /// Settlements of a chain due for work now, oldest first.
    public func dueSettlements(chainId: Int64, now: Date, limit: Int = 50) async throws -> [SettlementRecord] {
        try await database.read { db in
            try await db.raw(
                """
                SELECT * FROM settlements WHERE chain_id = \(bind: chainId) AND state IN ('pending', 'sending')
                  AND next_attempt_at <= \(bind: now.unixMilliseconds) ORDER BY created_at LIMIT \(unsafeRaw: String(limit))
                """
            ).all().map(Self.settlement(from:))
        }
    }

    /// How many settlements of a chain wait to be forwarded, and since when the oldest does.
    public func waitingSettlements(chainId: Int64) async throws -> (count: Int, oldest: Date?) {
        try await database.read { db in
            let row = try await db.raw(
                """
                SELECT COUNT(*) AS waiting, MIN(created_at) AS oldest FROM settlements WHERE chain_id = \(bind: chainId) AND state IN ('pending', 'sending')
                """
            ).first()
            let count = Int(try row?.decode(column: "waiting", as: Int64.self) ?? 0)
            return (count, try row?.decode(column: "oldest", as: Int64?.self).map(Date.init(unixMilliseconds:)))
        }
    }

    /// The settlements of an intent.
    public func settlements(intentId: String) async throws -> [SettlementRecord] {
        try await database.read { db in
            try await db.raw("SELECT * FROM settlements WHERE intent_id = \(bind: intentId) ORDER BY created_at").all().map(Self.settlement(from:))
        }
    }

    static func settlement(from row: any SQLRow) throws -> SettlementRecord {
        let id = try row.decode(column: "id", as: String.self)
        guard let gross = BigUInt(try row.decode(column: "gross", as: String.self)),
            let fee = BigUInt(try row.decode(column: "fee", as: String.self)),
            let net = BigUInt(try row.decode(column: "net", as: String.self)),
            let state = SettlementState(rawValue: try row.decode(column: "state", as: String.self))
        else { throw StoreDataError("settlement \(id) has unreadable fields") }
        return SettlementRecord(
            id: id, intentId: try row.decode(column: "intent_id", as: String.self), chainId: try row.decode(column: "chain_id", as: Int64.self),
            tokenContract: try row.decode(column: "token_contract", as: String.self),
            decimals: Int(try row.decode(column: "decimals", as: Int64.self)),
            depositAddress: try row.decode(column: "deposit_address", as: String.self), gross: gross, fee: fee, net: net,
            merchantAddress: try row.decode(column: "merchant_address", as: String?.self),
            feeAddress: try row.decode(column: "fee_address", as: String?.self),
            state: state, attempts: Int(try row.decode(column: "attempts", as: Int64.self)),
            lastError: try row.decode(column: "last_error", as: String?.self),
            nextAttemptAt: Date(unixMilliseconds: try row.decode(column: "next_attempt_at", as: Int64.self)),
            createdAt: Date(unixMilliseconds: try row.decode(column: "created_at", as: Int64.self)),
            updatedAt: Date(unixMilliseconds: try row.decode(column: "updated_at", as: Int64.self)))
    }
}
