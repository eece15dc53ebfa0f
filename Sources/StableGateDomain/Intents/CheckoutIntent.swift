import BigInt
import Foundation

/// How an intent's price was given.
public enum Pricing: Sendable, Equatable {
    /// Priced in fiat: `amount_cents` of `currency`, converted at `rate` (fiat units per coin)
    /// quoted at `rateAsOf`.
    case fiat(currency: FiatCurrency, amountCents: Int64, rate: DecimalAmount, rateAsOf: Date)
    /// Priced natively in the settlement coin; `amount_cents` is coin cents, no FX.
    case stableCoin(amountCents: Int64)

    /// The `amount_cents` the merchant sent, in either mode.
    public var amountCents: Int64 {
        switch self {
        case .fiat(_, let cents, _, _), .stableCoin(let cents): cents
        }
    }
}

/// The optional merchant-supplied fields of an intent, validated (see ``CreateCheckoutIntentRequest``).
public struct OrderDetails: Sendable, Equatable {
    public var orderId: String?
    public var orderDescription: String?
    public var userId: String?
    public var userName: String?
    public var redirectURL: String?
    /// Custom metadata: a JSON object, stored and returned as sent.
    public var extra: JSONValue?

    public init(
        orderId: String? = nil, orderDescription: String? = nil, userId: String? = nil, userName: String? = nil,
        redirectURL: String? = nil, extra: JSONValue? = nil
    ) {
        self.orderId = orderId
        self.orderDescription = orderDescription
        self.userId = userId
        self.userName = userName
        self.redirectURL = redirectURL
        self.extra = extra
    }
}

/// What is known about the payment of an intent (the on-chain fields of docs/WIRE-CONTRACT.md §4.6). Empty until paid.
public struct PaymentDetails: Sendable, Equatable {
    public var chainId: Int64?
    public var coinContract: String?
    public var txHash: String?
    public var txHash2: String?
    public var txFrom: String?
    public var txTo: String?
    public var actualPaidAmount: DecimalAmount?
    public var serviceFeeAmount: DecimalAmount?
    public var netIncomeAmount: DecimalAmount?
    public var paymentMethodType: PaymentMethodType
    public var errorMessage: String?

    public init(
        chainId: Int64? = nil, coinContract: String? = nil, txHash: String? = nil, txHash2: String? = nil,
        txFrom: String? = nil, txTo: String? = nil, actualPaidAmount: DecimalAmount? = nil,
        serviceFeeAmount: DecimalAmount? = nil, netIncomeAmount: DecimalAmount? = nil,
        paymentMethodType: PaymentMethodType = .unknown, errorMessage: String? = nil
    ) {
        self.chainId = chainId
        self.coinContract = coinContract
        self.txHash = txHash
        self.txHash2 = txHash2
        self.txFrom = txFrom
        self.txTo = txTo
        self.actualPaidAmount = actualPaidAmount
        self.serviceFeeAmount = serviceFeeAmount
        self.netIncomeAmount = netIncomeAmount
        self.paymentMethodType = paymentMethodType
        self.errorMessage = errorMessage
    }
}

/// Where and how much the customer pays, once they chose a network and coin.
public struct DepositAssignment: Sendable, Equatable {
    /// The intent's own deposit address (lower-case `0x`), the same on every EVM chain.
    public var address: String
    /// Decimals of the selected token.
    public var tokenDecimals: Int
    /// The amount due in the token's base units.
    public var amountBaseUnits: BigUInt
    /// End of the payment window.
    public var expiresAt: Date

    public init(address: String, tokenDecimals: Int, amountBaseUnits: BigUInt, expiresAt: Date) {
        self.address = address
        self.tokenDecimals = tokenDecimals
        self.amountBaseUnits = amountBaseUnits
        self.expiresAt = expiresAt
    }
}

/// Where the forwarding of received funds stands (StableGate's addition to the wire object).
public enum SettlementStatus: String, Sendable, CaseIterable {
    /// Waiting to be forwarded.
    case pending
    /// Held and not forwarded: KYT flagged the sender, or funds arrived on the wrong chain/coin.
    case held
    /// Forwarding transactions are on their way.
    case sending
    /// The net reached the merchant's wallet and the fee the operator's.
    case settled
    /// Forwarding failed for good; `error_message` says why and the funds stay in the deposit wallet.
    case failed
}

/// A transaction the shopper's browser wallet says it sent (`POST /checkout/{token}/wallet-tx`).
///
/// What a page reports is a hint, never proof: it is kept apart from the on-chain fields of
/// ``PaymentDetails`` (which only detection fills) and only marks the payment method as
/// WALLET_CONNECT once the chain shows a transfer in that very transaction.
public struct WalletReport: Sendable, Equatable {
    /// Lower-case `0x` transaction hash as reported.
    public let transactionHash: String
    /// Lower-case `0x` sender as reported.
    public let from: String

    public init(transactionHash: String, from: String) {
        self.transactionHash = transactionHash
        self.from = from
    }
}

/// A checkout intent: one order a merchant wants paid in a stable coin.
public struct CheckoutIntent: Sendable, Equatable {
    /// 24 lower-case hex characters.
    public let id: String
    /// The store that created it; only that store's keys may read it.
    public let storeId: String
    public var status: CheckoutStatus
    public let pricing: Pricing
    /// The coin the customer pays in (`stable_coin_type`).
    public var settlementCoin: StableCoin
    /// The coins the merchant accepts, settlement coin first.
    public let acceptedStableCoins: [StableCoin]
    /// The exact coin amount due (`amount_coins`), at most ``MoneyRules/quoteScale`` digits.
    public let amountCoins: DecimalAmount
    public let order: OrderDetails
    public var payment: PaymentDetails
    public let createdAt: Date
    public var updatedAt: Date
    /// Set when the customer chose a network and coin.
    public var deposit: DepositAssignment?
    public var settlementStatus: SettlementStatus?
    /// Received beyond the amount due.
    public var overpaidAmount: DecimalAmount?
    /// Received after the intent ended.
    public var latePaidAmount: DecimalAmount?
    /// Optimistic-lock counter: every stored change increments it.
    public var version: Int64
    /// The hosted checkout URL's capability; nil only for rows written before it existed
    /// (migration 7's backfill gives them one at start-up) and for bulk loads that ask none.
    public var checkoutLink: CheckoutLink?
    /// What the shopper's browser wallet reported sending, if anything.
    public var walletReport: WalletReport?

    public init(
        id: String, storeId: String, status: CheckoutStatus, pricing: Pricing, settlementCoin: StableCoin,
        acceptedStableCoins: [StableCoin], amountCoins: DecimalAmount, order: OrderDetails, payment: PaymentDetails,
        createdAt: Date, updatedAt: Date, deposit: DepositAssignment? = nil, settlementStatus: SettlementStatus? = nil,
        overpaidAmount: DecimalAmount? = nil, latePaidAmount: DecimalAmount? = nil, version: Int64 = 0,
        checkoutLink: CheckoutLink? = nil, walletReport: WalletReport? = nil
    ) {
        self.id = id
        self.storeId = storeId
        self.status = status
        self.pricing = pricing
        self.settlementCoin = settlementCoin
        self.acceptedStableCoins = acceptedStableCoins
        self.amountCoins = amountCoins
        self.order = order
        self.payment = payment
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.deposit = deposit
        self.settlementStatus = settlementStatus
        self.overpaidAmount = overpaidAmount
        self.latePaidAmount = latePaidAmount
        self.version = version
        self.checkoutLink = checkoutLink
        self.walletReport = walletReport
    }
}
