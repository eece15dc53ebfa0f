import BigInt
import Foundation
import SQLKit
import StableGateDomain

/// Shopper accounts, their deposits and outgoing transfers (with the signed transactions that
/// carry them). Every change that moves money writes its ledger posting in the same
/// transaction; functions taking `on db` compose into a caller's transaction.
public struct ShopperAccountRepository: Sendable {
    public let database: any DatabaseClient

    public init(database: any DatabaseClient) {
        self.database = database
    }

    /// The e-mail address is taken.
    public struct EmailTaken: Error, Sendable {}

    // MARK: Accounts

    /// Creates an account with the next account derivation index; `address` derives the
    /// deposit address of an index (the seed lives in configuration, never in the database).
    public func create(
        id: String, email: String, passwordHash: String, at date: Date, address: @escaping @Sendable (Int64) throws -> String
    ) async throws -> ShopperAccount {
        do {
            return try await insertAccount(id: id, email: email, passwordHash: passwordHash, at: date, address: address)
        } catch  where DatabaseErrorText.isUniqueViolation(error) {
            throw EmailTaken()  // the same address signed up twice at once
        }
    }

    private func insertAccount(
        id: String, email: String, passwordHash: String, at date: Date, address: @escaping @Sendable (Int64) throws -> String
    ) async throws -> ShopperAccount {
        try await database.transaction { db in
            if try await db.raw("SELECT id FROM shopper_accounts WHERE email = \(bind: email.lowercased())").first() != nil { throw EmailTaken() }
            let row = try await db.raw(
                """
                INSERT INTO counters (name, value) VALUES ('account_derivation_index', 0)
                ON CONFLICT (name) DO UPDATE SET value = counters.value + 1
                RETURNING value
                """
            ).first()
            guard let index = try row?.decode(column: "value", as: Int64.self) else { throw StoreDataError("counter did not return a value") }
            let account = ShopperAccount(
                id: id, email: email.lowercased(), passwordHash: passwordHash, derivationIndex: index,
                depositAddress: try address(index).lowercased(),
                createdAt: date)
            try await db.raw(
                """
                INSERT INTO shopper_accounts (id, email, password_hash, derivation_index, deposit_address, created_at)
                VALUES (\(bind: account.id), \(bind: account.email), \(bind: account.passwordHash), \(bind: index), \(bind: account.depositAddress),
                        \(bind: date.unixMilliseconds))
                """
            ).run()
            return account
        }
    }

    public func account(email: String) async throws -> ShopperAccount? {
        try await database.read { db in
            try await db.raw("SELECT * FROM shopper_accounts WHERE email = \(bind: email.lowercased())").first().map(Self.account(from:))
        }
    }

    public func account(id: String) async throws -> ShopperAccount? {
        try await database.read { db in
            try await db.raw("SELECT * FROM shopper_accounts WHERE id = \(bind: id)").first().map(Self.account(from:))
        }
    }

    /// The accounts owning any of `addresses` (lower-case), by address.
    public func accounts(forAddresses addresses: Set<String>) async throws -> [String: String] {
        try await database.lookup(addresses, table: "shopper_accounts", key: "deposit_address", value: "id")
    }

    static func account(from row: any SQLRow) throws -> ShopperAccount {
        ShopperAccount(
            id: try row.decode(column: "id", as: String.self), email: try row.decode(column: "email", as: String.self),
            passwordHash: try row.decode(column: "password_hash", as: String.self),
            derivationIndex: try row.decode(column: "derivation_index", as: Int64.self),
            depositAddress: try row.decode(column: "deposit_address", as: String.self),
            createdAt: Date(unixMilliseconds: try row.decode(column: "created_at", as: Int64.self)),
            disabledAt: try row.decode(column: "disabled_at", as: Int64?.self).map(Date.init(unixMilliseconds:)))
    }

    /// Every account, oldest first (operator listing and the ledger audit).
    public func allAccounts() async throws -> [ShopperAccount] {
        try await database.read { db in
            try await db.raw("SELECT * FROM shopper_accounts ORDER BY created_at, id").all().map(Self.account(from:))
        }
    }

    /// Everything the ledger audit compares the ledger with: all outgoing transfers, all
    /// confirmed deposits, and every posting reference.
    public func auditSnapshot() async throws -> (transfers: [AccountTransfer], confirmedDeposits: [AccountDeposit], references: Set<String>) {
        try await database.read { db in
            let transfers = try await db.raw("SELECT * FROM account_transfers ORDER BY created_at, id").all().map(Self.transfer(from:))
            let deposits = try await db.raw("SELECT * FROM account_deposits WHERE state = 'confirmed'").all().map(Self.deposit(from:))
            let references = try await db.raw("SELECT reference FROM ledger_postings").all().map {
                try $0.decode(column: "reference", as: String.self)
            }
            return (transfers, deposits, Set(references))
        }
    }

    // MARK: Deposits

    /// Records a deposit seen in a block; a known one is left alone unless a reorg dropped it
    /// and it reappeared (then it is revived with its new block).
    public func recordSeen(_ deposit: AccountDeposit) async throws {
        try await database.transaction { db in
            if let existing = try await db.raw(
                """
                SELECT id, state FROM account_deposits WHERE chain_id = \(bind: deposit.chainId) AND tx_hash = \(bind: deposit.transactionHash)
                  AND log_index = \(bind: deposit.logIndex)
                """
            ).first() {
                guard try existing.decode(column: "state", as: String.self) == AccountDepositState.dropped.rawValue else { return }
                try await db.raw(
                    """
                    UPDATE account_deposits SET state = 'seen', block_number = \(bind: deposit.blockNumber), block_hash = \(bind: deposit.blockHash)
                    WHERE id = \(bind: try existing.decode(column: "id", as: String.self))
                    """
                ).run()
                return
            }
            try await db.raw(
                """
                INSERT INTO account_deposits (id, account_id, chain_id, tx_hash, log_index, block_number, block_hash, token_contract, decimals,
                    from_address, amount, state, detected_at, confirmed_at)
                VALUES (\(bind: deposit.id), \(bind: deposit.accountId), \(bind: deposit.chainId), \(bind: deposit.transactionHash), \(bind: deposit.logIndex),
                    \(bind: deposit.blockNumber), \(bind: deposit.blockHash), \(bind: deposit.tokenContract), \(bind: Int64(deposit.decimals)),
                    \(bind: deposit.from), \(bind: String(deposit.amount)), \(bind: deposit.state.rawValue), \(bind: deposit.detectedAt.unixMilliseconds),
                    \(bind: deposit.confirmedAt?.unixMilliseconds))
                """
            ).run()
        }
    }

    /// Deposits of a chain waiting for confirmations.
    public func seenDeposits(chainId: Int64) async throws -> [AccountDeposit] {
        try await database.read { db in
            try await db.raw("SELECT * FROM account_deposits WHERE chain_id = \(bind: chainId) AND state = 'seen' ORDER BY block_number")
                .all().map(Self.deposit(from:))
        }
    }

    /// An account's deposits waiting for confirmations (what is "arriving"), however many.
    public func seenDeposits(accountId: String) async throws -> [AccountDeposit] {
        try await database.read { db in
            try await db.raw("SELECT * FROM account_deposits WHERE account_id = \(bind: accountId) AND state = 'seen' ORDER BY block_number")
                .all().map(Self.deposit(from:))
        }
    }

    /// Confirms a deposit and credits it, in one transaction: both or neither. A deposit that is
    /// no longer `seen` (confirmed by another pass, or dropped meanwhile) is left alone.
    public func confirm(_ deposit: AccountDeposit, at date: Date) async throws {
        let dialect = database.dialect
        try await database.transaction { db in
            guard
                try await db.raw(
                    """
                    UPDATE account_deposits SET state = 'confirmed', confirmed_at = \(bind: date.unixMilliseconds)
                    WHERE id = \(bind: deposit.id) AND state = 'seen' RETURNING id
                    """
                ).first() != nil
            else { return }
            try await LedgerRepository.record(try deposit.ledgerTransfer(), at: date, on: db, dialect: dialect)
        }
    }

    /// Marks a deposit whose block left the chain (never credited: only confirmed ones are) and,
    /// in the same transaction, moves the chain's scan cursor back to that block, so the
    /// replacing blocks are scanned again even if the pass fails right after.
    public func drop(_ deposit: AccountDeposit) async throws {
        try await database.transaction { db in
            try await db.raw("UPDATE account_deposits SET state = 'dropped' WHERE id = \(bind: deposit.id) AND state = 'seen'").run()
            try await db.raw(
                """
                UPDATE chain_cursors SET next_block = \(bind: deposit.blockNumber)
                WHERE chain_id = \(bind: deposit.chainId) AND next_block > \(bind: deposit.blockNumber)
                """
            ).run()
        }
    }

    /// An account's deposits, newest first.
    public func deposits(accountId: String, limit: Int = 100) async throws -> [AccountDeposit] {
        try await database.read { db in
            try await db.raw(
                """
                SELECT * FROM account_deposits WHERE account_id = \(bind: accountId) ORDER BY detected_at DESC LIMIT \(bind: Int64(limit))
                """
            ).all().map(Self.deposit(from:))
        }
    }

    static func deposit(from row: any SQLRow) throws -> AccountDeposit {
        let id = try row.decode(column: "id", as: String.self)
        guard let amount = BigUInt(try row.decode(column: "amount", as: String.self)),
            let state = AccountDepositState(rawValue: try row.decode(column: "state", as: String.self))
        else { throw StoreDataError("account deposit \(id) has unreadable fields") }
        return AccountDeposit(
            id: id, accountId: try row.decode(column: "account_id", as: String.self), chainId: try row.decode(column: "chain_id", as: Int64.self),
            transactionHash: try row.decode(column: "tx_hash", as: String.self), logIndex: try row.decode(column: "log_index", as: Int64.self),
            blockNumber: try row.decode(column: "block_number", as: Int64.self), blockHash: try row.decode(column: "block_hash", as: String.self),
            tokenContract: try row.decode(column: "token_contract", as: String.self),
            decimals: Int(try row.decode(column: "decimals", as: Int64.self)),
            from: try row.decode(column: "from_address", as: String.self), amount: amount, state: state,
            detectedAt: Date(unixMilliseconds: try row.decode(column: "detected_at", as: Int64.self)),
            confirmedAt: try row.decode(column: "confirmed_at", as: Int64?.self).map(Date.init(unixMilliseconds:)))
    }

    // MARK: Outgoing transfers

    /// Writes an approved transfer and its ledger debit (balance → in flight) in the caller's
    /// transaction. Throws ``LedgerError/insufficientFunds(account:balance:needed:)`` when the
    /// balance does not cover it; the caller's transaction then writes nothing.
    public static func approve(_ transfer: AccountTransfer, on db: any SQLDatabase, dialect: DatabaseDialect) async throws {
        // Already recorded: the same approval arrived twice (its id is its idempotency key).
        guard try await LedgerRepository.record(try transfer.approvalPosting(), at: transfer.createdAt, on: db, dialect: dialect) == .recorded else {
            return
        }
        try await db.raw(
            """
            INSERT INTO account_transfers (id, kind, account_id, chain_id, token_contract, decimals, amount, to_address, intent_id, state, attempts,
                last_error, next_attempt_at, created_at, updated_at)
            VALUES (\(bind: transfer.id), \(bind: transfer.kind.rawValue), \(bind: transfer.accountId), \(bind: transfer.chainId),
                \(bind: transfer.tokenContract), \(bind: Int64(transfer.decimals)), \(bind: String(transfer.amount)), \(bind: transfer.to),
                \(bind: transfer.intentId), \(bind: transfer.state.rawValue), \(bind: Int64(transfer.attempts)), \(bind: transfer.lastError),
                \(bind: transfer.nextAttemptAt.unixMilliseconds), \(bind: transfer.createdAt.unixMilliseconds), \(bind: transfer.updatedAt.unixMilliseconds))
            """
        ).run()
    }

    /// Approves a transfer in its own transaction (withdrawals).
    public func approve(_ transfer: AccountTransfer) async throws {
        let dialect = database.dialect
        try await database.transaction { db in try await Self.approve(transfer, on: db, dialect: dialect) }
    }

    /// Serializes account payments of one intent until the caller's transaction ends, so two
    /// approvals racing (two tabs, a double click) see each other instead of both inserting.
    /// SQLite needs nothing: it runs one writing transaction at a time.
    public static func lockPayments(intentId: String, on db: any SQLDatabase, dialect: DatabaseDialect) async throws {
        guard dialect == .postgres else { return }
        try await db.raw("SELECT pg_advisory_xact_lock(hashtextextended(\(bind: "account-payment:" + intentId), 0))").run()
    }

    /// The live (not failed) account payment of an intent, if any.
    public static func livePayment(intentId: String, on db: any SQLDatabase) async throws -> AccountTransfer? {
        try await db.raw(
            """
            SELECT * FROM account_transfers WHERE intent_id = \(bind: intentId) AND kind = 'payment' AND state <> 'failed'
            """
        ).first().map(Self.transfer(from:))
    }

    /// The newest account payment of an intent (live or failed), for the checkout page.
    public func latestPayment(intentId: String) async throws -> AccountTransfer? {
        try await database.read { db in
            try await db.raw(
                """
                SELECT * FROM account_transfers WHERE intent_id = \(bind: intentId) AND kind = 'payment' ORDER BY created_at DESC, id DESC LIMIT 1
                """
            ).first().map(Self.transfer(from:))
        }
    }

    public func transfer(id: String) async throws -> AccountTransfer? {
        try await database.read { db in try await db.raw("SELECT * FROM account_transfers WHERE id = \(bind: id)").first().map(Self.transfer(from:)) }
    }

    /// Transfers of a chain that need the sender: approved or on their way, and due.
    public func openTransfers(chainId: Int64, now: Date, limit: Int = 50) async throws -> [AccountTransfer] {
        try await database.read { db in
            try await db.raw(
                """
                SELECT * FROM account_transfers WHERE chain_id = \(bind: chainId) AND state IN ('approved', 'sending')
                  AND next_attempt_at <= \(bind: now.unixMilliseconds) ORDER BY created_at, id LIMIT \(bind: Int64(limit))
                """
            ).all().map(Self.transfer(from:))
        }
    }

    /// An account's outgoing transfers, newest first.
    public func transfers(accountId: String, limit: Int = 100) async throws -> [AccountTransfer] {
        try await database.read { db in
            try await db.raw(
                """
                SELECT * FROM account_transfers WHERE account_id = \(bind: accountId) ORDER BY created_at DESC, id DESC LIMIT \(bind: Int64(limit))
                """
            ).all().map(Self.transfer(from:))
        }
    }

    /// The hash of each transfer's current payout transaction (its newest attempt not
    /// replaced), for an account's history, in one query.
    public func payoutHashes(accountId: String) async throws -> [String: String] {
        try await database.read { db in
            var hashes: [String: String] = [:]
            for row in try await db.raw(
                """
                SELECT t.transfer_id, t.tx_hash FROM account_transactions t JOIN account_transfers a ON a.id = t.transfer_id
                WHERE a.account_id = \(bind: accountId) AND t.kind = 'payout' AND t.state <> 'replaced' ORDER BY t.attempt
                """
            ).all() {
                hashes[try row.decode(column: "transfer_id", as: String.self)] = try row.decode(column: "tx_hash", as: String.self)
            }
            return hashes
        }
    }

    /// Stores a transfer's progress (state, attempts, error, next attempt).
    public func update(_ transfer: AccountTransfer) async throws {
        try await database.transaction { db in try await Self.update(transfer, on: db) }
    }

    static func update(_ transfer: AccountTransfer, on db: any SQLDatabase) async throws {
        try await db.raw(
            """
            UPDATE account_transfers SET state = \(bind: transfer.state.rawValue), attempts = \(bind: Int64(transfer.attempts)),
                last_error = \(bind: transfer.lastError), next_attempt_at = \(bind: transfer.nextAttemptAt.unixMilliseconds),
                updated_at = \(bind: transfer.updatedAt.unixMilliseconds)
            WHERE id = \(bind: transfer.id)
            """
        ).run()
    }

    /// Ends a transfer — `sent` (in flight → out) or `failed` (in flight → back to the shopper)
    /// — with its ledger posting, in one transaction. Idempotent by the posting's reference.
    public func finish(_ transfer: AccountTransfer, at date: Date) async throws {
        precondition(transfer.state == .sent || transfer.state == .failed, "finish only ends a transfer")
        let dialect = database.dialect
        try await database.transaction { db in
            // Only an open transfer ends, and only once: a second sender (a lapsed lease) that
            // reached another verdict finds it ended and posts nothing.
            guard
                try await db.raw(
                    """
                    SELECT id FROM account_transfers WHERE id = \(bind: transfer.id) AND state IN ('approved', 'sending')
                    """
                ).first() != nil
            else { return }
            try await Self.update(transfer, on: db)
            let posting = transfer.state == .sent ? try transfer.settlementPosting() : try transfer.returnPosting()
            try await LedgerRepository.record(posting, at: date, on: db, dialect: dialect)
        }
    }

    static func transfer(from row: any SQLRow) throws -> AccountTransfer {
        let id = try row.decode(column: "id", as: String.self)
        guard let kind = AccountTransferKind(rawValue: try row.decode(column: "kind", as: String.self)),
            let state = AccountTransferState(rawValue: try row.decode(column: "state", as: String.self)),
            let amount = BigUInt(try row.decode(column: "amount", as: String.self))
        else { throw StoreDataError("account transfer \(id) has unreadable fields") }
        return AccountTransfer(
            id: id, kind: kind, accountId: try row.decode(column: "account_id", as: String.self),
            chainId: try row.decode(column: "chain_id", as: Int64.self),
            tokenContract: try row.decode(column: "token_contract", as: String.self),
            decimals: Int(try row.decode(column: "decimals", as: Int64.self)),
            amount: amount, to: try row.decode(column: "to_address", as: String.self),
            intentId: try row.decode(column: "intent_id", as: String?.self),
            state: state, attempts: Int(try row.decode(column: "attempts", as: Int64.self)),
            lastError: try row.decode(column: "last_error", as: String?.self),
            nextAttemptAt: Date(unixMilliseconds: try row.decode(column: "next_attempt_at", as: Int64.self)),
            createdAt: Date(unixMilliseconds: try row.decode(column: "created_at", as: Int64.self)),
            updatedAt: Date(unixMilliseconds: try row.decode(column: "updated_at", as: Int64.self)))
    }
}
