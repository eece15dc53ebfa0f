import Foundation
import SQLKit
import StableGateDomain

/// One order as the CSV export reads it: the stored values of the exported columns, typed,
/// with amounts kept as the stored decimal text (the export prints them, it does not compute
/// with them). Reading these instead of whole ``CheckoutIntent``s is what makes an export of a
/// million orders take seconds: no `Decodable` per cell, no column the CSV does not print.
public struct OrderExportRow: Sendable, Equatable {
    /// Fiat pricing: the currency, the amount in cents and the stored rate text.
    public struct Fiat: Sendable, Equatable {
        public let currency: FiatCurrency
        public let amountCents: Int64
        public let rate: String
    }

    public let id: String
    /// Unix milliseconds.
    public let createdAt, updatedAt: Int64
    public let status: CheckoutStatus
    public let orderId, orderDescription, userId, userName: String?
    /// Nil when the intent is priced in the stable coin.
    public let fiat: Fiat?
    public let coin: StableCoin
    /// Stored decimal text.
    public let amountCoins: String
    public let chainId: Int64?
    public let coinContract, depositAddress, txHash, txFrom: String?
    /// Stored decimal texts.
    public let actualPaidAmount, serviceFeeAmount, netIncomeAmount, overpaidAmount, latePaidAmount: String?
    public let txTo, txHash2, settlementStatus: String?
    public let paymentMethodType: PaymentMethodType
    public let errorMessage: String?
}

/// The order export's reads (the dashboard's CSV and the e-mailed reports' attachment): the
/// store's orders matching a filter, newest first, in keyset batches of exported columns only.
extension OrderQueryRepository {
    /// The columns read, in the order ``exportRow(_:)`` takes them.
    private static let exportColumns = [
        "checkout_intents.id", "created_at", "updated_at", "status", "order_id", "order_description", "user_id", "user_name", "pricing_mode",
        "currency", "amount_cents", "rate", "stable_coin", "amount_coins", "chain_id", "coin_contract", "deposit_address", "tx_hash", "tx_from",
        "actual_paid_amount", "service_fee_amount", "net_income_amount", "overpaid_amount", "late_paid_amount", "tx_to", "tx_hash_2",
        "settlement_status", "payment_method_type", "error_message",
    ].joined(separator: ", ")

    /// Every matching order, newest first, in batches of `batchSize`: each batch is read and
    /// turned into a `Chunk` by `transform` on a task of its own, up to `concurrency` batches at
    /// once (``KeysetBatchReader``), and the chunks are handed to `body` in order, on the
    /// caller's task; `body` returns false to stop. Memory holds `concurrency` batches however
    /// many orders there are.
    public func forEachExportBatch<Chunk: Sendable>(
        storeId: String, filter: OrderFilter, batchSize: Int = 5000, concurrency: Int = 3,
        transform: @escaping @Sendable ([OrderExportRow]) throws -> Chunk, _ body: (Chunk) async throws -> Bool
    ) async throws {
        let orders = self
        let reader = KeysetBatchReader<OrderCursor, Chunk>(
            batchSize: batchSize, concurrency: concurrency,
            bound: { start in
                // From the index that serves the filter when it covers it (the store's orders or
                // its statuses): the database skips the keys, no row leaves it.
                let query = orders.pageQuery(
                    columns: "created_at, checkout_intents.id", storeId: storeId, filter: filter, after: start, limit: 1, offset: batchSize - 1)
                guard let cells = try await orders.database.textRows(query).first else { return nil }
                guard cells.count == 2, let time = cells[0].flatMap({ Int64($0) }), let id = cells[1] else {
                    throw StoreDataError("export batch bound is not a (created_at, id) key: \(cells)")
                }
                return OrderCursor(createdAt: time, id: id)
            },
            read: { start, end in
                // The limit stays even with an end: it keeps PostgreSQL's estimate of a range's
                // rows (a quarter of the table for a row-value range) from choosing a
                // JIT-compiled or parallel plan for every batch.
                let query = orders.pageQuery(
                    columns: Self.exportColumns, storeId: storeId, filter: filter, after: start, through: end, limit: batchSize)
                let rows = try await orders.database.textRows(query).map(Self.exportRow)
                return .init(chunk: try transform(rows), count: rows.count, last: rows.last.map { OrderCursor(createdAt: $0.createdAt, id: $0.id) })
            })
        try await reader.run(body)
    }

    /// A row of text cells in ``exportColumns`` order, checked: a stored value the export cannot
    /// print is an error naming the intent and the column, not a guess.
    private static func exportRow(_ cells: [String?]) throws -> OrderExportRow {
        guard cells.count == 29, let id = cells[0] else { throw StoreDataError("export row has \(cells.count) columns, expected 29") }
        func text(_ index: Int, _ name: String) throws -> String {
            guard let value = cells[index] else { throw StoreDataError("intent \(id): \(name) is NULL") }
            return value
        }
        func integer(_ index: Int, _ name: String) throws -> Int64? {
            guard let value = cells[index] else { return nil }
            guard let number = Int64(value) else { throw StoreDataError("intent \(id): \(name) is not an integer: \(value)") }
            return number
        }
        func required(_ index: Int, _ name: String) throws -> Int64 {
            guard let number = try integer(index, name) else { throw StoreDataError("intent \(id): \(name) is NULL") }
            return number
        }
        func enumValue<E: RawRepresentable<Int>>(_ index: Int, _ name: String, _ type: E.Type) throws -> E {
            let raw = try required(index, name)
            guard let value = E(rawValue: Int(raw)) else { throw StoreDataError("intent \(id): \(name) has unknown value \(raw)") }
            return value
        }
        var fiat: OrderExportRow.Fiat?
        if try text(8, "pricing_mode") == "fiat" {
            guard let rate = cells[11] else { throw StoreDataError("intent \(id): fiat pricing without a rate") }
            fiat = OrderExportRow.Fiat(
                currency: try enumValue(9, "currency", FiatCurrency.self), amountCents: try required(10, "amount_cents"), rate: rate)
        }
        return OrderExportRow(
            id: id, createdAt: try required(1, "created_at"), updatedAt: try required(2, "updated_at"),
            status: try enumValue(3, "status", CheckoutStatus.self), orderId: cells[4], orderDescription: cells[5], userId: cells[6],
            userName: cells[7], fiat: fiat, coin: try enumValue(12, "stable_coin", StableCoin.self), amountCoins: try text(13, "amount_coins"),
            chainId: try integer(14, "chain_id"), coinContract: cells[15], depositAddress: cells[16], txHash: cells[17], txFrom: cells[18],
            actualPaidAmount: cells[19], serviceFeeAmount: cells[20], netIncomeAmount: cells[21], overpaidAmount: cells[22],
            latePaidAmount: cells[23], txTo: cells[24], txHash2: cells[25], settlementStatus: cells[26],
            paymentMethodType: try enumValue(27, "payment_method_type", PaymentMethodType.self), errorMessage: cells[28])
    }
}
