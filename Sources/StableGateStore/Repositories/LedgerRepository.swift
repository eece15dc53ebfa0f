import Foundation
import SQLKit
import StableGateDomain

/// What recording a transfer did.
public enum LedgerRecordResult: Sendable, Equatable {
    case recorded
    /// The reference was already recorded with the same transfer: nothing changed.
    case alreadyRecorded
}

/// The double-entry ledger in the database: each transfer is a posting and its two entries,
/// written together; balances are sums of entries (exact, `decimal_sum`), never stored.
public struct LedgerRepository: Sendable {
    let database: any DatabaseClient

    public init(database: any DatabaseClient) {
        self.database = database
    }

    /// Records `transfer` in its own transaction.
    @discardableResult
    public func record(_ transfer: LedgerTransfer, at now: Date) async throws -> LedgerRecordResult {
        let dialect = database.dialect
        return try await database.transaction { db in try await Self.record(transfer, at: now, on: db, dialect: dialect) }
    }

    /// Records `transfer` inside the caller's transaction (so it commits with, say, the intent
    /// it pays). Shopper accounts on either side are locked first, so concurrent transfers of one
    /// account are serialized; a debit that would take a shopper below zero throws
    /// ``LedgerError/insufficientFunds(account:balance:needed:)`` and writes nothing.
    public static func record(
        _ transfer: LedgerTransfer, at now: Date, on db: any SQLDatabase, dialect: DatabaseDialect
    ) async throws -> LedgerRecordResult {
        // SQLite runs one writing transaction at a time (BEGIN IMMEDIATE); PostgreSQL takes a
        // lock per shopper account (sorted, so two transfers never wait on each other in a
        // cycle), then one on the reference, so the same transfer sent twice at once is one.
        if dialect == .postgres {
            let keys =
                [transfer.debit, transfer.credit].filter(\.mustStayNonNegative).map { "ledger:" + $0.code }.sorted() + [
                    "ledger-ref:" + transfer.reference
                ]
            for key in keys {
                try await db.raw("SELECT pg_advisory_xact_lock(hashtextextended(\(bind: key), 0))").run()
            }
        }
        if let existing = try await entries(reference: transfer.reference, on: db), !existing.isEmpty {
            guard existing == LedgerEntry.pair(transfer) else { throw LedgerError.referenceConflict(transfer.reference) }
            return .alreadyRecorded
        }
        if transfer.debit.mustStayNonNegative {
            let totals = try await totals(of: transfer.debit, asset: transfer.asset, on: db, dialect: dialect)
            let balance = totals.balance ?? .zero
            guard transfer.amount <= balance else {
                throw LedgerError.insufficientFunds(account: transfer.debit.code, balance: balance, needed: transfer.amount)
            }
        }
        try await db.raw(
            """
            INSERT INTO ledger_postings (reference, kind, created_at) VALUES (\(bind: transfer.reference), \(bind: transfer.kind.rawValue), \(bind: now.unixMilliseconds))
            """
        ).run()
        for entry in LedgerEntry.pair(transfer) {
            try await db.raw(
                """
                INSERT INTO ledger_entries (reference, side, account, chain_id, token, amount)
                VALUES (\(bind: entry.reference), \(bind: entry.side.rawValue), \(bind: entry.account.code), \(bind: entry.asset.chainId),
                        \(bind: entry.asset.token), \(bind: entry.amount.plainString()))
                """
            ).run()
        }
        return .recorded
    }

    /// `account`'s balance in `asset` (credits − debits). For a gateway account, which may be
    /// negative, this is nil when debits exceed credits; use ``totals(of:asset:)`` for both sides.
    public func balance(of account: LedgerAccount, asset: LedgerAsset) async throws -> DecimalAmount? {
        try await totals(of: account, asset: asset).balance
    }

    public func totals(of account: LedgerAccount, asset: LedgerAsset) async throws -> LedgerBook.Totals {
        let dialect = database.dialect
        return try await database.read { db in try await Self.totals(of: account, asset: asset, on: db, dialect: dialect) }
    }

    static func totals(
        of account: LedgerAccount, asset: LedgerAsset, on db: any SQLDatabase, dialect: DatabaseDialect
    ) async throws -> LedgerBook.Totals {
        let rows = try await db.raw(
            """
            SELECT side, \(unsafeRaw: dialect.decimalSum("amount")) AS total FROM ledger_entries
            WHERE account = \(bind: account.code) AND chain_id = \(bind: asset.chainId) AND token = \(bind: asset.token) GROUP BY side
            """
        ).all()
        var totals = LedgerBook.Totals()
        for row in rows { try add(row, to: &totals) }
        return totals
    }

    /// Puts a `side, total` row of a grouped sum into `totals`.
    private static func add(_ row: any SQLRow, to totals: inout LedgerBook.Totals) throws {
        let amount = try DecimalAmount(try row.decode(column: "total", as: String.self)).orThrow("ledger total is not a decimal")
        if try row.decode(column: "side", as: String.self) == "credit" { totals.credits = amount } else { totals.debits = amount }
    }

    /// Every balance of `account` (credits − debits per chain and token), zero ones included
    /// once the account has had any entry in that asset.
    public func balances(of account: LedgerAccount) async throws -> [LedgerAsset: DecimalAmount] {
        let dialect = database.dialect
        return try await database.read { db in
            let rows = try await db.raw(
                """
                SELECT chain_id, token, side, \(unsafeRaw: dialect.decimalSum("amount")) AS total FROM ledger_entries
                WHERE account = \(bind: account.code) GROUP BY chain_id, token, side
                """
            ).all()
            var totals: [LedgerAsset: LedgerBook.Totals] = [:]
            for row in rows {
                let asset = LedgerAsset(
                    chainId: try row.decode(column: "chain_id", as: Int64.self), token: try row.decode(column: "token", as: String.self))
                try Self.add(row, to: &totals[asset, default: .init()])
            }
            return try totals.mapValues { try $0.balance.orThrow("\(account) is below zero") }
        }
    }

    /// Every entry of an account (its history), oldest first; all entries when `account` is nil.
    public func entries(account: LedgerAccount? = nil) async throws -> [LedgerEntry] {
        try await database.read { db in
            var query = SQLQueryString("SELECT e.* FROM ledger_entries e JOIN ledger_postings p ON p.reference = e.reference")
            if let account {
                query.appendLiteral(" WHERE e.account = ")
                query.appendInterpolation(bind: account.code)
            }
            query.appendLiteral(" ORDER BY p.created_at, e.reference, e.side DESC")
            return try await db.raw(query).all().map(Self.entry(from:))
        }
    }

    static func entries(reference: String, on db: any SQLDatabase) async throws -> [LedgerEntry]? {
        try await db.raw("SELECT * FROM ledger_entries WHERE reference = \(bind: reference) ORDER BY side DESC").all().map(Self.entry(from:))
    }

    static func entry(from row: any SQLRow) throws -> LedgerEntry {
        let code = try row.decode(column: "account", as: String.self)
        return LedgerEntry(
            reference: try row.decode(column: "reference", as: String.self),
            account: try LedgerAccount(code: code).orThrow("unknown ledger account \(code)"),
            asset: LedgerAsset(chainId: try row.decode(column: "chain_id", as: Int64.self), token: try row.decode(column: "token", as: String.self)),
            side: try LedgerEntry.Side(rawValue: try row.decode(column: "side", as: String.self)).orThrow("unknown ledger side"),
            amount: try DecimalAmount(try row.decode(column: "amount", as: String.self)).orThrow("ledger amount is not a decimal"))
    }
}

extension Optional {
    fileprivate func orThrow(_ message: String) throws -> Wrapped {
        guard let self else { throw StoreDataError(message) }
        return self
    }
}
