import BigInt

/// Every rounding and limit rule for amounts of money, written down once.
///
/// - A checkout intent's coin amount (`amount_coins`) is quoted with at most
///   ``quoteScale`` (6) fractional digits. Every token StableGate accepts has at least 6
///   decimals, so the quote converts to base units exactly on every chain.
/// - Fiat is converted with the rate "fiat units per 1 coin" and the result is rounded **up**
///   to the quote scale, so the merchant never receives less than the fiat price.
/// - `amount_cents` is always the amount × 100, whatever the currency (docs/WIRE-CONTRACT.md §5), so
///   100 JPY is `10000`.
/// - An intent's coin amount must be strictly greater than ``minimumCoinAmount`` (0.1),
///   else the create fails with 50002 (docs/WIRE-CONTRACT.md §5).
/// - The service fee is `paid × bps / 10 000` rounded **down** to the token's base unit, so
///   rounding always favours the merchant; the net is `paid − fee`, exact.
/// - On the wire coin amounts are plain decimal strings with at least two fractional digits
///   (`"10.00"`, `"0.923457"`), rates plain decimal strings as the provider quoted them.
public enum MoneyRules {
    /// Fractional digits of a quoted coin amount.
    public static let quoteScale = 6
    /// Coin amounts at or below this are rejected (50002).
    public static let minimumCoinAmount = DecimalAmount("0.1")!
    /// Largest `amount_cents` accepted (10^15, i.e. ten trillion units of any currency).
    public static let maximumAmountCents: Int64 = 1_000_000_000_000_000
    /// Largest coin amount an intent may ask for (10^12 coins). Quotes are stored as integer
    /// micro-coins in 64 bits (at most ~9.2 × 10^12 coins), and a fiat price in a currency worth
    /// more than a coin converts into more coins than cents, so this is checked after FX (50002).
    public static let maximumCoinAmount = DecimalAmount("1000000000000")!
    /// Basis points in one whole.
    public static let basisPointsPerWhole = 10_000

    /// The coin amount of a stable-coin-priced intent: `amount_cents` is coin cents, no FX.
    public static func coinAmount(stableCoinCents: Int64) -> DecimalAmount {
        precondition(stableCoinCents >= 0)
        return DecimalAmount(units: BigUInt(stableCoinCents), scale: 2)
    }

    /// The coin amount of a fiat-priced intent: `(amount_cents / 100) / rate`, rounded up to
    /// ``quoteScale`` digits. `rate` is fiat units per 1 coin and must be positive.
    public static func coinAmount(fiatCents: Int64, rate: DecimalAmount) -> DecimalAmount {
        precondition(fiatCents >= 0 && !rate.isZero)
        // coins × 10^quoteScale = cents × 10^quoteScale × 10^rate.scale / (100 × rate.units)
        let numerator = BigUInt(fiatCents) * BigUInt(10).power(quoteScale + rate.scale)
        let denominator = BigUInt(100) * rate.units
        let (quotient, remainder) = numerator.quotientAndRemainder(dividingBy: denominator)
        let units = remainder.isZero ? quotient : quotient + 1
        return DecimalAmount(units: units, scale: quoteScale)
    }

    /// What `coins` are worth in fiat at `rate` (fiat units per coin), rounded half up to
    /// cents: the "fiat equivalent" shown in e-mails and reports, never used to price anything.
    public static func fiatEquivalent(coins: DecimalAmount, rate: DecimalAmount) -> DecimalAmount {
        let product = coins.units * rate.units
        let scale = coins.scale + rate.scale
        guard scale > 2 else { return DecimalAmount(units: product * BigUInt(10).power(2 - scale), scale: 2) }
        let divisor = BigUInt(10).power(scale - 2)
        let (quotient, remainder) = product.quotientAndRemainder(dividingBy: divisor)
        return DecimalAmount(units: remainder * 2 >= divisor ? quotient + 1 : quotient, scale: 2)
    }

    /// Whether a coin amount clears the 0.1 floor (strictly greater).
    public static func isAboveMinimum(_ amount: DecimalAmount) -> Bool {
        amount > minimumCoinAmount
    }

    /// Whether `amount` is at most ``maximumCoinAmount``.
    public static func isWithinMaximum(_ amount: DecimalAmount) -> Bool {
        amount <= maximumCoinAmount
    }

    /// The service fee in base units: `paid × bps / 10 000`, rounded down.
    public static func serviceFee(paidBaseUnits: BigUInt, basisPoints: Int) -> BigUInt {
        precondition(basisPoints >= 0 && basisPoints <= basisPointsPerWhole)
        return paidBaseUnits * BigUInt(basisPoints) / BigUInt(basisPointsPerWhole)
    }

    /// The text of a coin amount on the wire (`amount_coins`, `actual_paid_amount`, …).
    public static func wireString(_ amount: DecimalAmount) -> String {
        amount.plainString(minimumFractionDigits: 2)
    }

    /// ``DecimalAmount/plainString(minimumFractionDigits:)`` of decimal text: when the text is
    /// already canonical (as amounts are stored) only missing fraction zeros are added, without
    /// building a `DecimalAmount` — exports print six amounts a row. Nil when the text is not a
    /// decimal.
    public static func plainString(storedText text: String, minimumFractionDigits: Int) -> String? {
        var output: [UInt8] = []
        guard appendPlain(storedText: text, minimumFractionDigits: minimumFractionDigits, to: &output) else { return nil }
        return String(decoding: output, as: UTF8.self)
    }

    /// Appends ``plainString(storedText:minimumFractionDigits:)`` to `output`; false, appending
    /// nothing, when the text is not a decimal.
    public static func appendPlain(storedText text: String, minimumFractionDigits: Int, to output: inout [UInt8]) -> Bool {
        guard let shape = PlainDecimalText(text.utf8) else { return false }
        guard shape.isCanonical else {
            guard let amount = DecimalAmount(text) else { return false }
            output.append(contentsOf: amount.plainString(minimumFractionDigits: minimumFractionDigits).utf8)
            return true
        }
        output.append(contentsOf: text.utf8)
        if shape.fractionDigits < minimumFractionDigits {
            if shape.fractionDigits == 0 { output.append(UInt8(ascii: ".")) }
            for _ in shape.fractionDigits..<minimumFractionDigits { output.append(UInt8(ascii: "0")) }
        }
        return true
    }
}
