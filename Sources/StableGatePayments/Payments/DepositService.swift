import BigInt
import Foundation
import Logging
import SQLKit
import StableGateDomain
import StableGateEthereum
import StableGateStore

/// What the checkout page shows the customer to pay.
public struct DepositQuote: Sendable, Equatable {
    /// EIP-55 checksummed.
    public let depositAddress: String
    public let amountCoins: DecimalAmount
    public let amountBaseUnits: BigUInt
    public let tokenContract: String
    public let tokenSymbol: String
    public let decimals: Int
    public let chainId: Int64
    public let chainName: String
    public let expiresAt: Date
    /// EIP-681.
    public let paymentURI: String
}

/// Gives an intent its deposit address when the customer picks a network and coin.
///
/// One fresh address per intent (BIP-32 index from a database counter, never reused); picking
/// again with another network or coin keeps the address — an EVM address is the same on every
/// chain — and only changes what payment is expected. The payment window starts at the first pick.
public struct DepositService: Sendable {
    let intents: CheckoutIntentRepository
    let chains: [Int64: ChainConfiguration]
    let wallets: GatewayWallets
    let clock: any WallClock
    /// Payment window for stores without their own.
    let defaultPaymentWindow: TimeInterval
    let logger: Logger

    public init(
        intents: CheckoutIntentRepository, chains: [ChainConfiguration], wallets: GatewayWallets, clock: any WallClock,
        defaultPaymentWindow: TimeInterval, logger: Logger
    ) {
        self.intents = intents
        self.chains = Dictionary(uniqueKeysWithValues: chains.map { ($0.chainId, $0) })
        self.wallets = wallets
        self.clock = clock
        self.defaultPaymentWindow = defaultPaymentWindow
        self.logger = logger
    }

    /// The networks and coins this intent can be paid with.
    public func options(for intent: CheckoutIntent) -> [(chain: ChainConfiguration, token: TokenConfiguration)] {
        chains.values.sorted { $0.chainId < $1.chainId }.flatMap { chain in
            intent.acceptedStableCoins.compactMap { coin in chain.token(for: coin).map { (chain, $0) } }
        }
    }

    /// The chain with this id, if configured.
    public func chain(_ id: Int64) -> ChainConfiguration? { chains[id] }

    /// Assigns (or re-targets) the intent's deposit. Errors are 10001 naming the field, 50001
    /// for an unknown intent, or 10001 "already paid / ended" once money arrived.
    public func select(intentId: String, chainId: Int64, coin: StableCoin) async throws -> DepositQuote {
        guard let chain = chains[chainId] else {
            throw APIError.invalid("chain_id", "\(chainId) is not a network this gateway accepts")
        }
        guard let token = chain.token(for: coin) else {
            throw APIError.invalid("stable_coin", "\(coin.code) is not available on \(chain.name)")
        }
        let now = clock.now
        let wallets = wallets
        let window = defaultPaymentWindow
        let dialect = intents.dialect
        let outcome = try await assigningOnce {
            try await intents.modify(id: intentId) { intent, db -> (transitions: [StatusTransition], result: DepositQuote)? in
                guard intent.acceptedStableCoins.contains(coin) else {
                    throw APIError.invalid("stable_coin", "this order accepts \(intent.acceptedStableCoins.map(\.code).joined(separator: ", ")) only")
                }
                guard [.created, .paying, .tempWalletReceived].contains(intent.status) else {
                    throw APIError(.validation, "this order can no longer change its payment: it is \(intent.status.name)", field: "status")
                }
                // A shopper-account payment on its way is bound to this network and address.
                try await ShopperAccountRepository.lockPayments(intentId: intent.id, on: db, dialect: dialect)
                if let live = try await ShopperAccountRepository.livePayment(intentId: intent.id, on: db),
                    live.chainId != chain.chainId || live.tokenContract != token.contract.lowercased
                {
                    throw APIError(
                        .validation, "a payment from a StableGate account is on its way on this order's network; it cannot change now",
                        field: "status")
                }
                if let expiry = intent.deposit?.expiresAt, expiry <= now {
                    throw APIError(.validation, "the payment window of this order has ended", field: "status")
                }
                guard let amount = intent.amountCoins.baseUnits(decimals: token.decimals) else {
                    throw APIError(.internalError, "amount \(intent.amountCoins) does not fit \(token.decimals) decimals")
                }
                let address: String
                let expiresAt: Date
                if let deposit = intent.deposit {
                    address = deposit.address
                    expiresAt = deposit.expiresAt
                } else {
                    let index = try await DepositAddressRepository.nextDerivationIndex(on: db)
                    address = try wallets.depositAddress(index: index).lowercased
                    try await DepositAddressRepository.insertDepositAddress(address, intentId: intent.id, index: index, at: now, on: db)
                    let store = try await MerchantRepository.store(id: intent.storeId, on: db)
                    expiresAt = now.addingTimeInterval(store?.paymentWindowSeconds.map(TimeInterval.init) ?? window)
                }
                let unchanged = intent.status == .tempWalletReceived && intent.payment.chainId == chain.chainId && intent.settlementCoin == coin
                intent.deposit = DepositAssignment(address: address, tokenDecimals: token.decimals, amountBaseUnits: amount, expiresAt: expiresAt)
                intent.payment.chainId = chain.chainId
                intent.payment.coinContract = token.contract.checksummed
                intent.settlementCoin = coin
                // Choosing the same network and coin again (a reload) records nothing new.
                let transitions =
                    unchanged
                    ? []
                    : [
                        try IntentStateMachine.transition(
                            &intent, to: .tempWalletReceived, reason: "customer chose \(coin.code) on \(chain.name)", at: now)
                    ]
                let checksummed = EthereumAddress(address)?.checksummed ?? address
                return (
                    transitions,
                    DepositQuote(
                        depositAddress: checksummed, amountCoins: intent.amountCoins, amountBaseUnits: amount,
                        tokenContract: token.contract.checksummed,
                        tokenSymbol: token.symbol, decimals: token.decimals, chainId: chain.chainId, chainName: chain.name, expiresAt: expiresAt,
                        paymentURI: PaymentURI.erc20Transfer(
                            token: token.contract.checksummed, chainId: chain.chainId, recipient: checksummed, baseUnits: amount))
                )
            }
        }
        guard let outcome else { throw APIError(.notFound, "checkout intent \(intentId) not found") }
        logger.info(
            "deposit assigned",
            metadata: [
                "intent_id": "\(intentId)", "chain_id": "\(chainId)", "coin": "\(coin.code)", "address": "\(outcome.depositAddress)",
            ])
        return outcome
    }

    /// Runs a first assignment again when a concurrent one (two tabs choosing at once) inserted
    /// the intent's deposit address first: the retry reads the intent with that address.
    private func assigningOnce<T>(_ body: () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await body()
            } catch  where attempt < 3 && DatabaseErrorText.isUniqueViolation(error) {
                continue
            }
        }
    }
}
