import BigInt
import Foundation
import StableGateApp
import StableGateDomain
import StableGateStore

/// Loads many finished orders into a new merchant's store, for the dashboard benchmarks: order
/// i is created `spacing` seconds after order i−1 (the newest now), with a terminal status so
/// no background service touches it; confirmed ones carry a deposit address, a paid amount,
/// fee, net, the paying and receiving addresses and a hash.
public enum OrderSeeder {
    public struct Result: Sendable {
        public let merchantId: String
        public let storeId: String
        public let orders: Int
        public let seconds: Double
        /// The keyset cursor of the 100th-oldest order: a page this deep is the slowest to find.
        public let deepCursor: String
        /// A transaction hash of a confirmed order, to time a search.
        public let sampleTransactionHash: String
    }

    static let statuses: [CheckoutStatus] = [.confirmed, .confirmed, .confirmed, .failed, .canceled, .underpaid, .confirmed, .rejected]

    public static func run(environment: GatewayEnvironment, orders count: Int, spacing: TimeInterval = 30) async throws -> Result {
        let started = ContinuousClock.now
        let merchant = try await MerchantOnboarding(environment: environment).createMerchant(name: "Benchmark Shop", wallet: nil)
        let now = environment.clock.now
        let ids = environment.identifiers
        let links = environment.links
        var deepCursor = ""
        var sampleHash = ""
        let batchSize = 5_000
        for batchStart in stride(from: 0, to: count, by: batchSize) {
            var batch: [(CheckoutIntent, StatusTransition)] = []
            batch.reserveCapacity(batchSize)
            for index in batchStart..<min(batchStart + batchSize, count) {
                let createdAt = now.addingTimeInterval(-Double(count - index) * spacing)
                let cents = 500 + (index * 7_919) % 99_500
                let body =
                    #"{"stable_coin": \#(index % 4 == 0 ? 2 : 1), "amount_cents": \#(cents), "order_id": "B-\#(index)", "user_id": "customer-\#(index % 5_000)", "order_description": "Benchmark order \#(index), \"quoted\", with a comma"}"#
                let request = try CreateCheckoutIntentRequest.parse(body: Array(body.utf8), policy: .init(allowsInsecureRedirect: true))
                var (intent, transition) = try IntentFactory.makeIntent(
                    request: request, rate: nil, id: ids.objectId(at: createdAt), storeId: merchant.storeId, settlementWallet: nil, now: createdAt)
                intent.status = statuses[index % statuses.count]
                intent.checkoutLink = try links.issue().link  // as a real create, and no backfill at the next start
                if intent.status == .confirmed {
                    let paid = BigUInt(cents) * 10_000 + BigUInt(index % 1_000)
                    let fee = paid / 100
                    intent.payment.chainId = index % 2 == 0 ? 1 : 56
                    intent.payment.txHash = "0x" + ids.randomBytes(32).hexString
                    intent.payment.txFrom = "0x" + ids.randomBytes(20).hexString
                    let depositAddress = "0x" + ids.randomBytes(20).hexString
                    intent.deposit = DepositAssignment(
                        address: depositAddress, tokenDecimals: 6, amountBaseUnits: paid, expiresAt: createdAt.addingTimeInterval(1800))
                    intent.payment.txTo = depositAddress
                    intent.payment.actualPaidAmount = DecimalAmount(units: paid, scale: 6)
                    intent.payment.serviceFeeAmount = DecimalAmount(units: fee, scale: 6)
                    intent.payment.netIncomeAmount = DecimalAmount(units: paid - fee, scale: 6)
                    if sampleHash.isEmpty { sampleHash = intent.payment.txHash! }
                }
                if index == 99 { deepCursor = OrderCursor(createdAt: createdAt.unixMilliseconds, id: intent.id).description }
                batch.append((intent, transition))
            }
            try await environment.intents.insertAll(batch)
        }
        // Fold the changes the inserts recorded into the kept totals, as a running gateway would.
        let totals = OrderTotalsRepository(database: environment.database)
        while try await totals.compact() > 0 {}
        let elapsed = ContinuousClock.now - started
        return Result(
            merchantId: merchant.merchantId, storeId: merchant.storeId, orders: count,
            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, deepCursor: deepCursor,
            sampleTransactionHash: sampleHash)
    }
}
