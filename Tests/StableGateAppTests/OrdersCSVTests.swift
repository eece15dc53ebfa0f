import Foundation
import StableGateDomain
import Testing

@testable import StableGateApp
@testable import StableGateStore

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

    static func record(
        fiat: OrderExportRow.Fiat?, paid: String? = "0.05", description: String? = "say \"hi\"\r\nbye"
    ) -> OrderExportRow {
        OrderExportRow(
            id: "6a5f00000000000000000001", createdAt: 1_767_225_600_000, updatedAt: 1_767_225_600_001, status: .confirmed, orderId: "A,1",
            orderDescription: description, userId: nil, userName: "=1+1", fiat: fiat, coin: .usdt, amountCoins: "0.05", chainId: 56,
            coinContract: "0x55d398326f99059ff775485246999027b3197955", depositAddress: "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
            txHash: "0x01", txFrom: "0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359", actualPaidAmount: paid, serviceFeeAmount: "0.0005",
            netIncomeAmount: "0.0495", overpaidAmount: nil, latePaidAmount: "1", txTo: "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
            txHash2: nil, settlementStatus: "settled", paymentMethodType: .walletScan, errorMessage: nil)
    }

    @Test("A record is written byte for byte: UTC milliseconds, cents and rate as decimals, EIP-55 addresses, neutralised and quoted text")
    func wholeRecord() throws {
        var out: [UInt8] = []
        try OrdersCSV.append(Self.record(fiat: .init(currency: .eur, amountCents: 5, rate: "0.852800")), to: &out)
        try OrdersCSV.append(Self.record(fiat: nil, description: nil), to: &out)
        #expect(
            String(decoding: out, as: UTF8.self)
                == "6a5f00000000000000000001,2026-01-01T00:00:00.000Z,2026-01-01T00:00:00.001Z,20,CONFIRMED,\"A,1\",\"say \"\"hi\"\"\r\nbye\",,'=1+1,"
                + "EUR,0.05,0.8528,USDT,0.05,56,0x55d398326f99059ff775485246999027b3197955,0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed,0x01,"
                + "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359,0.05,0.0005,0.0495,,1.00,0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed,,settled,"
                + "WALLET_SCAN,\r\n"
                + "6a5f00000000000000000001,2026-01-01T00:00:00.000Z,2026-01-01T00:00:00.001Z,20,CONFIRMED,\"A,1\",,,'=1+1,"
                + ",,,USDT,0.05,56,0x55d398326f99059ff775485246999027b3197955,0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed,0x01,"
                + "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359,0.05,0.0005,0.0495,,1.00,0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed,,settled,"
                + "WALLET_SCAN,\r\n")
    }

    @Test("A stored amount that is not a decimal fails the export, naming the order and the column")
    func corruptAmount() {
        var out: [UInt8] = []
        #expect(throws: StoreDataError.self) { try OrdersCSV.append(Self.record(fiat: nil, paid: "1e3"), to: &out) }
        do {
            try OrdersCSV.append(Self.record(fiat: nil, paid: "1e3"), to: &out)
        } catch {
            #expect("\(error)".contains("6a5f00000000000000000001") && "\(error)".contains("actual_paid_amount"))
        }
    }
}
