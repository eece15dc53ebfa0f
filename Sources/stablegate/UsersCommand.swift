import ArgumentParser
import StableGateApp

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `stablegate users …`: dashboard logins of a merchant.
struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users", abstract: "Manage merchant dashboard logins.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a dashboard user and print the one-time link (valid 72 h) with which they choose a password.")

        @OptionGroup var global: GlobalOptions

        @Option(help: "Merchant id.")
        var merchant: String

        @Option(help: "The user's e-mail address (their login).")
        var email: String

        @Flag(help: "The user exists: issue a new setup link (forgotten password).")
        var reset = false

        @Option(name: .customLong("public-url"), help: "Public base URL the link starts with (env STABLEGATE_PUBLIC_URL).")
        var publicURL: String?

        @Flag(help: "Print JSON.")
        var json = false

        func run() async throws {
            let link = try await global.withEnvironment(extra: ["public.url": publicURL]) { environment in
                try await DashboardUserOnboarding(environment: environment).invite(merchantId: merchant, email: email, reset: reset)
            }
            let expires = link.expiresAt.formatted(.iso8601)
            if json {
                printJSON([
                    ("user_id", link.userId), ("merchant_id", link.merchantId), ("email", link.email), ("setup_url", link.url),
                    ("expires_at", expires),
                ])
            } else {
                print(
                    """
                    user_id     \(link.userId)
                    email       \(link.email)
                    setup link  \(link.url)
                    expires     \(expires)

                    Send the link to the user; it works once, until it expires.
                    """)
            }
        }
    }
}
