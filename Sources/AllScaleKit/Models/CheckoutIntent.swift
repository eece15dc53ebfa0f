#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What to create (docs/WIRE-CONTRACT.md §4.4, §5): priced in fiat (converted at the server's rate) or in
/// a stable coin (no FX). Amounts are integer cents — `amount × 100` whatever the currency.
public struct CreateCheckoutIntent: Sendable, Equatable {
    public enum Pricing: Sendable, Equatable {
        case fiat(FiatCurrency)
        case stableCoin(StableCoin)
    }

    public var pricing: Pricing
    public var amountCents: Int
    public var orderId: String?
    public var orderDescription: String?
    public var userId: String?
    public var userName: String?
    /// Coins the customer may pay with; the first is what a fiat price converts into.
    public var acceptedStableCoins: [StableCoin]?
    /// Where the checkout page sends the customer afterwards (`https`; the sandbox allows `http`).
    public var redirectURL: String?
    /// Anything the merchant wants back in the full GET and in webhooks.
    public var extra: JSONValue?

    public init(pricing: Pricing, amountCents: Int, orderId: String? = nil) {
        self.pricing = pricing
        self.amountCents = amountCents
        self.orderId = orderId
    }

    /// The JSON body, with the exact field names of the Open API.
    public func body() -> JSONValue {
        var members: [(String, JSONValue)] = []
        switch pricing {
        case .fiat(let currency): members.append(("currency", .number(String(currency.rawValue))))
        case .stableCoin(let coin): members.append(("stable_coin", .number(String(coin.rawValue))))
        }
        members.append(("amount_cents", .number(String(amountCents))))
        for (key, value) in [
            ("order_id", orderId), ("order_description", orderDescription), ("user_id", userId), ("user_name", userName),
            ("redirect_url", redirectURL),
        ] {
            if let value { members.append((key, .string(value))) }
        }
        if let acceptedStableCoins { members.append(("accepted_stable_coins", .array(acceptedStableCoins.map { .number(String($0.rawValue)) }))) }
        if let extra { members.append(("extra", extra)) }
        return .object(members)
    }
}

/// The answer to a create: where to send the customer and what they will pay.
public struct CreatedCheckoutIntent: Sendable, Equatable, Codable {
    public let id: String
    public let checkoutURL: String
    /// The coin amount due, an exact decimal string such as `"12.50"`.
    public let amountCoins: String
    public let stableCoinType: StableCoin
    /// Fiat per coin used for a fiat price (exact decimal string); nil for coin pricing.
    public let rate: String?

    enum CodingKeys: String, CodingKey {
        case id = "allscale_checkout_intent_id", checkoutURL = "checkout_url", amountCoins = "amount_coins"
        case stableCoinType = "stable_coin_type", rate
    }
}

/// A checkout intent as the full GET returns it (docs/WIRE-CONTRACT.md §4.6, plus StableGate's documented extras).
/// Amounts are exact decimal strings; never parse them into `Double`.
public struct CheckoutIntent: Sendable, Equatable, Codable {
    public let id: String
    public let status: CheckoutStatus
    public let currency: FiatCurrency?
    public let currencySymbol: String?
    public let amountCents: Int?
    public let currencyRate: String?
    public let amountCoins: String
    public let coinSymbol: String
    public let stableCoinType: StableCoin?
    public let acceptedStableCoins: [StableCoin]?
    public let chainId: Int64?
    public let coinContract: String?
    public let orderId: String?
    public let orderDescription: String?
    public let userId: String?
    public let userName: String?
    public let errorMessage: String?
    public let txHash: String?
    public let txHash2: String?
    public let txFrom: String?
    public let txTo: String?
    public let actualPaidAmount: String?
    public let serviceFeeAmount: String?
    public let netIncomeAmount: String?
    public let paymentMethodType: PaymentMethodType
    public let redirectURL: String?
    public let extra: JSONValue?
    public let checkoutURL: String?
    public let createdAt: String?
    public let updatedAt: String?
    public let depositAddress: String?
    public let expiresAt: String?
    public let settlementStatus: String?
    public let overpaidAmount: String?
    public let latePaidAmount: String?

    enum CodingKeys: String, CodingKey {
        case id = "all_scale_checkout_intent_id", status, currency, currencySymbol = "currency_symbol", amountCents = "amount_cents"
        case currencyRate = "currency_rate", amountCoins = "amount_coins", coinSymbol = "coin_symbol", stableCoinType = "stable_coin_type"
        case acceptedStableCoins = "accepted_stable_coins", chainId = "chain_id", coinContract = "coin_contract", orderId = "order_id"
        case orderDescription = "order_description", userId = "user_id", userName = "user_name", errorMessage = "error_message"
        case txHash = "tx_hash", txHash2 = "tx_hash_2", txFrom = "tx_from", txTo = "tx_to", actualPaidAmount = "actual_paid_amount"
        case serviceFeeAmount = "service_fee_amount", netIncomeAmount = "net_income_amount", paymentMethodType = "payment_method_type"
        case redirectURL = "redirect_url", extra, checkoutURL = "checkout_url", createdAt = "created_at", updatedAt = "updated_at"
        case depositAddress = "deposit_address", expiresAt = "expires_at", settlementStatus = "settlement_status"
        case overpaidAmount = "overpaid_amount", latePaidAmount = "late_paid_amount"
    }
}

/// StableGate's event envelope: `{"event_id", "type", "created_at", "webhook_id", "data"}`; for
/// order events `data` is the full GET object (``intent``). ``WebhookVerifier`` returns it as
/// ``VerifiedWebhook/event(_:)``; AllScale's own checkout payment format is ``AllScaleCheckoutWebhook``.
public struct WebhookEvent: Sendable, Decodable {
    public let eventId: String
    /// `checkout_intent.<status>`, `checkout_intent.late_payment` or `webhook.test`.
    public let type: String
    public let createdAt: String
    /// The endpoint's webhook id, repeated from `X-Webhook-Id` (docs/WIRE-CONTRACT.md §7.4); nil when
    /// the sender does not include it.
    public let webhookId: String?
    public let data: JSONValue

    /// The intent in `data`, for `checkout_intent.*` events (decoded with the event).
    public let intent: CheckoutIntent?

    enum CodingKeys: String, CodingKey { case eventId = "event_id", type, createdAt = "created_at", webhookId = "webhook_id", data }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        eventId = try container.decode(String.self, forKey: .eventId)
        type = try container.decode(String.self, forKey: .type)
        createdAt = try container.decode(String.self, forKey: .createdAt)
        webhookId = try container.decodeIfPresent(String.self, forKey: .webhookId)
        data = try container.decode(JSONValue.self, forKey: .data)
        intent = type.hasPrefix("checkout_intent.") ? try? container.decode(CheckoutIntent.self, forKey: .data) : nil
    }
}
