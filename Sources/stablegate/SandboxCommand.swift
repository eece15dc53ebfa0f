import ArgumentParser
import BigInt
import StableGateApp
import StableGateDomain
import StableGateEthereum
import StableGatePayments
import StableGateStore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `stablegate sandbox …`: test payments on the sandbox chains.
struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox", abstract: "Test payments on the sandbox chains.", subcommands: [Pay.self, Fund.self])

    struct Pay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a real token transfer to an intent's deposit address from a funded sandbox account.",
            discussion: """
                Without --chain/--coin it pays what the intent selected (choosing the first offered network and coin if the \
                customer has not chosen yet). With them it pays that token on that chain, even a wrong one, to test that it is \
                ignored. --amount is in coins (e.g. 4.5); the default is the amount due.
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The checkout intent id.")
        var intentId: String

        @Option(help: "Amount in coins, e.g. 10.5 (default: the amount due).")
        var amount: String?

        @Option(name: .customLong("chain"), help: "EIP-155 chain id to pay on.")
        var chainId: Int64?

        @Option(help: "Stable coin enum value to pay with (1 USDT, 2 USDC).")
        var coin: Int?

        @Option(help: "Which funded sandbox account pays (1–8; 0 deploys the tokens and 9 is the sandbox hot wallet).")
        var account = 1

        @Option(name: .customLong("state-file"), help: "The sandbox chain's state file (default <data-dir>/sandbox-state.json).")
        var stateFile: String?

        func run() async throws {
            let result = try await global.withEnvironment { environment -> (String, String, String) in
                guard environment.configuration.mode == .sandbox else { throw ValidationError("sandbox pay works in sandbox mode only") }
                guard let wallets = environment.wallets, !environment.chains.isEmpty else {
                    throw ValidationError("no chains configured: pass --chains (the sandbox chain writes <data-dir>/sandbox-chains.json)")
                }
                var intent = try await environment.intents.find(id: intentId).orThrow("no checkout intent \(intentId)")
                let deposits = DepositService(
                    intents: environment.intents, chains: environment.chains, wallets: wallets, clock: environment.clock,
                    defaultPaymentWindow: environment.configuration.paymentWindow, logger: environment.logger)
                if intent.deposit == nil {
                    let option = try deposits.options(for: intent).first.orThrow("this intent cannot be paid on any configured network")
                    _ = try await deposits.select(
                        intentId: intentId, chainId: chainId ?? option.chain.chainId,
                        coin: coin.flatMap(StableCoin.init(rawValue:)) ?? option.token.stableCoin)
                    intent = try await environment.intents.find(id: intentId).orThrow("intent vanished")
                }
                let deposit = try intent.deposit.orThrow("intent has no deposit address")
                let chain = try deposits.chain(chainId ?? intent.payment.chainId ?? 0).orThrow("chain \(chainId ?? 0) is not configured")
                let payCoin = coin.flatMap(StableCoin.init(rawValue:)) ?? intent.settlementCoin
                let token = try chain.token(for: payCoin).orThrow("\(payCoin.code) is not configured on \(chain.name)")
                var units = deposit.amountBaseUnits
                if let amount {
                    guard let decimal = DecimalAmount(amount), let value = decimal.baseUnits(decimals: token.decimals) else {
                        throw ValidationError("--amount must be a plain decimal with at most \(token.decimals) decimals")
                    }
                    units = value
                }
                let key = try sandboxAccountKey(chainId: chain.chainId, account: account, stateFile: stateFile, environment: environment)
                let sender = TokenTransferSender(rpc: EthereumRPC(url: chain.rpcURL), chainId: UInt64(chain.chainId))
                let hash = try await sender.send(
                    token: token.contract, to: try EthereumAddress(deposit.address).orThrow("bad deposit address"), amount: units, privateKey: key)
                let shown = MoneyRules.wireString(DecimalAmount(units: units, scale: token.decimals))
                return (hash, "\(shown) \(token.symbol) on \(chain.name)", EthereumAddress(deposit.address)?.checksummed ?? deposit.address)
            }
            print("sent \(result.1) to \(result.2)\ntx \(result.0)")
        }
    }

    struct Fund: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send tokens to a shopper account's deposit address (by its e-mail) from a funded sandbox account.")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The shopper account's e-mail address.")
        var email: String

        @Option(help: "Amount in coins, e.g. 50.")
        var amount: String

        @Option(name: .customLong("chain"), help: "EIP-155 chain id (default: the first configured chain).")
        var chainId: Int64?

        @Option(help: "Stable coin enum value (1 USDT, 2 USDC).")
        var coin = 1

        @Option(help: "Which funded sandbox account pays (1–8).")
        var account = 1

        @Option(name: .customLong("state-file"), help: "The sandbox chain's state file (default <data-dir>/sandbox-state.json).")
        var stateFile: String?

        func run() async throws {
            let result = try await global.withEnvironment { environment -> (String, String) in
                guard environment.configuration.mode == .sandbox else { throw ValidationError("sandbox fund works in sandbox mode only") }
                let shopper = try await ShopperAccountRepository(database: environment.database).account(email: email).orThrow("no account \(email)")
                let chain = try (chainId.flatMap { id in environment.chains.first { $0.chainId == id } } ?? environment.chains.first)
                    .orThrow("no such chain configured: pass --chains (the sandbox chain writes <data-dir>/sandbox-chains.json)")
                let token = try StableCoin(rawValue: coin).flatMap(chain.token(for:)).orThrow("coin \(coin) is not configured on \(chain.name)")
                guard let units = DecimalAmount(amount)?.baseUnits(decimals: token.decimals) else {
                    throw ValidationError("--amount must be a plain decimal with at most \(token.decimals) decimals")
                }
                let key = try sandboxAccountKey(chainId: chain.chainId, account: account, stateFile: stateFile, environment: environment)
                let hash = try await TokenTransferSender(rpc: EthereumRPC(url: chain.rpcURL), chainId: UInt64(chain.chainId)).send(
                    token: token.contract, to: try EthereumAddress(shopper.depositAddress).orThrow("bad deposit address"), amount: units,
                    privateKey: key)
                return (
                    hash,
                    "\(MoneyRules.wireString(DecimalAmount(units: units, scale: token.decimals))) \(token.symbol) on \(chain.name) to \(shopper.email)"
                )
            }
            print("sent \(result.1)\ntx \(result.0)")
        }
    }
}

/// The private key of funded sandbox account `account` on a chain, from the sandbox state file.
private func sandboxAccountKey(chainId: Int64, account: Int, stateFile: String?, environment: GatewayEnvironment) throws -> [UInt8] {
    let path = stateFile ?? environment.configuration.dataDirectory + "/sandbox-state.json"
    guard let data = FileManager.default.contents(atPath: path), let json = try? JSONParser.parse(Array(data)),
        case .array(let chains)? = json["chains"]
    else { throw ValidationError("cannot read the sandbox state file \(path); is the sandbox chain running?") }
    for chain in chains {
        guard case .number(let id)? = chain["chain_id"], Int64(id) == chainId, case .array(let accounts)? = chain["accounts"] else { continue }
        guard accounts.indices.contains(account), case .string(let keyText)? = accounts[account]["private_key"], let key = Hex.decode(keyText) else {
            throw ValidationError("sandbox account \(account) does not exist on chain \(chainId)")
        }
        return key
    }
    throw ValidationError("chain \(chainId) is not in \(path)")
}

extension Optional {
    /// The value, or a validation error with `message`.
    func orThrow(_ message: String) throws -> Wrapped {
        guard let self else { throw ValidationError(message) }
        return self
    }
}
