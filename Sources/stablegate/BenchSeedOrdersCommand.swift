import ArgumentParser
import Foundation
import StableGateApp
import StableGateBenchmarks

/// `stablegate bench-seed-orders`: a store full of finished orders with a dashboard login, for
/// scripts/bench-export.sh. Prints one JSON object.
struct BenchSeedOrdersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-seed-orders", abstract: "Load a benchmark store with many orders and a dashboard user.", shouldDisplay: false)

    @OptionGroup var global: GlobalOptions
    @Option(help: "How many orders.") var orders = 100_000
    @Option(help: "The dashboard user's e-mail (their setup link is printed).") var email: String

    func run() async throws {
        let (seeded, setupURL) = try await global.withEnvironment { environment in
            let seeded = try await OrderSeeder.run(environment: environment, orders: orders)
            let link = try await DashboardUserOnboarding(environment: environment).invite(merchantId: seeded.merchantId, email: email, reset: false)
            return (seeded, link.url)
        }
        printJSON([
            ("merchant_id", seeded.merchantId), ("store_id", seeded.storeId), ("orders", String(seeded.orders)),
            ("load_seconds", String(format: "%.1f", seeded.seconds)), ("deep_cursor", seeded.deepCursor),
            ("sample_tx_hash", seeded.sampleTransactionHash), ("setup_url", setupURL),
        ])
    }
}
