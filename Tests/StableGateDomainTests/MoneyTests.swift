import BigInt
import Testing

@testable import StableGateDomain

@Suite("Exact money")
struct MoneyTests {
    @Test(
        "Plain decimal text parses exactly; anything else is refused",
        arguments: [
            ("0", true), ("12", true), ("0.5", true), ("10.000001", true), ("007.10", true),
            ("-1", false), ("+1", false), ("1e5", false), (".5", false), ("5.", false), (" 1", false), ("1 ", false),
            ("", false), ("1.2.3", false), ("NaN", false), ("١٢", false), ("1_000", false),
        ])
    func parsing(text: String, valid: Bool) {
        #expect((DecimalAmount(text) != nil) == valid)
    }

    @Test("Comparison and equality ignore trailing zeros")
    func comparison() throws {
        let a = try #require(DecimalAmount("1.50"))
        let b = try #require(DecimalAmount("1.5"))
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(try #require(DecimalAmount("0.1")) < #require(DecimalAmount("0.100001")))
        #expect(try #require(DecimalAmount("2")) > #require(DecimalAmount("1.999999999999999999")))
        #expect(try #require(DecimalAmount("0.25")) + #require(DecimalAmount("0.75")) == DecimalAmount(1))
    }

    @Test(
        "Wire strings have at least two decimals and no exponent",
        arguments: [
            ("10", "10.00"), ("1.5", "1.50"), ("0.923457", "0.923457"), ("0.1000", "0.10"), ("0.000001", "0.000001"),
            ("123456789012345678901234567890", "123456789012345678901234567890.00"),
        ])
    func wireStrings(input: String, expected: String) throws {
        #expect(MoneyRules.wireString(try #require(DecimalAmount(input))) == expected)
    }

    @Test("Base units convert exactly or not at all")
    func baseUnits() throws {
        let amount = try #require(DecimalAmount("12.345678"))
        #expect(amount.baseUnits(decimals: 6) == BigUInt(12_345_678))
        #expect(amount.baseUnits(decimals: 18) == BigUInt("12345678000000000000"))
        #expect(amount.baseUnits(decimals: 5) == nil)
    }

    @Test(
        "JSON number literals parse exactly, exponents included",
        arguments: [
            ("0.85", "0.85"), ("1.5e-3", "0.0015"), ("2E2", "200"), ("1.25e+1", "12.5"), ("42", "42"), ("0.1", "0.1"),
        ])
    func jsonNumbers(literal: String, expected: String) throws {
        #expect(try #require(DecimalAmount(jsonNumber: literal)) == DecimalAmount(expected))
    }

    @Test("Negative or absurd JSON numbers are refused")
    func badJSONNumbers() {
        #expect(DecimalAmount(jsonNumber: "-1") == nil)
        #expect(DecimalAmount(jsonNumber: "1e400") == nil)
    }

    @Test("Stable-coin pricing: amount_cents are coin cents, no FX")
    func stableCoinPricing() {
        #expect(MoneyRules.coinAmount(stableCoinCents: 1000) == DecimalAmount(10))
        #expect(MoneyRules.wireString(MoneyRules.coinAmount(stableCoinCents: 1)) == "0.01")
    }

    @Test(
        "Fiat pricing divides by fiat-per-coin and rounds up to 6 decimals",
        arguments: [
            // (cents, rate, expected coins)
            (Int64(100), "1", "1"),
            (Int64(1000), "0.8528", "11.726079"),  // 10 / 0.8528 = 11.7260787…, rounded up
            (Int64(10000), "147.9", "0.676133"),  // 100 JPY / 147.9 = 0.6761325…
            (Int64(300), "3", "1"),  // exact, no rounding
            (Int64(100), "3", "0.333334"),  // 0.3333333… rounds up, never down
            (Int64(4_211_500), "42115", "1"),  // 42 115 IRR
            (Int64(1_000_000_000_000_000), "0.3056", "32722513089005.235603"),
        ])
    func fiatPricing(cents: Int64, rate: String, expected: String) throws {
        let result = MoneyRules.coinAmount(fiatCents: cents, rate: try #require(DecimalAmount(rate)))
        #expect(result == DecimalAmount(expected))
        #expect(result.scale == MoneyRules.quoteScale)
    }

    @Test("The 0.1 floor is exclusive")
    func floor() throws {
        #expect(!MoneyRules.isAboveMinimum(try #require(DecimalAmount("0.1"))))
        #expect(!MoneyRules.isAboveMinimum(try #require(DecimalAmount("0.05"))))
        #expect(MoneyRules.isAboveMinimum(try #require(DecimalAmount("0.100001"))))
        #expect(MoneyRules.isAboveMinimum(try #require(DecimalAmount("0.11"))))
    }

    @Test("Service fees round down to the base unit, so net + fee == paid")
    func fees() {
        let paid = BigUInt(10_000_001)  // 10.000001 USDT
        let fee = MoneyRules.serviceFee(paidBaseUnits: paid, basisPoints: 100)  // 1 %
        #expect(fee == BigUInt(100_000))  // 0.10000001 rounded down
        #expect(paid - fee + fee == paid)
        #expect(MoneyRules.serviceFee(paidBaseUnits: BigUInt(99), basisPoints: 100) == 0)
        #expect(MoneyRules.serviceFee(paidBaseUnits: BigUInt(1_000_000_000_000_000_000), basisPoints: 25) == BigUInt("2500000000000000"))
    }
}
