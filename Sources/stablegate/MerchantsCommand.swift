import ArgumentParser
import StableGateApp

/// `stablegate merchants …`: onboard merchants.
struct MerchantsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merchants", abstract: "Onboard merchants.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a merchant, its store and a first API key. The secret is printed only now.")

        @OptionGroup var global: GlobalOptions

        @Option(help: "Merchant (and store) name.")
        var name: String

        @Option(help: "Settlement wallet address (0x…).")
        var wallet: String?

        @Flag(help: "Print one JSON object with merchant_id, store_id, api_key and api_secret.")
        var json = false

        func run() async throws {
            let credentials = try await global.withEnvironment { environment in
                try await MerchantOnboarding(environment: environment).createMerchant(name: name, wallet: wallet)
            }
            if json {
                printJSON([
                    ("merchant_id", credentials.merchantId), ("store_id", credentials.storeId),
                    ("api_key", credentials.apiKey), ("api_secret", credentials.apiSecret),
                ])
            } else {
                print(
                    """
                    merchant_id  \(credentials.merchantId)
                    store_id     \(credentials.storeId)
                    api_key      \(credentials.apiKey)
                    api_secret   \(credentials.apiSecret)

                    The secret is shown only this once; store it now.
                    """)
            }
        }
    }
}
