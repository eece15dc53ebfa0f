import Foundation
import StableGateDomain

/// One token the gateway accepts on a chain.
public struct TokenConfiguration: Sendable, Equatable {
    public let stableCoin: StableCoin
    public let contract: EthereumAddress
    public let decimals: Int
    /// The token's ticker as the chain calls it (BSC's USDT is "BSC-USD"); display only.
    public let symbol: String
}

/// One EVM chain the gateway watches, from the chains file (`stablegate serve --chains FILE`).
public struct ChainConfiguration: Sendable, Equatable {
    /// EIP-155 chain id.
    public let chainId: Int64
    public let name: String
    /// The chain's RPC endpoints, preferred first (`rpc_urls`, or the single `rpc_url`).
    public let rpcURLs: [String]
    /// The first endpoint.
    public var rpcURL: String { rpcURLs[0] }
    /// How many endpoints must report a head before the scan uses it: the lowest of the best
    /// `headQuorum` heads (1: the healthiest endpoint's).
    public var headQuorum: Int = 1
    /// How long one RPC request may take before it counts as failed.
    public var rpcTimeout: Duration = .seconds(10)
    /// Blocks a transfer's block needs on top of it (itself included) before it counts.
    public let confirmations: Int
    /// Widest block range asked of `eth_getLogs` at once (providers cap it).
    public let maxLogRange: Int
    public let pollInterval: Duration
    /// Explorer link pattern with `{tx}`, e.g. `https://etherscan.io/tx/{tx}`.
    public let explorerTransactionURL: String?
    public let tokens: [TokenConfiguration]
    /// A public RPC URL browser wallets may add (`wallet_addEthereumChain`); never the
    /// gateway's own, which may carry a provider key.
    public var walletRPCURL: String? = nil
    /// The native coin's symbol and name, for wallets adding the chain.
    public var nativeCurrencySymbol: String? = nil
    public var nativeCurrencyName: String? = nil

    /// The same chain polled every `interval` (benchmarks).
    public func polling(every interval: Duration) -> ChainConfiguration {
        var copy = ChainConfiguration(
            chainId: chainId, name: name, rpcURLs: rpcURLs, confirmations: confirmations, maxLogRange: maxLogRange, pollInterval: interval,
            explorerTransactionURL: explorerTransactionURL, tokens: tokens, walletRPCURL: walletRPCURL, nativeCurrencySymbol: nativeCurrencySymbol,
            nativeCurrencyName: nativeCurrencyName)
        copy.headQuorum = headQuorum
        copy.rpcTimeout = rpcTimeout
        return copy
    }

    /// The token for a coin on this chain.
    public func token(for coin: StableCoin) -> TokenConfiguration? {
        tokens.first { $0.stableCoin == coin }
    }

    /// The token with this contract on this chain.
    public func token(contract: EthereumAddress) -> TokenConfiguration? {
        tokens.first { $0.contract == contract }
    }

    /// An explorer link for a transaction, when the chain has an explorer.
    public func explorerLink(transaction hash: String) -> String? {
        guard let pattern = explorerTransactionURL, !pattern.isEmpty else { return nil }
        return pattern.replacingOccurrences(of: "{tx}", with: hash)
    }
}

/// A chains file that cannot be used, with every problem found.
public struct ChainConfigurationError: Error, Sendable, CustomStringConvertible {
    public let problems: [String]
    public var description: String { "chains file refused:\n" + problems.map { "  - \($0)" }.joined(separator: "\n") }

    /// An error naming every problem found (the KYT denylist, read with the chains, uses it too).
    public init(problems: [String]) {
        self.problems = problems
    }
}

/// Parses the chains file: `{"chains": [{"chain_id", "name", "rpc_urls" (or "rpc_url"),
/// "head_quorum", "rpc_timeout_ms", "confirmations", "max_log_range", "poll_interval_ms",
/// "explorer_tx_url", "tokens": [{"stable_coin", "contract", "decimals", "symbol"}]}]}`.
/// Keys and secrets never belong in it (a provider key in an RPC URL is the exception the
/// provider imposes; it is never logged or put in a metric label).
public enum ChainsFile {
    public static func parse(_ bytes: some Collection<UInt8>) throws -> [ChainConfiguration] {
        let json: JSONValue
        do { json = try JSONParser.parse(bytes) } catch { throw ChainConfigurationError(problems: ["not valid JSON: \(error)"]) }
        guard case .array(let entries)? = json["chains"] else { throw ChainConfigurationError(problems: ["needs a \"chains\" array"]) }
        var problems: [String] = []
        var chains: [ChainConfiguration] = []
        for (index, entry) in entries.enumerated() {
            let label = "chains[\(index)]"
            func int(_ key: String, default value: Int? = nil) -> Int? {
                if case .number(let text)? = entry[key], let number = Int(text) { return number }
                if entry[key] == nil, let value { return value }
                problems.append("\(label).\(key) must be an integer")
                return nil
            }
            func string(_ key: String, required: Bool = true) -> String? {
                if case .string(let text)? = entry[key] { return text }
                if required { problems.append("\(label).\(key) must be a string") }
                return nil
            }
            var rpcURLs: [String] = []
            switch (entry["rpc_urls"], entry["rpc_url"]) {
            case (.array(let list)?, nil):
                for value in list {
                    if case .string(let text) = value { rpcURLs.append(text) } else { problems.append("\(label).rpc_urls must hold strings") }
                }
                if list.isEmpty { problems.append("\(label).rpc_urls must name at least one URL") }
            case (nil, .string(let text)?):
                rpcURLs = [text]
            case (nil, nil):
                problems.append("\(label) needs rpc_urls (a list) or rpc_url")
            default:
                problems.append("\(label): give rpc_urls (a list) or rpc_url (a string), not both")
            }
            guard let chainId = int("chain_id"), let name = string("name"), !rpcURLs.isEmpty,
                let confirmations = int("confirmations", default: 12), let maxRange = int("max_log_range", default: 2000),
                let pollMilliseconds = int("poll_interval_ms", default: 4000), let quorum = int("head_quorum", default: 1),
                let timeoutMilliseconds = int("rpc_timeout_ms", default: 10_000)
            else { continue }
            if chainId <= 0 { problems.append("\(label).chain_id must be positive") }
            for (index, url) in rpcURLs.enumerated() where !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
                let key = entry["rpc_urls"] != nil ? "rpc_urls[\(index)]" : "rpc_url"
                problems.append("\(label).\(key) must be an http(s) URL, got \(JSONRPCClientRedaction.redacted(url))")
            }
            if Set(rpcURLs).count != rpcURLs.count { problems.append("\(label).rpc_urls lists a URL twice") }
            if quorum < 1 || quorum > rpcURLs.count { problems.append("\(label).head_quorum must be 1…\(rpcURLs.count) (the number of RPC URLs)") }
            if timeoutMilliseconds < 100 || timeoutMilliseconds > 120_000 { problems.append("\(label).rpc_timeout_ms must be 100–120000") }
            if confirmations < 1 { problems.append("\(label).confirmations must be at least 1") }
            if maxRange < 1 { problems.append("\(label).max_log_range must be at least 1") }
            if pollMilliseconds < 50 { problems.append("\(label).poll_interval_ms must be at least 50") }
            if chains.contains(where: { $0.chainId == Int64(chainId) }) { problems.append("\(label).chain_id \(chainId) is listed twice") }
            var tokens: [TokenConfiguration] = []
            if case .array(let tokenEntries)? = entry["tokens"] {
                for (tokenIndex, token) in tokenEntries.enumerated() {
                    let tokenLabel = "\(label).tokens[\(tokenIndex)]"
                    guard case .number(let coinText)? = token["stable_coin"], let coin = Int(coinText).flatMap(StableCoin.init(rawValue:)),
                        coin.isEnabled
                    else {
                        problems.append("\(tokenLabel).stable_coin must be 1 (USDT) or 2 (USDC)")
                        continue
                    }
                    guard case .string(let contractText)? = token["contract"], let contract = EthereumAddress(contractText) else {
                        problems.append("\(tokenLabel).contract must be a 0x address (EIP-55 checksum if mixed case)")
                        continue
                    }
                    guard case .number(let decimalsText)? = token["decimals"], let decimals = Int(decimalsText),
                        (MoneyRules.quoteScale...36).contains(decimals)
                    else {
                        problems.append("\(tokenLabel).decimals must be an integer from \(MoneyRules.quoteScale) to 36")
                        continue
                    }
                    if tokens.contains(where: { $0.stableCoin == coin }) { problems.append("\(tokenLabel): \(coin.code) is listed twice") }
                    var symbol = coin.code
                    if case .string(let text)? = token["symbol"] { symbol = text }
                    tokens.append(TokenConfiguration(stableCoin: coin, contract: contract, decimals: decimals, symbol: symbol))
                }
            }
            if tokens.isEmpty { problems.append("\(label) has no tokens") }
            var explorer: String?
            if case .string(let text)? = entry["explorer_tx_url"], !text.isEmpty { explorer = text }
            var chain = ChainConfiguration(
                chainId: Int64(chainId), name: name, rpcURLs: rpcURLs, confirmations: confirmations, maxLogRange: maxRange,
                pollInterval: .milliseconds(pollMilliseconds), explorerTransactionURL: explorer, tokens: tokens)
            chain.headQuorum = quorum
            chain.rpcTimeout = .milliseconds(timeoutMilliseconds)
            if case .string(let text)? = entry["wallet_rpc_url"], !text.isEmpty {
                if text.hasPrefix("https://") || text.hasPrefix("http://") {
                    chain.walletRPCURL = text
                } else {
                    problems.append("\(label).wallet_rpc_url must be an http(s) URL")
                }
            }
            if case .object? = entry["native_currency"] {
                if case .string(let symbol)? = entry["native_currency"]?["symbol"] { chain.nativeCurrencySymbol = symbol }
                if case .string(let currencyName)? = entry["native_currency"]?["name"] { chain.nativeCurrencyName = currencyName }
            }
            chains.append(chain)
        }
        guard problems.isEmpty else { throw ChainConfigurationError(problems: problems) }
        return chains
    }
}

/// RPC URLs as they may be shown: scheme and host only (providers put keys in the path or query).
public enum JSONRPCClientRedaction {
    public static func redacted(_ url: String) -> String {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host else {
            return "(unparseable URL)"
        }
        let port = components.port.map { ":\($0)" } ?? ""
        return "\(scheme)://\(host)\(port)/…"
    }
}
