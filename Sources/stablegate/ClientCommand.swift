import AllScaleKit
import ArgumentParser
import Foundation

/// `stablegate client …`: the merchant's side of the API from a terminal, through AllScaleKit —
/// against this gateway or any AllScale-compatible endpoint.
struct ClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client",
        abstract: "Call an AllScale-compatible API as a merchant (AllScaleKit): ping, create, status, get, watch.",
        discussion: """
            Credentials come from flags, else ALLSCALE_BASE_URL, ALLSCALE_API_KEY and ALLSCALE_API_SECRET, else the JSON
            file given by --credentials (or ALLSCALE_CREDENTIALS): {"base_url": …, "api_key": …, "api_secret": …}.
            """,
        subcommands: [Ping.self, Create.self, Status.self, Get.self, Watch.self])

    struct Connection: ParsableArguments {
        @Option(name: .customLong("base-url"), help: "API base URL, e.g. https://pay.example.com") var baseURL: String?
        @Option(name: .customLong("api-key"), help: "API key id.") var apiKey: String?
        @Option(name: .customLong("api-secret"), help: "API secret (prefer the environment or a credentials file: flags show in `ps`).")
        var apiSecret: String?
        @Option(help: "A JSON credentials file.") var credentials: String?
        @Flag(help: "Print JSON.") var json = false

        func client() throws -> AllScaleClient {
            let environment = ProcessInfo.processInfo.environment
            var file: [String: String] = [:]
            if let path = credentials ?? environment["ALLSCALE_CREDENTIALS"] {
                guard let data = FileManager.default.contents(atPath: path),
                    let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
                else { throw ValidationError("cannot read the credentials file \(path) (a JSON object with base_url, api_key, api_secret)") }
                file = object.compactMapValues { $0 as? String }
            }
            func value(_ flag: String?, _ variable: String, _ key: String) throws -> String {
                guard let value = flag ?? environment[variable] ?? file[key], !value.isEmpty else {
                    throw ValidationError("no \(key): pass --\(key.replacingOccurrences(of: "_", with: "-")), set \(variable), or use --credentials")
                }
                return value
            }
            return AllScaleClient(
                baseURL: try value(baseURL, "ALLSCALE_BASE_URL", "base_url"), apiKey: try value(apiKey, "ALLSCALE_API_KEY", "api_key"),
                apiSecret: try value(apiSecret, "ALLSCALE_API_SECRET", "api_secret"))
        }
    }

    /// The intent a command is about, and the connection to ask about it.
    struct IntentArguments: ParsableArguments {
        @OptionGroup var connection: Connection
        @Argument(help: "The checkout intent id.") var id: String

        /// A client for the connection (see ``Connection/client()``).
        func client() throws -> AllScaleClient { try connection.client() }
    }

    struct Ping: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check the base URL, key and secret (GET /v1/test/ping).")
        @OptionGroup var connection: Connection
        func run() async throws {
            try await report { try await connection.client().ping() }
            print(connection.json ? #"{"pong":"ok"}"# : "pong: the key and secret are accepted")
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a checkout intent and print its checkout URL.")
        @OptionGroup var connection: Connection
        @Option(help: "Price in a fiat currency: its ISO code (USD, EUR, …).") var currency: String?
        @Option(name: .customLong("stable-coin"), help: "Price in a coin: USDT or USDC.") var stableCoin: String?
        @Option(help: "The amount as a decimal, e.g. 12.50 (sent as amount_cents).") var amount: String
        @Option(name: .customLong("order-id")) var orderId: String?
        @Option(name: .customLong("order-description")) var orderDescription: String?
        @Option(name: .customLong("redirect-url")) var redirectURL: String?
        @Option(name: .customLong("idempotency-key"), help: "Makes retries safe: a repeat returns the first intent.") var idempotencyKey: String?

        func run() async throws {
            let pricing: CreateCheckoutIntent.Pricing
            switch (currency, stableCoin) {
            case (let code?, nil):
                guard let fiat = FiatCurrency.known.first(where: { $0.name == code.uppercased() }) else {
                    throw ValidationError("unknown currency \(code)")
                }
                pricing = .fiat(fiat)
            case (nil, let code?):
                guard let coin = StableCoin.known.first(where: { $0.name == code.uppercased() }) else {
                    throw ValidationError("unknown stable coin \(code)")
                }
                pricing = .stableCoin(coin)
            default: throw ValidationError("give exactly one of --currency and --stable-coin")
            }
            guard let cents = Self.cents(amount) else {
                throw ValidationError("--amount must be a positive decimal with at most 2 decimals, e.g. 12.50")
            }
            var request = CreateCheckoutIntent(pricing: pricing, amountCents: cents, orderId: orderId)
            request.orderDescription = orderDescription
            request.redirectURL = redirectURL
            let created = try await report { try await connection.client().createCheckoutIntent(request, idempotencyKey: idempotencyKey) }
            if connection.json {
                try printJSON(created)
            } else {
                print(
                    "intent        \(created.id)\namount        \(created.amountCoins) \(created.stableCoinType)\(created.rate.map { "\nrate          \($0)" } ?? "")\ncheckout URL  \(created.checkoutURL)"
                )
            }
        }

        /// "12.5" → 1250, exactly (no floating point).
        static func cents(_ text: String) -> Int? {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count), let whole = Int(parts[0]), whole >= 0, parts[0].allSatisfy(\.isNumber) else { return nil }
            var fraction = parts.count == 2 ? String(parts[1]) : ""
            guard fraction.count <= 2, fraction.allSatisfy(\.isNumber) else { return nil }
            while fraction.count < 2 { fraction += "0" }
            let (cents, overflow) = whole.multipliedReportingOverflow(by: 100)
            guard !overflow, let total = Int(fraction).map({ cents + $0 }), total > 0 else { return nil }
            return total
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print an intent's status (GET /v1/checkout_intents/{id}/status).")
        @OptionGroup var target: IntentArguments
        func run() async throws {
            let status = try await report { try await target.client().status(id: target.id) }
            print(target.connection.json ? statusJSON(status) : "\(status.rawValue) \(status.description)")
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the full intent (GET /v1/checkout_intents/{id}).")
        @OptionGroup var target: IntentArguments
        func run() async throws {
            let intent = try await report { try await target.client().checkoutIntent(id: target.id) }
            if target.connection.json {
                try printJSON(intent)
            } else {
                print(
                    """
                    intent     \(intent.id)
                    status     \(intent.status.rawValue) \(intent.status.description)
                    amount     \(intent.amountCoins) \(intent.coinSymbol)\(intent.amountCents.map { c in intent.currencySymbol.map { "  (\(c / 100).\(String(format: "%02d", c % 100)) \($0))" } ?? "" } ?? "")
                    order      \(intent.orderId ?? "-")
                    paid       \(intent.actualPaidAmount ?? "-")  fee \(intent.serviceFeeAmount ?? "-")  net \(intent.netIncomeAmount ?? "-")
                    tx         \(intent.txHash ?? "-")
                    """)
            }
        }
    }

    struct Watch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Follow an intent's status until it ends; exit 0 when CONFIRMED, 1 otherwise.")
        @OptionGroup var target: IntentArguments
        @Option(help: "Give up after this many seconds.") var timeout: Int = 3600
        func run() async throws {
            let json = target.connection.json
            let intent = try await report {
                try await target.client().waitForTerminalStatus(id: target.id, timeout: .seconds(timeout)) { status in
                    print(json ? statusJSON(status) : "\(Date().formatted(.iso8601))  \(status.rawValue) \(status.description)")
                }
            }
            if json { try printJSON(intent) }
            if intent.status != .confirmed { throw ExitCode(1) }
        }
    }
}

/// Runs a call; an API error becomes one clear line on stderr and exit code 2.
private func report<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as AllScaleError {
        printToStandardError("error: \(error)")
        throw ExitCode(2)
    }
}

/// A status as one JSON object: `{"status":…,"name":…}`.
private func statusJSON(_ status: CheckoutStatus) -> String {
    #"{"status":\#(status.rawValue),"name":"\#(status.name ?? "UNKNOWN")"}"#
}

private func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Writes a line to stderr (notes that must not mix with a command's JSON on stdout).
func printToStandardError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
