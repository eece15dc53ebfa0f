import BigInt
import Foundation
import Testing

@testable import StableGateDomain

@Suite("Notifications: retry schedule, outbound address guard, report periods, mail format")
struct NotificationTests {
    @Test("The webhook schedule retries for about three days, then gives up; 2xx delivers, 410 stops")
    func retrySchedule() {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let schedule = RetrySchedule.webhooks
        #expect(schedule.nextAttempt(afterFailedAttempts: 1, at: start) == start.addingTimeInterval(5))
        #expect(schedule.nextAttempt(afterFailedAttempts: 2, at: start) == start.addingTimeInterval(300))
        #expect(schedule.nextAttempt(afterFailedAttempts: 5, at: start) == start.addingTimeInterval(5 * 3600))
        #expect(schedule.nextAttempt(afterFailedAttempts: 12, at: start) == start.addingTimeInterval(10 * 3600))
        #expect(schedule.nextAttempt(afterFailedAttempts: 13, at: start) == nil, "13 attempts, then failed")
        #expect(schedule.span > 2.5 * 86_400 && schedule.span < 3.5 * 86_400, "about three days: \(schedule.span / 3600) h")
        #expect(RetrySchedule(text: "1, 2,3.5") == RetrySchedule(delays: [1, 2, 3.5]))
        #expect(RetrySchedule(text: "") == nil && RetrySchedule(text: "1,-2") == nil && RetrySchedule(text: "soon") == nil)
        #expect(DeliveryVerdict(httpStatus: 200) == .delivered && DeliveryVerdict(httpStatus: 204) == .delivered)
        #expect(DeliveryVerdict(httpStatus: 410) == .gone)
        for status in [nil, 301, 400, 404, 429, 500, 503] { #expect(DeliveryVerdict(httpStatus: status) == .retry) }
    }

    @Test(
        "Event types name the status reached",
        arguments: zip(
            [
                CheckoutStatus.created, .paying, .tempWalletReceived, .onChain, .confirmed, .underpaid, .failed, .rejected, .canceled, .timeout,
                .pendingManualOperation, .sendBack,
            ],
            [
                "checkout_intent.created", "checkout_intent.paying", "checkout_intent.temp_wallet_received", "checkout_intent.on_chain",
                "checkout_intent.confirmed", "checkout_intent.underpaid", "checkout_intent.failed", "checkout_intent.rejected",
                "checkout_intent.canceled",
                "checkout_intent.timeout", "checkout_intent.pending_manual_operation", "checkout_intent.send_back",
            ]))
    func eventTypes(status: CheckoutStatus, type: String) {
        #expect(WebhookEventType.transition(to: status) == type)
    }

    @Test("The StableGate event body is event_id, type, created_at, webhook_id, data — in that order")
    func body() {
        let body = WebhookBody.serialized(
            eventId: "evt_1", type: "webhook.test", createdAt: "2026-11-21T12:00:00.000Z", webhookId: "wh_1", data: .object([("a", .int(1))]))
        #expect(body == #"{"event_id":"evt_1","type":"webhook.test","created_at":"2026-11-21T12:00:00.000Z","webhook_id":"wh_1","data":{"a":1}}"#)
    }

    @Test("A delivery names the endpoint's current webhook id, every other byte unchanged")
    func renaming() throws {
        let body = #"{"all_scale_transaction_id":"txn_1","webhook_id":"wh_old","amount_coins":"10.50","extra_obj":{"k":"ü/\"q\""}}"#
        #expect(WebhookBody.naming(webhookId: "wh_old", in: body) == body, "the same id leaves the stored bytes alone")
        #expect(WebhookBody.naming(webhookId: "wh_new", in: body) == body.replacingOccurrences(of: "wh_old", with: "wh_new"))
        #expect(WebhookBody.naming(webhookId: "wh_new", in: "[1]") == nil)
    }

    @Test(
        "Outbound guard: public addresses pass; loopback and private pass only in the sandbox; the rest never",
        arguments: [
            ("93.184.215.14", "public", false, false), ("2606:4700:4700::1111", "public", false, false), ("8.8.8.8", "public", false, false),
            ("127.0.0.1", "loopback", true, false), ("127.255.0.9", "loopback", true, false), ("::1", "loopback", true, false),
            ("10.1.2.3", "private", true, false), ("172.16.0.1", "private", true, false), ("172.31.255.255", "private", true, false),
            ("192.168.1.1", "private", true, false), ("fd12:3456::1", "private", true, false), ("fc00::1", "private", true, false),
            ("172.32.0.1", "public", false, false), ("172.15.255.255", "public", false, false),
            ("169.254.169.254", "metadata", true, true), ("fd00:ec2::254", "metadata", true, true), ("100.100.100.200", "metadata", true, true),
            ("169.254.10.1", "link-local", true, true), ("fe80::1", "link-local", true, true),
            ("0.0.0.0", "unspecified", true, true), ("::", "unspecified", true, true), ("224.0.0.1", "multicast", true, true),
            ("ff02::1", "multicast", true, true),
            ("100.64.0.1", "reserved", true, true), ("192.0.2.10", "reserved", true, true), ("255.255.255.255", "reserved", true, true),
            ("2001:db8::1", "reserved", true, true),
            ("::ffff:127.0.0.1", "loopback", true, false), ("::ffff:169.254.169.254", "metadata", true, true),
            ("::ffff:8.8.8.8", "public", false, false),
            ("64:ff9b::a9fe:a9fe", "metadata", true, true),
        ])
    func outboundGuard(text: String, kind: String, refusedInProduction: Bool, refusedInSandbox: Bool) throws {
        let bytes = try #require(OutboundAddressPolicy.literal(text))
        #expect(OutboundAddressPolicy.classify(bytes).rawValue == kind)
        #expect((OutboundAddressPolicy.refusal(bytes, allowLocal: false) != nil) == refusedInProduction, "production")
        #expect((OutboundAddressPolicy.refusal(bytes, allowLocal: true) != nil) == refusedInSandbox, "sandbox")
    }

    static func utc(_ text: String) -> Date { try! Date(text, strategy: .iso8601) }

    @Test(
        "Report periods are local days and months, whatever the offset or daylight saving",
        arguments: [
            // zone, kind, y, m, d, start (UTC), end (UTC)
            ("UTC", "daily", 2026, 11, 20, "2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z"),
            ("Asia/Shanghai", "daily", 2026, 11, 20, "2026-11-19T16:00:00Z", "2026-11-20T16:00:00Z"),
            ("Asia/Kolkata", "daily", 2026, 1, 1, "2025-12-31T18:30:00Z", "2026-01-01T18:30:00Z"),
            ("America/New_York", "daily", 2026, 3, 8, "2026-03-08T05:00:00Z", "2026-03-09T04:00:00Z"),  // 23 hours: spring forward
            ("America/New_York", "daily", 2026, 11, 1, "2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z"),  // 25 hours: fall back
            ("Pacific/Auckland", "daily", 2026, 4, 5, "2026-04-04T11:00:00Z", "2026-04-05T12:00:00Z"),
            ("UTC", "monthly", 2028, 2, 1, "2028-02-01T00:00:00Z", "2028-03-01T00:00:00Z"),  // leap February
            ("Europe/Berlin", "monthly", 2026, 12, 1, "2026-11-30T23:00:00Z", "2026-12-31T23:00:00Z"),
            ("America/Los_Angeles", "monthly", 2026, 3, 1, "2026-03-01T08:00:00Z", "2026-04-01T07:00:00Z"),  // DST starts inside
            ("Asia/Tokyo", "monthly", 2026, 1, 1, "2025-12-31T15:00:00Z", "2026-01-31T15:00:00Z"),
        ])
    func periods(zone: String, kind: String, year: Int, month: Int, day: Int, start: String, end: String) throws {
        let timeZone = try #require(TimeZone(identifier: zone))
        let period = try #require(ReportPeriod(kind: ReportPeriod.Kind(rawValue: kind)!, year: year, month: month, day: day, timeZone: timeZone))
        #expect(period.start == Self.utc(start))
        #expect(period.end == Self.utc(end))
        #expect(ReportPeriod(kind: period.kind, containing: period.start, timeZone: timeZone) == period)
        #expect(ReportPeriod(kind: period.kind, containing: period.end.addingTimeInterval(-0.001), timeZone: timeZone) == period)
        #expect(ReportPeriod(kind: period.kind, containing: period.end, timeZone: timeZone) != period)
    }

    @Test("Impossible dates are refused")
    func impossibleDates() {
        let utc = TimeZone(identifier: "UTC")!
        #expect(ReportPeriod(kind: .daily, year: 2026, month: 2, day: 29, timeZone: utc) == nil)
        #expect(ReportPeriod(kind: .daily, year: 2026, month: 13, day: 1, timeZone: utc) == nil)
        #expect(ReportPeriod(kind: .daily, year: 2028, month: 2, day: 29, timeZone: utc) != nil)
    }

    @Test("Due reports: yesterday's after the send time, last month's on the 1st, missed ones caught up, none before the store")
    func duePeriods() throws {
        let shanghai = try #require(TimeZone(identifier: "Asia/Shanghai"))
        // 2026-12-01 07:59 in Shanghai: before 08:00, so 30 November is not due yet; 29 November is.
        let early = Self.utc("2026-11-30T23:59:00Z")
        let created = Self.utc("2026-11-01T00:00:00Z")
        let daily = ReportPeriod.due(kind: .daily, now: early, hour: 8, minute: 0, timeZone: shanghai, notBefore: created, limit: 31)
        #expect(daily.first?.label == "2026-11-29")
        #expect(daily.count == 29, "1–29 November: the store was created at 08:00 on 1 November in Shanghai, and that day ends after it")
        #expect(ReportPeriod.due(kind: .monthly, now: early, hour: 8, minute: 0, timeZone: shanghai, notBefore: created, limit: 12).isEmpty)
        let later = Self.utc("2026-12-01T00:00:00Z")  // 08:00 Shanghai
        #expect(
            ReportPeriod.due(kind: .daily, now: later, hour: 8, minute: 0, timeZone: shanghai, notBefore: created, limit: 31).first?.label
                == "2026-11-30")
        let monthly = ReportPeriod.due(kind: .monthly, now: later, hour: 8, minute: 0, timeZone: shanghai, notBefore: created, limit: 12)
        #expect(monthly.map(\.label) == ["2026-11"])
        #expect(
            ReportPeriod.due(kind: .daily, now: later, hour: 8, minute: 0, timeZone: shanghai, notBefore: .distantPast, limit: 31).count == 31,
            "catch-up is bounded")
        // A send time inside New York's spring-forward gap (02:30 on 8 March 2026) moves to 03:00.
        let newYork = try #require(TimeZone(identifier: "America/New_York"))
        let seventh = try #require(ReportPeriod(kind: .daily, year: 2026, month: 3, day: 7, timeZone: newYork))
        #expect(seventh.dueAt(hour: 2, minute: 30, timeZone: newYork) <= Self.utc("2026-03-08T08:00:00Z"))
        #expect(seventh.dueAt(hour: 2, minute: 30, timeZone: newYork) >= seventh.end)
    }

    @Test("A mail message is MIME with text, HTML and attachments, encoded words for non-ASCII subjects, CRLF lines")
    func mailMessage() throws {
        let message = MailMessage(
            from: "gateway@pay.example", fromName: "StableGate", to: ["ops@shop.example", "finance@shop.example"], subject: "Report — 支付",
            text: "Hello\n.starts with a dot", html: "<p>Hello</p>",
            attachments: [.init(filename: "orders.csv", contentType: "text/csv; charset=utf-8", data: Array("a,b\r\n1,2\r\n".utf8))],
            messageId: "abc@pay.example", date: Date(timeIntervalSince1970: 1_795_248_000))
        let text = message.rendered(boundarySeed: "seed")
        #expect(text.contains("Date: Sat, 21 Nov 2026 08:00:00 +0000\r\n"))
        #expect(text.contains("From: StableGate <gateway@pay.example>\r\n"))
        #expect(text.contains("To: ops@shop.example, finance@shop.example\r\n"))
        #expect(text.contains("Subject: =?UTF-8?B?" + Data("Report — 支付".utf8).base64EncodedString() + "?=\r\n"))
        #expect(text.contains("Message-ID: <abc@pay.example>\r\n"))
        #expect(text.contains("Content-Type: multipart/mixed; boundary=\"mix-seed\""))
        #expect(text.contains("Content-Type: multipart/alternative; boundary=\"alt-seed\""))
        #expect(text.contains("Content-Disposition: attachment; filename=\"orders.csv\""))
        #expect(text.contains(Data("a,b\r\n1,2\r\n".utf8).base64EncodedString()))
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"), "every line ends in CRLF")
        #expect(text.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 998 }, "no line longer than RFC 5322 allows")
        #expect(MailMessage.rfc5322Date(Date(timeIntervalSince1970: 0)) == "Thu, 1 Jan 1970 00:00:00 +0000")
        #expect(MailMessage.rfc5322Date(Self.utc("2028-02-29T23:59:59Z")) == "Tue, 29 Feb 2028 23:59:59 +0000")
    }

    @Test("SMTP dot-stuffing doubles a leading dot on every line, and only there")
    func dotStuffing() {
        #expect(SMTPDotStuffing.apply(".\r\nok\r\n..x\r\na.b\r\n.") == "..\r\nok\r\n...x\r\na.b\r\n..")
        #expect(SMTPDotStuffing.apply("no dots\r\n") == "no dots\r\n")
    }

    @Test(
        "Fiat equivalents round half up to cents",
        arguments: [
            ("10.00", "1", "10.00"), ("29.315197", "0.8528", "25.00"), ("0.005", "1", "0.01"), ("0.004999", "1", "0.00"), ("1", "7.24567", "7.25"),
        ])
    func fiatEquivalent(coins: String, rate: String, expected: String) {
        #expect(MoneyRules.fiatEquivalent(coins: DecimalAmount(coins)!, rate: DecimalAmount(rate)!).plainString(minimumFractionDigits: 2) == expected)
    }
}
