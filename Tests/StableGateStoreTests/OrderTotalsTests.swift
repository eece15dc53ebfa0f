import BigInt
import Foundation
import SQLKit
import StableGateDomain
import StableGateTestSupport
import Testing

@testable import StableGateStore

/// The kept order totals (migration 11): whatever has been folded or not, they equal the totals
/// summed from the orders themselves for every filter they answer.
@Suite("Kept order totals")
struct OrderTotalsTests {
    static let stores = ["6a0000000000000000000001", "6a0000000000000000000002"]
    static let statuses: [CheckoutStatus] = [.created, .confirmed, .underpaid, .confirmed, .failed, .canceled, .confirmed]

    /// Intent `index`: in one of two stores, created `index` × 5 hours after the fixtures' now
    /// (so over nine UTC days), coin-priced, with a status from ``statuses``; paid ones carry
    /// amounts of 6 and of 18 decimals on chain 1 or 56.
    static func intent(_ index: Int) throws -> (CheckoutIntent, StatusTransition) {
        let body = #"{"stable_coin": \#(index % 3 == 0 ? 2 : 1), "amount_cents": \#(1000 + index * 37)}"#
        let request = try CreateCheckoutIntentRequest.parse(body: Array(body.utf8), policy: .init(allowsInsecureRedirect: false))
        var (intent, transition) = try IntentFactory.makeIntent(
            request: request, rate: nil, id: String(format: "6a00000000000000000%05d", index), storeId: stores[index % 5 == 0 ? 1 : 0],
            settlementWallet: "0xabc", now: Fixtures.now.addingTimeInterval(Double(index) * 5 * 3600))
        intent.status = statuses[index % statuses.count]
        if intent.status != .created { pay(&intent, index) }
        return (intent, transition)
    }

    static func pay(_ intent: inout CheckoutIntent, _ index: Int) {
        intent.payment.chainId = index % 2 == 0 ? 1 : 56
        let paid =
            index % 4 == 0
            ? DecimalAmount(units: BigUInt(10).power(18) + BigUInt(index), scale: 18) : DecimalAmount(units: BigUInt(index * 1_000_003), scale: 6)
        intent.payment.actualPaidAmount = paid
        intent.payment.serviceFeeAmount = DecimalAmount(units: paid.units / 100, scale: paid.scale)
        intent.payment.netIncomeAmount = paid.subtracting(DecimalAmount(units: paid.units / 100, scale: paid.scale))
    }

    /// Filters the kept totals answer: none, each dimension, whole-day ranges, and combinations.
    static var filters: [OrderFilter] {
        var result = [OrderFilter()]
        for status in [CheckoutStatus.confirmed, .created] {
            var filter = OrderFilter()
            filter.statuses = [status]
            result.append(filter)
        }
        var chain = OrderFilter()
        chain.chainId = 56
        var coin = OrderFilter()
        coin.coin = .usdc
        var days = OrderFilter()
        days.createdFrom = Date(unixMilliseconds: (Fixtures.now.unixMilliseconds / 86_400_000 + 2) * 86_400_000)
        days.createdBefore = Date(unixMilliseconds: (Fixtures.now.unixMilliseconds / 86_400_000 + 5) * 86_400_000)
        var all = days
        all.statuses = [.confirmed, .underpaid]
        all.chainId = 1
        all.coin = .usdt
        return result + [chain, coin, days, all]
    }

    static func expectExact(_ orders: OrderQueryRepository, _ moment: String) async throws {
        for store in stores {
            for filter in filters {
                #expect(OrderTotalsRepository.canAnswer(filter))
                let kept = try await orders.totals(storeId: store, filter: filter)
                let summed = try await orders.summedTotals(storeId: store, filter: filter)
                #expect(kept == summed, "\(moment): store \(store), filter \(filter)")
            }
        }
    }

    @Test(
        "Kept totals equal the orders' own sums for every filter they answer: before folding, half folded, after changes, fully folded",
        arguments: Backend.available)
    func exact(backend: Backend) async throws {
        try await TestDatabase.withClient(backend) { database in
            try await Fixtures.onboard(database, storeId: Self.stores[0], keyId: "sgk_a")
            try await Fixtures.onboard(database, storeId: Self.stores[1], keyId: "sgk_b")
            let intents = CheckoutIntentRepository(database: database)
            let orders = OrderQueryRepository(database: database)
            let totals = OrderTotalsRepository(database: database)
            try await intents.insertAll((0..<45).map(Self.intent))
            let all = try await orders.summedTotals(storeId: Self.stores[0], filter: OrderFilter())
            #expect(all.count == 36 && !all.paid.isZero, "the test's own arithmetic: 36 orders in the first store, some paid")
            #expect(try await totals.pendingChanges() == 45)
            try await Self.expectExact(orders, "nothing folded")

            #expect(try await totals.compact(limit: 20) == 20)
            try await Self.expectExact(orders, "20 of 45 changes folded")

            // Orders move between statuses and chains and get paid, some of them before their
            // creation was folded: each change leaves them in one place.
            for index in [0, 7, 14, 21, 3, 10, 44] {
                _ = try await intents.modify(id: String(format: "6a00000000000000000%05d", index)) {
                    intent, _ -> (transitions: [StatusTransition], result: Void)? in
                    if intent.status == .created {
                        intent.status = .confirmed
                        Self.pay(&intent, index + 1)
                    } else {
                        intent.status = .rejected
                        intent.payment.chainId = intent.payment.chainId == 1 ? 56 : 1
                    }
                    return ([], ())
                }
            }
            // An update that touches no totalled column records nothing.
            let before = try await totals.pendingChanges()
            _ = try await intents.modify(id: String(format: "6a00000000000000000%05d", 1)) {
                intent, _ -> (transitions: [StatusTransition], result: Void)? in
                intent.payment.errorMessage = "noted"
                return ([], ())
            }
            #expect(try await totals.pendingChanges() == before)
            try await Self.expectExact(orders, "after changes, partly folded")

            while try await totals.compact(limit: 9) > 0 {}
            #expect(try await totals.pendingChanges() == 0)
            try await Self.expectExact(orders, "everything folded")
            let rollupRows = try await database.read { db in
                try await db.raw("SELECT COUNT(*) AS n FROM order_totals").first()?.decode(column: "n", as: Int.self) ?? -1
            }
            #expect(rollupRows > 0 && rollupRows < 45, "one row per store, day, status, chain and coin, not per order: \(rollupRows)")
        }
    }

    @Test("Migration 11 sums the orders already stored into the kept totals", arguments: Backend.available)
    func backfill(backend: Backend) async throws {
        try await TestDatabase.with(backend) { test in
            let database = try await test.open(migrate: false)
            let migrator = Migrator(database: database, logger: testLogger)
            try await Migrator(database: database, migrations: SchemaMigrations.all.filter { $0.version < 11 }, logger: testLogger).migrate(now: 1)
            try await Fixtures.onboard(database, storeId: Self.stores[0], keyId: "sgk_a")
            try await Fixtures.onboard(database, storeId: Self.stores[1], keyId: "sgk_b")
            try await CheckoutIntentRepository(database: database).insertAll((0..<30).map(Self.intent))
            #expect(try await migrator.migrate(now: 2) == [11])
            #expect(try await OrderTotalsRepository(database: database).pendingChanges() == 0)
            try await Self.expectExact(OrderQueryRepository(database: database), "after the backfill")
            await database.shutdown()
        }
    }
}
