import BigInt
import Foundation
import StableGateDomain
import StableGateTestSupport
import Testing

@testable import StableGateStore

@Suite("Order queries on SQLite and PostgreSQL")
struct OrderQueryTests {
    /// Paid amounts of every shape the exact sum must handle: 6 and 18 decimals, integers,
    /// more than 18 digits on either side (the SQLite fast path's fallback), and NULLs.
    static let paid: [String?] = [
        "10.5", "0.000001", "1.000000000000000001", "999999999999999999.999999999999999999", "7", nil,
        "123456789012345678901234.5", "0.1234567890123456789012", "33.330000", nil, "0.999999999999999999",
    ]

    static func seed(_ database: any DatabaseClient) async throws -> [CheckoutIntent] {
        try await Fixtures.onboard(database)
        try await Fixtures.onboard(database, storeId: "6a0000000000000000000002", keyId: "sgk_other")
        var rows: [(CheckoutIntent, StatusTransition)] = []
        for (index, amount) in paid.enumerated() {
            var (intent, transition) = Fixtures.intent(id: String(format: "6a5f0c2e9b1d4e7f8a9b%04x", index), fiat: index % 2 == 0)
            intent.payment.actualPaidAmount = amount.map { DecimalAmount($0)! }
            intent.payment.txHash = amount == nil ? nil : "0x" + String(format: "%064x", index)
            intent.status = amount == nil ? .failed : .confirmed
            rows.append((intent, transition))
        }
        // Another store's order with the same user id and hash shape: never counted or found.
        var (foreign, transition) = Fixtures.intent(id: "6a5f0c2e9b1d4e7f8a9bffff", storeId: "6a0000000000000000000002")
        foreign.payment.actualPaidAmount = DecimalAmount("5")
        foreign.payment.txHash = "0x" + String(format: "%064x", 0xffff)
        rows.append((foreign, transition))
        try await CheckoutIntentRepository(database: database).insertAll(rows)
        return rows.dropLast().map(\.0)
    }

    @Test("Totals are exact sums of any decimal text, NULLs skipped, one store only", arguments: Backend.available)
    func exactTotals(backend: Backend) async throws {
        try await TestDatabase.withClient(backend) { database in
            let intents = try await Self.seed(database)
            let totals = try await OrderQueryRepository(database: database).totals(storeId: "6a0000000000000000000001", filter: OrderFilter())
            let expected = Self.paid.compactMap { $0 }.map { DecimalAmount($0)! }.reduce(DecimalAmount.zero, +)
            #expect(totals.count == intents.count)
            #expect(totals.paid.plainString() == expected.plainString())
            #expect(totals.paid.plainString() == "123457789012345678901287.4534577890123456779012")
            #expect(totals.amountDue == intents.map(\.amountCoins).reduce(DecimalAmount.zero, +))

            var onlyFast = OrderFilter()
            onlyFast.statuses = [.confirmed]
            onlyFast.search = "0x" + String(format: "%064x", 1)
            let one = try await OrderQueryRepository(database: database).totals(storeId: "6a0000000000000000000001", filter: onlyFast)
            #expect(one.count == 1 && one.paid.plainString() == "0.000001")
            var none = OrderFilter()
            none.statuses = [.failed]
            let nulls = try await OrderQueryRepository(database: database).totals(storeId: "6a0000000000000000000001", filter: none)
            #expect(nulls.count == 2 && nulls.paid == .zero)
        }
    }

    @Test("Search finds by intent id, order id, user id and transaction hash, within the store, without duplicates", arguments: Backend.available)
    func search(backend: Backend) async throws {
        try await TestDatabase.withClient(backend) { database in
            let intents = try await Self.seed(database)
            let orders = OrderQueryRepository(database: database)
            func find(_ term: String, statuses: [CheckoutStatus] = []) async throws -> [String] {
                var filter = OrderFilter()
                filter.search = term
                filter.statuses = statuses
                return try await orders.page(storeId: "6a0000000000000000000001", filter: filter, after: nil, limit: 50).rows.map(\.id)
            }
            #expect(try await find(intents[3].id) == [intents[3].id])
            #expect(try await find(intents[3].id.uppercased()) == [intents[3].id], "ids and hashes match in any case")
            #expect(try await find("0x" + String(format: "%064x", 2)) == [intents[2].id])
            #expect(try await find("0x" + String(format: "%064x", 0xffff)).isEmpty, "another store's hash")
            // The fiat fixtures share order id ord-1 and user id u1: each is listed once, newest first.
            let shared = intents.filter { $0.order.orderId == "ord-1" }.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }.map(\.id)
            #expect(shared.count == 6)
            #expect(try await find("ord-1") == shared)
            #expect(try await find("u1") == shared)
            #expect(try await find("u1", statuses: [.confirmed]) == shared)
            #expect(try await find("u1", statuses: [.failed]).isEmpty)
            var byUser = OrderFilter()
            byUser.search = "u1"
            #expect(try await orders.totals(storeId: "6a0000000000000000000001", filter: byUser).count == shared.count)
            #expect(try await find("nothing-like-this").isEmpty)
        }
    }

    @Test("The export reads every matching order once, newest first, in batches read side by side; a body can stop it", arguments: Backend.available)
    func exportBatches(backend: Backend) async throws {
        try await TestDatabase.withClient(backend) { database in
            let intents = try await Self.seed(database)
            let orders = OrderQueryRepository(database: database)
            let store = "6a0000000000000000000001"
            // The fixtures share one creation time: the id orders them, as it does in pages.
            let newestFirst = intents.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }.map(\.id)
            func export(_ filter: OrderFilter, batchSize: Int, concurrency: Int, chunks limit: Int = .max) async throws -> [[String]] {
                var chunks: [[String]] = []
                try await orders.forEachExportBatch(
                    storeId: store, filter: filter, batchSize: batchSize, concurrency: concurrency, transform: { rows in rows.map(\.id) }
                ) { ids in
                    chunks.append(ids)
                    return chunks.count < limit
                }
                return chunks
            }
            for (batchSize, concurrency) in [(3, 2), (4, 3), (11, 2), (50, 1)] {
                let chunks = try await export(OrderFilter(), batchSize: batchSize, concurrency: concurrency)
                #expect(chunks.flatMap { $0 } == newestFirst, "batches of \(batchSize), \(concurrency) at once")
                #expect(chunks.allSatisfy { $0.count <= batchSize })
            }
            var failed = OrderFilter()
            failed.statuses = [.failed]
            #expect(
                try await export(failed, batchSize: 1, concurrency: 2).flatMap { $0 }
                    == intents.filter { $0.status == .failed }.map(\.id).sorted(by: >))
            let stopped = try await export(OrderFilter(), batchSize: 2, concurrency: 3, chunks: 2)
            #expect(stopped.flatMap { $0 } == Array(newestFirst.prefix(4)))
        }
    }
}
