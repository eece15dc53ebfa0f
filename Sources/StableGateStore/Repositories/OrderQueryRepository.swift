import BigInt
import Foundation
import SQLKit
import StableGateDomain

/// What the merchant filters the order list by.
public struct OrderFilter: Sendable, Equatable {
    public var statuses: [CheckoutStatus] = []
    /// Created at or after.
    public var createdFrom: Date?
    /// Created before.
    public var createdBefore: Date?
    public var chainId: Int64?
    public var coin: StableCoin?
    /// Coin amount due, inclusive bounds.
    public var minimumAmount: DecimalAmount?
    public var maximumAmount: DecimalAmount?
    /// Exact order id, intent id, user id or transaction hash.
    public var search: String?

    public init() {}
}

/// Where a page of orders ends: the last row's creation time and id (keyset pagination, so a
/// page costs the same at the millionth order as at the first).
public struct OrderCursor: Sendable, Equatable, CustomStringConvertible {
    public let createdAt: Int64
    public let id: String

    public init(createdAt: Int64, id: String) {
        self.createdAt = createdAt
        self.id = id
    }

    /// `1767225600000-6a5f…` as used in URLs.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", maxSplits: 1)
        guard parts.count == 2, let time = Int64(parts[0]), ObjectIdFormat.isValid(parts[1]) else { return nil }
        self.init(createdAt: time, id: String(parts[1]))
    }

    public var description: String { "\(createdAt)-\(id)" }
}

/// Totals of the orders matching a filter. Exact: coin amounts due are summed as integers of
/// micro-units, paid amounts as decimals (`decimal_sum` / NUMERIC).
public struct OrderTotals: Sendable, Equatable {
    public let count: Int
    public let amountDue: DecimalAmount
    public let paid: DecimalAmount
    public let fees: DecimalAmount
    public let net: DecimalAmount
}

/// One row of the overview: orders of one status on one chain (nil before a chain was chosen).
public struct OrderSummaryRow: Sendable, Equatable {
    public let status: CheckoutStatus
    public let chainId: Int64?
    public let count: Int
    public let amountDue: DecimalAmount
}

/// Orders of one status, chain and coin in a report period, with exact sums.
public struct OrderPeriodRow: Sendable, Equatable {
    public let status: CheckoutStatus
    public let chainId: Int64?
    public let coin: StableCoin
    public let count: Int
    public let amountDue: DecimalAmount
    public let paid: DecimalAmount
    public let fees: DecimalAmount
    public let net: DecimalAmount
}

/// Orders for the dashboard, always within one store.
public struct OrderQueryRepository: Sendable {
    let database: any DatabaseClient

    public init(database: any DatabaseClient) {
        self.database = database
    }

    /// `FROM … WHERE …` for the store's orders matching `filter`.
    ///
    /// A search is a union of exact lookups, each on its own index (intent id, order id, user
    /// id, transaction hashes), joined to the intents: it costs a few index probes however many
    /// orders the store has, where an `OR` across columns would scan them all.
    private func fromWhere(storeId: String, filter: OrderFilter) -> SQLQueryString {
        var query = SQLQueryString("FROM ")
        let term = filter.search?.trimmingCharacters(in: .whitespaces) ?? ""
        if !term.isEmpty {
            let lowered = term.lowercased()
            let lookups: [(sql: String, binds: [String])] = [
                ("SELECT id AS match_id FROM checkout_intents WHERE id = ?", [lowered]),
                ("SELECT id FROM checkout_intents WHERE store_id = ? AND order_id = ?", [storeId, term]),
                ("SELECT id FROM checkout_intents WHERE store_id = ? AND user_id = ?", [storeId, term]),
                ("SELECT id FROM checkout_intents WHERE tx_hash = ?", [lowered]),
                ("SELECT id FROM checkout_intents WHERE tx_hash_2 = ?", [lowered]),
                ("SELECT intent_id FROM chain_transfers WHERE tx_hash = ?", [lowered]),
            ]
            query.appendLiteral("(")
            for (index, lookup) in lookups.enumerated() {
                if index > 0 { query.appendLiteral(" UNION ") }
                for (position, piece) in lookup.sql.split(separator: "?", omittingEmptySubsequences: false).enumerated() {
                    query.appendLiteral(String(piece))
                    if position < lookup.binds.count { query.appendInterpolation(bind: lookup.binds[position]) }
                }
            }
            // CROSS JOIN keeps SQLite from scanning the store first; PostgreSQL plans it freely.
            query.appendLiteral(") AS matches CROSS JOIN checkout_intents WHERE checkout_intents.id = matches.match_id AND store_id = ")
        } else {
            query.appendLiteral("checkout_intents WHERE store_id = ")
        }
        query.appendInterpolation(bind: storeId)
        Self.appendDimensions(of: filter, time: (column: "created_at", unit: 1), to: &query)
        for (bound, comparison) in [(filter.minimumAmount, " >= "), (filter.maximumAmount, " <= ")] {
            guard let micro = bound?.baseUnits(decimals: MoneyRules.quoteScale).flatMap({ Int64(exactly: $0) }) else { continue }
            query.appendLiteral(" AND amount_micro" + comparison)
            query.appendInterpolation(bind: micro)
        }
        return query
    }

    /// ` AND …` for the filter's status, creation-time, chain and coin conditions, on columns the
    /// orders and the kept totals share; `time` names the column the creation bounds apply to
    /// and its unit in milliseconds (the orders' `created_at`: 1; the totals' `day`: 86,400,000).
    static func appendDimensions(of filter: OrderFilter, time: (column: String, unit: Int64), to query: inout SQLQueryString) {
        if !filter.statuses.isEmpty {
            query.appendLiteral(" AND status IN ")
            query.appendTuple(filter.statuses.map { Int64($0.rawValue) })
        }
        for (bound, comparison) in [(filter.createdFrom, " >= "), (filter.createdBefore, " < ")] {
            guard let bound else { continue }
            query.appendLiteral(" AND " + time.column + comparison)
            query.appendInterpolation(bind: bound.unixMilliseconds / time.unit)
        }
        if let chain = filter.chainId {
            query.appendLiteral(" AND chain_id = ")
            query.appendInterpolation(bind: chain)
        }
        if let coin = filter.coin {
            query.appendLiteral(" AND stable_coin = ")
            query.appendInterpolation(bind: Int64(coin.rawValue))
        }
    }

    /// Up to `limit` orders, newest first, after `cursor`; and the cursor of the next page.
    public func page(
        storeId: String, filter: OrderFilter, after cursor: OrderCursor?, limit: Int
    ) async throws -> (rows: [CheckoutIntent], next: OrderCursor?) {
        let statement = pageQuery(columns: "checkout_intents.*", storeId: storeId, filter: filter, after: cursor, limit: limit + 1)
        let rows = try await database.read { db in try await db.raw(statement).all().map(CheckoutIntentRepository.intent(from:)) }
        let page = Array(rows.prefix(limit))
        let next = rows.count > limit ? page.last.map { OrderCursor(createdAt: $0.createdAt.unixMilliseconds, id: $0.id) } : nil
        return (page, next)
    }

    /// `SELECT columns` of up to `limit` matching orders, newest first, after `cursor` and — when
    /// `end` is given — down to `end` included, skipping `offset` first: the keyset query of the
    /// list's pages and of the export's batches and their bounds.
    func pageQuery(
        columns: String, storeId: String, filter: OrderFilter, after cursor: OrderCursor?, through end: OrderCursor? = nil, limit: Int,
        offset: Int = 0
    ) -> SQLQueryString {
        var query = SQLQueryString("SELECT ")
        query.appendInterpolation(unsafeRaw: columns + " ")
        query += fromWhere(storeId: storeId, filter: filter)
        // Row-value comparisons, which both databases turn into an index range: the equivalent
        // `a < x OR (a = x AND b < y)` makes SQLite walk the index from the top.
        for (bound, comparison) in [(cursor, " < "), (end, " >= ")] {
            guard let bound else { continue }
            query.appendLiteral(" AND (created_at, checkout_intents.id)" + comparison + "(")
            query.appendInterpolation(bind: bound.createdAt)
            query.appendLiteral(", ")
            query.appendInterpolation(bind: bound.id)
            query.appendLiteral(")")
        }
        query.appendLiteral(" ORDER BY created_at DESC, checkout_intents.id DESC")
        query.appendInterpolation(unsafeRaw: offset > 0 ? " LIMIT \(limit) OFFSET \(offset)" : " LIMIT \(limit)")
        return query
    }

    /// Exact totals of the matching orders: from the kept totals (``OrderTotalsRepository``)
    /// when they can answer the filter — a few thousand rows at most, however many orders —
    /// otherwise summed from the orders.
    public func totals(storeId: String, filter: OrderFilter) async throws -> OrderTotals {
        guard OrderTotalsRepository.canAnswer(filter) else { return try await summedTotals(storeId: storeId, filter: filter) }
        return try await OrderTotalsRepository(database: database).totals(storeId: storeId, filter: filter)
    }

    /// Exact totals of the matching orders, summed from the orders (an index carries every
    /// summed column, so this reads the index, not the table).
    func summedTotals(storeId: String, filter: OrderFilter) async throws -> OrderTotals {
        let dialect = database.dialect
        var query = SQLQueryString("SELECT COUNT(*) AS n, CAST(COALESCE(SUM(amount_micro), 0) AS BIGINT) AS due, ")
        query.appendInterpolation(
            unsafeRaw: """
                \(dialect.decimalSum("actual_paid_amount")) AS paid, \(dialect.decimalSum("service_fee_amount")) AS fees, \
                \(dialect.decimalSum("net_income_amount")) AS net\u{20}
                """)
        query += fromWhere(storeId: storeId, filter: filter)
        let statement = query
        return try await database.read { db in
            guard let row = try await db.raw(statement).first() else {
                return OrderTotals(count: 0, amountDue: .zero, paid: .zero, fees: .zero, net: .zero)
            }
            func decimal(_ column: String) throws -> DecimalAmount {
                guard let text = try row.decode(column: column, as: String?.self) else { return .zero }
                guard let value = DecimalAmount(text) else { throw StoreDataError("total \(column) is not a decimal: \(text)") }
                return value
            }
            return OrderTotals(
                count: try row.decode(column: "n", as: Int.self),
                amountDue: DecimalAmount(units: BigUInt(max(0, try row.decode(column: "due", as: Int64.self))), scale: MoneyRules.quoteScale),
                paid: try decimal("paid"), fees: try decimal("fees"), net: try decimal("net"))
        }
    }

    /// Orders created in `[from, to)` grouped by status, chain and coin, with exact sums: what a
    /// report tabulates.
    public func periodSummary(storeId: String, from: Date, to: Date) async throws -> [OrderPeriodRow] {
        let dialect = database.dialect
        return try await database.read { db in
            try await db.raw(
                """
                SELECT status, chain_id, stable_coin, COUNT(*) AS n, CAST(COALESCE(SUM(amount_micro), 0) AS BIGINT) AS due,
                       \(unsafeRaw: dialect.decimalSum("actual_paid_amount")) AS paid, \(unsafeRaw: dialect.decimalSum("service_fee_amount")) AS fees,
                       \(unsafeRaw: dialect.decimalSum("net_income_amount")) AS net
                FROM checkout_intents
                WHERE store_id = \(bind: storeId) AND created_at >= \(bind: from.unixMilliseconds) AND created_at < \(bind: to.unixMilliseconds)
                GROUP BY status, chain_id, stable_coin ORDER BY status DESC, chain_id, stable_coin
                """
            ).all().compactMap { row in
                guard let status = CheckoutStatus(rawValue: Int(try row.decode(column: "status", as: Int64.self))),
                    let coin = StableCoin(rawValue: Int(try row.decode(column: "stable_coin", as: Int64.self)))
                else { return nil }
                func decimal(_ column: String) throws -> DecimalAmount {
                    guard let text = try row.decode(column: column, as: String?.self) else { return .zero }
                    guard let value = DecimalAmount(text) else { throw StoreDataError("sum \(column) is not a decimal: \(text)") }
                    return value
                }
                return OrderPeriodRow(
                    status: status, chainId: try row.decode(column: "chain_id", as: Int64?.self), coin: coin,
                    count: try row.decode(column: "n", as: Int.self),
                    amountDue: DecimalAmount(units: BigUInt(try row.decode(column: "due", as: Int64.self)), scale: MoneyRules.quoteScale),
                    paid: try decimal("paid"), fees: try decimal("fees"), net: try decimal("net"))
            }
        }
    }

    /// Counts and amounts due by status and chain, for orders created since `since`.
    public func summary(storeId: String, since: Date) async throws -> [OrderSummaryRow] {
        try await database.read { db in
            try await db.raw(
                """
                SELECT status, chain_id, COUNT(*) AS n, CAST(COALESCE(SUM(amount_micro), 0) AS BIGINT) AS due FROM checkout_intents
                WHERE store_id = \(bind: storeId) AND created_at >= \(bind: since.unixMilliseconds)
                GROUP BY status, chain_id ORDER BY status DESC, chain_id
                """
            ).all().compactMap { row in
                guard let status = CheckoutStatus(rawValue: Int(try row.decode(column: "status", as: Int64.self))) else { return nil }
                return OrderSummaryRow(
                    status: status, chainId: try row.decode(column: "chain_id", as: Int64?.self), count: try row.decode(column: "n", as: Int.self),
                    amountDue: DecimalAmount(units: BigUInt(try row.decode(column: "due", as: Int64.self)), scale: MoneyRules.quoteScale))
            }
        }
    }

    /// Confirmed volume (amount due, exact) per UTC day since `since`.
    public func dailyConfirmedVolume(storeId: String, since: Date) async throws -> [(day: Int64, count: Int, amount: DecimalAmount)] {
        try await database.read { db in
            try await db.raw(
                """
                SELECT CAST(created_at / 86400000 AS BIGINT) AS day, COUNT(*) AS n, CAST(COALESCE(SUM(amount_micro), 0) AS BIGINT) AS due FROM checkout_intents
                WHERE store_id = \(bind: storeId) AND created_at >= \(bind: since.unixMilliseconds) AND status = \(unsafeRaw: CheckoutStatus.sqlList(.confirmed))
                GROUP BY created_at / 86400000 ORDER BY day
                """
            ).all().map { row in
                (
                    try row.decode(column: "day", as: Int64.self), try row.decode(column: "n", as: Int.self),
                    DecimalAmount(units: BigUInt(try row.decode(column: "due", as: Int64.self)), scale: MoneyRules.quoteScale)
                )
            }
        }
    }
}
