import BigInt
import Foundation
import StableGateDomain

/// The order export: stable column names (documented in the README), RFC 4180 quoting, exact
/// amounts as plain decimals, times in UTC.
enum OrdersCSV {
    static let columns = [
        "intent_id", "created_at", "updated_at", "status", "status_name", "order_id", "order_description", "user_id", "user_name",
        "currency", "fiat_amount", "rate", "coin", "amount_coins", "chain_id", "coin_contract", "deposit_address", "tx_hash", "tx_from",
        "actual_paid_amount", "service_fee_amount", "net_income_amount", "overpaid_amount", "late_paid_amount", "tx_to", "tx_hash_2",
        "settlement_status", "payment_method_type", "error_message",
    ]

    static var header: String { columns.joined(separator: ",") + "\r\n" }

    static func row(_ intent: CheckoutIntent) -> String {
        var currency = ""
        var fiat = ""
        var rate = ""
        if case .fiat(let code, let cents, let quote, _) = intent.pricing {
            currency = code.code
            fiat = DecimalAmount(units: BigUInt(cents), scale: 2).plainString(minimumFractionDigits: 2)
            rate = quote.plainString()
        }
        let payment = intent.payment
        let values: [String] = [
            intent.id, CheckoutIntentWire.timestamp(intent.createdAt), CheckoutIntentWire.timestamp(intent.updatedAt), String(intent.status.rawValue),
            intent.status.name, intent.order.orderId ?? "", intent.order.orderDescription ?? "", intent.order.userId ?? "",
            intent.order.userName ?? "",
            currency, fiat, rate, intent.settlementCoin.code, MoneyRules.wireString(intent.amountCoins), payment.chainId.map(String.init) ?? "",
            payment.coinContract ?? "", intent.deposit.map { EthereumAddressText.checksummed($0.address) } ?? "", payment.txHash ?? "",
            payment.txFrom.map(EthereumAddressText.checksummed) ?? "", payment.actualPaidAmount.map(MoneyRules.wireString) ?? "",
            payment.serviceFeeAmount.map(MoneyRules.wireString) ?? "", payment.netIncomeAmount.map(MoneyRules.wireString) ?? "",
            intent.overpaidAmount.map(MoneyRules.wireString) ?? "", intent.latePaidAmount.map(MoneyRules.wireString) ?? "",
            payment.txTo.map(EthereumAddressText.checksummed) ?? "", payment.txHash2 ?? "", intent.settlementStatus?.rawValue ?? "",
            payment.paymentMethodType.name, payment.errorMessage ?? "",
        ]
        return values.map(field).joined(separator: ",") + "\r\n"
    }

    /// Quotes a field when it needs it. A leading `=`, `+`, `-` or `@` gets a `'` so a
    /// spreadsheet never runs a merchant's customer's text as a formula.
    static func field(_ value: String) -> String {
        var value = value
        if let first = value.first, "=+-@".contains(first), Decimal(string: value) == nil { value = "'" + value }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
