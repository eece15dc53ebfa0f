import Foundation
import Testing

@testable import StableGateApp

/// The cell rules the dashboard export and the e-mailed report share (`OrdersCSV.field`): no
/// cell reaches a spreadsheet as a formula, numbers stay numbers, RFC 4180 quoting.
struct OrdersCSVTests {
    /// Formula payloads behind every prefix a spreadsheet may start a formula with, including
    /// those whose start is a number (`-1+1…`) that a prefix-reading parser takes for one.
    static let formulas: [String] = [
        "=1+1", "=HYPERLINK(\"http://evil.example\",\"x\")", "=cmd|' /C calc'!A0",
        "+1+1", "+1+cmd|' /C calc'!A0", "+SUM(A1:A2)",
        "-1+1+cmd|' /C calc'!A0", "-2+3", "-1.5+A1", "-1e3", "- 1", "-1.", "-.5", "-", "--1", "-0x10", "-1,5",
        "@SUM(1+1)*cmd|' /C calc'!A0", "@1",
        "\t=1+1", "\t1", "\r=1+1", "\r\n=1+1",
        "＝1+1", "＋1+1", "－1+1", "＠SUM(1)",
    ]

    @Test("Every formula prefix, followed by anything but a whole number, gets a leading quote", arguments: formulas)
    func formulaIsNeutralised(_ cell: String) {
        let field = OrdersCSV.field(cell)
        let unquoted = field.hasPrefix("\"") ? String(field.dropFirst().dropLast()).replacingOccurrences(of: "\"\"", with: "\"") : field
        #expect(unquoted == "'" + cell, "a spreadsheet would read \(cell.debugDescription) as a formula")
    }

    @Test(
        "A cell that is all one number keeps its sign and is not quoted",
        arguments: ["-1", "+1", "-0.5", "+2.50", "-1234567890.123456789", "0", "12.50"])
    func numbersStayNumbers(_ cell: String) {
        #expect(OrdersCSV.field(cell) == cell)
        #expect(OrdersCSV.isPlainNumber(cell))
    }

    @Test("Other text is left as it is, quoted only where RFC 4180 needs it")
    func plainTextAndQuoting() {
        #expect(OrdersCSV.field("ORD-3") == "ORD-3")
        #expect(OrdersCSV.field("a=b") == "a=b", "only the first character can start a formula")
        #expect(OrdersCSV.field("1+1") == "1+1", "a leading digit is not a formula prefix")
        #expect(OrdersCSV.field("a,b") == "\"a,b\"")
        #expect(OrdersCSV.field("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(OrdersCSV.field("line\r\nbreak") == "\"line\r\nbreak\"", "a CRLF inside a cell must not end the record")
        #expect(OrdersCSV.field("line\nbreak") == "\"line\nbreak\"")
        #expect(OrdersCSV.field("line\rbreak") == "\"line\rbreak\"")
        #expect(OrdersCSV.field("=a,b") == "\"'=a,b\"", "neutralised, then quoted")
        #expect(OrdersCSV.field("") == "")
    }
}
