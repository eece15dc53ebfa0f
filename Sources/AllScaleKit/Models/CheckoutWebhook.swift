/// AllScale's checkout payment webhook (docs/WIRE-CONTRACT.md §7.3): one flat JSON object, sent when
/// a payment is confirmed. Member names and JSON types are exactly AllScale's; amounts are
/// exact decimal strings — never parse them into `Double`.
///
/// Before crediting an order: check ``isConfirmed``, compare the money with your own order
/// (``amountCents`` + ``currency`` for a fiat price, or ``amountCoins`` + ``coinSymbol`` for
/// native stable-coin pricing, where the fiat members are nil), and dedupe on
/// ``allScaleTransactionId``, which is unique per payment.
public struct AllScaleCheckoutWebhook: Sendable, Equatable, Codable {
    /// `all_scale_transaction_id`: unique per payment — the key to dedupe on.
    public let allScaleTransactionId: String
    /// `all_scale_checkout_intent_id`: the checkout intent that was paid.
    public let allScaleCheckoutIntentId: String
    /// `webhook_id`: the endpoint's id, equal to the `X-Webhook-Id` header (the verifier checks).
    public let webhookId: String
    /// `amount_cents`: the fiat price in cents; nil for native stable-coin pricing.
    public let amountCents: Int?
    /// `currency`: the fiat currency of the price; nil for native stable-coin pricing.
    public let currency: FiatCurrency?
    /// `currency_symbol`, e.g. `USD`; nil for native stable-coin pricing.
    public let currencySymbol: String?
    /// `amount_coins`: the coin amount, an exact decimal string such as `"12.50"`.
    public let amountCoins: String
    /// `coin_symbol`: `USDT` or `USDC`.
    public let coinSymbol: String
    /// `coin_contract_address`: the token contract paid with.
    public let coinContractAddress: String
    /// `chain_id`: the EIP-155 chain id (1 Ethereum, 8453 Base, …).
    public let chainId: Int
    /// `tx_hash`: the customer's transaction.
    public let txHash: String
    /// `tx_from`: the customer's address.
    public let txFrom: String
    /// `payment_method_type`: how the customer paid.
    public let paymentMethodType: PaymentMethodType
    /// `order_id`, as sent at creation.
    public let orderId: String?
    /// `user_id`, as sent at creation.
    public let userId: String?
    /// `user_name`, as sent at creation.
    public let userName: String?
    /// `extra_obj`: the `extra` object sent at creation, or nil.
    public let extraObj: JSONValue?
    /// `status`, when the sender includes it. Absent means confirmed, as AllScale integrations
    /// treat it (docs/WIRE-CONTRACT.md §7.6): see ``isConfirmed``.
    public let status: CheckoutStatus?

    /// Whether this delivery announces a confirmed payment: `status` absent or CONFIRMED (20).
    /// Credit nothing when it is false.
    public var isConfirmed: Bool { (status ?? .confirmed) == .confirmed }

    public init(
        allScaleTransactionId: String, allScaleCheckoutIntentId: String, webhookId: String, amountCents: Int?, currency: FiatCurrency?,
        currencySymbol: String?, amountCoins: String, coinSymbol: String, coinContractAddress: String, chainId: Int, txHash: String, txFrom: String,
        paymentMethodType: PaymentMethodType, orderId: String? = nil, userId: String? = nil, userName: String? = nil, extraObj: JSONValue? = nil,
        status: CheckoutStatus? = nil
    ) {
        self.allScaleTransactionId = allScaleTransactionId
        self.allScaleCheckoutIntentId = allScaleCheckoutIntentId
        self.webhookId = webhookId
        self.amountCents = amountCents
        self.currency = currency
        self.currencySymbol = currencySymbol
        self.amountCoins = amountCoins
        self.coinSymbol = coinSymbol
        self.coinContractAddress = coinContractAddress
        self.chainId = chainId
        self.txHash = txHash
        self.txFrom = txFrom
        self.paymentMethodType = paymentMethodType
        self.orderId = orderId
        self.userId = userId
        self.userName = userName
        self.extraObj = extraObj
        self.status = status
    }

    enum CodingKeys: String, CodingKey {
        case allScaleTransactionId = "all_scale_transaction_id", allScaleCheckoutIntentId = "all_scale_checkout_intent_id", webhookId = "webhook_id"
        case amountCents = "amount_cents", currency, currencySymbol = "currency_symbol", amountCoins = "amount_coins", coinSymbol = "coin_symbol"
        case coinContractAddress = "coin_contract_address", chainId = "chain_id", txHash = "tx_hash", txFrom = "tx_from"
        case paymentMethodType = "payment_method_type", orderId = "order_id", userId = "user_id", userName = "user_name", extraObj = "extra_obj",
            status
    }

    /// Writes every member AllScale always sends, nil ones as JSON `null`; `status` only when set.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(allScaleTransactionId, forKey: .allScaleTransactionId)
        try container.encode(allScaleCheckoutIntentId, forKey: .allScaleCheckoutIntentId)
        try container.encode(webhookId, forKey: .webhookId)
        try container.encode(amountCents, forKey: .amountCents)
        try container.encode(currency, forKey: .currency)
        try container.encode(currencySymbol, forKey: .currencySymbol)
        try container.encode(amountCoins, forKey: .amountCoins)
        try container.encode(coinSymbol, forKey: .coinSymbol)
        try container.encode(coinContractAddress, forKey: .coinContractAddress)
        try container.encode(chainId, forKey: .chainId)
        try container.encode(txHash, forKey: .txHash)
        try container.encode(txFrom, forKey: .txFrom)
        try container.encode(paymentMethodType, forKey: .paymentMethodType)
        try container.encode(orderId, forKey: .orderId)
        try container.encode(userId, forKey: .userId)
        try container.encode(userName, forKey: .userName)
        try container.encode(extraObj, forKey: .extraObj)
        try container.encodeIfPresent(status, forKey: .status)
    }
}
