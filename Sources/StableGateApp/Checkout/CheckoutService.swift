import BigInt
import StableGateChain
import StableGateDomain
import StableGateStore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The public side of an intent, for the hosted checkout page: only what the customer may see.
/// The intent id is the capability; nothing here needs or reveals merchant credentials.
struct CheckoutService: Sendable {
    let intents: CheckoutIntentRepository
    let merchants: MerchantRepository
    let payments: PaymentStateRepository
    let deposits: DepositService?
    let heads: ChainHeadCache
    let clock: any WallClock

    /// The intent, or 50001 for an unknown or malformed id (never a hint which).
    func intent(_ id: String) async throws -> CheckoutIntent {
        guard ObjectIdFormat.isValid(id), let intent = try await intents.find(id: id) else {
            throw APIError(.notFound, "checkout not found")
        }
        return intent
    }

    /// `GET /checkout/{id}/state`.
    func state(id: String) async throws -> JSONValue {
        let intent = try await intent(id)
        let store = try await merchants.store(id: intent.storeId)
        let transfers = try await payments.transfers(intentId: id)
        let now = clock.now
        let chain = intent.payment.chainId.flatMap { deposits?.chain($0) }
        let decimals = intent.deposit?.tokenDecimals ?? MoneyRules.quoteScale

        var fiat: JSONValue = .null
        if case .fiat(let currency, let cents, let rate, _) = intent.pricing {
            fiat = .object([
                ("currency", .int(currency.rawValue)), ("code", .string(currency.code)), ("name", .string(currency.name)),
                ("amount", .string(DecimalAmount(units: BigUInt(cents), scale: 2).plainString(minimumFractionDigits: 2))),
                ("rate", .string(rate.plainString())),
            ])
        }
        let options: [JSONValue] = (deposits?.options(for: intent) ?? []).map { option in
            .object([
                ("chain_id", .int(option.chain.chainId)), ("chain_name", .string(option.chain.name)), ("stable_coin", .int(option.token.stableCoin.rawValue)),
                ("coin_symbol", .string(option.token.stableCoin.code)), ("token_symbol", .string(option.token.symbol)),
                ("token_contract", .string(option.token.contract.checksummed)), ("decimals", .int(option.token.decimals)),
            ])
        }
        var selected: JSONValue = .null
        if let deposit = intent.deposit, let chain, let contract = intent.payment.coinContract {
            let recipient = EthereumAddress(deposit.address)?.checksummed ?? deposit.address
            selected = .object([
                ("chain_id", .int(chain.chainId)), ("chain_name", .string(chain.name)), ("stable_coin", .int(intent.settlementCoin.rawValue)),
                ("coin_symbol", .string(intent.settlementCoin.code)), ("token_contract", .string(contract)), ("decimals", .int(deposit.tokenDecimals)),
                ("deposit_address", .string(recipient)), ("amount_base_units", .string(String(deposit.amountBaseUnits))),
                ("amount_coins", .string(MoneyRules.wireString(intent.amountCoins))),
                ("payment_uri", .string(PaymentURI.erc20Transfer(token: contract, chainId: chain.chainId, recipient: recipient, baseUnits: deposit.amountBaseUnits))),
                ("expires_at", .string(CheckoutIntentWire.timestamp(deposit.expiresAt))),
                ("seconds_left", .int(max(0, Int(deposit.expiresAt.timeIntervalSince(now))))),
            ])
        }
        // Payments toward the order on the selected chain, with their confirmations.
        let relevant = transfers.filter { $0.kind == .payment && $0.state != .dropped }
        var head: Int64?
        if let chainId = intent.payment.chainId, !relevant.isEmpty { head = await heads.head(chainId: chainId, now: now) }
        let required = chain?.confirmations ?? 0
        let transactions: [JSONValue] = transfers.filter { $0.state != .dropped }.map { transfer in
            let depth = head.map { max(0, min(Int64(required), $0 - transfer.blockNumber + 1)) } ?? 0
            let confirmations = transfer.state == .confirmed ? Int64(required) : depth
            return .object([
                ("tx_hash", .string(transfer.transactionHash)), ("from", .string(EthereumAddress(transfer.from)?.checksummed ?? transfer.from)),
                ("amount", .string(MoneyRules.wireString(DecimalAmount(units: transfer.amount, scale: transfer.decimals)))),
                ("kind", .string(transfer.kind.rawValue)), ("state", .string(transfer.state.rawValue)), ("confirmations", .int(confirmations)),
                ("explorer_url", .stringOrNull(deposits?.chain(transfer.chainId)?.explorerLink(transaction: transfer.transactionHash))),
            ])
        }
        let paid = relevant.filter { $0.state == .confirmed }.reduce(BigUInt(0)) { $0 + $1.amount }
        let pending = relevant.filter { $0.state == .seen }.reduce(BigUInt(0)) { $0 + $1.amount }
        let confirmationsSoFar = relevant.filter { $0.state == .seen }.compactMap { transfer in head.map { max(0, $0 - transfer.blockNumber + 1) } }.min()
        let missing = (intent.deposit?.amountBaseUnits ?? 0) > paid ? (intent.deposit?.amountBaseUnits ?? 0) - paid : 0

        return .object([
            ("id", .string(intent.id)), ("status", .int(intent.status.rawValue)), ("status_name", .string(intent.status.name)),
            ("store_name", .string(store?.name ?? "")), ("order_id", .stringOrNull(intent.order.orderId)),
            ("order_description", .stringOrNull(intent.order.orderDescription)),
            ("amount_coins", .string(MoneyRules.wireString(intent.amountCoins))), ("coin_symbol", .string(intent.settlementCoin.code)),
            ("fiat", fiat), ("options", .array(options)), ("selected", selected),
            ("paid_amount", .string(MoneyRules.wireString(DecimalAmount(units: paid, scale: decimals)))),
            ("pending_amount", .string(MoneyRules.wireString(DecimalAmount(units: pending, scale: decimals)))),
            ("missing_amount", .string(MoneyRules.wireString(DecimalAmount(units: missing, scale: decimals)))),
            ("confirmations", .object([("current", .intOrNull(confirmationsSoFar)), ("required", .int(required))])),
            ("transactions", .array(transactions)),
            ("tx_hash", .stringOrNull(intent.payment.txHash)), ("tx_hash_2", .stringOrNull(intent.payment.txHash2)),
            ("redirect_url", .stringOrNull(intent.order.redirectURL)),
            ("expires_at", .stringOrNull(intent.deposit.map { CheckoutIntentWire.timestamp($0.expiresAt) })),
            ("error_message", .stringOrNull(intent.payment.errorMessage)),
        ])
    }

    /// `POST /checkout/{id}/deposit` with `{"chain_id": int, "stable_coin": int}`.
    func selectDeposit(id: String, body: [UInt8]) async throws -> JSONValue {
        _ = try await intent(id)
        guard let deposits else { throw APIError(.validation, "this gateway has no payment network configured") }
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
        let quote = try await deposits.select(intentId: id, chainId: chainId, coin: coin)
        return .object([
            ("deposit_address", .string(quote.depositAddress)), ("amount_coins", .string(MoneyRules.wireString(quote.amountCoins))),
            ("amount_base_units", .string(String(quote.amountBaseUnits))), ("token_contract", .string(quote.tokenContract)),
            ("token_symbol", .string(quote.tokenSymbol)), ("decimals", .int(quote.decimals)), ("chain_id", .int(quote.chainId)),
            ("chain_name", .string(quote.chainName)), ("expires_at", .string(CheckoutIntentWire.timestamp(quote.expiresAt))),
            ("payment_uri", .string(quote.paymentURI)),
        ])
    }
}
