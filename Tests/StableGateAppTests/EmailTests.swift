import BigInt
import Foundation
import HummingbirdTesting
import StableGateDomain
import StableGatePayments
import StableGateStore
import StableGateTestSupport
import Synchronization
import Testing

@testable import StableGateApp

/// E-mail against a real SMTP server (aiosmtpd, tools/smtp-sink): the SMTP client's TLS, AUTH
/// and failures, order e-mails from the outbox, and scheduled reports on a manual clock.
@Suite("E-mail: SMTP client, order e-mails, reports")
struct EmailTests {
    static let password = "sink-password"

    static func smtp(
        _ sink: SMTPSink, security: SMTPConfiguration.Security = .starttls, password: String = password, trust: Bool = true
    ) -> SMTPConfiguration {
        var smtp = SMTPConfiguration(host: "localhost", from: "gateway@pay.example.test")
        smtp.port = sink.port
        smtp.security = security
        smtp.username = "stablegate"
        smtp.password = password
        smtp.caFile = trust ? sink.caFile : nil
        smtp.timeout = 10
        return smtp
    }

    static func message(to: [String] = ["ops@shop.example", "finance@shop.example"]) -> MailMessage {
        MailMessage(
            from: "gateway@pay.example.test", fromName: "StableGate", to: to, subject: "Daily report 2026-11-20 — Zoë's 支付 shop",
            text: "Totals\n.a line that starts with a dot\n", html: "<p>Totals</p>",
            attachments: [
                .init(
                    filename: "orders-2026-11-20.csv", contentType: "text/csv; charset=utf-8", data: Array("intent_id,amount\r\nabc,\"1,5\"\r\n".utf8)
                )
            ],
            messageId: "test-1@pay.example.test", date: Date())
    }

    @Test("STARTTLS or implicit TLS with a verified certificate, AUTH, and a message a mail client reads back exactly", arguments: [false, true])
    func smtpDelivers(implicitTLS: Bool) async throws {
        let sink = try SMTPSink.start(implicitTLS: implicitTLS)
        defer { sink.stop() }
        let message = Self.message()
        try await SMTPClient(configuration: Self.smtp(sink, security: implicitTLS ? .tls : .starttls))
            .send(message.rendered(boundarySeed: "b1"), to: message.to)
        let received = try #require(try sink.messages().first)
        #expect(received.tls && received.authenticated)
        #expect(received.mailFrom == "gateway@pay.example.test" && received.recipients == ["ops@shop.example", "finance@shop.example"])
        let parsed = ParsedMail(received.raw)
        #expect(parsed.subject == "Daily report 2026-11-20 — Zoë's 支付 shop")
        #expect(parsed.text == "Totals\n.a line that starts with a dot\n", "dot-stuffing undone by the server, nothing lost")
        #expect(parsed.html == "<p>Totals</p>")
        #expect(parsed.attachment(named: "orders-2026-11-20.csv") == Array("intent_id,amount\r\nabc,\"1,5\"\r\n".utf8))
        #expect(parsed.headers["message-id"] == "<test-1@pay.example.test>")
    }

    @Test(
        "Refusals: a wrong password and a 550 are permanent; an untrusted certificate, no STARTTLS, a closed port and a silent server are transient")
    func smtpFailures() async throws {
        let message = Self.message()
        let sink = try SMTPSink.start()
        defer { sink.stop() }
        try await Self.expectRefusal(message, via: Self.smtp(sink, password: "wrong"), ifAccepted: "a wrong password was accepted") { error in
            #expect(error.permanent && error.description.contains("535"), "\(error)")
        }
        try await Self.expectRefusal(message, via: Self.smtp(sink, trust: false), ifAccepted: "an untrusted certificate was accepted") { error in
            #expect(!error.permanent, "\(error)")
        }
        #expect(try sink.messages().isEmpty)

        let plain = try SMTPSink.start(tls: false, auth: nil)
        defer { plain.stop() }
        try await Self.expectRefusal(message, via: Self.smtp(plain), ifAccepted: "sent in the clear although STARTTLS was required") { error in
            #expect(!error.permanent && error.description.contains("does not offer STARTTLS"))
        }
        #expect(try plain.messages().isEmpty)

        let rejecting = try SMTPSink.start(reject: true)
        defer { rejecting.stop() }
        try await Self.expectRefusal(message, via: Self.smtp(rejecting), ifAccepted: "a 550 was taken for success") { error in
            #expect(error.permanent && error.description.contains("550"))
        }

        var closed = Self.smtp(sink)
        closed.port = 1
        try await Self.expectRefusal(message, via: closed, ifAccepted: "a closed port accepted mail") { error in
            #expect(!error.permanent && error.description.contains("cannot connect"))
        }

        let silent = try SMTPSink.start(silent: true)
        defer { silent.stop() }
        var impatient = Self.smtp(silent)
        impatient.timeout = 1
        try await Self.expectRefusal(message, via: impatient, ifAccepted: "a server that never greeted accepted mail") { error in
            #expect(!error.permanent && error.description.contains("no reply within 1 s"), "\(error)")
        }
    }

    /// Sends `message` through `configuration`, which must refuse it: `check` gets the
    /// `SMTPError`, and a send that succeeds is recorded as the issue `ifAccepted`.
    static func expectRefusal(
        _ message: MailMessage, via configuration: SMTPConfiguration, ifAccepted: Comment, sourceLocation: SourceLocation = #_sourceLocation,
        _ check: (SMTPError) -> Void
    ) async throws {
        do {
            try await SMTPClient(configuration: configuration).send(message.rendered(boundarySeed: "x"), to: message.to)
            Issue.record(ifAccepted, sourceLocation: sourceLocation)
        } catch let error as SMTPError {
            check(error)
        }
    }

    /// Starts an SMTP sink (refusing the first `failFirst` messages) and a gateway that mails
    /// through it, whose store has two notification addresses, and runs `body` with both.
    static func harness(
        _ backend: Backend, failFirst: Int = 0, clock: any WallClock = SystemClock(), timeZone: String = "UTC",
        attachmentLimit: Int? = nil, _ body: (GatewayHarness, SMTPSink) async throws -> Void
    ) async throws {
        let sink = try SMTPSink.start(failFirst: failFirst)
        defer { sink.stop() }
        try await GatewayHarness.with(
            backend,
            configure: {
                $0.smtp = Self.smtp(sink)
                $0.reportTimeZone = timeZone
                $0.passwordHashCost = 4
                if let attachmentLimit { $0.reportAttachmentLimit = attachmentLimit }
            }, clock: clock, rateProvider: FixedRates([.usd: "1", .eur: "0.8528"])
        ) { harness in
            var store = try #require(try await harness.environment.merchants.store(id: harness.merchant.storeId))
            store.notificationEmails = ["ops@shop.example", "finance@shop.example"]
            try await harness.environment.merchants.update(store)
            try await body(harness, sink)
        }
    }

    @Test(
        "Order created and order confirmed e-mails go to every notification address, with amounts, fiat, hash and a dashboard link",
        arguments: Backend.available)
    func orderEmails(backend: Backend) async throws {
        try await Self.harness(backend) { harness, sink in
            try await harness.test { client in
                let id = try await WebhookTests.createIntent(harness, client, orderId: "MAIL-1")
                #expect(await harness.gateway.sendEmails() == 1)
                let hash = "0x" + String(repeating: "ab", count: 32)
                try await WebhookTests.move(harness, id, to: [.paying, .tempWalletReceived, .onChain, .confirmed]) { intent in
                    intent.payment.chainId = 56
                    intent.payment.txHash = hash
                    intent.payment.actualPaidAmount = DecimalAmount("12.5")
                    intent.payment.serviceFeeAmount = DecimalAmount("0.125")
                    intent.payment.netIncomeAmount = DecimalAmount("12.375")
                }
                #expect(await harness.gateway.sendEmails() == 1)
                let messages = try sink.messages()
                #expect(messages.count == 2)
                #expect(messages.allSatisfy { $0.recipients == ["ops@shop.example", "finance@shop.example"] && $0.tls && $0.authenticated })
                let created = ParsedMail(messages[0].raw), paid = ParsedMail(messages[1].raw)
                #expect(created.subject == "New order MAIL-1: 12.50 USDT")
                for text in ["MAIL-1", id, "12.50 USDT", "≈ 12.50 USD", "https://pay.example.test/dashboard/orders/\(id)", "Test Shop"] {
                    #expect(created.text?.contains(text) == true, "\(text) missing from the created e-mail's text")
                    #expect(created.html?.contains(text) == true, "\(text) missing from the created e-mail's HTML")
                }
                #expect(paid.subject == "Paid: order MAIL-1, 12.50 USDT")
                for text in [hash, "12.50 USDT", "0.125 USDT", "12.375 USDT", "CONFIRMED"] {
                    #expect(paid.text?.contains(text) == true, "\(text) missing from the confirmed e-mail")
                }
                let records = try await harness.environment.emails.emails(intentId: id)
                #expect(records.map(\.kind) == [.orderCreated, .orderConfirmed] && records.allSatisfy { $0.state == .sent })
                #expect(records.map(\.subject) == ["New order MAIL-1: 12.50 USDT", "Paid: order MAIL-1, 12.50 USDT"])
                #expect(await harness.gateway.sendEmails() == 0, "each once")

                // The merchant sees them on the order page.
                let browser = try await DashboardStoreTests.owner(harness, client)
                let page = try await browser.get("/dashboard/orders/\(id)")
                #expect(page.html.contains("New order MAIL-1: 12.50 USDT") && page.html.contains("(sent, "))
            }
        }
    }

    @Test("A 451 is retried on the schedule; the message keeps its Message-ID")
    func transientFailuresRetry() async throws {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_795_000_000))
        try await Self.harness(.sqlite, failFirst: 1, clock: clock) { harness, sink in
            try await harness.test { client in
                let id = try await WebhookTests.createIntent(harness, client, orderId: "RETRY")
                #expect(await harness.gateway.sendEmails() == 1)
                let pending = try #require(try await harness.environment.emails.emails(intentId: id).first)
                #expect(pending.state == .pending && pending.lastError?.contains("451") == true)
                #expect(pending.nextAttemptAt == clock.now.addingTimeInterval(60))
                #expect(await harness.gateway.sendEmails() == 0)
                clock.advance(by: 60)
                #expect(await harness.gateway.sendEmails() == 1)
                #expect(try await harness.environment.emails.email(id: pending.id)?.state == .sent)
                let received = try sink.messages()
                #expect(received.count == 1 && ParsedMail(received[0].raw).headers["message-id"] == "<\(pending.id)@pay.example.test>")
            }
        }
    }

    static func utc(_ text: String) -> Date { try! Date(text, strategy: .iso8601) }

    @Test(
        "Reports: due at 08:00 Shanghai time, queued once per period, caught up after downtime, with the local day's orders as CSV",
        arguments: Backend.available)
    func reports(backend: Backend) async throws {
        // The store is created at 04:00 on 20 November, Shanghai time.
        let clock = ManualClock(Self.utc("2026-11-19T20:00:00Z"))
        try await Self.harness(backend, clock: clock, timeZone: "Asia/Shanghai") { harness, sink in
            // Orders at 09:00 and 23:59:59 on the 20th, and at midnight starting the 21st (local).
            var rows: [(CheckoutIntent, StatusTransition)] = []
            for (index, (at, status, paid)) in [
                ("2026-11-20T01:00:00Z", CheckoutStatus.confirmed, "10.000001"), ("2026-11-20T15:59:59Z", .canceled, nil),
                ("2026-11-20T16:00:00Z", .confirmed, "7"),
            ].enumerated() {
                let date = Self.utc(at)
                let request = try CreateCheckoutIntentRequest.parse(
                    body: Array(#"{"stable_coin": 1, "amount_cents": \#(1000 + index), "order_id": "R-\#(index)"}"#.utf8),
                    policy: .init(allowsInsecureRedirect: true))
                var (intent, transition) = try IntentFactory.makeIntent(
                    request: request, rate: nil, id: harness.environment.identifiers.objectId(at: date), storeId: harness.merchant.storeId,
                    settlementWallet: nil, now: date)
                intent.status = status
                if let paid {
                    intent.payment.chainId = 56
                    intent.payment.actualPaidAmount = DecimalAmount(paid)
                    intent.payment.serviceFeeAmount = DecimalAmount("0.1")
                    intent.payment.netIncomeAmount = DecimalAmount(paid == "7" ? "6.9" : "9.900001")
                }
                rows.append((intent, transition))
            }
            try await harness.environment.intents.insertAll(rows)

            clock.set(Self.utc("2026-11-20T23:59:00Z"))  // 07:59 on the 21st in Shanghai
            #expect(await harness.gateway.queueDueReports() == 0)
            clock.set(Self.utc("2026-11-21T00:00:00Z"))  // 08:00
            #expect(await harness.gateway.queueDueReports() == 1)
            #expect(await harness.gateway.queueDueReports() == 0, "never twice for a period")
            #expect(await harness.gateway.sendEmails() == 1)
            let daily = ParsedMail(try #require(try sink.messages().first).raw)
            #expect(daily.subject == "Daily report 2026-11-20 — Test Shop")
            for text in [
                "2026-11-20 00:00 – 2026-11-21 00:00 (Asia/Shanghai)", "Orders created in the period: 2", "Received:                     10.000001",
                "Net:                          9.900001", "CONFIRMED: 1 orders, due 10.00", "CANCELED: 1 orders, due 10.01",
            ] {
                #expect(daily.text?.contains(text) == true, "\(text) missing from the daily report")
            }
            let csv = String(decoding: try #require(daily.attachment(named: "orders-2026-11-20.csv")), as: UTF8.self)
            let lines = csv.split(separator: "\r\n")
            #expect(lines.count == 3, "header and the two orders of the local day, not the one at local midnight after it")
            #expect(lines.first?.hasPrefix("intent_id,created_at,") == true)
            #expect(csv.contains(",R-0,") && csv.contains(",R-1,") && !csv.contains(",R-2,"))

            // Down for three days: the missed days are caught up, oldest first, each once.
            clock.set(Self.utc("2026-11-24T00:30:00Z"))
            #expect(await harness.gateway.queueDueReports() == 3)
            // 1 December, 08:00 in Shanghai: the rest of November's days and the month.
            clock.set(Self.utc("2026-12-01T00:00:00Z"))
            #expect(await harness.gateway.queueDueReports() == 8)
            while await harness.gateway.sendEmails() > 0 {}
            let subjects = try sink.messages().map { ParsedMail($0.raw).subject }
            #expect(subjects.count == 12)
            #expect(Set(subjects).count == 12, "no period twice")
            let monthly = try #require(try sink.messages().map { ParsedMail($0.raw) }.first { $0.subject.hasPrefix("Monthly report 2026-11") })
            let monthCSV = String(decoding: try #require(monthly.attachment(named: "orders-2026-11.csv")), as: UTF8.self)
            #expect(monthCSV.split(separator: "\r\n").count == 4)
            #expect(monthly.text?.contains("Received:                     17.000001") == true)
        }
    }

    @Test("A report whose CSV would exceed the attachment limit says so and attaches nothing, however many orders there are")
    func reportTooLargeToAttach() async throws {
        let clock = ManualClock(Self.utc("2026-11-20T00:00:00Z"))
        // The header and two records fit in 1,000 bytes; the day has twelve orders.
        try await Self.harness(.sqlite, clock: clock, attachmentLimit: 1_000) { harness, sink in
            var rows: [(CheckoutIntent, StatusTransition)] = []
            for index in 0..<12 {
                let date = Self.utc("2026-11-20T01:00:00Z").addingTimeInterval(Double(index) * 60)
                let request = try CreateCheckoutIntentRequest.parse(
                    body: Array(#"{"stable_coin": 1, "amount_cents": 1000, "order_id": "R-\#(index)"}"#.utf8),
                    policy: .init(allowsInsecureRedirect: true))
                rows.append(
                    try IntentFactory.makeIntent(
                        request: request, rate: nil, id: harness.environment.identifiers.objectId(at: date), storeId: harness.merchant.storeId,
                        settlementWallet: nil, now: date))
            }
            try await harness.environment.intents.insertAll(rows)
            clock.set(Self.utc("2026-11-21T08:00:00Z"))
            #expect(await harness.gateway.queueDueReports() == 1)
            #expect(await harness.gateway.sendEmails() == 1)
            let daily = ParsedMail(try #require(try sink.messages().first).raw)
            #expect(daily.text?.contains("Orders created in the period: 12") == true)
            #expect(daily.text?.contains("too many to attach (over 1000 bytes of CSV): export them from the dashboard") == true)
            #expect(daily.attachment(named: "orders-2026-11-20.csv") == nil)
        }
    }

    @Test("Report runs are unique per store and period, even when queued at once")
    func reportRunsAreUnique() async throws {
        try await GatewayHarness.with(.sqlite) { harness in
            let outbox = harness.environment.emails
            let period = try #require(ReportPeriod(kind: .daily, year: 2026, month: 11, day: 20, timeZone: TimeZone(identifier: "UTC")!))
            async let first = outbox.enqueueReport(
                id: "6b0000000000000000000001", storeId: harness.merchant.storeId, recipients: ["a@b.example"], period: period, force: false,
                at: Date())
            async let second = outbox.enqueueReport(
                id: "6b0000000000000000000002", storeId: harness.merchant.storeId, recipients: ["a@b.example"], period: period, force: false,
                at: Date())
            let results = try await [first, second]
            #expect(results.compactMap { $0 }.count == 1)
            #expect(
                try await outbox.enqueueReport(
                    id: "6b0000000000000000000003", storeId: harness.merchant.storeId, recipients: ["a@b.example"], period: period, force: true,
                    at: Date()) != nil, "the operator may resend")
        }
    }
}

@Suite("Operator alerts")
struct OperatorAlertTests {
    @Test("A new or changed problem is mailed at once, an unchanged one at most hourly, a recovery once")
    func rateLimit() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let behind = ["Base (8453): scanned to block 900, 100 blocks behind the head 1000"]
        let first = try #require(OperatorAlerts.decide(behind, after: .init(), now: now, repeatEvery: 3600))
        #expect(first.subject == "StableGate needs attention: " + behind[0] && first.text.contains(behind[0]))
        let sent = OperatorAlerts.State(problems: behind, sentAt: now)
        #expect(OperatorAlerts.decide(behind, after: sent, now: now.addingTimeInterval(600), repeatEvery: 3600) == nil, "not again within the hour")
        #expect(
            OperatorAlerts.decide(behind, after: sent, now: now.addingTimeInterval(3600), repeatEvery: 3600) != nil, "repeated hourly while it lasts")
        let worse = behind + ["Base (8453): the hot wallet holds 1 wei, less than the 5 wei of gas the next 1 forwarding(s) need"]
        #expect(
            OperatorAlerts.decide(worse, after: sent, now: now.addingTimeInterval(60), repeatEvery: 3600)?.subject
                == "StableGate needs attention: 2 problems")
        let recovered = try #require(OperatorAlerts.decide([], after: sent, now: now.addingTimeInterval(60), repeatEvery: 3600))
        #expect(recovered.subject == "StableGate recovered" && recovered.text.contains(behind[0]))
        #expect(OperatorAlerts.decide([], after: .init(), now: now, repeatEvery: 3600) == nil, "nothing to say when all was well")
    }

    @Test("A chain behind reaches the operator's mailbox through a real SMTP server, not again within the hour, then the recovery")
    func delivered() async throws {
        let sink = try SMTPSink.start(implicitTLS: false)
        defer { sink.stop() }
        let clock = ManualClock(Date(timeIntervalSince1970: 1_800_000_000))
        let board = ChainHealthBoard()
        board.update(chainId: 8453, name: "Base", at: clock.now) { entry in
            entry.head = 1000
            entry.scannedTo = 900
            entry.lastPassAt = clock.now
        }
        let alerts = OperatorAlerts(
            board: board, client: SMTPClient(configuration: EmailTests.smtp(sink, security: .starttls)), recipients: ["ops@gateway.example"],
            clock: clock, identifiers: SystemIdentifierGenerator(), maximumLagBlocks: 50, maximumLagSeconds: 300, interval: .seconds(60),
            repeatEvery: 3600, logger: testLogger)
        let state = Mutex(OperatorAlerts.State())
        #expect(await alerts.alertIfDue(state))
        #expect(await !alerts.alertIfDue(state), "rate-limited")
        board.update(chainId: 8453, name: "Base", at: clock.now) { $0.scannedTo = 1000 }
        #expect(await alerts.alertIfDue(state), "the recovery")
        let mails = try sink.messages().map { ParsedMail($0.raw) }
        #expect(mails.count == 2)
        #expect(mails.first?.subject.contains("Base (8453): scanned to block 900, 100 blocks behind the head 1000") == true)
        #expect(mails.last?.subject == "StableGate recovered")
    }
}
