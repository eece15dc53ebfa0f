import Foundation

/// A quote of a fiat currency against the US dollar, which USDT and USDC track one to one.
public struct ExchangeRate: Sendable, Equatable {
    public let currency: FiatCurrency
    /// Fiat units per 1 coin (per 1 USD), e.g. `0.92` for EUR. Always positive.
    public let fiatPerCoin: DecimalAmount
    /// When the source quoted it.
    public let asOf: Date
    /// Where it came from (`snapshot`, or the HTTP provider's URL host).
    public let source: String

    public init(currency: FiatCurrency, fiatPerCoin: DecimalAmount, asOf: Date, source: String) {
        precondition(!fiatPerCoin.isZero, "a rate must be positive")
        self.currency = currency
        self.fiatPerCoin = fiatPerCoin
        self.asOf = asOf
        self.source = source
    }
}
