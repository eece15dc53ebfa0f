import Foundation
import StableGateDomain
import StableGateStore

/// The order export: stable column names (documented in the README), RFC 4180 quoting, exact
/// amounts as plain decimals, times in UTC. The dashboard's export and the e-mailed reports'
/// attachment both write their records here.
///
/// Records are written as bytes straight from the stored values (``OrderExportRow``): an export
/// of a million orders is dominated by this loop, so nothing here goes through `Decimal`,
/// Foundation's date formatting or per-cell `String` building.
enum OrdersCSV {
    static let columns = [
        "intent_id", "created_at", "updated_at", "status", "status_name", "order_id", "order_description", "user_id", "user_name",
        "currency", "fiat_amount", "rate", "coin", "amount_coins", "chain_id", "coin_contract", "deposit_address", "tx_hash", "tx_from",
        "actual_paid_amount", "service_fee_amount", "net_income_amount", "overpaid_amount", "late_paid_amount", "tx_to", "tx_hash_2",
        "settlement_status", "payment_method_type", "error_message",
    ]

    static var header: String { columns.joined(separator: ",") + "\r\n" }

    /// Appends one order's record (ending in CRLF) to `out`. A stored amount that is not a
    /// decimal is an error naming the order, not a guessed cell.
    static func append(_ row: OrderExportRow, to out: inout [UInt8]) throws {
        func amount(_ text: String?, _ column: String) throws -> String {
            guard let text else { return "" }
            guard let wire = MoneyRules.wireString(storedText: text) else {
                throw StoreDataError("intent \(row.id): \(column) is not a decimal: \(text)")
            }
            return wire
        }
        let depositAddress = row.depositAddress.map(EthereumAddressText.checksummed) ?? ""
        // The receiving address is almost always the deposit address: one checksum for both.
        let txTo = row.txTo.map { $0 == row.depositAddress ? depositAddress : EthereumAddressText.checksummed($0) } ?? ""
        var fiatAmount = ""
        var rate = ""
        if let fiat = row.fiat {
            fiatAmount = "\(fiat.amountCents / 100)." + (fiat.amountCents % 100 < 10 ? "0" : "") + "\(fiat.amountCents % 100)"
            guard let plain = MoneyRules.plainString(storedText: fiat.rate, minimumFractionDigits: 0) else {
                throw StoreDataError("intent \(row.id): rate is not a decimal: \(fiat.rate)")
            }
            rate = plain
        }
        appendField(row.id, to: &out)
        out.append(UInt8(ascii: ","))
        UTCTimestamp.append(unixMilliseconds: row.createdAt, to: &out)
        out.append(UInt8(ascii: ","))
        UTCTimestamp.append(unixMilliseconds: row.updatedAt, to: &out)
        for value in [
            String(row.status.rawValue), row.status.name, row.orderId ?? "", row.orderDescription ?? "", row.userId ?? "", row.userName ?? "",
            row.fiat?.currency.code ?? "", fiatAmount, rate, row.coin.code, try amount(row.amountCoins, "amount_coins"),
            row.chainId.map { String($0) } ?? "", row.coinContract ?? "", depositAddress, row.txHash ?? "",
            row.txFrom.map(EthereumAddressText.checksummed) ?? "", try amount(row.actualPaidAmount, "actual_paid_amount"),
            try amount(row.serviceFeeAmount, "service_fee_amount"), try amount(row.netIncomeAmount, "net_income_amount"),
            try amount(row.overpaidAmount, "overpaid_amount"), try amount(row.latePaidAmount, "late_paid_amount"), txTo, row.txHash2 ?? "",
            row.settlementStatus.flatMap(SettlementStatus.init(rawValue:))?.rawValue ?? "", row.paymentMethodType.name, row.errorMessage ?? "",
        ] {
            out.append(UInt8(ascii: ","))
            appendField(value, to: &out)
        }
        out.append(UInt8(ascii: "\r"))
        out.append(UInt8(ascii: "\n"))
    }

    /// ``field(_:)`` as text.
    static func field(_ value: String) -> String {
        var out: [UInt8] = []
        appendField(value, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends a cell, quoted when it needs it (a comma, a quote, a CR or LF), and kept from
    /// running as a spreadsheet formula (OWASP's CSV-injection advice): a cell starting with one
    /// of ``formulaPrefixes`` gets a leading `'` — unless the whole cell is a plain number
    /// (``isPlainNumber(_:)``), such as `-1` or `+2.50`. A parser that reads a numeric prefix
    /// (`Decimal(string:)` takes `-1+1+cmd|…` for -1) is not enough.
    static func appendField(_ value: String, to out: inout [UInt8]) {
        let utf8 = value.utf8
        let needsApostrophe = value.unicodeScalars.first.map(formulaPrefixes.contains) == true && !isPlainNumber(value)
        let needsQuotes = utf8.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }
        if needsQuotes { out.append(UInt8(ascii: "\"")) }
        if needsApostrophe { out.append(UInt8(ascii: "'")) }
        if needsQuotes {
            for byte in utf8 {
                out.append(byte)
                if byte == UInt8(ascii: "\"") { out.append(byte) }
            }
            out.append(UInt8(ascii: "\""))
        } else {
            out.append(contentsOf: utf8)
        }
    }

    /// The first characters with which a spreadsheet may start a formula: OWASP's list (`=`,
    /// `+`, `-`, `@`, tab, carriage return — so also a cell starting with CRLF) and, as some
    /// spreadsheets read them as their ASCII twins, the full-width `＝ ＋ － ＠`. Compared by
    /// the cell's first Unicode scalar, so a combining mark after `=` does not hide it.
    static let formulaPrefixes: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠"]

    /// Whether all of `value` is one decimal number: an optional sign before what
    /// ``DecimalAmount/init(_:)`` accepts (digits, at most one point with digits on both sides;
    /// no exponent, no spaces, no suffix).
    static func isPlainNumber(_ value: String) -> Bool {
        let utf8 = value.utf8
        let unsigned = utf8.first == UInt8(ascii: "+") || utf8.first == UInt8(ascii: "-") ? utf8.dropFirst() : utf8[...]
        return PlainDecimalText(unsigned) != nil
    }
}
