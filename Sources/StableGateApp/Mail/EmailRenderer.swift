import BigInt
// Full Foundation: DateFormatter and named time zones.
import Foundation
import StableGateDomain
import StableGateEthereum
import StableGateStore

/// What an e-mail says, rendered when it is sent (from the intent or the period as they stand).
struct EmailContent: Sendable {
    let subject: String
    let text: String
    let html: String
    let attachments: [MailMessage.Attachment]
}

/// Turns outbox e-mails into messages: order created/confirmed e-mails and period reports,
/// each with a text and an HTML part (mustache templates `email-*`).
struct EmailRenderer: Sendable {
    let templates: PageTemplates
    let intents: CheckoutIntentRepository
    let merchants: MerchantRepository
    let orders: OrderQueryRepository
    /// For the fiat equivalent of coin-priced orders (USD); nil leaves it out.
    let rates: (any RateProvider)?
    let chains: [ChainConfiguration]
    let publicURL: String
    let reportTimeZone: TimeZone
    /// Larger CSVs are not attached (the e-mail says where to export them instead).
    let attachmentLimit: Int

    /// Why an e-mail cannot be rendered (its intent or store is gone): not worth retrying.
    struct Unrenderable: Error, CustomStringConvertible {
        let description: String
    }

    func render(_ email: EmailRecord) async throws -> EmailContent {
        guard let store = try await merchants.store(id: email.storeId) else {
            throw Unrenderable(description: "store \(email.storeId) no longer exists")
        }
        switch email.kind {
        case .orderCreated, .orderConfirmed:
            guard let intentId = email.intentId, let intent = try await intents.find(id: intentId) else {
                throw Unrenderable(description: "the e-mail's intent is missing")
            }
            return try await orderEmail(intent, store: store, confirmed: email.kind == .orderConfirmed)
        case .report:
            guard let kind = email.reportKind, let label = email.reportLabel, let start = email.reportStart, let end = email.reportEnd else {
                throw Unrenderable(description: "the report e-mail has no period")
            }
            return try await report(store: store, kind: kind, label: label, start: start, end: end)
        }
    }

    // MARK: Orders

    private func orderEmail(_ intent: CheckoutIntent, store: Store, confirmed: Bool) async throws -> EmailContent {
        let coins = "\(MoneyRules.wireString(intent.amountCoins)) \(intent.settlementCoin.code)"
        let orderId = intent.order.orderId ?? intent.id
        let subject = confirmed ? "Paid: order \(orderId), \(coins)" : "New order \(orderId): \(coins)"
        var model = OrderEmail(
            storeName: store.name, orderId: orderId, intentId: intent.id, status: intent.status.name, amount: coins,
            created: DashboardPages.time(intent.createdAt), dashboardLink: "\(publicURL)/dashboard/orders/\(intent.id)", subject: subject,
            headline: confirmed ? "Order \(orderId) is paid" : "New order \(orderId)")
        switch intent.pricing {
        case .fiat(let currency, let cents, let rate, _):
            model.fiat =
                "\(DecimalAmount(units: BigUInt(cents), scale: 2).plainString(minimumFractionDigits: 2)) \(currency.code) (rate \(rate.plainString()) \(currency.code) per \(intent.settlementCoin.code))"
        case .stableCoin:
            if let rate = try? await rates?.rate(for: .usd) {
                model.fiat =
                    "≈ \(MoneyRules.fiatEquivalent(coins: intent.amountCoins, rate: rate.fiatPerCoin).plainString(minimumFractionDigits: 2)) USD"
            }
        }
        if let hash = intent.payment.txHash {
            model.txHash = hash
            if let chain = chains.first(where: { $0.chainId == intent.payment.chainId }) {
                model.network = chain.name
                model.explorer = chain.explorerLink(transaction: hash)
            }
        }
        if let paid = intent.payment.actualPaidAmount {
            model.paid = "\(MoneyRules.wireString(paid)) \(intent.settlementCoin.code)"
            model.fee = "\(MoneyRules.wireString(intent.payment.serviceFeeAmount ?? .zero)) \(intent.settlementCoin.code)"
            model.net = "\(MoneyRules.wireString(intent.payment.netIncomeAmount ?? .zero)) \(intent.settlementCoin.code)"
        }
        return EmailContent(
            subject: subject, text: templates.render(model, "email-order-text"), html: templates.render(model, "email-order-html"), attachments: [])
    }

    // MARK: Reports

    private func report(store: Store, kind: ReportPeriod.Kind, label: String, start: Date, end: Date) async throws -> EmailContent {
        let rows = try await orders.periodSummary(storeId: store.id, from: start, to: end)
        func sum(_ values: [DecimalAmount]) -> String { MoneyRules.wireString(values.reduce(.zero, +)) }
        var byStatus: [(CheckoutStatus, Int, DecimalAmount)] = []
        for status in CheckoutStatus.allCases.reversed() {
            let matching = rows.filter { $0.status == status }
            if !matching.isEmpty { byStatus.append((status, matching.reduce(0) { $0 + $1.count }, matching.map(\.amountDue).reduce(.zero, +))) }
        }
        var networks: [String: [OrderPeriodRow]] = [:]
        for row in rows where row.status == .confirmed || !row.paid.isZero {
            networks["\(chainName(row.chainId))|\(row.coin.code)", default: []].append(row)
        }
        let title = (kind == .daily ? "Daily report " : "Monthly report ") + label
        var model = ReportEmail(
            title: title, storeName: store.name, periodText: periodText(start: start, end: end),
            orderCount: rows.reduce(0) { $0 + $1.count }, confirmedCount: rows.filter { $0.status == .confirmed }.reduce(0) { $0 + $1.count },
            due: sum(rows.map(\.amountDue)), paid: sum(rows.map(\.paid)), fees: sum(rows.map(\.fees)), net: sum(rows.map(\.net)),
            byStatus: byStatus.map { ReportEmail.StatusRow(status: $0.0.name, count: $0.1, due: MoneyRules.wireString($0.2)) },
            byNetwork: networks.keys.sorted().map { key in
                let group = networks[key]!
                let parts = key.split(separator: "|")
                return ReportEmail.NetworkRow(
                    network: String(parts[0]), coin: String(parts[1]), count: group.reduce(0) { $0 + $1.count },
                    paid: sum(group.map(\.paid)), fees: sum(group.map(\.fees)), net: sum(group.map(\.net)))
            },
            dashboardLink: "\(publicURL)/dashboard/orders?from=\(utcDay(start))&to=\(utcDay(end.addingTimeInterval(-1)))")
        // The period's orders as the dashboard exports them, if the file is not too large to mail.
        var csv = Array(OrdersCSV.header.utf8)
        var truncated = false
        var filter = OrderFilter()
        filter.createdFrom = start
        filter.createdBefore = end
        try await orders.forEachExportBatch(storeId: store.id, filter: filter, transform: OrdersCSV.records) { records in
            csv.append(contentsOf: records)
            truncated = csv.count > attachmentLimit
            return !truncated
        }
        let filename = "orders-\(label).csv"
        var attachments: [MailMessage.Attachment] = []
        if truncated {
            let limit = attachmentLimit >= 1_048_576 ? "\(attachmentLimit / 1_048_576) MB" : "\(attachmentLimit) bytes"
            model.attachmentNote = "The period's orders are too many to attach (over \(limit) of CSV): export them from the dashboard's orders page."
        } else {
            attachments = [MailMessage.Attachment(filename: filename, contentType: "text/csv; charset=utf-8", data: csv)]
            model.attachmentNote = "Attached: \(filename), every order created in the period, with the columns of the dashboard's export."
        }
        return EmailContent(
            subject: "\(title) — \(store.name)", text: templates.render(model, "email-report-text"),
            html: templates.render(model, "email-report-html"),
            attachments: attachments)
    }

    private func chainName(_ chainId: Int64?) -> String {
        guard let chainId else { return "no network" }
        return chains.first { $0.chainId == chainId }?.name ?? "chain \(chainId)"
    }

    /// `2026-11-20 00:00 – 2026-11-21 00:00 (Asia/Shanghai)`.
    private func periodText(start: Date, end: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = reportTimeZone
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return "\(formatter.string(from: start)) – \(formatter.string(from: end)) (\(reportTimeZone.identifier))"
    }

    private func utcDay(_ date: Date) -> String {
        String(DashboardPages.time(date).prefix(10))
    }
}

/// An e-mail about one order: created, or paid.
struct OrderEmail: Sendable {
    let storeName, orderId, intentId, status, amount, created, dashboardLink, subject, headline: String
    var fiat, txHash, network, explorer, paid, fee, net: String?
}

/// A daily or monthly report: totals, by status, by network, and the CSV's note.
struct ReportEmail: Sendable {
    struct StatusRow: Sendable {
        let status: String
        let count: Int
        let due: String
    }

    struct NetworkRow: Sendable {
        let network, coin: String
        let count: Int
        let paid, fees, net: String
    }

    let title, storeName, periodText: String
    let orderCount, confirmedCount: Int
    let due, paid, fees, net: String
    let byStatus: [StatusRow]
    let byNetwork: [NetworkRow]
    let dashboardLink: String
    var attachmentNote = ""
}
