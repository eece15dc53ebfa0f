import Foundation
import StableGateDomain
import StableGateEthereum

/// The wire shapes of a checkout intent, field names exactly as docs/WIRE-CONTRACT.md §4.4 and §4.6 spell them (typos
/// included: `allscale_checkout_intent_id` on create, `all_scale_checkout_intent_id` on GET;
/// `rate` on create, `currency_rate` on GET).
public enum CheckoutIntentWire {
    /// The `payload` of `POST /v1/checkout_intents` (docs/WIRE-CONTRACT.md §4.4).
    public static func createPayload(_ intent: CheckoutIntent, checkoutURL: String) -> JSONValue {
        .object([
            ("checkout_url", .string(checkoutURL)),
            ("allscale_checkout_intent_id", .string(intent.id)),
            ("amount_coins", .string(MoneyRules.wireString(intent.amountCoins))),
            ("stable_coin_type", .int(intent.settlementCoin.rawValue)),
            ("rate", rate(intent)),
        ])
    }

    /// The `payload` of `GET /v1/checkout_intents/{id}` (docs/WIRE-CONTRACT.md §4.6), in the documented order,
    /// followed by StableGate's additions (documented in the README): `stable_coin_type`,
    /// `accepted_stable_coins`, `redirect_url`, `extra`, `checkout_url`, `created_at`,
    /// `updated_at`, `deposit_address`, `expires_at`, `settlement_status`, `overpaid_amount`,
    /// `late_paid_amount`. For stable-coin pricing the fiat fields are null (docs/WIRE-CONTRACT.md §4.6).
    public static func fullPayload(_ intent: CheckoutIntent, checkoutURL: String) -> JSONValue {
        let payment = intent.payment
        let fiat = fiatMembers(intent)
        return .object([
            ("all_scale_checkout_intent_id", .string(intent.id)),
            ("currency", fiat.currency),
            ("currency_symbol", fiat.currencySymbol),
            ("amount_cents", fiat.amountCents),
            ("chain_id", .intOrNull(payment.chainId)),
            ("amount_coins", .string(MoneyRules.wireString(intent.amountCoins))),
            ("coin_symbol", .string(intent.settlementCoin.code)),
            ("coin_contract", .stringOrNull(payment.coinContract)),
            ("currency_rate", rate(intent)),
            ("status", .int(intent.status.rawValue)),
            ("order_id", .stringOrNull(intent.order.orderId)),
            ("order_description", .stringOrNull(intent.order.orderDescription)),
            ("user_id", .stringOrNull(intent.order.userId)),
            ("user_name", .stringOrNull(intent.order.userName)),
            ("error_message", .stringOrNull(payment.errorMessage)),
            ("tx_hash", .stringOrNull(payment.txHash)),
            ("tx_hash_2", .stringOrNull(payment.txHash2)),
            ("tx_from", .stringOrNull(payment.txFrom.map(EthereumAddressText.checksummed))),
            ("tx_to", .stringOrNull(payment.txTo.map(EthereumAddressText.checksummed))),
            ("actual_paid_amount", amount(payment.actualPaidAmount)),
            ("service_fee_amount", amount(payment.serviceFeeAmount)),
            ("net_income_amount", amount(payment.netIncomeAmount)),
            ("payment_method_type", .int(payment.paymentMethodType.rawValue)),
            ("stable_coin_type", .int(intent.settlementCoin.rawValue)),
            ("accepted_stable_coins", .array(intent.acceptedStableCoins.map { .int($0.rawValue) })),
            ("redirect_url", .stringOrNull(intent.order.redirectURL)),
            ("extra", intent.order.extra ?? .null),
            ("checkout_url", .string(checkoutURL)),
            ("created_at", .string(timestamp(intent.createdAt))),
            ("updated_at", .string(timestamp(intent.updatedAt))),
            ("deposit_address", .stringOrNull(intent.deposit.map { EthereumAddressText.checksummed($0.address) })),
            ("expires_at", .stringOrNull(intent.deposit.map { timestamp($0.expiresAt) })),
            ("settlement_status", .stringOrNull(intent.settlementStatus?.rawValue)),
            ("overpaid_amount", amount(intent.overpaidAmount)),
            ("late_paid_amount", amount(intent.latePaidAmount)),
        ])
    }

    /// The body of an AllScale-format webhook for a confirmed payment (docs/WIRE-CONTRACT.md §7.3):
    /// one flat object, members in the documented order with their documented JSON types —
    /// amounts as decimal strings, `amount_cents`/`currency`/`currency_symbol` null for native
    /// stable-coin pricing, `extra_obj` the `extra` sent at creation — and `status` (20), which
    /// integrations that read it find and the others ignore.
    public static func allScaleWebhook(_ intent: CheckoutIntent, transactionId: String, webhookId: String) -> JSONValue {
        let payment = intent.payment
        let fiat = fiatMembers(intent)
        return .object([
            ("all_scale_transaction_id", .string(transactionId)),
            ("all_scale_checkout_intent_id", .string(intent.id)),
            ("webhook_id", .string(webhookId)),
            ("amount_cents", fiat.amountCents),
            ("currency", fiat.currency),
            ("currency_symbol", fiat.currencySymbol),
            ("amount_coins", .string(MoneyRules.wireString(intent.amountCoins))),
            ("coin_symbol", .string(intent.settlementCoin.code)),
            ("coin_contract_address", .string(payment.coinContract ?? "")),
            ("chain_id", .int(payment.chainId ?? 0)),
            ("tx_hash", .string(payment.txHash ?? "")),
            ("tx_from", .string(payment.txFrom.map(EthereumAddressText.checksummed) ?? "")),
            ("payment_method_type", .int(payment.paymentMethodType.rawValue)),
            ("order_id", .stringOrNull(intent.order.orderId)),
            ("user_id", .stringOrNull(intent.order.userId)),
            ("user_name", .stringOrNull(intent.order.userName)),
            ("extra_obj", intent.order.extra ?? .null),
            ("status", .int(intent.status.rawValue)),
        ])
    }

    /// `currency`, `currency_symbol` and `amount_cents`: null for native stable-coin pricing (docs/WIRE-CONTRACT.md §4.6, §7.3).
    private static func fiatMembers(_ intent: CheckoutIntent) -> (currency: JSONValue, currencySymbol: JSONValue, amountCents: JSONValue) {
        guard case .fiat(let fiat, let cents, _, _) = intent.pricing else { return (.null, .null, .null) }
        return (.int(fiat.rawValue), .string(fiat.code), .int(cents))
    }

    private static func rate(_ intent: CheckoutIntent) -> JSONValue {
        if case .fiat(_, _, let rate, _) = intent.pricing { return .string(rate.plainString()) }
        return .null
    }

    private static func amount(_ value: DecimalAmount?) -> JSONValue {
        value.map { .string(MoneyRules.wireString($0)) } ?? .null
    }

    /// RFC 3339 UTC with milliseconds.
    public static func timestamp(_ date: Date) -> String {
        // Whole milliseconds, as stored: the same instant prints the same before and after a round trip.
        UTCTimestamp.iso8601(unixMilliseconds: date.unixMilliseconds)
    }
}

/// Address display for the wire: EIP-55 where the text is an address.
enum EthereumAddressText {
    static func checksummed(_ text: String) -> String {
        // Stored addresses are lower case: checksum them directly; anything else is parsed.
        EthereumAddress.checksummed(lowercaseText: text) ?? EthereumAddress(text)?.checksummed ?? text
    }
}
