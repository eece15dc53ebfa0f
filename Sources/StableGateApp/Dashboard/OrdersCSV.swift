import Foundation
import StableGateDomain
import StableGateEthereum
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

    /// The records of `rows`, in order.
    @Sendable static func records(_ rows: [OrderExportRow]) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(rows.count * 320)
        // By index: `for row in rows` would copy each row (a retain per text field) to hand it over.
        for index in rows.indices { try append(rows[index], to: &out) }
        return out
    }

    /// Appends one order's record (ending in CRLF) to `out`. A stored amount that is not a
    /// decimal is an error naming the order, not a guessed cell.
    static func append(_ row: OrderExportRow, to out: inout [UInt8]) throws {
        func comma() { out.append(UInt8(ascii: ",")) }
        func text(_ value: String?) {
            comma()
            if let value { appendField(value, to: &out) }
        }
        func integer(_ value: Int64?) {
            comma()
            if let value { out.append(contentsOf: String(value).utf8) }
        }
        func amount(_ value: String?, _ column: String) throws {
            comma()
            guard let value else { return }
            guard MoneyRules.appendPlain(storedText: value, minimumFractionDigits: 2, to: &out) else {
                throw StoreDataError("intent \(row.id): \(column) is not a decimal: \(value)")
            }
        }
        /// EIP-55 from stored lower-case text; anything else as the API would print it.
        func address(_ value: String?) {
            comma()
            guard let value, !EthereumAddress.appendChecksummed(lowercaseText: value, to: &out) else { return }
            appendField(EthereumAddressText.checksummed(value), to: &out)
        }
        appendField(row.id, to: &out)
        comma()
        UTCTimestamp.append(unixMilliseconds: row.createdAt, to: &out)
        comma()
        UTCTimestamp.append(unixMilliseconds: row.updatedAt, to: &out)
        integer(Int64(row.status.rawValue))
        text(row.status.name)
        text(row.orderId)
        text(row.orderDescription)
        text(row.userId)
        text(row.userName)
        text(row.fiat?.currency.code)
        comma()
        if let fiat = row.fiat {
            out.append(contentsOf: String(fiat.amountCents / 100).utf8)
            out.append(UInt8(ascii: "."))
            out.append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: fiat.amountCents % 100 / 10))
            out.append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: fiat.amountCents % 10))
            comma()
            guard MoneyRules.appendPlain(storedText: fiat.rate, minimumFractionDigits: 0, to: &out) else {
                throw StoreDataError("intent \(row.id): rate is not a decimal: \(fiat.rate)")
            }
        } else {
            comma()
        }
        text(row.coin.code)
        try amount(row.amountCoins, "amount_coins")
        integer(row.chainId)
        text(row.coinContract)
        let depositStart = out.count + 1
        address(row.depositAddress)
        let deposit = depositStart..<out.count
        text(row.txHash)
        address(row.txFrom)
        try amount(row.actualPaidAmount, "actual_paid_amount")
        try amount(row.serviceFeeAmount, "service_fee_amount")
        try amount(row.netIncomeAmount, "net_income_amount")
        try amount(row.overpaidAmount, "overpaid_amount")
        try amount(row.latePaidAmount, "late_paid_amount")
        if row.txTo != nil, row.txTo == row.depositAddress {
            // The receiving address is almost always the deposit address: one checksum for both.
            comma()
            let copy = Array(out[deposit])  // a copy first: appending while a slice of `out` is alive would copy all of `out`
            out.append(contentsOf: copy)
        } else {
            address(row.txTo)
        }
        text(row.txHash2)
        text(row.settlementStatus.flatMap(SettlementStatus.init(rawValue:))?.rawValue)
        text(row.paymentMethodType.name)
        text(row.errorMessage)
        out.append(UInt8(ascii: "\r"))
        out.append(UInt8(ascii: "\n"))
    }

    /// ``appendField(_:to:)`` as text.
    static func field(_ value: String) -> String {
        var out: [UInt8] = []
        appendField(value, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends a cell, quoted when it needs it (a comma, a quote, a CR or LF), and kept from
    /// running as a spreadsheet formula (OWASP's CSV-injection advice): a cell starting with one
    /// of the formula prefixes (``startsLikeFormula(_:)``) gets a leading `'` — unless the whole
    /// cell is a plain number (``isPlainNumber(_:)``), such as `-1` or `+2.50`. A parser that
    /// reads a numeric prefix (`Decimal(string:)` takes `-1+1+cmd|…` for -1) is not enough.
    static func appendField(_ value: String, to out: inout [UInt8]) {
        var value = value
        value.withUTF8 { utf8 in
            let needsApostrophe = startsLikeFormula(utf8) && !isPlainNumber(utf8)
            var needsQuotes = false
            for byte in utf8 where byte == UInt8(ascii: ",") || byte == UInt8(ascii: "\"") || byte == 0x0A || byte == 0x0D {
                needsQuotes = true
                break
            }
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
    }

    /// Whether the cell starts with a character a spreadsheet may start a formula with: OWASP's
    /// list (`=`, `+`, `-`, `@`, tab, carriage return — so also a cell starting with CRLF) and, as
    /// some spreadsheets read them as their ASCII twins, the full-width `＝ ＋ － ＠` (U+FF1D,
    /// U+FF0B, U+FF0D, U+FF20: `EF BC 9D/8B/8D/A0` in UTF-8). Compared by the first code point,
    /// so a combining mark after `=` does not hide it.
    static func startsLikeFormula(_ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = utf8.first else { return false }
        switch first {
        case UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), 0x09, 0x0D: return true
        case 0xEF: return utf8.count >= 3 && utf8[1] == 0xBC && [0x9D, 0x8B, 0x8D, 0xA0].contains(utf8[2])
        default: return false
        }
    }

    /// Whether all of `value` is one decimal number: an optional sign before what
    /// ``DecimalAmount/init(_:)`` accepts (digits, at most one point with digits on both sides;
    /// no exponent, no spaces, no suffix).
    static func isPlainNumber(_ value: String) -> Bool {
        var value = value
        return value.withUTF8(isPlainNumber)
    }

    static func isPlainNumber(_ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        let unsigned = utf8.first == UInt8(ascii: "+") || utf8.first == UInt8(ascii: "-") ? utf8.dropFirst() : utf8[...]
        return PlainDecimalText(unsigned) != nil
    }
}
