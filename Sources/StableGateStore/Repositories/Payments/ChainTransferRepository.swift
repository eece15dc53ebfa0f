import BigInt
import Foundation
import SQLKit
import StableGateDomain

/// ERC-20 transfers seen on chain to intents' deposit addresses: where each stands (seen,
/// confirmed, dropped), its KYT verdict, its kind and whether it was credited.
public struct ChainTransferRepository: Sendable {
    public let database: any DatabaseClient

    public init(database: any DatabaseClient) {
        self.database = database
    }

    /// Records a transfer seen in a block. A transfer already known is left alone, unless a
    /// reorg had dropped it and it reappeared (then it is revived with its new block).
    /// Returns true when the row is new or revived.
    @discardableResult
    public static func recordSeen(_ transfer: ChainTransfer, on db: any SQLDatabase) async throws -> Bool {
        if let existing = try await db.raw(
            """
            SELECT state FROM chain_transfers WHERE chain_id = \(bind: transfer.chainId) AND tx_hash = \(bind: transfer.transactionHash)
              AND log_index = \(bind: transfer.logIndex)
            """
        ).first() {
            guard try existing.decode(column: "state", as: String.self) == TransferState.dropped.rawValue else { return false }
            try await db.raw(
                """
                UPDATE chain_transfers SET state = 'seen', block_number = \(bind: transfer.blockNumber), block_hash = \(bind: transfer.blockHash)
                WHERE id = \(bind: transfer.id)
                """
            ).run()
            return true
        }
        try await db.raw(
            """
            INSERT INTO chain_transfers (id, chain_id, tx_hash, log_index, block_number, block_hash, token_contract, stable_coin, decimals,
                from_address, to_address, amount, intent_id, kind, state, kyt_status, kyt_detail, credited, detected_at, confirmed_at)
            VALUES (\(bind: transfer.id), \(bind: transfer.chainId), \(bind: transfer.transactionHash), \(bind: transfer.logIndex),
                \(bind: transfer.blockNumber), \(bind: transfer.blockHash), \(bind: transfer.tokenContract), \(bind: Int64(transfer.stableCoin.rawValue)),
                \(bind: Int64(transfer.decimals)), \(bind: transfer.from), \(bind: transfer.to), \(bind: String(transfer.amount)),
                \(bind: transfer.intentId), \(bind: transfer.kind.rawValue), \(bind: transfer.state.rawValue), \(bind: transfer.screening.rawValue),
                \(bind: transfer.screeningDetail), \(bind: transfer.credited ? Int64(1) : Int64(0)), \(bind: transfer.detectedAt.unixMilliseconds),
                \(bind: transfer.confirmedAt?.unixMilliseconds))
            """
        ).run()
        return true
    }

    /// Stores the mutable fields of a transfer.
    public static func update(_ transfer: ChainTransfer, on db: any SQLDatabase) async throws {
        try await db.raw(
            """
            UPDATE chain_transfers SET block_number = \(bind: transfer.blockNumber), block_hash = \(bind: transfer.blockHash),
                kind = \(bind: transfer.kind.rawValue), state = \(bind: transfer.state.rawValue), kyt_status = \(bind: transfer.screening.rawValue),
                kyt_detail = \(bind: transfer.screeningDetail), credited = \(bind: transfer.credited ? Int64(1) : Int64(0)),
                confirmed_at = \(bind: transfer.confirmedAt?.unixMilliseconds)
            WHERE id = \(bind: transfer.id)
            """
        ).run()
    }

    /// Changes an uncredited transfer's kind, leaving the rest alone (a credited one is final).
    public static func reclassify(transferId: String, as kind: TransferKind, on db: any SQLDatabase) async throws {
        try await db.raw(
            """
            UPDATE chain_transfers SET kind = \(bind: kind.rawValue) WHERE id = \(bind: transferId) AND credited = 0
            """
        ).run()
    }

    /// Sets where a transfer stands on chain (confirmation or reorg), leaving the rest alone.
    public static func setState(
        transferId: String, _ state: TransferState, confirmedAt: Date?, on db: any SQLDatabase
    ) async throws {
        try await db.raw(
            """
            UPDATE chain_transfers SET state = \(bind: state.rawValue), confirmed_at = \(bind: confirmedAt?.unixMilliseconds)
            WHERE id = \(bind: transferId)
            """
        ).run()
    }

    /// Records the KYT verdict on a transfer's sender, leaving the rest alone.
    public static func setScreening(transferId: String, _ screening: ScreeningState, detail: String?, on db: any SQLDatabase) async throws {
        try await db.raw(
            """
            UPDATE chain_transfers SET kyt_status = \(bind: screening.rawValue), kyt_detail = \(bind: detail) WHERE id = \(bind: transferId)
            """
        ).run()
    }

    /// Intents of a chain with confirmed, screened money not yet credited: normally none, but
    /// after a crash or while a partial payment waits for its window, these are re-evaluated.
    public func intentsWithUncreditedMoney(chainId: Int64) async throws -> [String] {
        try await database.read { db in
            try await db.raw(
                """
                SELECT DISTINCT intent_id FROM chain_transfers WHERE chain_id = \(bind: chainId) AND state = 'confirmed' AND credited = 0
                  AND kind IN ('payment', 'late') AND kyt_status IN ('clear', 'skipped', 'released')
                """
            ).all(decodingColumn: "intent_id", as: String.self)
        }
    }

    /// Intents holding dust (late money below the minimum), all or just `intentId`.
    public func intentsHoldingDust(intentId: String? = nil) async throws -> [String] {
        try await database.read { db in
            var query = SQLQueryString("SELECT DISTINCT intent_id FROM chain_transfers WHERE kind = 'dust' AND credited = 0")
            if let intentId {
                query.appendInterpolation(unsafeRaw: " AND intent_id = ")
                query.appendInterpolation(bind: intentId)
            }
            return try await db.raw(query).all(decodingColumn: "intent_id", as: String.self)
        }
    }

    /// Every transfer to an intent's deposit address, oldest first.
    public static func transfers(intentId: String, on db: any SQLDatabase) async throws -> [ChainTransfer] {
        try await db.raw("SELECT * FROM chain_transfers WHERE intent_id = \(bind: intentId) ORDER BY block_number, log_index")
            .all().map(transfer(from:))
    }

    /// Every transfer to an intent's deposit address.
    public func transfers(intentId: String) async throws -> [ChainTransfer] {
        try await database.read { db in try await Self.transfers(intentId: intentId, on: db) }
    }

    /// Transfers of a chain still waiting for confirmations.
    public func seenTransfers(chainId: Int64) async throws -> [ChainTransfer] {
        try await database.read { db in
            try await db.raw("SELECT * FROM chain_transfers WHERE chain_id = \(bind: chainId) AND state = 'seen' ORDER BY block_number")
                .all().map(Self.transfer(from:))
        }
    }

    /// Transfers of a chain whose sender has not been screened yet.
    public func unscreenedTransfers(chainId: Int64) async throws -> [ChainTransfer] {
        try await database.read { db in
            try await db.raw("SELECT * FROM chain_transfers WHERE chain_id = \(bind: chainId) AND kyt_status = 'pending' ORDER BY block_number")
                .all().map(Self.transfer(from:))
        }
    }

    /// Transfers for the operator, newest first: of `kinds`, with a `screening` verdict, or —
    /// `held` — all money held for the operator (KYT-flagged, wrong chain or coin, dust).
    public func transfers(
        kinds: [TransferKind]? = nil, screening: [ScreeningState]? = nil, held: Bool = false, limit: Int = 200
    ) async throws -> [ChainTransfer] {
        try await database.read { db in
            var query = SQLQueryString("SELECT * FROM chain_transfers WHERE 1 = 1")
            if held {
                query.appendInterpolation(unsafeRaw: " AND (kyt_status = 'flagged' OR kind IN ('mismatched', 'held', 'dust'))")
            }
            if let kinds {
                query.appendInterpolation(unsafeRaw: " AND kind IN ")
                query.appendTuple(kinds.map(\.rawValue))
            }
            if let screening {
                query.appendInterpolation(unsafeRaw: " AND kyt_status IN ")
                query.appendTuple(screening.map(\.rawValue))
            }
            query.appendInterpolation(unsafeRaw: " ORDER BY detected_at DESC, id DESC LIMIT \(max(1, limit))")
            return try await db.raw(query).all().map(Self.transfer(from:))
        }
    }

    static func transfer(from row: any SQLRow) throws -> ChainTransfer {
        let id = try row.decode(column: "id", as: String.self)
        guard let coin = StableCoin(rawValue: Int(try row.decode(column: "stable_coin", as: Int64.self))),
            let amount = BigUInt(try row.decode(column: "amount", as: String.self)),
            let kind = TransferKind(rawValue: try row.decode(column: "kind", as: String.self)),
            let state = TransferState(rawValue: try row.decode(column: "state", as: String.self)),
            let screening = ScreeningState(rawValue: try row.decode(column: "kyt_status", as: String.self))
        else { throw StoreDataError("transfer \(id) has unreadable fields") }
        return ChainTransfer(
            chainId: try row.decode(column: "chain_id", as: Int64.self), transactionHash: try row.decode(column: "tx_hash", as: String.self),
            logIndex: try row.decode(column: "log_index", as: Int64.self), blockNumber: try row.decode(column: "block_number", as: Int64.self),
            blockHash: try row.decode(column: "block_hash", as: String.self),
            tokenContract: try row.decode(column: "token_contract", as: String.self),
            stableCoin: coin, decimals: Int(try row.decode(column: "decimals", as: Int64.self)),
            from: try row.decode(column: "from_address", as: String.self), to: try row.decode(column: "to_address", as: String.self),
            amount: amount, intentId: try row.decode(column: "intent_id", as: String.self), kind: kind, state: state, screening: screening,
            screeningDetail: try row.decode(column: "kyt_detail", as: String?.self),
            credited: try row.decode(column: "credited", as: Int64.self) != 0,
            detectedAt: Date(unixMilliseconds: try row.decode(column: "detected_at", as: Int64.self)),
            confirmedAt: try row.decode(column: "confirmed_at", as: Int64?.self).map(Date.init(unixMilliseconds:)))
    }
}
