import Foundation

/// Turns a validated create request (and the rate, for fiat pricing) into a new intent.
public enum IntentFactory {
    /// Prices and builds a CREATED intent with its creation record.
    ///
    /// - Throws: 50002 when the coin amount is at or below the 0.1 floor or above 10^12, or when a fiat
    ///   request comes without a rate for its currency.
    public static func makeIntent(
        request: CreateCheckoutIntentRequest, rate: ExchangeRate?, id: String, storeId: String,
        settlementWallet: String?, now: Date
    ) throws(APIError) -> (CheckoutIntent, StatusTransition) {
        let pricing: Pricing
        let amountCoins: DecimalAmount
        switch request.pricingMode {
        case .stableCoin:
            pricing = .stableCoin(amountCents: request.amountCents)
            amountCoins = MoneyRules.coinAmount(stableCoinCents: request.amountCents)
        case .fiat(let currency):
            guard let rate, rate.currency == currency else {
                throw APIError(.createFailed, "no exchange rate is available for \(currency.code)", field: "currency")
            }
            pricing = .fiat(currency: currency, amountCents: request.amountCents, rate: rate.fiatPerCoin, rateAsOf: rate.asOf)
            amountCoins = MoneyRules.coinAmount(fiatCents: request.amountCents, rate: rate.fiatPerCoin)
        }
        guard MoneyRules.isAboveMinimum(amountCoins) else {
            throw APIError(
                .createFailed,
                "amount is \(MoneyRules.wireString(amountCoins)) \(request.settlementCoin.code); it must be greater than \(MoneyRules.minimumCoinAmount) \(request.settlementCoin.code)",
                field: "amount_cents")
        }
        guard MoneyRules.isWithinMaximum(amountCoins) else {
            throw APIError(
                .createFailed,
                "amount is \(MoneyRules.wireString(amountCoins)) \(request.settlementCoin.code); it must be at most \(MoneyRules.maximumCoinAmount) \(request.settlementCoin.code)",
                field: "amount_cents")
        }
        let intent = CheckoutIntent(
            id: id, storeId: storeId, status: .created, pricing: pricing, settlementCoin: request.settlementCoin,
            acceptedStableCoins: request.acceptedStableCoins, amountCoins: amountCoins, order: request.order,
            payment: PaymentDetails(txTo: settlementWallet), createdAt: now, updatedAt: now)
        return (intent, StatusTransition(from: nil, to: .created, reason: "created through the Open API", at: now))
    }
}
