import BigInt

/// An exact, non-negative decimal number: `units × 10^-scale`.
///
/// Every amount of money in StableGate is one of these or an integer of base units — never a
/// `Double`. Parsing accepts only plain decimal text (`"12"`, `"0.5"`, `"10.000001"`): no sign,
/// no exponent, no spaces, so what a client or rate feed sends is exactly what is stored.
public struct DecimalAmount: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The integer significand.
    public let units: BigUInt
    /// How many of the significand's digits are fractional.
    public let scale: Int

    /// Creates `units × 10^-scale`.
    public init(units: BigUInt, scale: Int) {
        precondition(scale >= 0, "scale must not be negative")
        self.units = units
        self.scale = scale
    }

    /// A whole number.
    public init(_ integer: Int) {
        precondition(integer >= 0, "DecimalAmount is non-negative")
        self.init(units: BigUInt(integer), scale: 0)
    }

    /// Parses plain decimal text. Returns nil for anything else (signs, exponents, blanks, `.5`, `5.`).
    public init?(_ text: some StringProtocol) {
        guard let shape = PlainDecimalText(text.utf8) else { return nil }
        let digits = text.utf8.filter { $0 != UInt8(ascii: ".") }
        guard let units = BigUInt(String(decoding: digits, as: UTF8.self), radix: 10) else { return nil }
        self.init(units: units, scale: shape.fractionDigits)
    }

    /// Zero.
    public static let zero = DecimalAmount(units: 0, scale: 0)

    /// True when the value is zero.
    public var isZero: Bool { units.isZero }

    /// The same value expressed with exactly `newScale` fractional digits, or nil when that would
    /// drop non-zero digits.
    public func rescaled(to newScale: Int) -> DecimalAmount? {
        if newScale >= scale {
            return DecimalAmount(units: units * BigUInt(10).power(newScale - scale), scale: newScale)
        }
        let (quotient, remainder) = units.quotientAndRemainder(dividingBy: BigUInt(10).power(scale - newScale))
        return remainder.isZero ? DecimalAmount(units: quotient, scale: newScale) : nil
    }

    /// The value as an integer count of `10^-decimals` units (for example a token's base units),
    /// or nil when the value has more fractional digits than `decimals`.
    public func baseUnits(decimals: Int) -> BigUInt? {
        rescaled(to: decimals)?.units
    }

    /// The same value with trailing fractional zeros removed.
    public var normalized: DecimalAmount {
        var units = self.units
        var scale = self.scale
        while scale > 0 {
            let (quotient, remainder) = units.quotientAndRemainder(dividingBy: 10)
            guard remainder.isZero else { break }
            units = quotient
            scale -= 1
        }
        return DecimalAmount(units: units, scale: scale)
    }

    /// Plain decimal text with at least `minimumFractionDigits` fractional digits and no
    /// trailing zeros beyond them: `10` → `"10.00"` (2), `0.1234500` → `"0.12345"`.
    public func plainString(minimumFractionDigits: Int = 0) -> String {
        let value = normalized
        var digits = String(value.units, radix: 10)
        var scale = value.scale
        if scale < minimumFractionDigits {
            digits += String(repeating: "0", count: minimumFractionDigits - scale)
            scale = minimumFractionDigits
        }
        guard scale > 0 else { return digits }
        if digits.count <= scale {
            digits = String(repeating: "0", count: scale - digits.count + 1) + digits
        }
        let split = digits.index(digits.endIndex, offsetBy: -scale)
        return digits[..<split] + "." + digits[split...]
    }

    public var description: String { plainString() }

    public static func == (lhs: DecimalAmount, rhs: DecimalAmount) -> Bool {
        let scale = max(lhs.scale, rhs.scale)
        return lhs.rescaled(to: scale)!.units == rhs.rescaled(to: scale)!.units
    }

    public func hash(into hasher: inout Hasher) {
        let value = normalized
        hasher.combine(value.units)
        hasher.combine(value.scale)
    }

    public static func < (lhs: DecimalAmount, rhs: DecimalAmount) -> Bool {
        let scale = max(lhs.scale, rhs.scale)
        return lhs.rescaled(to: scale)!.units < rhs.rescaled(to: scale)!.units
    }

    /// Exact sum.
    public static func + (lhs: DecimalAmount, rhs: DecimalAmount) -> DecimalAmount {
        let scale = max(lhs.scale, rhs.scale)
        return DecimalAmount(units: lhs.rescaled(to: scale)!.units + rhs.rescaled(to: scale)!.units, scale: scale)
    }
}

extension DecimalAmount {
    /// Parses a JSON number literal exactly, exponent included (`1.5e-3` → 0.0015). Negative
    /// numbers and exponents beyond ±64 give nil.
    public init?(jsonNumber literal: String) {
        var mantissa = Substring(literal)
        var exponent = 0
        if let marker = literal.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = literal[..<marker]
            guard let value = Int(literal[literal.index(after: marker)...].drop(while: { $0 == "+" })), abs(value) <= 64 else { return nil }
            exponent = value
        }
        guard let base = DecimalAmount(mantissa) else { return nil }
        if exponent >= 0 {
            if exponent <= base.scale {
                self.init(units: base.units, scale: base.scale - exponent)
            } else {
                self.init(units: base.units * BigUInt(10).power(exponent - base.scale), scale: 0)
            }
        } else {
            self.init(units: base.units, scale: base.scale - exponent)
        }
    }
}

/// The shape of plain decimal text — digits, then at most one point with digits on both sides —
/// which is exactly what ``DecimalAmount/init(_:)`` accepts. Checking the shape alone costs no
/// allocation; exports use it to print stored amounts without building a `DecimalAmount`.
public struct PlainDecimalText: Sendable, Equatable {
    /// Digits before the point.
    public let integerDigits: Int
    /// Digits after the point; 0 without one.
    public let fractionDigits: Int
    /// Whether the text is how ``DecimalAmount/plainString(minimumFractionDigits:)`` prints its
    /// value (with no minimum): no leading zero before other integer digits, no trailing
    /// fraction zero.
    public let isCanonical: Bool

    /// The shape of `utf8`, or nil when it is not plain decimal text.
    public init?(_ utf8: some Collection<UInt8>) {
        var integerDigits = 0
        var fractionDigits = 0
        var sawPoint = false
        var first: UInt8 = 0
        var last: UInt8 = 0
        for byte in utf8 {
            if byte == UInt8(ascii: ".") {
                guard !sawPoint else { return nil }
                sawPoint = true
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            if sawPoint { fractionDigits += 1 } else { integerDigits += 1 }
            if integerDigits == 1 && !sawPoint { first = byte }
            last = byte
        }
        guard integerDigits > 0, !sawPoint || fractionDigits > 0 else { return nil }
        self.integerDigits = integerDigits
        self.fractionDigits = fractionDigits
        isCanonical = !(integerDigits > 1 && first == UInt8(ascii: "0")) && !(fractionDigits > 0 && last == UInt8(ascii: "0"))
    }
}
