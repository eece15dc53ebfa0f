import Foundation
import StableGateDomain

/// A source of fiat/USD rates (USDT and USDC track the dollar one to one).
public protocol RateProvider: Sendable {
    /// A short name for logs and errors.
    var name: String { get }
    /// The latest rate for `currency`, or nil when the source has none.
    func rate(for currency: FiatCurrency) async throws -> ExchangeRate?
}

/// Applies the freshness rule on top of a provider and turns every failure into the 50002
/// error a merchant can act on.
public struct RateService: Sendable {
    let provider: any RateProvider
    /// Rates older than this are refused; nil accepts any age.
    let maximumAge: TimeInterval?
    let clock: any WallClock

    public init(provider: any RateProvider, maximumAge: TimeInterval?, clock: any WallClock) {
        self.provider = provider
        self.maximumAge = maximumAge
        self.clock = clock
    }

    /// A usable rate for `currency`.
    public func currentRate(for currency: FiatCurrency) async throws(APIError) -> ExchangeRate {
        let rate: ExchangeRate?
        do {
            rate = try await provider.rate(for: currency)
        } catch {
            throw APIError(
                .createFailed, "exchange rates are unavailable right now (\(provider.name)); retry later or price in stable_coin", field: "currency")
        }
        guard let rate else {
            throw APIError(.createFailed, "no exchange rate is available for \(currency.code) (\(provider.name))", field: "currency")
        }
        if let maximumAge {
            let age = clock.now.timeIntervalSince(rate.asOf)
            guard age <= maximumAge else {
                throw APIError(
                    .createFailed,
                    "the \(currency.code) rate is \(Int(age)) s old, older than the allowed \(Int(maximumAge)) s; retry later or price in stable_coin",
                    field: "currency")
            }
        }
        return rate
    }
}

/// Parses the USD-based rate documents both providers read:
/// `{"base": "USD", "as_of": "2025-10-01T00:00:00Z", "rates": {"EUR": "0.85", …}}` (the
/// snapshot), or the common public-API shape
/// `{"base_code": "USD", "time_last_update_unix": 1727740800, "rates": {"EUR": 0.85, …}}`.
/// Numbers are read from their JSON text, never through floating point.
enum RateDocument {
    struct Parsed {
        let asOf: Date
        let rates: [FiatCurrency: DecimalAmount]
    }

    static func parse(_ bytes: some Collection<UInt8>) throws -> Parsed {
        let json = try JSONParser.parse(bytes)
        let base = json["base"] ?? json["base_code"]
        guard case .string(let baseCode)? = base, baseCode == "USD" else {
            throw RateDocumentError("rate document must be USD-based (\"base\" or \"base_code\": \"USD\")")
        }
        let asOf: Date
        if case .string(let text)? = json["as_of"], let date = try? Date(text, strategy: .iso8601) {
            asOf = date
        } else if case .number(let literal)? = json["time_last_update_unix"] ?? json["timestamp"], let seconds = Int64(literal) {
            asOf = Date(timeIntervalSince1970: TimeInterval(seconds))
        } else {
            throw RateDocumentError("rate document has no as_of / time_last_update_unix / timestamp")
        }
        guard case .object(let members)? = json["rates"] else { throw RateDocumentError("rate document has no rates object") }
        var rates: [FiatCurrency: DecimalAmount] = [:]
        for (code, value) in members {
            guard let currency = FiatCurrency(code: code) else { continue }
            let amount: DecimalAmount?
            switch value {
            case .string(let text): amount = DecimalAmount(text)
            case .number(let literal): amount = DecimalAmount(jsonNumber: literal)
            default: amount = nil
            }
            if let amount, !amount.isZero { rates[currency] = amount }
        }
        return Parsed(asOf: asOf, rates: rates)
    }
}

/// A rate document that cannot be used.
struct RateDocumentError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
