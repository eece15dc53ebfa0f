import BigInt
import SQLKit
import StableGateDomain

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Deposit addresses, chain transfers, cursors, leases, settlements, sweep transactions and
/// sealed gateway secrets. Functions taking `on db` compose into a caller's transaction.
public struct PaymentStateRepository: Sendable {
    public let database: any DatabaseClient

    public init(database: any DatabaseClient) {
        self.database = database
    }

    // MARK: Deposit addresses

    /// The next unused derivation index (never handed out twice, even across instances).
    public static func nextDerivationIndex(on db: any SQLDatabase) async throws -> Int64 {
        let row = try await db.raw("""
            INSERT INTO counters (name, value) VALUES ('deposit_derivation_index', 0)
            ON CONFLICT (name) DO UPDATE SET value = counters.value + 1
            RETURNING value
            """).first()
        guard let value = try row?.decode(column: "value", as: Int64.self) else { throw StoreDataError("counter did not return a value") }
        return value
    }

    /// Records an intent's deposit address.
    public static func insertDepositAddress(_ address: String, intentId: String, index: Int64, at date: Date, on db: any SQLDatabase) async throws {
        try await db.raw("""
            INSERT INTO deposit_addresses (address, intent_id, derivation_index, created_at)
            VALUES (\(bind: address), \(bind: intentId), \(bind: index), \(bind: date.unixMilliseconds))
            """).run()
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

    // MARK: Transfers

    /// Records a transfer seen in a block. A transfer already known is left alone, unless a
    /// reorg had dropped it and it reappeared (then it is revived with its new block).
    /// Returns true when the row is new or revived.
    @discardableResult
    public static func recordSeen(_ transfer: ChainTransfer, on db: any SQLDatabase) async throws -> Bool {
        if let existing = try await db.raw("""
            SELECT state FROM chain_transfers WHERE chain_id = \(bind: transfer.chainId) AND tx_hash = \(bind: transfer.transactionHash)
              AND log_index = \(bind: transfer.logIndex)
            """).first() {
            guard try existing.decode(column: "state", as: String.self) == TransferState.dropped.rawValue else { return false }
            try await db.raw("""
                UPDATE chain_transfers SET state = 'seen', block_number = \(bind: transfer.blockNumber), block_hash = \(bind: transfer.blockHash)
                WHERE id = \(bind: transfer.id)
                """).run()
            return true
        }
        try await db.raw("""
            INSERT INTO chain_transfers (id, chain_id, tx_hash, log_index, block_number, block_hash, token_contract, stable_coin, decimals,
                from_address, to_address, amount, intent_id, kind, state, kyt_status, kyt_detail, credited, detected_at, confirmed_at)
            VALUES (\(bind: transfer.id), \(bind: transfer.chainId), \(bind: transfer.transactionHash), \(bind: transfer.logIndex),
                \(bind: transfer.blockNumber), \(bind: transfer.blockHash), \(bind: transfer.tokenContract), \(bind: Int64(transfer.stableCoin.rawValue)),
                \(bind: Int64(transfer.decimals)), \(bind: transfer.from), \(bind: transfer.to), \(bind: String(transfer.amount)),
                \(bind: transfer.intentId), \(bind: transfer.kind.rawValue), \(bind: transfer.state.rawValue), \(bind: transfer.screening.rawValue),
                \(bind: transfer.screeningDetail), \(bind: transfer.credited ? Int64(1) : Int64(0)), \(bind: transfer.detectedAt.unixMilliseconds),
                \(bind: transfer.confirmedAt?.unixMilliseconds))
            """).run()
        return true
    }

    /// Stores the mutable fields of a transfer.
    public static func update(_ transfer: ChainTransfer, on db: any SQLDatabase) async throws {
        try await db.raw("""
            UPDATE chain_transfers SET block_number = \(bind: transfer.blockNumber), block_hash = \(bind: transfer.blockHash),
                kind = \(bind: transfer.kind.rawValue), state = \(bind: transfer.state.rawValue), kyt_status = \(bind: transfer.screening.rawValue),
                kyt_detail = \(bind: transfer.screeningDetail), credited = \(bind: transfer.credited ? Int64(1) : Int64(0)),
                confirmed_at = \(bind: transfer.confirmedAt?.unixMilliseconds)
            WHERE id = \(bind: transfer.id)
            """).run()
    }

    /// Changes an uncredited transfer's kind, leaving the rest alone (a credited one is final).
    public static func reclassify(transferId: String, as kind: TransferKind, on db: any SQLDatabase) async throws {
        try await db.raw("""
            UPDATE chain_transfers SET kind = \(bind: kind.rawValue) WHERE id = \(bind: transferId) AND credited = 0
            """).run()
    }

    /// Sets where a transfer stands on chain (confirmation or reorg), leaving the rest alone.
    public static func setState(
        transferId: String, _ state: TransferState, confirmedAt: Date?, on db: any SQLDatabase
    ) async throws {
        try await db.raw("""
            UPDATE chain_transfers SET state = \(bind: state.rawValue), confirmed_at = \(bind: confirmedAt?.unixMilliseconds)
            WHERE id = \(bind: transferId)
            """).run()
    }

    /// Records the KYT verdict on a transfer's sender, leaving the rest alone.
    public static func setScreening(transferId: String, _ screening: ScreeningState, detail: String?, on db: any SQLDatabase) async throws {
        try await db.raw("""
            UPDATE chain_transfers SET kyt_status = \(bind: screening.rawValue), kyt_detail = \(bind: detail) WHERE id = \(bind: transferId)
            """).run()
    }

    /// Intents of a chain with confirmed, screened money not yet credited: normally none, but
    /// after a crash or while a partial payment waits for its window, these are re-evaluated.
    public func intentsWithUncreditedMoney(chainId: Int64) async throws -> [String] {
        try await database.read { db in
            try await db.raw("""
                SELECT DISTINCT intent_id FROM chain_transfers WHERE chain_id = \(bind: chainId) AND state = 'confirmed' AND credited = 0
                  AND kind IN ('payment', 'late') AND kyt_status IN ('clear', 'skipped', 'released')
                """).all(decodingColumn: "intent_id", as: String.self)
        }
    }

    /// Intents holding dust (late money below the minimum), all or just `intentId`.
    public func intentsHoldingDust(intentId: String? = nil) async throws -> [String] {
        try await database.read { db in
            var query = SQLQueryString("SELECT DISTINCT intent_id FROM chain_transfers WHERE kind = 'dust' AND credited = 0")
            if let intentId { query.appendInterpolation(unsafeRaw: " AND intent_id = "); query.appendInterpolation(bind: intentId) }
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
    public func transfers(kinds: [TransferKind]? = nil, screening: [ScreeningState]? = nil, held: Bool = false, limit: Int = 200) async throws -> [ChainTransfer] {
        try await database.read { db in
            var query = SQLQueryString("SELECT * FROM chain_transfers WHERE 1 = 1")
            if held {
                query.appendInterpolation(unsafeRaw: " AND (kyt_status = 'flagged' OR kind IN ('mismatched', 'held', 'dust'))")
            }
            if let kinds { query.appendInterpolation(unsafeRaw: " AND kind IN "); query.appendTuple(kinds.map(\.rawValue)) }
            if let screening { query.appendInterpolation(unsafeRaw: " AND kyt_status IN "); query.appendTuple(screening.map(\.rawValue)) }
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
            blockHash: try row.decode(column: "block_hash", as: String.self), tokenContract: try row.decode(column: "token_contract", as: String.self),
            stableCoin: coin, decimals: Int(try row.decode(column: "decimals", as: Int64.self)),
            from: try row.decode(column: "from_address", as: String.self), to: try row.decode(column: "to_address", as: String.self),
            amount: amount, intentId: try row.decode(column: "intent_id", as: String.self), kind: kind, state: state, screening: screening,
            screeningDetail: try row.decode(column: "kyt_detail", as: String?.self),
            credited: try row.decode(column: "credited", as: Int64.self) != 0,
            detectedAt: Date(unixMilliseconds: try row.decode(column: "detected_at", as: Int64.self)),
            confirmedAt: try row.decode(column: "confirmed_at", as: Int64?.self).map(Date.init(unixMilliseconds:)))
    }

    // MARK: Cursors and leases

    /// The next block a chain's watcher will scan, nil before its first scan.
    public func cursor(chainId: Int64) async throws -> Int64? {
        try await database.read { db in
            try await db.raw("SELECT next_block FROM chain_cursors WHERE chain_id = \(bind: chainId)").first()?.decode(column: "next_block", as: Int64.self)
        }
    }

    /// Moves a chain's cursor (inside the transaction that recorded what was scanned).
    public static func setCursor(chainId: Int64, nextBlock: Int64, at date: Date, on db: any SQLDatabase) async throws {
        try await db.raw("""
            INSERT INTO chain_cursors (chain_id, next_block, updated_at) VALUES (\(bind: chainId), \(bind: nextBlock), \(bind: date.unixMilliseconds))
            ON CONFLICT (chain_id) DO UPDATE SET next_block = excluded.next_block, updated_at = excluded.updated_at
            """).run()
    }

    /// Takes or renews the lease on a chain: true when `holder` holds it until `now + ttl`.
    /// A lease whose holder stopped renewing it is taken over once it expires.
    public func acquireLease(chainId: Int64, holder: String, ttl: TimeInterval, now: Date) async throws -> Bool {
        try await database.transaction { db in
            let row = try await db.raw("""
                INSERT INTO chain_leases (chain_id, holder, expires_at) VALUES (\(bind: chainId), \(bind: holder), \(bind: now.addingTimeInterval(ttl).unixMilliseconds))
                ON CONFLICT (chain_id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
                WHERE chain_leases.holder = excluded.holder OR chain_leases.expires_at < \(bind: now.unixMilliseconds)
                RETURNING holder
                """).first()
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
            try await db.raw("""
                UPDATE chain_leases SET holder = \(bind: holder), expires_at = \(bind: now.addingTimeInterval(ttl).unixMilliseconds)
                WHERE chain_id = \(bind: chainId) AND holder = \(bind: previous) RETURNING holder
                """).first() != nil
        }
    }

    /// Gives a lease up (on shutdown), so another instance can take it at once.
    public func releaseLease(chainId: Int64, holder: String) async throws {
        _ = try await database.transaction { db in
            try await db.raw("DELETE FROM chain_leases WHERE chain_id = \(bind: chainId) AND holder = \(bind: holder)").run()
        }
    }

    // MARK: Secrets

    /// A sealed secret stored earlier, or `make()`'s value stored now. When two instances race,
    /// both end up with the first one stored.
    public func sealedSecret(name: String, now: Date, make: @Sendable () throws -> String) async throws -> String {
        try await database.transaction { db in
            if let existing = try await db.raw("SELECT sealed FROM gateway_secrets WHERE name = \(bind: name)").first() {
                return try existing.decode(column: "sealed", as: String.self)
            }
            let sealed = try make()
            try await db.raw("""
                INSERT INTO gateway_secrets (name, sealed, created_at) VALUES (\(bind: name), \(bind: sealed), \(bind: now.unixMilliseconds))
                ON CONFLICT (name) DO NOTHING
                """).run()
            return try await db.raw("SELECT sealed FROM gateway_secrets WHERE name = \(bind: name)").first()?.decode(column: "sealed", as: String.self) ?? sealed
        }
    }

    /// Some secret already sealed in this database, with the purpose it was sealed for: a
    /// stored gateway secret (other than `excluding`), else an API key's. nil in a new database.
    public func someSealedSecret(excluding: String) async throws -> (sealed: String, purpose: String)? {
        try await database.read { db in
            if let row = try await db.raw("SELECT name, sealed FROM gateway_secrets WHERE name <> \(bind: excluding) ORDER BY created_at LIMIT 1").first() {
                return (try row.decode(column: "sealed", as: String.self), try row.decode(column: "name", as: String.self))
            }
            if let sealed = try await db.raw("SELECT secret_ciphertext FROM api_keys ORDER BY created_at LIMIT 1").first()?
                .decode(column: "secret_ciphertext", as: String.self)
            {
                return (sealed, APIKeyRecord.secretPurpose)
            }
            return nil
        }
    }

    // MARK: Settlements

    /// Records a settlement to forward.
    public static func insert(_ settlement: SettlementRecord, on db: any SQLDatabase) async throws {
        try await db.raw("""
            INSERT INTO settlements (id, intent_id, chain_id, token_contract, decimals, deposit_address, gross, fee, net, merchant_address,
                fee_address, state, attempts, last_error, next_attempt_at, created_at, updated_at)
            VALUES (\(bind: settlement.id), \(bind: settlement.intentId), \(bind: settlement.chainId), \(bind: settlement.tokenContract),
                \(bind: Int64(settlement.decimals)), \(bind: settlement.depositAddress), \(bind: String(settlement.gross)), \(bind: String(settlement.fee)),
                \(bind: String(settlement.net)), \(bind: settlement.merchantAddress), \(bind: settlement.feeAddress), \(bind: settlement.state.rawValue),
                \(bind: Int64(settlement.attempts)), \(bind: settlement.lastError), \(bind: settlement.nextAttemptAt.unixMilliseconds),
                \(bind: settlement.createdAt.unixMilliseconds), \(bind: settlement.updatedAt.unixMilliseconds))
            """).run()
    }

    /// Stores a settlement's mutable fields.
    public static func update(_ settlement: SettlementRecord, on db: any SQLDatabase) async throws {
        try await db.raw("""
            UPDATE settlements SET merchant_address = \(bind: settlement.merchantAddress), fee_address = \(bind: settlement.feeAddress),
                state = \(bind: settlement.state.rawValue), attempts = \(bind: Int64(settlement.attempts)), last_error = \(bind: settlement.lastError),
                next_attempt_at = \(bind: settlement.nextAttemptAt.unixMilliseconds), updated_at = \(bind: settlement.updatedAt.unixMilliseconds)
            WHERE id = \(bind: settlement.id)
            """).run()
    }

    /// Stores a settlement's mutable fields in its own transaction.
    public func update(_ settlement: SettlementRecord) async throws {
        try await database.transaction { db in try await Self.update(settlement, on: db) }
    }

    /// Settlements of a chain due for work now, oldest first.
    public func dueSettlements(chainId: Int64, now: Date, limit: Int = 50) async throws -> [SettlementRecord] {
        try await database.read { db in
            try await db.raw("""
                SELECT * FROM settlements WHERE chain_id = \(bind: chainId) AND state IN ('pending', 'sending')
                  AND next_attempt_at <= \(bind: now.unixMilliseconds) ORDER BY created_at LIMIT \(unsafeRaw: String(limit))
                """).all().map(Self.settlement(from:))
        }
    }

    /// How many settlements of a chain wait to be forwarded, and since when the oldest does.
    public func waitingSettlements(chainId: Int64) async throws -> (count: Int, oldest: Date?) {
        try await database.read { db in
            let row = try await db.raw("""
                SELECT COUNT(*) AS waiting, MIN(created_at) AS oldest FROM settlements WHERE chain_id = \(bind: chainId) AND state IN ('pending', 'sending')
                """).first()
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
        guard let gross = BigUInt(try row.decode(column: "gross", as: String.self)), let fee = BigUInt(try row.decode(column: "fee", as: String.self)),
            let net = BigUInt(try row.decode(column: "net", as: String.self)),
            let state = SettlementState(rawValue: try row.decode(column: "state", as: String.self))
        else { throw StoreDataError("settlement \(id) has unreadable fields") }
        return SettlementRecord(
            id: id, intentId: try row.decode(column: "intent_id", as: String.self), chainId: try row.decode(column: "chain_id", as: Int64.self),
            tokenContract: try row.decode(column: "token_contract", as: String.self), decimals: Int(try row.decode(column: "decimals", as: Int64.self)),
            depositAddress: try row.decode(column: "deposit_address", as: String.self), gross: gross, fee: fee, net: net,
            merchantAddress: try row.decode(column: "merchant_address", as: String?.self), feeAddress: try row.decode(column: "fee_address", as: String?.self),
            state: state, attempts: Int(try row.decode(column: "attempts", as: Int64.self)), lastError: try row.decode(column: "last_error", as: String?.self),
            nextAttemptAt: Date(unixMilliseconds: try row.decode(column: "next_attempt_at", as: Int64.self)),
            createdAt: Date(unixMilliseconds: try row.decode(column: "created_at", as: Int64.self)),
            updatedAt: Date(unixMilliseconds: try row.decode(column: "updated_at", as: Int64.self)))
    }

    // MARK: Sweep transactions

    /// Stores a signed transaction before it is broadcast.
    public func insert(_ sweep: SweepTransaction) async throws {
        try await database.transaction { db in try await Self.insert(sweep, into: .sweeps, on: db) }
    }

    /// Stores a sweep transaction's state.
    public func update(_ sweep: SweepTransaction) async throws {
        try await database.transaction { db in try await Self.update(sweep, in: .sweeps, on: db) }
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
        try await db.raw("""
            INSERT INTO \(unsafeRaw: table.rawValue) (id, \(unsafeRaw: table.ownerColumn), chain_id, kind, attempt, from_address, to_address, nonce,
                raw_tx, tx_hash, max_fee_per_gas, state, block_number, broadcast_at, created_at, updated_at)
            VALUES (\(bind: sweep.id), \(bind: sweep.settlementId), \(bind: sweep.chainId), \(bind: sweep.kind.rawValue), \(bind: Int64(sweep.attempt)),
                \(bind: sweep.from), \(bind: sweep.to), \(bind: Int64(sweep.nonce)), \(bind: sweep.rawTransaction), \(bind: sweep.hash),
                \(bind: String(sweep.maxFeePerGas)), \(bind: sweep.state.rawValue), \(bind: sweep.blockNumber), \(bind: sweep.broadcastAt?.unixMilliseconds),
                \(bind: sweep.createdAt.unixMilliseconds), \(bind: sweep.updatedAt.unixMilliseconds))
            """).run()
    }

    /// Stores a signed transaction's state, block and broadcast time.
    public static func update(_ sweep: SweepTransaction, in table: SignedTransactionTable, on db: any SQLDatabase) async throws {
        try await db.raw("""
            UPDATE \(unsafeRaw: table.rawValue) SET state = \(bind: sweep.state.rawValue), block_number = \(bind: sweep.blockNumber),
                broadcast_at = \(bind: sweep.broadcastAt?.unixMilliseconds), updated_at = \(bind: sweep.updatedAt.unixMilliseconds)
            WHERE id = \(bind: sweep.id)
            """).run()
    }

    /// An owner's signed transactions, by kind and attempt.
    public static func transactions(owner: String, in table: SignedTransactionTable, on db: any SQLDatabase) async throws -> [SweepTransaction] {
        try await db.raw("""
            SELECT *, \(unsafeRaw: table.ownerColumn) AS owner_id FROM \(unsafeRaw: table.rawValue)
            WHERE \(unsafeRaw: table.ownerColumn) = \(bind: owner) ORDER BY kind, attempt
            """).all().map(Self.sweep(from:))
    }

    /// The highest nonce this gateway signed from `address` on a chain that is, or may still
    /// be, used on chain (refused and replaced transactions aside) — sweeps and shopper-account
    /// transfers together, since both spend from the hot wallet.
    public func highestLiveNonce(chainId: Int64, from address: String) async throws -> UInt64? {
        try await database.read { db in
            try await db.raw("""
                SELECT MAX(nonce) AS nonce FROM (
                  SELECT nonce FROM sweep_transactions WHERE chain_id = \(bind: chainId) AND from_address = \(bind: address)
                    AND state IN ('signed', 'broadcast', 'mined')
                  UNION ALL
                  SELECT nonce FROM account_transactions WHERE chain_id = \(bind: chainId) AND from_address = \(bind: address)
                    AND state IN ('signed', 'broadcast', 'mined')
                ) live
                """).first()?.decode(column: "nonce", as: Int64?.self).map { UInt64($0) }
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
            kind: kind, attempt: Int(try row.decode(column: "attempt", as: Int64.self)), from: try row.decode(column: "from_address", as: String.self),
            to: try row.decode(column: "to_address", as: String.self), nonce: UInt64(try row.decode(column: "nonce", as: Int64.self)),
            rawTransaction: try row.decode(column: "raw_tx", as: String.self), hash: try row.decode(column: "tx_hash", as: String.self),
            maxFeePerGas: maxFee, state: state, blockNumber: try row.decode(column: "block_number", as: Int64?.self),
            broadcastAt: try row.decode(column: "broadcast_at", as: Int64?.self).map(Date.init(unixMilliseconds:)),
            createdAt: Date(unixMilliseconds: try row.decode(column: "created_at", as: Int64.self)),
            updatedAt: Date(unixMilliseconds: try row.decode(column: "updated_at", as: Int64.self)))
    }
}
