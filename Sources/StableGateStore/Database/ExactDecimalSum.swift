import SQLiteNIO
import StableGateDomain

/// `decimal_sum(text)`: an exact SQL SUM over decimal text columns (amounts stored as text so
/// 18-decimal tokens fit), installed on every SQLite connection. PostgreSQL sums the same text
/// exactly as NUMERIC; ``DatabaseDialect/decimalSum(_:)`` writes the right SQL for each.
///
/// Amounts with at most 18 digits on either side of the point (every stablecoin amount) are
/// summed in 128-bit integers without allocating; anything longer falls back to
/// ``DecimalAmount``. Either way the result is exact.
struct ExactDecimalSum: SQLiteCustomAggregate {
    /// The integer parts, and the fractions in units of 10^-18.
    private var integers: UInt128 = 0
    private var fractions: UInt128 = 0
    /// The most fraction digits seen: the result's scale, as a sum of DecimalAmounts has.
    private var scale = 0
    private var overflow: DecimalAmount?
    private var sawValue = false

    init() {}

    private static let fractionUnit: UInt64 = 1_000_000_000_000_000_000

    mutating func step(_ values: [SQLiteData]) throws {
        guard let text = values.first?.string else { return }  // NULLs are skipped, as SUM does
        sawValue = true
        if addFast(text) { return }
        guard let amount = DecimalAmount(text) else { throw SQLiteCustomFunctionError(message: "decimal_sum: not a decimal: \(text)") }
        overflow = (overflow ?? .zero) + amount
        scale = max(scale, amount.scale)
    }

    /// Adds `123.456`-shaped text of ≤ 18 + 18 digits; false for anything else.
    private mutating func addFast(_ text: String) -> Bool {
        var integer: UInt64 = 0, fraction: UInt64 = 0
        var integerDigits = 0, fractionDigits = 0, inFraction = false
        for byte in text.utf8 {
            if byte == UInt8(ascii: ".") {
                guard !inFraction, integerDigits > 0 else { return false }
                inFraction = true
                continue
            }
            guard byte >= 0x30, byte <= 0x39 else { return false }
            let digit = UInt64(byte - 0x30)
            if inFraction {
                fractionDigits += 1
                guard fractionDigits <= 18 else { return false }
                fraction = fraction * 10 + digit
            } else {
                integerDigits += 1
                guard integerDigits <= 18 else { return false }
                integer = integer * 10 + digit
            }
        }
        guard integerDigits > 0, !inFraction || fractionDigits > 0 else { return false }
        var scaled = fraction
        for _ in fractionDigits..<18 { scaled *= 10 }
        integers += UInt128(integer)
        fractions += UInt128(scaled)
        scale = max(scale, fractionDigits)
        return true
    }

    func finalize() throws -> (any SQLiteDataConvertible)? {
        guard sawValue else { return nil }
        let unit = UInt128(Self.fractionUnit)
        let whole = integers + fractions / unit
        var fraction = String(UInt64(fractions % unit))
        fraction = String(repeating: "0", count: 18 - fraction.count) + fraction
        let fast = String(whole) + (scale > 0 ? "." + fraction.prefix(scale) : "")
        guard let overflow else { return fast }
        guard let exact = DecimalAmount(fast) else { throw SQLiteCustomFunctionError(message: "decimal_sum: cannot combine \(fast)") }
        return (exact + overflow).plainString()
    }

    static let function = SQLiteCustomFunction("decimal_sum", argumentCount: 1, pure: true, aggregate: ExactDecimalSum.self)
}

/// An error raised inside a custom SQLite function.
struct SQLiteCustomFunctionError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

extension DatabaseDialect {
    /// SQL for the exact sum of a decimal-text column, as text (NULL when there is nothing).
    public func decimalSum(_ column: String) -> String {
        switch self {
        case .sqlite: "decimal_sum(\(column))"
        case .postgres: "CAST(SUM(CAST(\(column) AS NUMERIC)) AS TEXT)"
        }
    }
}
