import Foundation
import Testing

@testable import StableGateDomain

/// The allocation-free paths exports print with must print exactly what the general ones do:
/// timestamps in ISO 8601 to the millisecond, stored amounts as `DecimalAmount` would.
@Suite("Export formatting: timestamps and stored amounts")
struct ExportFormattingTests {
    /// The expected text, independently: Foundation's ISO 8601 text of the whole second (an
    /// integer, so exact as a `Double`), with the milliseconds written in by integer arithmetic.
    /// (Foundation's own fractional seconds come from a binary `Double` and print
    /// `…00.998Z` for 999 ms; the wire printed those a millisecond early before this formatter.)
    static func expected(_ milliseconds: Int64) -> String {
        let seconds = Date(timeIntervalSince1970: Double(milliseconds / 1000)).formatted(Date.ISO8601FormatStyle())
        return seconds.dropLast() + "." + String(String(milliseconds % 1000 + 1000).dropFirst()) + "Z"
    }

    @Test("UTC timestamps: edges of days, months, leap years and centuries, and 20,000 random instants, to the millisecond")
    func timestamps() {
        let edges: [Int64] = [
            0, 999, 1000, 86_399_999, 86_400_000, 951_782_399_999, 951_782_400_000, 951_868_800_000, 1_767_225_599_999, 1_767_225_600_000,
            4_107_542_399_999, 4_107_542_400_000, 4_102_444_800_000, 32_503_680_000_000, 253_402_300_799_999,
        ]
        #expect(UTCTimestamp.iso8601(unixMilliseconds: 951_782_399_999) == "2000-02-28T23:59:59.999Z")
        #expect(UTCTimestamp.iso8601(unixMilliseconds: 951_868_800_000) == "2000-03-01T00:00:00.000Z", "2000 is a leap year")
        #expect(UTCTimestamp.iso8601(unixMilliseconds: 4_107_542_400_000) == "2100-03-01T00:00:00.000Z", "2100 is not")
        for milliseconds in edges {
            #expect(UTCTimestamp.iso8601(unixMilliseconds: milliseconds) == Self.expected(milliseconds), "\(milliseconds)")
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let milliseconds = Int64.random(in: 0...253_402_300_799_999, using: &generator)
            let text = UTCTimestamp.iso8601(unixMilliseconds: milliseconds)
            #expect(text == Self.expected(milliseconds), "\(milliseconds)")
            if text != Self.expected(milliseconds) { break }
        }
    }

    @Test("A stored amount prints as DecimalAmount prints it, canonical or not, and non-decimals are refused")
    func storedAmounts() {
        var texts = [
            "0", "5", "10", "0.5", "0.05", "12.34", "1.123456", "431.620998", "0.000000000000000001", "123456789012345678901234567890.5",
            "007", "007.50", "0.0", "10.500", "00", "1.10",
        ]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let integer = String(UInt64.random(in: 0...1_000_000_000, using: &generator))
            let fraction = String(UInt64.random(in: 0...999_999, using: &generator))
            texts.append(Bool.random(using: &generator) ? integer : integer + "." + fraction)
        }
        for text in texts {
            for minimum in [0, 2] {
                #expect(
                    MoneyRules.plainString(storedText: text, minimumFractionDigits: minimum)
                        == DecimalAmount(text)!.plainString(minimumFractionDigits: minimum), "\(text), \(minimum)")
            }
            #expect(MoneyRules.plainString(storedText: text, minimumFractionDigits: 2) == MoneyRules.wireString(DecimalAmount(text)!))
        }
        for text in ["", ".", "1.", ".5", "1.2.3", "-1", "+1", "1e3", " 1", "1 ", "abc", "１"] {
            #expect(MoneyRules.plainString(storedText: text, minimumFractionDigits: 2) == nil, "\(text)")
            #expect(PlainDecimalText(text.utf8) == nil && DecimalAmount(text) == nil, "\(text)")
        }
    }
}
