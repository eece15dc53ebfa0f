import BigInt
import Foundation
import SQLKit
import StableGateDomain

/// Transactions this gateway signed before broadcasting them — forwarding sweeps (owned by a
/// settlement) and shopper-account transfers (owned by a transfer) — and the nonces they use.
public struct SignedTransactionRepository: Sendable {
    public let database: any DatabaseClient
    /// Whose transactions the instance methods store and read: sweeps or shopper transfers'.
    public let table: SignedTransactionTable

    public init(database: any DatabaseClient, table: SignedTransactionTable = .sweeps) {
        self.database = database
        self.table = table
    }

    /// Stores a signed transaction before it is broadcast.
    public func insert(_ transaction: SweepTransaction) async throws {
        try await database.transaction { db in try await Self.insert(transaction, into: table, on: db) }
    }

    /// Stores a signed transaction's state.
    public func update(_ transaction: SweepTransaction) async throws {
        try await database.transaction { db in try await Self.update(transaction, in: table, on: db) }
    }

    /// The signed transactions of an owner (a settlement or a shopper transfer), by kind and attempt.
    public func transactions(owner: String) async throws -> [SweepTransaction] {
        try await database.read { db in try await Self.transactions(owner: owner, in: table, on: db) }
    }

    /// The sweep transactions of a settlement, by kind and attempt.
    public func sweeps(settlementId: String) async throws -> [SweepTransaction] {
        try await database.read { db in try await Self.transactions(owner: settlementId, in: .sweeps, on: db) }
    }

    /// Where signed transactions are kept: forwarding sweeps (owned by a settlement) and
    /// shopper-account transfers (owned by a transfer). Same columns but the owner's.
    public enum SignedTransactionTable: String, Sendable {
        case sweeps = "sweep_transactions"
        case accountTransfers = "account_transactions"

        var ownerColumn: String { self == .sweeps ? "settlement_id" : "transfer_id" }
    }

    /// Inserts a signed transaction; its `settlementId` is the owner (settlement or transfer).
    public static func insert(_ sweep: SweepTransaction, into table: SignedTransactionTable, on db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO \(unsafeRaw: table.rawValue) (id, \(unsafeRaw: table.ownerColumn), chain_id, kind, attempt, from_address, to_address, nonce,
                raw_tx, tx_hash, max_fee_per_gas, state, block_number, broadcast_at, created_at, updated_at)
            VALUES (\(bind: sweep.id), \(bind: sweep.settlementId), \(bind: sweep.chainId), \(bind: sweep.kind.rawValue), \(bind: Int64(sweep.attempt)),
                \(bind: sweep.from), \(bind: sweep.to), \(bind: Int64(sweep.nonce)), \(bind: sweep.rawTransaction), \(bind: sweep.hash),
                \(bind: String(sweep.maxFeePerGas)), \(bind: sweep.state.rawValue), \(bind: sweep.blockNumber), \(bind: sweep.broadcastAt?.unixMilliseconds),
                \(bind: sweep.createdAt.unixMilliseconds), \(bind: sweep.updatedAt.unixMilliseconds))
            """
        ).run()
    }

    /// Stores a signed transaction's state, block and broadcast time.
    public static func update(_ sweep: SweepTransaction, in table: SignedTransactionTable, on db: any SQLDatabase) async throws {
        try await db.raw(
            """
            UPDATE \(unsafeRaw: table.rawValue) SET state = \(bind: sweep.state.rawValue), block_number = \(bind: sweep.blockNumber),
                broadcast_at = \(bind: sweep.broadcastAt?.unixMilliseconds), updated_at = \(bind: sweep.updatedAt.unixMilliseconds)
            WHERE id = \(bind: sweep.id)
            """
        ).run()
    }

    /// An owner's signed transactions, by kind and attempt.
    public static func transactions(owner: String, in table: SignedTransactionTable, on db: any SQLDatabase) async throws -> [SweepTransaction] {
        try await db.raw(
            """
            SELECT *, \(unsafeRaw: table.ownerColumn) AS owner_id FROM \(unsafeRaw: table.rawValue)
            WHERE \(unsafeRaw: table.ownerColumn) = \(bind: owner) ORDER BY kind, attempt
            """
        ).all().map(Self.sweep(from:))
    }

    /// The highest nonce this gateway signed from `address` on a chain that is, or may still
    /// be, used on chain (refused and replaced transactions aside) — sweeps and shopper-account
    /// transfers together, since both spend from the hot wallet.
    public func highestLiveNonce(chainId: Int64, from address: String) async throws -> UInt64? {
        try await database.read { db in
            try await db.raw(
                """
                SELECT MAX(nonce) AS nonce FROM (
                  SELECT nonce FROM sweep_transactions WHERE chain_id = \(bind: chainId) AND from_address = \(bind: address)
                    AND state IN ('signed', 'broadcast', 'mined')
                  UNION ALL
                  SELECT nonce FROM account_transactions WHERE chain_id = \(bind: chainId) AND from_address = \(bind: address)
                    AND state IN ('signed', 'broadcast', 'mined')
                ) live
                """
            ).first()?.decode(column: "nonce", as: Int64?.self).map { UInt64($0) }
        }
    }

    static func sweep(from row: any SQLRow) throws -> SweepTransaction {
        let id = try row.decode(column: "id", as: String.self)
        guard let kind = SweepKind(rawValue: try row.decode(column: "kind", as: String.self)),
            let state = SweepState(rawValue: try row.decode(column: "state", as: String.self)),
            let maxFee = BigUInt(try row.decode(column: "max_fee_per_gas", as: String.self))
        else { throw StoreDataError("sweep \(id) has unreadable fields") }
        return SweepTransaction(
            id: id, settlementId: try row.decode(column: "owner_id", as: String.self), chainId: try row.decode(column: "chain_id", as: Int64.self),
            kind: kind, attempt: Int(try row.decode(column: "attempt", as: Int64.self)),
            from: try row.decode(column: "from_address", as: String.self),
            to: try row.decode(column: "to_address", as: String.self), nonce: UInt64(try row.decode(column: "nonce", as: Int64.self)),
            rawTransaction: try row.decode(column: "raw_tx", as: String.self), hash: try row.decode(column: "tx_hash", as: String.self),
            maxFeePerGas: maxFee, state: state, blockNumber: try row.decode(column: "block_number", as: Int64?.self),
            broadcastAt: try row.decode(column: "broadcast_at", as: Int64?.self).map(Date.init(unixMilliseconds:)),
            createdAt: Date(unixMilliseconds: try row.decode(column: "created_at", as: Int64.self)),
            updatedAt: Date(unixMilliseconds: try row.decode(column: "updated_at", as: Int64.self)))
    }
}
