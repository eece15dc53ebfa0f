// Full Foundation: TimeZone(identifier:).
import Foundation
import Logging
import StableGateDomain
import StableGateStore

/// The operator's notification commands (`stablegate webhooks …`, `stablegate reports send`):
/// they act in the CLI process itself, so the operator sees the outcome, and share the
/// outboxes (and their leases) with any running gateway.
public struct OperatorNotifications: Sendable {
    let environment: GatewayEnvironment
    let services: NotificationServices

    public init(environment: GatewayEnvironment) async throws {
        self.environment = environment
        let templates = try await PageTemplates()
        let rates = try makeRateProvider(environment.configuration, clock: environment.clock, logger: environment.logger)
        services = NotificationServices(environment: environment, templates: templates, rates: rates, logger: environment.logger)
    }

    /// An event as the operator sees it: the record and its attempts.
    public struct EventReport: Sendable {
        public let event: WebhookEventRecord
        public let attempts: [WebhookAttemptRecord]
    }

    /// Queues a test event for the store and delivers it now (or waits for a running gateway
    /// that claimed it first); returns how it went.
    public func sendTestEvent(storeId: String) async throws -> EventReport {
        let id = try await WebhookOperations(environment: environment).queueTestEvent(storeId: storeId)
        return try await deliverNow(eventId: id)
    }

    /// Queues an event again and delivers it now.
    public func redeliver(eventId: String) async throws -> EventReport {
        guard try await WebhookOperations(environment: environment).redeliver(eventId: eventId) else {
            throw MerchantOnboarding.InputError(description: "no webhook event \(eventId) (or it is being delivered right now)")
        }
        return try await deliverNow(eventId: eventId)
    }

    /// Events of an intent or a store, with their attempts.
    public func events(intentId: String?, storeId: String?) async throws -> [EventReport] {
        let webhooks = environment.webhooks
        let events: [WebhookEventRecord]
        if let intentId {
            events = try await webhooks.events(intentId: intentId)
        } else {
            events = try await webhooks.events(storeId: storeId ?? "", limit: 100)
        }
        var reports: [EventReport] = []
        for event in events { reports.append(EventReport(event: event, attempts: try await webhooks.attempts(eventId: event.id))) }
        return reports
    }

    private func deliverNow(eventId: String) async throws -> EventReport {
        let deadline = Date().addingTimeInterval(environment.configuration.webhookTimeout + 30)
        while true {
            guard let event = try await environment.webhooks.event(id: eventId) else {
                throw MerchantOnboarding.InputError(description: "no webhook event \(eventId)")
            }
            // Done when this attempt cycle has made an attempt and nobody holds the event (or time is up).
            let settled = event.state != .delivering && (event.cycleAttempts > 0 || event.state != .pending)
            if settled || Date() > deadline {
                return EventReport(event: event, attempts: try await environment.webhooks.attempts(eventId: eventId))
            }
            if await services.dispatcher.runOnce() == 0 { try await Task.sleep(for: .milliseconds(200)) }
        }
    }

    /// Queues the store's report for the period of `kind` that contains the local date `date`
    /// (`YYYY-MM-DD`, in the reports' time zone) — even if it was sent before — and sends it now.
    public func sendReport(storeId: String, kind: ReportPeriod.Kind, date: String) async throws -> EmailRecord {
        guard services.mailer != nil else {
            throw MerchantOnboarding.InputError(description: "no mail server is configured: set STABLEGATE_SMTP_HOST and STABLEGATE_SMTP_FROM")
        }
        guard let store = try await environment.merchants.store(id: storeId) else {
            throw MerchantOnboarding.InputError(description: "no store with id \(storeId)")
        }
        guard !store.notificationEmails.isEmpty else {
            throw MerchantOnboarding.InputError(description: "store \(storeId) has no notification e-mail addresses")
        }
        let parts = date.split(separator: "-").compactMap { Int($0) }
        let zone = TimeZone(identifier: environment.configuration.reportTimeZone) ?? TimeZone(identifier: "UTC")!
        guard parts.count == 3,
            let period = ReportPeriod(kind: kind, year: parts[0], month: parts[1], day: kind == .daily ? parts[2] : 1, timeZone: zone),
            kind == .monthly || period.day == parts[2]
        else { throw MerchantOnboarding.InputError(description: "--date must be a date like 2026-11-20, got \(date)") }
        let now = environment.clock.now
        guard
            let id = try await environment.emails.enqueueReport(
                id: environment.identifiers.objectId(at: now), storeId: storeId, recipients: store.notificationEmails, period: period, force: true,
                at: now)
        else { throw MerchantOnboarding.InputError(description: "the report could not be queued") }
        for _ in 0..<50 {
            guard let email = try await environment.emails.email(id: id) else { break }
            if email.state == .sent || email.state == .failed || (email.state == .pending && email.attempts > 0) { return email }
            if await services.mailer?.runOnce() == 0 { try await Task.sleep(for: .milliseconds(200)) }
        }
        guard let email = try await environment.emails.email(id: id) else { throw MerchantOnboarding.InputError(description: "the report vanished") }
        return email
    }
}
