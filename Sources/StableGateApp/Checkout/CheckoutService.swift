import BigInt
import Foundation
import StableGateDomain
import StableGateEthereum
import StableGatePayments
import StableGateStore

/// The public side of an intent, for the hosted checkout page: only what the customer may see.
/// Every entry point takes the checkout URL's token (``CheckoutLink``), never the intent id;
/// nothing here needs or reveals merchant credentials.
struct CheckoutService: Sendable {
    let intents: CheckoutIntentRepository
    let merchants: MerchantRepository
    let transfers: ChainTransferRepository
    let deposits: DepositService?
    /// Shopper accounts, for "Pay with StableGate account"; nil without chains.
    let accounts: ShopperAccountRepository?
    let heads: ChainHeadCache
    let clock: any WallClock

    /// The intent the checkout token opens, or 50001 for an unknown or malformed token (the
    /// same answer either way, whatever exists: an intent id is just another unknown token).
    func intent(token: String) async throws -> CheckoutIntent {
        guard CheckoutLink.isWellFormed(token), let intent = try await intents.find(checkoutTokenHash: CheckoutLink.digest(token)) else {
            throw Self.notFound
        }
        return intent
    }

    static let notFound = APIError(.notFound, "checkout not found")

    /// A public transaction toward the order, as the page shows it.
    struct TransactionView: Sendable {
        let transfer: ChainTransfer
        let confirmations: Int64
        let explorerURL: String?
    }

    /// Everything public about an intent at one moment; the JSON state and the HTML page are
    /// both drawn from it.
    struct Snapshot: Sendable {
        let intent: CheckoutIntent
        /// The page's own path, `/checkout/{token}`: every link and form on it goes here.
        let path: String
        let storeName: String
        /// The store's uploaded logo, if any.
        let storeLogoURL: String?
        let options: [(chain: ChainConfiguration, token: TokenConfiguration)]
        /// The chosen chain, once the customer chose.
        let chain: ChainConfiguration?
        let depositAddress: String?
        let paymentURI: String?
        let secondsLeft: Int?
        let transactions: [TransactionView]
        let paid: BigUInt
        let pending: BigUInt
        let missing: BigUInt
        let decimals: Int
        let confirmationsCurrent: Int64?
        let confirmationsRequired: Int
        /// The newest shopper-account payment of the intent (on its way, sent, or failed).
        let accountPayment: AccountTransfer?
        /// Whether "Pay with StableGate account" is offered.
        let accountsEnabled: Bool

        func amount(_ units: BigUInt) -> String { MoneyRules.wireString(DecimalAmount(units: units, scale: decimals)) }
        /// The first payment toward the order, for "transaction" lines.
        var firstPayment: TransactionView? { transactions.first { $0.transfer.kind == .payment } }
        var windowEnded: Bool { secondsLeft == 0 }
    }

    /// The snapshot of the intent `token` opens.
    func snapshot(token: String) async throws -> Snapshot {
        try await snapshot(of: try await intent(token: token), token: token)
    }

    /// The page's snapshot: opening it moves CREATED → VIEWED first, once.
    func open(token: String) async throws -> Snapshot {
        let intent = try await intent(token: token)
        guard intent.status == .created else { return try await snapshot(of: intent, token: token) }
        try await markViewed(id: intent.id)
        return try await snapshot(token: token)
    }

    private func snapshot(of intent: CheckoutIntent, token: String) async throws -> Snapshot {
        let id = intent.id
        let store = try await merchants.store(id: intent.storeId)
        let transfers = try await transfers.transfers(intentId: id)
        let now = clock.now
        let chain = intent.payment.chainId.flatMap { deposits?.chain($0) }
        let decimals = intent.deposit?.tokenDecimals ?? MoneyRules.quoteScale
        let relevant = transfers.filter { $0.kind == .payment && $0.state != .dropped }
        var head: Int64?
        if let chainId = intent.payment.chainId, !relevant.isEmpty { head = await heads.head(chainId: chainId, now: now) }
        let required = chain?.confirmations ?? 0
        let transactions = transfers.filter { $0.state != .dropped }.map { transfer in
            let depth = head.map { max(0, min(Int64(required), $0 - transfer.blockNumber + 1)) } ?? 0
            return TransactionView(
                transfer: transfer, confirmations: transfer.state == .confirmed ? Int64(required) : depth,
                explorerURL: deposits?.chain(transfer.chainId)?.explorerLink(transaction: transfer.transactionHash))
        }
        let paid = relevant.filter { $0.state == .confirmed }.reduce(BigUInt(0)) { $0 + $1.amount }
        let pending = relevant.filter { $0.state == .seen }.reduce(BigUInt(0)) { $0 + $1.amount }
        let due = intent.deposit?.amountBaseUnits ?? 0
        var depositAddress: String?
        var paymentURI: String?
        if let deposit = intent.deposit, let chain, let contract = intent.payment.coinContract {
            let recipient = EthereumAddress(deposit.address)?.checksummed ?? deposit.address
            depositAddress = recipient
            paymentURI = PaymentURI.erc20Transfer(token: contract, chainId: chain.chainId, recipient: recipient, baseUnits: deposit.amountBaseUnits)
        }
        return Snapshot(
            intent: intent, path: CheckoutLinks.path(token: token), storeName: store?.name ?? "",
            storeLogoURL: store.flatMap { $0.logoContentType == nil ? nil : "/stores/\($0.id)/logo?v=\($0.logoVersion)" },
            options: deposits?.options(for: intent) ?? [], chain: chain,
            depositAddress: depositAddress, paymentURI: paymentURI,
            secondsLeft: intent.deposit.map { max(0, Int($0.expiresAt.timeIntervalSince(now).rounded(.up))) },
            transactions: transactions, paid: paid, pending: pending, missing: due > paid + pending ? due - paid - pending : 0,
            decimals: decimals,
            confirmationsCurrent: relevant.filter { $0.state == .seen }.compactMap { transfer in head.map { max(0, $0 - transfer.blockNumber + 1) } }
                .min(),
            confirmationsRequired: required, accountPayment: try await accounts?.latestPayment(intentId: id),
            accountsEnabled: accounts != nil)
    }

    /// `GET /checkout/{token}/state`.
    func state(token: String) async throws -> JSONValue {
        let snapshot = try await snapshot(token: token)
        let intent = snapshot.intent
        var fiat: JSONValue = .null
        if case .fiat(let currency, let cents, let rate, _) = intent.pricing {
            fiat = .object([
                ("currency", .int(currency.rawValue)), ("code", .string(currency.code)), ("name", .string(currency.name)),
                ("amount", .string(DecimalAmount(units: BigUInt(cents), scale: 2).plainString(minimumFractionDigits: 2))),
                ("rate", .string(rate.plainString())),
            ])
        }
        let options: [JSONValue] = snapshot.options.map { option in
            .object([
                ("chain_id", .int(option.chain.chainId)), ("chain_name", .string(option.chain.name)),
                ("stable_coin", .int(option.token.stableCoin.rawValue)),
                ("coin_symbol", .string(option.token.stableCoin.code)), ("token_symbol", .string(option.token.symbol)),
                ("token_contract", .string(option.token.contract.checksummed)), ("decimals", .int(option.token.decimals)),
            ])
        }
        var selected: JSONValue = .null
        if let deposit = intent.deposit, let chain = snapshot.chain, let contract = intent.payment.coinContract,
            let address = snapshot.depositAddress, let uri = snapshot.paymentURI
        {
            selected = .object([
                ("chain_id", .int(chain.chainId)), ("chain_name", .string(chain.name)), ("stable_coin", .int(intent.settlementCoin.rawValue)),
                ("coin_symbol", .string(intent.settlementCoin.code)), ("token_contract", .string(contract)),
                ("decimals", .int(deposit.tokenDecimals)),
                ("deposit_address", .string(address)), ("amount_base_units", .string(String(deposit.amountBaseUnits))),
                ("amount_coins", .string(MoneyRules.wireString(intent.amountCoins))), ("payment_uri", .string(uri)),
                ("expires_at", .string(CheckoutIntentWire.timestamp(deposit.expiresAt))), ("seconds_left", .intOrNull(snapshot.secondsLeft)),
            ])
        }
        let transactions: [JSONValue] = snapshot.transactions.map { view in
            let transfer = view.transfer
            return .object([
                ("tx_hash", .string(transfer.transactionHash)), ("from", .string(EthereumAddress(transfer.from)?.checksummed ?? transfer.from)),
                ("amount", .string(MoneyRules.wireString(DecimalAmount(units: transfer.amount, scale: transfer.decimals)))),
                ("kind", .string(transfer.kind.rawValue)), ("state", .string(transfer.state.rawValue)), ("confirmations", .int(view.confirmations)),
                ("explorer_url", .stringOrNull(view.explorerURL)),
            ])
        }
        return .object([
            ("id", .string(intent.id)), ("status", .int(intent.status.rawValue)), ("status_name", .string(intent.status.name)),
            ("store_name", .string(snapshot.storeName)), ("order_id", .stringOrNull(intent.order.orderId)),
            ("order_description", .stringOrNull(intent.order.orderDescription)),
            ("amount_coins", .string(MoneyRules.wireString(intent.amountCoins))), ("coin_symbol", .string(intent.settlementCoin.code)),
            ("fiat", fiat), ("options", .array(options)), ("selected", selected),
            ("paid_amount", .string(snapshot.amount(snapshot.paid))), ("pending_amount", .string(snapshot.amount(snapshot.pending))),
            ("missing_amount", .string(snapshot.amount(snapshot.missing))),
            ("confirmations", .object([("current", .intOrNull(snapshot.confirmationsCurrent)), ("required", .int(snapshot.confirmationsRequired))])),
            ("transactions", .array(transactions)),
            ("tx_hash", .stringOrNull(intent.payment.txHash)), ("tx_hash_2", .stringOrNull(intent.payment.txHash2)),
            ("redirect_url", .stringOrNull(intent.order.redirectURL)),
            ("expires_at", .stringOrNull(intent.deposit.map { CheckoutIntentWire.timestamp($0.expiresAt) })),
            ("error_message", .stringOrNull(intent.payment.errorMessage)),
        ])
    }

    /// Assigns the deposit for a network and coin (the page's form and the JSON endpoint).
    func selectDeposit(token: String, chainId: Int64, coin: StableCoin) async throws -> DepositQuote {
        try await selectDeposit(intent: try await intent(token: token), chainId: chainId, coin: coin)
    }

    private func selectDeposit(intent: CheckoutIntent, chainId: Int64, coin: StableCoin) async throws -> DepositQuote {
        guard let deposits else { throw APIError(.validation, "this gateway has no payment network configured") }
        return try await deposits.select(intentId: intent.id, chainId: chainId, coin: coin)
    }

    /// `POST /checkout/{token}/deposit` with `{"chain_id": int, "stable_coin": int}`.
    func selectDeposit(token: String, body: [UInt8]) async throws -> JSONValue {
        let intent = try await intent(token: token)
        let json: JSONValue
        do { json = try JSONParser.parse(body) } catch { throw APIError(.validation, "request body is not valid JSON: \(error)") }
        guard case .object(let members) = json else { throw APIError(.validation, "request body must be a JSON object") }
        if let unknown = members.first(where: { !["chain_id", "stable_coin"].contains($0.0) }) {
            throw APIError.invalid(unknown.0, "unknown field")
        }
        guard case .number(let chainText)? = json["chain_id"], let chainId = Int64(chainText) else {
            throw APIError.invalid("chain_id", "must be an integer EIP-155 chain id")
        }
        guard case .number(let coinText)? = json["stable_coin"], let coin = Int(coinText).flatMap(StableCoin.init(rawValue:)) else {
            throw APIError.invalid("stable_coin", "must be an integer stable coin enum value (1 USDT, 2 USDC)")
        }
        let quote = try await selectDeposit(intent: intent, chainId: chainId, coin: coin)
        return .object([
            ("deposit_address", .string(quote.depositAddress)), ("amount_coins", .string(MoneyRules.wireString(quote.amountCoins))),
            ("amount_base_units", .string(String(quote.amountBaseUnits))), ("token_contract", .string(quote.tokenContract)),
            ("token_symbol", .string(quote.tokenSymbol)), ("decimals", .int(quote.decimals)), ("chain_id", .int(quote.chainId)),
            ("chain_name", .string(quote.chainName)), ("expires_at", .string(CheckoutIntentWire.timestamp(quote.expiresAt))),
            ("payment_uri", .string(quote.paymentURI)),
        ])
    }
}

extension CheckoutService {
    /// Opening the page moves CREATED → VIEWED, once.
    private func markViewed(id: String) async throws {
        let now = clock.now
        _ = try await intents.modify(id: id) { intent, _ -> (transitions: [StatusTransition], result: Bool)? in
            guard intent.status == .created else { return nil }
            let transition = try IntentStateMachine.transition(&intent, to: .paying, reason: "checkout page opened", at: now)
            return ([transition], true)
        }
    }

    /// The customer cancels (after confirming on the page). Only before money arrived.
    func cancel(token: String) async throws {
        let id = try await intent(token: token).id
        let now = clock.now
        let dialect = intents.dialect
        let outcome = try await intents.modify(id: id) { intent, db -> (transitions: [StatusTransition], result: Bool)? in
            guard IntentStateMachine.canTransition(from: intent.status, to: .canceled) else {
                throw APIError(.validation, "this payment can no longer be canceled: it is \(intent.status.name)", field: "status")
            }
            try await ShopperAccountRepository.lockPayments(intentId: intent.id, on: db, dialect: dialect)
            guard try await ShopperAccountRepository.livePayment(intentId: intent.id, on: db) == nil else {
                throw APIError(
                    .validation, "a payment from a StableGate account is on its way; this order can no longer be canceled", field: "status")
            }
            let transition = try IntentStateMachine.transition(&intent, to: .canceled, reason: "customer canceled on the checkout page", at: now)
            return ([transition], true)
        }
        guard outcome != nil else { throw Self.notFound }
    }

    /// The page reports a transaction its browser wallet sent. It is kept as a report
    /// (``WalletReport``), apart from what the chain proves: `tx_hash`, `tx_from` and the payment
    /// method come only from detection, which marks WALLET_CONNECT when it finds a transfer in
    /// the reported transaction. A later report replaces an earlier one.
    func recordWalletPayment(token: String, body: [UInt8]) async throws {
        let id = try await intent(token: token).id
        let json: JSONValue
        do { json = try JSONParser.parse(body) } catch { throw APIError(.validation, "request body is not valid JSON") }
        guard case .string(let hash)? = json["tx_hash"], hash.count == 66, Hex.decode(hash)?.count == 32 else {
            throw APIError.invalid("tx_hash", "must be a 0x-prefixed 32-byte transaction hash")
        }
        guard case .string(let fromText)? = json["from"], let from = EthereumAddress(fromText) ?? EthereumAddress(fromText.lowercased()) else {
            throw APIError.invalid("from", "must be the paying wallet's address")
        }
        let now = clock.now
        let report = WalletReport(transactionHash: hash.lowercased(), from: from.lowercased)
        _ = try await intents.modify(id: id) { intent, _ -> (transitions: [StatusTransition], result: Bool)? in
            // The chain may have been quicker than the page: when detection already took this
            // very transaction as the payment, the report names the method and nothing else.
            let proven = intent.payment.txHash == report.transactionHash
            if proven, intent.payment.paymentMethodType == .walletScan {
                intent.payment.paymentMethodType = .walletConnect
                intent.updatedAt = now
                return ([], true)
            }
            guard [.tempWalletReceived, .onChain].contains(intent.status) || proven else {
                throw APIError(.validation, "this payment is \(intent.status.name) and takes no wallet transaction", field: "status")
            }
            guard !intent.status.isTerminal, intent.walletReport != report else { return nil }
            intent.walletReport = report
            intent.updatedAt = now
            return ([], true)
        }
    }
}
