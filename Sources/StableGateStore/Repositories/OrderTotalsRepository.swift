import BigInt
import Foundation
import Logging
import SQLKit
import StableGateDomain

/// The kept order totals (migration 11): `order_totals`, one row per store, UTC day, status,
/// chain and coin, plus the changes the `checkout_intents` triggers appended since the last
/// ``compact(limit:)``. Reads add the two in one statement, so they are exact at any moment.
public struct OrderTotalsRepository: Sendable {
    private let database: any DatabaseClient

    public init(database: any DatabaseClient) {
        self.database = database
    }

    /// Whether the kept totals can answer `filter`: filters on status, chain, coin and whole
    /// UTC days can; amount bounds and searches are summed from the orders themselves.
    public static func canAnswer(_ filter: OrderFilter) -> Bool {
        let search = filter.search?.trimmingCharacters(in: .whitespaces) ?? ""
        let days = [filter.createdFrom, filter.createdBefore].compactMap { $0?.unixMilliseconds }
        return search.isEmpty && filter.minimumAmount == nil && filter.maximumAmount == nil && days.allSatisfy { $0 % 86_400_000 == 0 }
    }

    /// The totals of `filter` (``canAnswer(_:)`` must hold): the rollup's rows and the pending
    /// changes, summed per sign in one statement — one snapshot on both databases, so a
    /// compaction committing meanwhile is counted once, before or after.
    func totals(storeId: String, filter: OrderFilter) async throws -> OrderTotals {
        let dialect = database.dialect
        var query = SQLQueryString("SELECT sign, CAST(SUM(orders) AS BIGINT) AS n, CAST(SUM(due_micro) AS BIGINT) AS due, ")
        query.appendInterpolation(
            unsafeRaw: "\(dialect.decimalSum("paid")) AS paid, \(dialect.decimalSum("fees")) AS fees, \(dialect.decimalSum("net")) AS net ")
        query.appendLiteral("FROM (SELECT 1 AS sign, orders, due_micro, paid, fees, net FROM order_totals WHERE ")
        query += Self.conditions(storeId: storeId, filter: filter)
        query.appendLiteral(" UNION ALL SELECT sign, 1 AS orders, due_micro, paid, fees, net FROM order_total_changes WHERE ")
        query += Self.conditions(storeId: storeId, filter: filter)
        query.appendLiteral(") AS parts GROUP BY sign")
        let statement = query
        let rows = try await database.read { db in try await db.raw(statement).all() }
        var plus = Sums()
        var minus = Sums()
        for row in rows {
            let sums = try Sums(row)
            if try row.decode(column: "sign", as: Int64.self) > 0 { plus = sums } else { minus = sums }
        }
        return try plus.subtracting(minus, what: "totals of store \(storeId)").totals
    }

    /// `store_id = … AND …` for `filter` on the rollup's columns.
    private static func conditions(storeId: String, filter: OrderFilter) -> SQLQueryString {
        var query = SQLQueryString("store_id = ")
        query.appendInterpolation(bind: storeId)
        OrderQueryRepository.appendDimensions(of: filter, time: (column: "day", unit: 86_400_000), to: &query)
        return query
    }

    /// Most changes one fold takes by default.
    public static let compactionBatch = 20_000

    /// Folds up to `limit` of the oldest pending changes into the rollup, in one transaction:
    /// the changes are deleted and their sums added to their rows together, or not at all.
    /// Returns how many were folded. On PostgreSQL one instance folds at a time (the others
    /// return 0); writers only ever append changes, so they never wait for a fold.
    @discardableResult
    public func compact(limit: Int = OrderTotalsRepository.compactionBatch) async throws -> Int {
        let dialect = database.dialect
        return try await database.transaction { db in
            if dialect == .postgres {
                let row = try await db.raw("SELECT pg_try_advisory_xact_lock(hashtextextended('order_totals.compact', 0)) AS locked").first()
                guard try row?.decode(column: "locked", as: Bool.self) == true else { return 0 }
            }
            let changes = try await db.raw(
                """
                DELETE FROM order_total_changes WHERE id IN (SELECT id FROM order_total_changes ORDER BY id LIMIT \(unsafeRaw: String(limit)))
                RETURNING store_id, day, status, chain_id, stable_coin, sign, due_micro, paid, fees, net
                """
            ).all()
            var folded: [Key: (plus: Sums, minus: Sums)] = [:]
            for change in changes {
                let key = try Key(change)
                var sums = Sums()
                try sums.add(change, orders: 1)
                if try change.decode(column: "sign", as: Int64.self) > 0 {
                    folded[key, default: (Sums(), Sums())].plus.add(sums)
                } else {
                    folded[key, default: (Sums(), Sums())].minus.add(sums)
                }
            }
            for (key, change) in folded {
                var current = Sums()
                if let row = try await db.raw(
                    """
                    SELECT orders AS n, due_micro AS due, paid, fees, net FROM order_totals
                    WHERE store_id = \(bind: key.storeId) AND day = \(bind: key.day) AND status = \(bind: key.status)
                        AND chain_id = \(bind: key.chainId) AND stable_coin = \(bind: key.coin)
                    """
                ).first() {
                    current = try Sums(row)
                }
                current.add(change.plus)
                let next = try current.subtracting(change.minus, what: "order totals \(key)")
                if next.orders == 0 {
                    try await db.raw(
                        """
                        DELETE FROM order_totals WHERE store_id = \(bind: key.storeId) AND day = \(bind: key.day) AND status = \(bind: key.status)
                            AND chain_id = \(bind: key.chainId) AND stable_coin = \(bind: key.coin)
                        """
                    ).run()
                } else {
                    try await db.raw(
                        """
                        INSERT INTO order_totals (store_id, day, status, chain_id, stable_coin, orders, due_micro, paid, fees, net)
                        VALUES (\(bind: key.storeId), \(bind: key.day), \(bind: key.status), \(bind: key.chainId), \(bind: key.coin),
                            \(bind: next.orders), \(bind: next.due), \(bind: next.paid.plainString()), \(bind: next.fees.plainString()),
                            \(bind: next.net.plainString()))
                        ON CONFLICT (store_id, day, status, chain_id, stable_coin) DO UPDATE SET orders = excluded.orders,
                            due_micro = excluded.due_micro, paid = excluded.paid, fees = excluded.fees, net = excluded.net
                        """
                    ).run()
                }
            }
            return changes.count
        }
    }

    /// How many changes wait to be folded.
    public func pendingChanges() async throws -> Int {
        try await database.read { db in
            try await db.raw("SELECT COUNT(*) AS n FROM order_total_changes").first()?.decode(column: "n", as: Int.self) ?? 0
        }
    }

    /// A rollup row's key.
    private struct Key: Hashable, CustomStringConvertible {
        let storeId: String
        let day, status, chainId, coin: Int64

        init(_ row: any SQLRow) throws {
            storeId = try row.decode(column: "store_id", as: String.self)
            day = try row.decode(column: "day", as: Int64.self)
            status = try row.decode(column: "status", as: Int64.self)
            chainId = try row.decode(column: "chain_id", as: Int64.self)
            coin = try row.decode(column: "stable_coin", as: Int64.self)
        }

        var description: String { "store \(storeId) day \(day) status \(status) chain \(chainId) coin \(coin)" }
    }

    /// Counted orders and their exact sums.
    private struct Sums {
        var orders: Int64 = 0
        var due: Int64 = 0
        var paid = DecimalAmount.zero
        var fees = DecimalAmount.zero
        var net = DecimalAmount.zero

        init() {}

        /// From a row of `n, due, paid, fees, net` (sums; NULL when nothing was summed).
        init(_ row: any SQLRow) throws {
            try add(row, orders: try row.decode(column: "n", as: Int64?.self) ?? 0, dueColumn: "due")
        }

        mutating func add(_ row: any SQLRow, orders: Int64, dueColumn: String = "due_micro") throws {
            func decimal(_ column: String) throws -> DecimalAmount {
                guard let text = try row.decode(column: column, as: String?.self) else { return .zero }
                guard let value = DecimalAmount(text) else { throw StoreDataError("order totals: \(column) is not a decimal: \(text)") }
                return value
            }
            self.orders += orders
            due += try row.decode(column: dueColumn, as: Int64?.self) ?? 0
            paid = paid + (try decimal("paid"))
            fees = fees + (try decimal("fees"))
            net = net + (try decimal("net"))
        }

        mutating func add(_ other: Sums) {
            orders += other.orders
            due += other.due
            paid = paid + other.paid
            fees = fees + other.fees
            net = net + other.net
        }

        /// `self − other`; a negative result means the kept totals are corrupt, and says where.
        func subtracting(_ other: Sums, what: String) throws -> Sums {
            guard orders >= other.orders, due >= other.due, let paid = paid.subtracting(other.paid), let fees = fees.subtracting(other.fees),
                let net = net.subtracting(other.net)
            else { throw StoreDataError("\(what) would go below zero: the kept totals disagree with their changes") }
            var result = Sums()
            result.orders = orders - other.orders
            result.due = due - other.due
            result.paid = paid
            result.fees = fees
            result.net = net
            return result
        }

        var totals: OrderTotals {
            OrderTotals(
                count: Int(orders), amountDue: DecimalAmount(units: BigUInt(due), scale: MoneyRules.quoteScale), paid: paid, fees: fees, net: net)
        }
    }
}
