import ArgumentParser
import StableGateApp
import StableGateDomain
import StableGateStore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `stablegate keys …`: API keys of a store.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Manage API keys and the master key.",
        subcommands: [Create.self, List.self, Revoke.self, RotateMaster.self, VerifyMaster.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an API key for a store. The secret is printed only now.")

        @OptionGroup var global: GlobalOptions

        @Option(help: "Store id.")
        var store: String

        @Option(name: .customLong("allow-ip"), help: "Allow requests only from this address or CIDR range (repeatable).")
        var allowIP: [String] = []

        @Option(name: .customLong("rate-limit"), help: "Requests per minute (default 600).")
        var rateLimit: Int?

        @Option(help: "A label to recognise the key by.")
        var label: String?

        @Flag(help: "Print JSON.")
        var json = false

        func run() async throws {
            let issued = try await global.withEnvironment { environment in
                try await MerchantOnboarding(environment: environment).createKey(
                    storeId: store, label: label, allowedCIDRs: allowIP, rateLimitPerMinute: rateLimit)
            }
            if json {
                printJSON([
                    ("store_id", issued.record.storeId), ("api_key", issued.record.id), ("api_secret", issued.secret),
                    ("rate_limit_per_minute", String(issued.record.rateLimitPerMinute)),
                    ("allowed_ips", issued.record.allowedRanges.map(\.description).joined(separator: ",")),
                ])
            } else {
                print(
                    """
                    api_key      \(issued.record.id)
                    api_secret   \(issued.secret)
                    rate limit   \(issued.record.rateLimitPerMinute)/min
                    allowed IPs  \(issued.record.allowedRanges.isEmpty ? "any" : issued.record.allowedRanges.map(\.description).joined(separator: ", "))

                    The secret is shown only this once; store it now.
                    """)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a store's API keys (never their secrets).")

        @OptionGroup var global: GlobalOptions

        @Option(help: "Store id.")
        var store: String

        @Flag(help: "Print JSON lines, one key per line.")
        var json = false

        func run() async throws {
            let keys = try await global.withEnvironment { environment in
                guard try await environment.merchants.store(id: store) != nil else {
                    throw ValidationError("no store with id \(store)")
                }
                return try await environment.apiKeys.list(storeId: store)
            }
            for key in keys {
                let status = key.isActive ? "active" : "revoked"
                let ips = key.allowedRanges.isEmpty ? "any" : key.allowedRanges.map(\.description).joined(separator: ",")
                if json {
                    let fields: [(String, String?)] = [
                        ("api_key", key.id), ("status", status), ("label", key.label), ("allowed_ips", ips),
                        ("rate_limit_per_minute", String(key.rateLimitPerMinute)), ("created_at", iso(key.createdAt)),
                        ("last_used_at", key.lastUsedAt.map(iso)), ("revoked_at", key.revokedAt.map(iso)),
                    ]
                    print("{" + fields.map { "\(jsonString($0.0)):\($0.1.map(jsonString) ?? "null")" }.joined(separator: ",") + "}")
                } else {
                    print(
                        "\(key.id)  \(status)  \(key.rateLimitPerMinute)/min  ips=\(ips)  created=\(iso(key.createdAt))  last_used=\(key.lastUsedAt.map(iso) ?? "never")  \(key.label ?? "")"
                    )
                }
            }
            if keys.isEmpty && !json { print("no keys") }
        }

        private func iso(_ date: Date) -> String { date.formatted(.iso8601) }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke an API key. Running gateways stop accepting it within the key cache TTL (5 s).")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The API key to revoke.")
        var key: String

        func run() async throws {
            let found = try await global.withEnvironment { environment in
                guard let record = try await environment.apiKeys.find(id: key) else { return false }
                let now = environment.clock.now
                return try await environment.apiKeys.revoke(
                    id: key, at: now,
                    audit: AuditEntry(
                        id: environment.identifiers.objectId(at: now), storeId: record.storeId, actor: .operatorCLI, at: now,
                        action: "api_key.revoked",
                        detail: JSONValue.object([("api_key", .string(key)), ("label", .stringOrNull(record.label))]).serialized))
            }
            guard found else { throw ValidationError("no API key \(key)") }
            print("revoked \(key)")
        }
    }
}
