import BigInt
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import StableGateApp
import StableGateDomain
import StableGateStore
import StableGateTestSupport
import Testing

/// The order list (filters, search, keyset pages, totals), CSV export, order detail and
/// overview of the merchant dashboard, against seeded orders whose figures the test knows.
@Suite("Dashboard: orders, export and overview")
struct DashboardOrdersTests {
    /// 2026-11-01T00:00:00Z: seeded orders start here, one an hour.
    static let start = Date(timeIntervalSince1970: 1_793_491_200)
    /// Terminal statuses only: the expiry service leaves them alone.
    static let statuses: [CheckoutStatus] = [.canceled, .underpaid, .confirmed, .failed, .confirmed]

    /// What the test seeded, to compute expectations independently of the gateway.
    struct Seeded {
        let id: String
        let index: Int
        let createdAt: Date
        let status: CheckoutStatus
        let coin: StableCoin
        /// Amount due in micro-units (1 USDT = 1,000,000).
        let dueMicro: Int
        let paidMicro: Int?
        let feeMicro: Int?
        let chainId: Int64?
        let txHash: String?
        var orderId: String { "ORD-\(index)" }
        var netMicro: Int? { paidMicro.map { $0 - feeMicro! } }
    }

    static func amount(_ micro: Int) -> String {
        MoneyRules.wireString(DecimalAmount(units: BigUInt(micro), scale: 6))
    }

    /// Seeds `count` orders of the harness merchant: order i is created at start + i hours,
    /// due 10.00 + 0.07·i coins, with statuses cycling through ``statuses``; confirmed ones
    /// were paid due + i micro-units with a 1 % fee (rounded down) on chain 1 or 56.
    static func seed(_ harness: GatewayHarness, count: Int) async throws -> [Seeded] {
        var rows: [(CheckoutIntent, StatusTransition)] = []
        var seeded: [Seeded] = []
        for index in 0..<count {
            let createdAt = start.addingTimeInterval(Double(index) * 3600)
            let coin: StableCoin = index % 3 == 0 ? .usdc : .usdt
            let cents = 1000 + index * 7
            let description =
                switch index {
                case 3: #", "order_description": "=HYPERLINK(\"http://evil.example\",\"x\")""#
                case 4: #", "order_description": "-1+1+cmd|' /C calc'!A0""#  // starts like a number
                default: ""
                }
            let body =
                #"{"stable_coin": \#(coin.rawValue), "amount_cents": \#(cents), "order_id": "ORD-\#(index)", "user_id": "user-\#(index % 4)"\#(description)}"#
            let request = try CreateCheckoutIntentRequest.parse(body: Array(body.utf8), policy: .init(allowsInsecureRedirect: true))
            var (intent, transition) = try IntentFactory.makeIntent(
                request: request, rate: nil, id: harness.environment.identifiers.objectId(at: createdAt), storeId: harness.merchant.storeId,
                settlementWallet: nil, now: createdAt)
            let status = statuses[index % statuses.count]
            intent.status = status
            var paid: Int?, fee: Int?, chain: Int64?, hash: String?
            if status == .confirmed {
                paid = cents * 10_000 + index
                fee = paid! / 100
                chain = index % 2 == 0 ? 1 : 56
                hash = "0x" + String(repeating: String(format: "%02x", index % 256), count: 32)
                intent.payment.chainId = chain
                intent.payment.txHash = hash
                intent.payment.actualPaidAmount = DecimalAmount(units: BigUInt(paid!), scale: 6)
                intent.payment.serviceFeeAmount = DecimalAmount(units: BigUInt(fee!), scale: 6)
                intent.payment.netIncomeAmount = DecimalAmount(units: BigUInt(paid! - fee!), scale: 6)
                if index % 10 == 2 {
                    // Forwarded on chain: a deposit address (lower case, as stored), the payer,
                    // a second transaction and money beyond the amount due.
                    let deposit = "0x" + String(repeating: "5a", count: 18) + String(format: "%04x", index)
                    intent.deposit = DepositAssignment(
                        address: deposit, tokenDecimals: 6, amountBaseUnits: BigUInt(paid!), expiresAt: createdAt.addingTimeInterval(1800))
                    intent.payment.txFrom = "0x" + String(repeating: "c3", count: 18) + String(format: "%04x", index)
                    intent.payment.txTo = deposit
                    intent.payment.txHash2 = "0x" + String(repeating: String(format: "%02x", (index + 1) % 256), count: 32)
                    intent.settlementStatus = .settled
                    intent.overpaidAmount = DecimalAmount(units: BigUInt(index), scale: 2)
                }
            }
            rows.append((intent, transition))
            seeded.append(
                Seeded(
                    id: intent.id, index: index, createdAt: createdAt, status: status, coin: coin, dueMicro: cents * 10_000,
                    paidMicro: paid, feeMicro: fee, chainId: chain, txHash: hash))
        }
        try await harness.environment.intents.insertAll(rows)
        return seeded
    }

    /// The intent ids listed on an orders page, in order.
    static func listed(_ page: DashboardTestClient.Page) -> [String] {
        page.html.components(separatedBy: #"<a href="/dashboard/orders/"#).dropFirst().map { String($0.prefix(24)) }
    }

    static func nextLink(_ page: DashboardTestClient.Page) -> String? {
        guard let link = try? page.value(after: #"id="next-page" href=""#) else { return nil }
        return link.replacingOccurrences(of: "&amp;", with: "&")
    }

    /// Follows the "Older orders" links from `first` to the last page; the ids listed, in order.
    static func walk(
        _ browser: DashboardTestClient, from first: DashboardTestClient.Page, keeping filter: String? = nil,
        beforeEachPage: (Int) async throws -> Void = { _ in }
    ) async throws -> (ids: [String], pages: Int) {
        var page = first, ids: [String] = [], pages = 1
        while true {
            ids += listed(page)
            guard let next = nextLink(page) else { return (ids, pages) }
            if let filter { #expect(next.contains(filter), "the next link keeps the filter") }
            pages += 1
            try await beforeEachPage(pages)
            page = try await browser.get(next)
        }
    }

    static func totalsLine(_ orders: [Seeded]) -> String {
        let due = orders.reduce(0) { $0 + $1.dueMicro }
        let paid = orders.reduce(0) { $0 + ($1.paidMicro ?? 0) }
        let fees = orders.reduce(0) { $0 + ($1.feeMicro ?? 0) }
        let net = orders.reduce(0) { $0 + ($1.netMicro ?? 0) }
        return
            "\(orders.count == 1 ? "1 order" : "\(orders.count) orders") · due \(amount(due)) · paid \(amount(paid)) · fees \(amount(fees)) · net \(amount(net))"
    }

    /// Seeds `count` orders into a gateway whose clock stands 140 hours after ``start``, then runs
    /// `body` with the harness, a client, the signed-in store owner's browser and the seeded orders.
    static func withSeededOrders(
        _ backend: Backend, count: Int,
        _ body: @Sendable (GatewayHarness, any TestClientProtocol, DashboardTestClient, [Seeded]) async throws -> Void
    ) async throws {
        let clock = ManualClock(start.addingTimeInterval(140 * 3600))
        try await GatewayHarness.with(backend, configure: DashboardAccessTests.fastHashes, clock: clock) { harness in
            let seeded = try await seed(harness, count: count)
            try await harness.test { client in
                try await body(harness, client, try await DashboardStoreTests.owner(harness, client), seeded)
            }
        }
    }

    @Test("Orders list newest first in keyset pages; filters, search and exact totals match what was seeded", arguments: Backend.available)
    func listFilterTotals(backend: Backend) async throws {
        try await Self.withSeededOrders(backend, count: 130) { harness, client, browser, seeded in
            // Pages of 50, newest first, every order exactly once.
            let first = try await browser.get("/dashboard/orders")
            #expect(first.html.contains(Self.totalsLine(seeded)))
            let all = try await Self.walk(browser, from: first) { pageNumber in
                if pageNumber == 2 {
                    // An order arriving meanwhile does not shift the pages that follow.
                    _ = try await client.send(
                        SignedRequest(
                            .post, "/v1/checkout_intents", body: #"{"stable_coin": 1, "amount_cents": 999}"#, as: harness.merchant,
                            at: harness.clock))
                }
            }
            #expect(all.pages == 3)
            #expect(all.ids == seeded.sorted { $0.createdAt > $1.createdAt }.map(\.id))

            let cases: [(String, (Seeded) -> Bool)] = [
                ("status=20", { $0.status == .confirmed }),
                ("status=-1", { $0.status == .failed }),
                ("coin=2", { $0.coin == .usdc }),
                ("chain=56", { $0.chainId == 56 }),
                ("min=11.00&max=12", { $0.dueMicro >= 11_000_000 && $0.dueMicro <= 12_000_000 }),
                (
                    "from=2026-11-02&to=2026-11-03",
                    { $0.createdAt >= Self.start.addingTimeInterval(86_400) && $0.createdAt < Self.start.addingTimeInterval(3 * 86_400) }
                ),
                ("status=20&coin=1&min=15", { $0.status == .confirmed && $0.coin == .usdt && $0.dueMicro >= 15_000_000 }),
                ("q=ORD-7", { $0.index == 7 }),
                ("q=user-1", { $0.index % 4 == 1 }),
                ("q=\(seeded[12].txHash!)", { $0.txHash == seeded[12].txHash }),
                ("q=\(seeded[40].id)", { $0.index == 40 }),
                ("q=ORD-1000", { _ in false }),
            ]
            for (query, matches) in cases {
                let expected = seeded.filter(matches)
                let listing = try await browser.get("/dashboard/orders?" + query)
                #expect(listing.status == .ok)
                #expect(listing.html.contains(Self.totalsLine(expected)), "totals for \(query)")
                let found = try await Self.walk(browser, from: listing, keeping: String(query.split(separator: "&")[0]))
                #expect(found.ids == expected.sorted { $0.createdAt > $1.createdAt }.map(\.id), "orders for \(query)")
            }

            let bad = try await browser.get("/dashboard/orders?status=99&min=ten&from=yesterday")
            #expect(bad.status == .ok && bad.html.contains("Some filters were ignored"))
            #expect(bad.html.contains("unknown status 99") && bad.html.contains("min amount") && bad.html.contains("from must be a date"))
        }
    }

    /// RFC 4180 records of a CSV document.
    static func parseCSV(_ text: String) -> [[String]] {
        var records: [[String]] = [], record: [String] = [], field = "", quoted = false
        var characters = Array(text)[...]
        while let character = characters.popFirst() {
            if quoted {
                if character == "\"" {
                    if characters.first == "\"" {
                        field.append("\"")
                        characters.removeFirst()
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(character)
                }
            } else if character == "\"" {
                quoted = true
            } else if character == "," {
                record.append(field)
                field = ""
            } else if character == "\r\n" || character == "\n" {
                record.append(field)
                records.append(record)
                record = []
                field = ""
            } else {
                field.append(character)
            }
        }
        if !field.isEmpty || !record.isEmpty {
            record.append(field)
            records.append(record)
        }
        return records
    }

    @Test("The CSV export has the documented columns, the filter's rows and exact amounts", arguments: Backend.available)
    func csv(backend: Backend) async throws {
        try await Self.withSeededOrders(backend, count: 1_234) { harness, client, browser, seeded in
            let all = try await browser.get("/dashboard/orders.csv")
            #expect(all.status == .ok)
            #expect(all.headers[.contentType] == "text/csv; charset=utf-8")
            #expect(all.headers[.contentDisposition]?.hasPrefix("attachment; filename=\"orders-") == true)
            let records = Self.parseCSV(all.html)
            #expect(
                records.first == [
                    "intent_id", "created_at", "updated_at", "status", "status_name", "order_id", "order_description", "user_id", "user_name",
                    "currency", "fiat_amount", "rate", "coin", "amount_coins", "chain_id", "coin_contract", "deposit_address", "tx_hash",
                    "tx_from",
                    "actual_paid_amount", "service_fee_amount", "net_income_amount", "overpaid_amount", "late_paid_amount", "tx_to", "tx_hash_2",
                    "settlement_status", "payment_method_type", "error_message",
                ])
            #expect(records.count == 1 + seeded.count, "every order, across the export's internal batches")
            #expect(records.dropFirst().map { $0[0] } == seeded.sorted { $0.createdAt > $1.createdAt }.map(\.id))
            let header = records[0]
            func column(_ row: [String], _ name: String) -> String { row[header.firstIndex(of: name)!] }
            for row in records.dropFirst() {
                let order = seeded.first { $0.id == row[0] }!
                #expect(column(row, "order_id") == order.orderId)
                #expect(column(row, "status") == String(order.status.rawValue) && column(row, "status_name") == order.status.name)
                #expect(column(row, "coin") == order.coin.code)
                #expect(column(row, "amount_coins") == Self.amount(order.dueMicro))
                #expect(column(row, "actual_paid_amount") == (order.paidMicro.map(Self.amount) ?? ""))
                #expect(column(row, "net_income_amount") == (order.netMicro.map(Self.amount) ?? ""))
                #expect(column(row, "tx_hash") == (order.txHash ?? ""))
            }
            // Every cell is what the API's GET answers for that order (which reads the whole
            // intent, not the export's columns), field by field.
            for row in records.dropFirst() {
                let intent = try #require(try await harness.environment.intents.find(id: row[0]))
                let wire = CheckoutIntentWire.fullPayload(intent, checkoutURL: "")
                for name in [
                    "created_at", "updated_at", "order_id", "user_id", "user_name", "chain_id", "coin_contract", "deposit_address", "tx_hash",
                    "tx_from", "actual_paid_amount", "service_fee_amount", "net_income_amount", "overpaid_amount", "late_paid_amount", "tx_to",
                    "tx_hash_2", "settlement_status", "error_message",
                ] {
                    let expected: String =
                        switch wire[name] {
                        case .string(let text): text
                        case .number(let number): number
                        default: ""
                        }
                    #expect(column(row, name) == expected, "\(row[0]) \(name)")
                }
                #expect(column(row, "status") == String(intent.status.rawValue) && column(row, "coin") == intent.settlementCoin.code)
                #expect(column(row, "payment_method_type") == intent.payment.paymentMethodType.name)
            }
            #expect(records.contains { $0.count > 17 && $0[16].hasPrefix("0x") && $0[16] != $0[16].lowercased() }, "deposit addresses are EIP-55")
            let formula = try #require(records.first { $0.count > 6 && $0[5] == "ORD-3" })
            #expect(column(formula, "order_description") == #"'=HYPERLINK("http://evil.example","x")"#, "no formula reaches a spreadsheet")
            let numeric = try #require(records.first { $0.count > 6 && $0[5] == "ORD-4" })
            #expect(column(numeric, "order_description") == "'-1+1+cmd|' /C calc'!A0", "a formula behind a number's first characters is text too")

            let confirmed = Self.parseCSV(try await browser.get("/dashboard/orders.csv?status=20&coin=1").html)
            let expected = seeded.filter { $0.status == .confirmed && $0.coin == .usdt }
            #expect(confirmed.count == 1 + expected.count)
            let paidSum = confirmed.dropFirst().reduce(DecimalAmount.zero) { $0 + DecimalAmount(column($1, "actual_paid_amount"))! }
            #expect(MoneyRules.wireString(paidSum) == Self.amount(expected.reduce(0) { $0 + $1.paidMicro! }))
            let exports = try await AuditLogRepository(database: harness.environment.database).auditLog(storeId: harness.merchant.storeId)
                .filter { $0.action == "orders.exported" }
            #expect(exports.count == 2)
        }
    }

    @Test(
        "Order detail shows every field, money, and the timeline with reasons; the overview counts and charts the seeded volume",
        arguments: Backend.available)
    func detailAndOverview(backend: Backend) async throws {
        try await Self.withSeededOrders(backend, count: 130) { harness, client, browser, seeded in
            let created = try await client.send(
                SignedRequest(
                    .post, "/v1/checkout_intents", body: #"{"currency": 1, "amount_cents": 2500, "order_id": "LIVE-1", "user_id": "shopper-9"}"#,
                    as: harness.merchant, at: harness.clock))
            let id = try #require(created.string("allscale_checkout_intent_id"))
            _ = try await harness.environment.intents.modify(id: id) { intent, _ -> (transitions: [StatusTransition], result: Bool)? in
                let cancel = try IntentStateMachine.transition(
                    &intent, to: .canceled, reason: "canceled by the shopper on the checkout page", at: harness.clock.now)
                return ([cancel], true)
            }
            let detail = try await browser.get("/dashboard/orders/\(id)")
            #expect(detail.status == .ok)
            #expect(
                detail.html.contains("<title>Order LIVE-1 · StableGate</title>") && !detail.html.contains("Order Order"),
                "the page names the order once")
            for text in [
                "Order LIVE-1", "CANCELED", "shopper-9", "amount_coins", "currency_rate", "created through the Open API",
                "canceled by the shopper on the checkout page", "https://pay.example.test" + (try await harness.checkoutPath(id)),
            ] {
                #expect(detail.html.contains(text), "\(text) missing from the order page")
            }
            let paid = seeded.first { $0.status == .confirmed }!
            let paidPage = try await browser.get("/dashboard/orders/\(paid.id)")
            #expect(paidPage.html.contains(Self.amount(paid.feeMicro!)) && paidPage.html.contains(Self.amount(paid.netMicro!)))
            #expect(try await browser.get("/dashboard/orders/0123456789abcdef01234567").status == .notFound)
            #expect(try await browser.get("/dashboard/orders/not-an-id").status == .notFound)

            let overview = try await browser.get("/dashboard")
            let lastWeek = seeded.filter { $0.createdAt >= Self.start.addingTimeInterval(5 * 86_400 - 6 * 86_400) }
            let confirmed = seeded.filter { $0.status == .confirmed }
            #expect(
                overview.html.contains("\(confirmed.count) paid of \(lastWeek.count + 1) orders"),
                "30-day and 7-day counts include the live order")
            #expect(overview.html.contains(Self.amount(confirmed.reduce(0) { $0 + $1.dueMicro }) + " <span class=\"muted\">confirmed</span>"))
            #expect(overview.html.contains("<svg") && overview.html.contains("</svg>"))
            let today = seeded.filter { $0.createdAt >= Self.start.addingTimeInterval(5 * 86_400) }
            #expect(overview.html.contains("paid of \(today.count + 1) orders"), "today's count")
        }
    }
}
