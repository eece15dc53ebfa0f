import Testing

@testable import StableGateDomain

@Suite("Strict JSON")
struct JSONTests {
    @Test("Parses documents and keeps number literals and key order")
    func parses() throws {
        let value = try JSONParser.parse(#"{"b": 1.50, "a": [true, false, null, "x\u00e9\n"], "c": {"d": -0.0e+1}}"#)
        guard case .object(let members) = value else {
            Issue.record("not an object")
            return
        }
        #expect(members.map(\.0) == ["b", "a", "c"])
        #expect(value["b"] == .number("1.50"))
        #expect(value["a"] == .array([.bool(true), .bool(false), .null, .string("xé\n")]))
        #expect(value["c"]?["d"] == .number("-0.0e+1"))
    }

    @Test("Surrogate pairs decode to one scalar")
    func surrogates() throws {
        #expect(try JSONParser.parse(#""\ud83d\udcb8""#) == .string("💸"))
    }

    @Test(
        "Refuses what a strict parser must",
        arguments: [
            #"{"a": 1, "a": 2}"#,  // duplicate key
            #"[1, 2,]"#,  // trailing comma
            #"{"a": 1,}"#,
            #"01"#,  // leading zero
            #"1."#, #".5"#, #"-"#, #"1e"#,
            #""\ud800""#,  // lone high surrogate
            #""\udc00""#,  // lone low surrogate
            "\"a\u{01}b\"",  // control character
            #"{"a": 1} x"#,  // trailing data
            #"{a: 1}"#,  // unquoted key
            #"'a'"#, #"tru"#, #"nul"#, #""unterminated"#, #""bad \x escape""#, "", "   ",
            #"NaN"#, #"Infinity"#,
        ])
    func refuses(text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
    }

    @Test("Invalid UTF-8 is refused")
    func invalidUTF8() {
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
    }

    @Test("Nesting is limited to 32 levels")
    func depth() throws {
        let ok = String(repeating: "[", count: JSONParser.maximumDepth) + String(repeating: "]", count: JSONParser.maximumDepth)
        _ = try JSONParser.parse(ok)
        let deep = String(repeating: "[", count: JSONParser.maximumDepth + 1) + String(repeating: "]", count: JSONParser.maximumDepth + 1)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deep) }
    }

    @Test("Writer escapes strings, keeps order and explicit nulls, and round-trips")
    func writer() throws {
        let value: JSONValue = .object([
            ("z", .null), ("text", .string("quote\" back\\ nl\n tab\t <script>&\u{01}")), ("n", .number("10.00")),
            ("list", .array([.bool(true), .int(-4)])),
        ])
        let text = value.serialized
        #expect(text == #"{"z":null,"text":"quote\" back\\ nl\n tab\t \u003cscript\u003e\u0026\u0001","n":10.00,"list":[true,-4]}"#)
        #expect(try JSONParser.parse(text) == value)
    }

    @Test("Writer: line separators escaped, other text copied byte for byte, random strings round-trip")
    func writerBytes() throws {
        let value: JSONValue = .string("a\u{2028}b\u{2029}c\u{2027}é€😀\u{7F}\u{1F}\r")
        #expect(value.serialized == #""a\u2028b\u2029c\#u{2027}é€😀\#u{7F}\u001f\r""#)
        #expect(value.serializedBytes == Array(value.serialized.utf8))
        // Every escape at the start, middle and end of a string, between multi-byte text.
        var generator = SystemRandomNumberGenerator()
        let alphabet: [Character] = [
            "a", "\"", "\\", "\n", "\r", "\t", "<", ">", "&", "\u{01}", "\u{1F}", "é", "€", "😀", "\u{2028}", "\u{2029}", "\u{2027}", " ",
        ]
        for _ in 0..<2_000 {
            let text = String((0..<Int.random(in: 0...12, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
            let written = JSONValue.object([(text, .string(text))]).serialized
            #expect(try JSONParser.parse(written) == .object([(text, .string(text))]), "\(written)")
            #expect(!written.contains("<") && !written.contains("\u{2028}") && !written.contains("\n"))
        }
    }
}
