import BigInt
import Foundation
import HTTPTypes
import Hummingbird
import StableGateDomain
import StableGateEthereum
import StableGateStore

/// Overview, orders (filter, search, keyset pages, totals, CSV) and order detail.
struct DashboardOrderRoutes {
    let pages: DashboardPages

    /// Queues a webhook event of the order again.
    @Sendable func redeliver(_ request: Request, context: DashboardContext) async throws -> Response {
        let identity = context.identity
        let id = try context.parameters.require("id")
        guard let intent = try await pages.intents.find(id: id), intent.storeId == identity.store.id else { return pages.notFound(identity) }
        guard let event = context.form["event"], try await pages.notifications.redeliver(eventId: event, storeId: identity.store.id) else {
            return pages.notFound(identity)
        }
        try await pages.audit(identity, "webhook.redelivered", .object([("intent_id", .string(id)), ("event_id", .string(event))]))
        return PageTemplates.seeOther("/dashboard/orders/\(id)")
    }

    // MARK: Overview

    @Sendable func overview(_ request: Request, context: DashboardContext) async throws -> Response {
        let identity = context.identity
        let now = pages.clock.now
        let today = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400)
        var periods: [OverviewPage.Period] = []
        for (label, since) in [
            ("Today", today), ("Last 7 days", today.addingTimeInterval(-6 * 86_400)), ("Last 30 days", today.addingTimeInterval(-29 * 86_400)),
        ] {
            let rows = try await pages.orders.summary(storeId: identity.store.id, since: since)
            let confirmed = rows.filter { $0.status == .confirmed }
            periods.append(
                OverviewPage.Period(
                    label: label, count: rows.reduce(0) { $0 + $1.count }, confirmedCount: confirmed.reduce(0) { $0 + $1.count },
                    confirmedAmount: MoneyRules.wireString(confirmed.reduce(DecimalAmount.zero) { $0 + $1.amountDue })))
        }
        let monthStart = today.addingTimeInterval(-29 * 86_400)
        let summary = try await pages.orders.summary(storeId: identity.store.id, since: monthStart).map { row in
            OverviewPage.SummaryRow(
                status: row.status.name, statusValue: row.status.rawValue, network: pages.chainName(row.chainId), count: row.count,
                amount: MoneyRules.wireString(row.amountDue))
        }
        let daily = try await pages.orders.dailyConfirmedVolume(storeId: identity.store.id, since: monthStart)
        let chart = VolumeChart.svg(days: daily.map { ($0.day, $0.amount) }, firstDay: Int64(monthStart.timeIntervalSince1970 / 86_400), dayCount: 30)
        return pages.page(
            "overview", title: "Overview", identity: identity, nav: "overview", OverviewPage(periods: periods, summary: summary, chart: chart))
    }

    // MARK: Orders

    /// The filter in the query string, with what to echo back into the form and any problem.
    private struct ParsedFilter {
        var filter = OrderFilter()
        var echo: [String: String] = [:]
        var problems: [String] = []
        /// The query string of the filter (no cursor), for links.
        var query = ""
    }

    private func parseFilter(_ request: Request) -> ParsedFilter {
        var parsed = ParsedFilter()
        let fields = FormFields.parse(request.uri.query ?? "")
        var kept: [URLQueryItem] = []
        func keep(_ name: String, _ value: String) {
            parsed.echo[name] = value
            kept.append(URLQueryItem(name: name, value: value))
        }
        if let status = fields["status"], !status.isEmpty {
            if let value = Int(status).flatMap(CheckoutStatus.init(rawValue:)) {
                parsed.filter.statuses = [value]
                keep("status", status)
            } else {
                parsed.problems.append("unknown status \(status)")
            }
        }
        for (name, assign) in [
            ("from", { (date: Date) in parsed.filter.createdFrom = date }),
            ("to", { (date: Date) in parsed.filter.createdBefore = date.addingTimeInterval(86_400) }),
        ] {
            guard let text = fields[name], !text.isEmpty else { continue }
            if let date = try? Date(text + "T00:00:00Z", strategy: .iso8601) {
                assign(date)
                keep(name, text)
            } else {
                parsed.problems.append("\(name) must be a date like 2026-11-21")
            }
        }
        if let chain = fields["chain"], !chain.isEmpty {
            if let value = Int64(chain) {
                parsed.filter.chainId = value
                keep("chain", chain)
            } else {
                parsed.problems.append("unknown network")
            }
        }
        if let coin = fields["coin"], !coin.isEmpty {
            if let value = Int(coin).flatMap(StableCoin.init(rawValue:)) {
                parsed.filter.coin = value
                keep("coin", coin)
            } else {
                parsed.problems.append("unknown coin")
            }
        }
        for name in ["min", "max"] {
            guard let text = fields[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { continue }
            if let amount = DecimalAmount(text), amount.baseUnits(decimals: MoneyRules.quoteScale) != nil {
                if name == "min" { parsed.filter.minimumAmount = amount } else { parsed.filter.maximumAmount = amount }
                keep(name, text)
            } else {
                parsed.problems.append("\(name) amount must be a number like 12.50")
            }
        }
        if let search = fields["q"]?.trimmingCharacters(in: .whitespaces), !search.isEmpty {
            parsed.filter.search = String(search.prefix(200))
            keep("q", String(search.prefix(200)))
        }
        var components = URLComponents()
        components.queryItems = kept
        parsed.query = components.percentEncodedQuery ?? ""
        return parsed
    }

    @Sendable func orders(_ request: Request, context: DashboardContext) async throws -> Response {
        let identity = context.identity
        let parsed = parseFilter(request)
        let cursor = request.uri.queryParameters["after"].flatMap { OrderCursor(String($0)) }
        let page = try await pages.orders.page(storeId: identity.store.id, filter: parsed.filter, after: cursor, limit: 50)
        let totals = try await totals(identity, parsed, paging: cursor != nil)
        let rows = page.rows.map { intent in
            var fiat = "—"
            if case .fiat(let currency, let cents, _, _) = intent.pricing {
                fiat = "\(DecimalAmount(units: BigUInt(cents), scale: 2).plainString(minimumFractionDigits: 2)) \(currency.code)"
            }
            return OrdersPage.Row(
                id: intent.id, orderId: intent.order.orderId ?? "(no order id)", created: DashboardPages.time(intent.createdAt), fiat: fiat,
                coins: "\(MoneyRules.wireString(intent.amountCoins)) \(intent.settlementCoin.code)", network: pages.chainName(intent.payment.chainId),
                status: intent.status.name, statusValue: intent.status.rawValue)
        }
        let echo = parsed.echo
        let model = OrdersPage(
            rows: rows, filter: echo, query: parsed.query,
            next: page.next.map { (parsed.query.isEmpty ? "" : parsed.query + "&") + "after=\($0)" },
            totals: OrdersPage.Totals(
                countText: totals.totals.count == 1 ? "1 order" : "\(totals.totals.count) orders",
                due: MoneyRules.wireString(totals.totals.amountDue),
                paid: MoneyRules.wireString(totals.totals.paid), fees: MoneyRules.wireString(totals.totals.fees),
                net: MoneyRules.wireString(totals.totals.net),
                asOf: DashboardPages.time(totals.computedAt)),
            statuses: CheckoutStatus.allCases.map { OrdersPage.Choice(value: String($0.rawValue), name: $0.name, selected: echo["status"]) },
            chains: pages.chains.map { OrdersPage.Choice(value: String($0.chainId), name: $0.name, selected: echo["chain"]) },
            coins: StableCoin.allCases.filter(\.isEnabled).map {
                OrdersPage.Choice(value: String($0.rawValue), name: $0.code, selected: echo["coin"])
            })
        return pages.page(
            "orders", title: "Orders", identity: identity, nav: "orders",
            error: parsed.problems.isEmpty ? nil : "Some filters were ignored: " + parsed.problems.joined(separator: "; "), model)
    }

    /// Exact totals of the filter. Kept totals (status, network, coin, days) are read fresh on
    /// every page: a few thousand rows however many orders. Totals summed from the orders
    /// (amount bounds, searches) are computed on the filter's first page and reused for a
    /// minute by the pages after it — the keyset page itself costs the same at any depth.
    private func totals(_ identity: DashboardIdentity, _ parsed: ParsedFilter, paging: Bool) async throws -> DashboardPages.CachedTotals {
        let key = identity.store.id + "?" + parsed.query
        let now = pages.clock.now
        let compute = {
            DashboardPages.CachedTotals(totals: try await pages.orders.totals(storeId: identity.store.id, filter: parsed.filter), computedAt: now)
        }
        if paging, !OrderTotalsRepository.canAnswer(parsed.filter), let cached = try await pages.totalsCache.value(for: key, now: now, load: compute)
        {
            return cached
        }
        let fresh = try await compute()
        pages.totalsCache.set(fresh, for: key, now: now)
        return fresh
    }

    /// Streams the CSV of the current filter in batches of 5,000 orders, several read and
    /// formatted side by side while the earlier ones are written: memory stays flat however many
    /// orders there are.
    @Sendable func export(_ request: Request, context: DashboardContext) async throws -> Response {
        let identity = context.identity
        let parsed = parseFilter(request)
        let orders = pages.orders
        let storeId = identity.store.id
        var headers = HTTPFields()
        headers[.contentType] = "text/csv; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"orders-\(DashboardPages.time(pages.clock.now).prefix(10)).csv\""
        headers[.cacheControl] = "no-store"
        try await pages.audit(identity, "orders.exported", .object([("filter", .string(parsed.query))]))
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: OrdersCSV.header))
                try await orders.forEachExportBatch(storeId: storeId, filter: parsed.filter, transform: OrdersCSV.records) { records in
                    try await writer.write(ByteBuffer(bytes: records))
                    return true
                }
                try await writer.finish(nil)
            })
    }

    // MARK: Detail

    @Sendable func detail(_ request: Request, context: DashboardContext) async throws -> Response {
        let identity = context.identity
        let id = try context.parameters.require("id")
        guard ObjectIdFormat.isValid(id), let intent = try await pages.intents.find(id: id), intent.storeId == identity.store.id else {
            return pages.notFound(identity)
        }
        let wire = CheckoutIntentWire.fullPayload(intent, checkoutURL: pages.links.url(for: intent))
        var fields: [OrderPage.Field] = []
        var money: [OrderPage.Field] = []
        let moneyFields: Set<String> = [
            "amount_cents", "amount_coins", "currency_rate", "actual_paid_amount", "service_fee_amount", "net_income_amount", "overpaid_amount",
            "late_paid_amount",
        ]
        if case .object(let members) = wire {
            for (name, value) in members {
                let text: String
                switch value {
                case .null: text = "—"
                case .string(let string): text = string
                case .number(let number): text = number
                default: text = value.serialized
                }
                if moneyFields.contains(name) { money.append(.init(name: name, value: text)) } else { fields.append(.init(name: name, value: text)) }
            }
        }
        let timeline = try await pages.intents.transitions(intentId: id).map { transition in
            OrderPage.Transition(
                at: DashboardPages.time(transition.at), to: transition.to.name, value: transition.to.rawValue, reason: transition.reason)
        }
        let transfers = try await pages.transfers.transfers(intentId: id).map { transfer in
            OrderPage.Transfer(
                hash: transfer.transactionHash, from: EthereumAddressText.checksummed(transfer.from),
                amount: MoneyRules.wireString(DecimalAmount(units: transfer.amount, scale: transfer.decimals)), kind: transfer.kind.rawValue,
                state: transfer.state.rawValue, kyt: transfer.screening.rawValue,
                explorer: pages.explorerLink(chainId: transfer.chainId, hash: transfer.transactionHash))
        }
        var sweeps: [OrderPage.Sweep] = []
        for settlement in try await pages.settlements.settlements(intentId: id) {
            for sweep in try await pages.signedTransactions.sweeps(settlementId: settlement.id) {
                sweeps.append(
                    OrderPage.Sweep(
                        hash: sweep.hash, kind: sweep.kind.rawValue, state: sweep.state.rawValue,
                        explorer: pages.explorerLink(chainId: sweep.chainId, hash: sweep.hash)))
            }
        }
        let model = OrderPage(
            orderName: intent.order.orderId ?? id, status: intent.status.name, statusValue: intent.status.rawValue, fields: fields, money: money,
            timeline: timeline, transfers: transfers, sweeps: sweeps, orderIntentId: id,
            deliveries: try await pages.notifications.deliveries(intentId: id), emails: try await pages.notifications.emails(intentId: id))
        return pages.page("order", title: "Order \(intent.order.orderId ?? id)", identity: identity, nav: "orders", model)
    }
}

/// The overview: counts and confirmed volume of three periods, the last 30 days by status
/// and network, and the daily volume chart.
struct OverviewPage: Sendable {
    struct Period: Sendable {
        let label: String
        let count, confirmedCount: Int
        let confirmedAmount: String
    }

    struct SummaryRow: Sendable {
        let status: String
        let statusValue: Int
        let network: String
        let count: Int
        let amount: String
    }

    let periods: [Period]
    let summary: [SummaryRow]
    /// Inline SVG.
    let chart: String
}

/// One page of orders with the filter's totals.
struct OrdersPage: Sendable {
    struct Row: Sendable {
        let id, orderId, created, fiat, coins, network, status: String
        let statusValue: Int
    }

    struct Totals: Sendable {
        let countText, due, paid, fees, net, asOf: String
    }

    /// An option of a filter's drop-down.
    struct Choice: Sendable {
        let value, name: String
        let selected: Bool

        init(value: String, name: String, selected current: String?) {
            self.value = value
            self.name = name
            selected = value == current
        }
    }

    let rows: [Row]
    /// The filter's fields as entered, to fill the form again.
    let filter: [String: String]
    /// The filter as a query string (no cursor), for links.
    let query: String
    /// The next page's query string; nil on the last page.
    let next: String?
    let totals: Totals
    let statuses, chains, coins: [Choice]
}

/// One order: its wire fields, timeline, transfers, forwarding, webhooks and e-mails.
struct OrderPage: Sendable {
    struct Field: Sendable {
        let name, value: String
    }

    struct Transition: Sendable {
        let at, to: String
        let value: Int
        let reason: String
    }

    struct Transfer: Sendable {
        let hash, from, amount, kind, state, kyt: String
        let explorer: String?
    }

    struct Sweep: Sendable {
        let hash, kind, state: String
        let explorer: String?
    }

    let orderName, status: String
    let statusValue: Int
    let fields, money: [Field]
    let timeline: [Transition]
    let transfers: [Transfer]
    let sweeps: [Sweep]
    let orderIntentId: String
    let deliveries: [WebhookDeliveryRow]
    let emails: [EmailRow]
}
