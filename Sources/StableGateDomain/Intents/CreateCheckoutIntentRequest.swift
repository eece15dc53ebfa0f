import Foundation

/// What the validator allows beyond the strict defaults.
public struct ValidationPolicy: Sendable {
    /// Sandbox accepts `http://` redirect URLs; production only `https://` (docs/WIRE-CONTRACT.md §4.4).
    public var allowsInsecureRedirect: Bool

    public init(allowsInsecureRedirect: Bool) {
        self.allowsInsecureRedirect = allowsInsecureRedirect
    }

    /// Field length limits, in characters.
    public static let maximumOrderIdLength = 128
    public static let maximumUserIdLength = 128
    public static let maximumUserNameLength = 256
    public static let maximumOrderDescriptionLength = 1024
    public static let maximumRedirectURLLength = 2048
    /// Largest `extra` object, in bytes of compact JSON.
    public static let maximumExtraBytes = 8192
}

/// A validated `POST /v1/checkout_intents` body.
///
/// Every rule of docs/WIRE-CONTRACT.md §4.4 is checked here, before anything is written: exactly one of
/// `currency` / `stable_coin`, integer enums only, a positive integer `amount_cents`, enabled
/// coins only, bounded strings, an object `extra`, an `https` redirect (or `http` in sandbox),
/// and no unknown fields. Each failure is a 10001 naming the field and why.
public struct CreateCheckoutIntentRequest: Sendable, Equatable {
    /// The requested pricing mode.
    public enum PricingMode: Sendable, Equatable {
        case fiat(FiatCurrency)
        case stableCoin(StableCoin)
    }

    public let pricingMode: PricingMode
    /// The amount × 100 (fiat cents or coin cents).
    public let amountCents: Int64
    /// The coin the customer will pay in: `stable_coin`, else the first of
    /// `accepted_stable_coins`, else USDT.
    public let settlementCoin: StableCoin
    /// Accepted coins, settlement coin first, no duplicates.
    public let acceptedStableCoins: [StableCoin]
    public let order: OrderDetails

    /// Every field the API knows. Anything else is rejected.
    public static let knownFields: Set<String> = [
        "currency", "stable_coin", "amount_cents", "order_id", "order_description", "user_id", "user_name",
        "redirect_url", "extra", "accepted_stable_coins",
    ]

    /// Parses and validates a raw request body.
    public static func parse(body: some Collection<UInt8>, policy: ValidationPolicy) throws(APIError) -> Self {
        guard !body.isEmpty else { throw APIError(.validation, "request body is empty; send a JSON object") }
        let json: JSONValue
        do {
            json = try JSONParser.parse(body)
        } catch {
            throw APIError(.validation, "request body is not valid JSON: \(error)")
        }
        return try parse(json: json, policy: policy)
    }

    /// Validates a parsed body.
    public static func parse(json: JSONValue, policy: ValidationPolicy) throws(APIError) -> Self {
        guard case .object(let members) = json else {
            throw APIError(.validation, "request body must be a JSON object, got \(json.typeName)")
        }
        if let unknown = members.first(where: { !knownFields.contains($0.0) }) {
            throw APIError.invalid(unknown.0, "unknown field")
        }
        let fields = FieldReader(members: members)

        let currencyValue = try fields.integer("currency")
        let stableCoinValue = try fields.integer("stable_coin")
        let pricingMode: PricingMode
        switch (currencyValue, stableCoinValue) {
        case (nil, nil):
            throw APIError(
                .validation, "send exactly one of currency (fiat pricing) or stable_coin (coin pricing); neither was sent", field: "currency")
        case (.some, .some):
            throw APIError(
                .validation, "send exactly one of currency (fiat pricing) or stable_coin (coin pricing); both were sent", field: "currency")
        case (let value?, nil):
            guard let currency = Int(exactly: value).flatMap(FiatCurrency.init(rawValue:)) else {
                throw APIError.invalid("currency", "\(value) is not a currency enum value (1…\(FiatCurrency.allCases.count), Appendix A)")
            }
            pricingMode = .fiat(currency)
        case (nil, let value?):
            pricingMode = .stableCoin(try enabledCoin(value, field: "stable_coin"))
        }

        guard let amountCents = try fields.integer("amount_cents") else {
            throw APIError.invalid("amount_cents", "is required")
        }
        guard amountCents > 0 else {
            throw APIError.invalid("amount_cents", "must be a positive integer, got \(amountCents)")
        }
        guard amountCents <= MoneyRules.maximumAmountCents else {
            throw APIError.invalid("amount_cents", "must be at most \(MoneyRules.maximumAmountCents)")
        }

        var accepted: [StableCoin] = []
        if let list = try fields.array("accepted_stable_coins") {
            guard !list.isEmpty else { throw APIError.invalid("accepted_stable_coins", "must not be empty; omit it or send null") }
            for (index, element) in list.enumerated() {
                let field = "accepted_stable_coins[\(index)]"
                guard case .number(let literal) = element, let value = Int64(literal) else {
                    throw APIError.invalid(field, "must be an integer stable coin enum value, got \(element.typeName)")
                }
                let coin = try enabledCoin(value, field: field)
                guard !accepted.contains(coin) else { throw APIError.invalid(field, "\(coin.code) is listed twice") }
                accepted.append(coin)
            }
        }

        let settlementCoin: StableCoin
        switch pricingMode {
        case .stableCoin(let coin):
            if !accepted.isEmpty, !accepted.contains(coin) {
                throw APIError.invalid("accepted_stable_coins", "must include the pricing stable_coin \(coin.code)")
            }
            settlementCoin = coin
        case .fiat:
            settlementCoin = accepted.first ?? StableCoin.defaultSettlement
        }
        accepted.removeAll { $0 == settlementCoin }
        accepted.insert(settlementCoin, at: 0)

        let order = OrderDetails(
            orderId: try fields.string("order_id", maximumLength: ValidationPolicy.maximumOrderIdLength),
            orderDescription: try fields.string(
                "order_description", maximumLength: ValidationPolicy.maximumOrderDescriptionLength, allowsLineBreaks: true),
            userId: try fields.string("user_id", maximumLength: ValidationPolicy.maximumUserIdLength),
            userName: try fields.string("user_name", maximumLength: ValidationPolicy.maximumUserNameLength),
            redirectURL: try redirectURL(fields, policy: policy),
            extra: try extra(fields)
        )
        return CreateCheckoutIntentRequest(
            pricingMode: pricingMode, amountCents: amountCents, settlementCoin: settlementCoin,
            acceptedStableCoins: accepted, order: order)
    }

    private static func enabledCoin(_ value: Int64, field: String) throws(APIError) -> StableCoin {
        guard let coin = Int(exactly: value).flatMap(StableCoin.init(rawValue:)) else {
            throw APIError.invalid(field, "\(value) is not a stable coin enum value (1…\(StableCoin.allCases.count), Appendix B)")
        }
        guard coin.isEnabled else {
            throw APIError.invalid(field, "\(coin.code) (\(value)) is disabled; use 1 (USDT) or 2 (USDC)")
        }
        return coin
    }

    private static func redirectURL(_ fields: FieldReader, policy: ValidationPolicy) throws(APIError) -> String? {
        guard let text = try fields.string("redirect_url", maximumLength: ValidationPolicy.maximumRedirectURLLength) else {
            return nil
        }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty
        else {
            throw APIError.invalid("redirect_url", "must be an absolute URL such as https://shop.example/return")
        }
        guard components.user == nil, components.password == nil else {
            throw APIError.invalid("redirect_url", "must not contain credentials")
        }
        switch scheme {
        case "https": break
        case "http" where policy.allowsInsecureRedirect: break
        case "http": throw APIError.invalid("redirect_url", "must use https outside the sandbox")
        default: throw APIError.invalid("redirect_url", "must use https, got \(scheme)")
        }
        return text
    }

    private static func extra(_ fields: FieldReader) throws(APIError) -> JSONValue? {
        guard let value = fields.value("extra"), value != .null else { return nil }
        guard case .object = value else {
            throw APIError.invalid("extra", "must be a JSON object or null, got \(value.typeName)")
        }
        guard value.serialized.utf8.count <= ValidationPolicy.maximumExtraBytes else {
            throw APIError.invalid("extra", "must be at most \(ValidationPolicy.maximumExtraBytes) bytes of JSON")
        }
        return value
    }
}

/// Typed access to the members of a request object, each failure naming the field.
struct FieldReader {
    let members: [(String, JSONValue)]

    func value(_ name: String) -> JSONValue? {
        members.first(where: { $0.0 == name })?.1
    }

    /// An integer field; nil when absent or null. Only integer literals are accepted: `1.0`,
    /// `1e3`, `"1"` and `true` are type errors.
    func integer(_ name: String) throws(APIError) -> Int64? {
        guard let value = value(name), value != .null else { return nil }
        guard case .number(let literal) = value else {
            throw APIError.invalid(name, "must be an integer, got \(value.typeName)")
        }
        guard literal.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: "-") }) else {
            throw APIError.invalid(name, "must be an integer, got \(literal)")
        }
        guard let integer = Int64(literal) else {
            throw APIError.invalid(name, "\(literal) is out of range")
        }
        return integer
    }

    /// A string field; nil when absent or null. Must be non-empty, at most `maximumLength`
    /// characters and free of control characters (line breaks allowed only when asked).
    func string(_ name: String, maximumLength: Int, allowsLineBreaks: Bool = false) throws(APIError) -> String? {
        guard let value = value(name), value != .null else { return nil }
        guard case .string(let text) = value else {
            throw APIError.invalid(name, "must be a string or null, got \(value.typeName)")
        }
        guard !text.isEmpty else { throw APIError.invalid(name, "must not be empty; send null instead") }
        guard text.count <= maximumLength else {
            throw APIError.invalid(name, "must be at most \(maximumLength) characters, got \(text.count)")
        }
        for scalar in text.unicodeScalars where scalar.value < 0x20 || scalar.value == 0x7F {
            if allowsLineBreaks, scalar == "\n" || scalar == "\r" || scalar == "\t" { continue }
            throw APIError.invalid(name, "must not contain control characters")
        }
        return text
    }

    /// An array field; nil when absent or null.
    func array(_ name: String) throws(APIError) -> [JSONValue]? {
        guard let value = value(name), value != .null else { return nil }
        guard case .array(let values) = value else {
            throw APIError.invalid(name, "must be an array or null, got \(value.typeName)")
        }
        return values
    }
}
