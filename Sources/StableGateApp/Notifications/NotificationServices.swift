// Full Foundation: TimeZone(identifier:) and ProcessInfo.hostName.
import Foundation
import Logging
import ServiceLifecycle
import StableGateDomain
import StableGateStore

/// The services that deliver notifications, built alike by `serve`, the CLI and the tests:
/// the webhook dispatcher always, the mailer and the report scheduler when a mail server is
/// configured.
struct NotificationServices: Sendable {
    let dispatcher: WebhookDispatcher
    let mailer: Mailer?
    let scheduler: ReportScheduler?

    /// Names this process in leases and attempt records.
    static func instanceName(_ identifiers: any IdentifierGenerator) -> String {
        "\(ProcessInfo.processInfo.hostName)/\(ProcessInfo.processInfo.processIdentifier)/\(identifiers.randomBytes(4).hexString)"
    }

    init(environment: GatewayEnvironment, templates: PageTemplates, rates: (any RateProvider)?, logger: Logger) {
        let configuration = environment.configuration
        let owner = Self.instanceName(environment.identifiers)
        dispatcher = WebhookDispatcher(
            webhooks: environment.webhooks,
            sender: WebhookSender(
                apiKeys: environment.apiKeys, secretBox: environment.secretBox, identifiers: environment.identifiers, clock: environment.clock,
                sandbox: configuration.mode == .sandbox, timeout: configuration.webhookTimeout),
            schedule: configuration.webhookRetrySchedule, clock: environment.clock, owner: owner, lease: configuration.outboxLease,
            pollInterval: configuration.notificationPollInterval, concurrency: 16, logger: logger)
        guard let smtp = configuration.smtp else {
            mailer = nil
            scheduler = nil
            return
        }
        let timeZone = TimeZone(identifier: configuration.reportTimeZone) ?? TimeZone(identifier: "UTC")!
        let renderer = EmailRenderer(
            templates: templates, intents: environment.intents, merchants: environment.merchants,
            orders: OrderQueryRepository(database: environment.database), rates: rates, chains: environment.chains,
            publicURL: configuration.resolvedPublicURL, reportTimeZone: timeZone, attachmentLimit: configuration.reportAttachmentLimit)
        mailer = Mailer(
            outbox: environment.emails, client: SMTPClient(configuration: smtp), renderer: renderer, schedule: configuration.emailRetrySchedule,
            clock: environment.clock, owner: owner, lease: max(configuration.outboxLease, smtp.timeout * 10),
            pollInterval: configuration.notificationPollInterval, logger: logger)
        scheduler = ReportScheduler(
            merchants: environment.merchants, outbox: environment.emails, identifiers: environment.identifiers, clock: environment.clock,
            hour: configuration.reportHour, minute: configuration.reportMinute, timeZone: timeZone, interval: .seconds(60), logger: logger)
    }

    var all: [any Service] {
        [dispatcher as any Service] + [mailer as (any Service)?, scheduler as (any Service)?].compactMap { $0 }
    }
}

/// What the operator and the merchant can do with webhooks by hand: send a test event,
/// redeliver an event, look at events and their attempts.
public struct WebhookOperations: Sendable {
    let environment: GatewayEnvironment

    public init(environment: GatewayEnvironment) {
        self.environment = environment
    }

    /// Queues a `webhook.test` event for the store's StableGate events URL; its data names the
    /// store. Returns the event id. The AllScale-format URL gets no test deliveries: AllScale
    /// sends nothing there but confirmed payments, and integrations fulfil an order on any
    /// delivery that verifies (README "Webhooks": test it with a sandbox payment).
    public func queueTestEvent(storeId: String) async throws -> String {
        guard let store = try await environment.merchants.store(id: storeId) else {
            throw MerchantOnboarding.InputError(description: "no store with id \(storeId)")
        }
        guard let endpoint = store.endpoint(.events) else {
            throw MerchantOnboarding.InputError(
                description: """
                    store \(storeId) has no StableGate events URL; test events go there only (the AllScale-format webhook URL receives \
                    confirmed payments and nothing else: pay a sandbox order to try it)
                    """)
        }
        let now = environment.clock.now
        let id = "evt_" + environment.identifiers.objectId(at: now)
        let data = JSONValue.object([
            ("store_id", .string(store.id)), ("store_name", .string(store.name)),
            ("message", .string("This is a test event from StableGate. Verify its signature as you verify AllScale webhooks.")),
        ])
        try await environment.webhooks.enqueueTest(
            NewWebhookEvent(
                id: id, storeId: store.id, endpoint: .events, intentId: nil, sequence: 0, type: WebhookEventType.test,
                body: WebhookBody.serialized(
                    eventId: id, type: WebhookEventType.test, createdAt: CheckoutIntentWire.timestamp(now), webhookId: endpoint.id, data: data),
                createdAt: now))
        return id
    }

    /// Queues an event again now with a fresh retry schedule; false when there is none (in the store).
    public func redeliver(eventId: String, storeId: String? = nil) async throws -> Bool {
        try await environment.webhooks.redeliver(eventId: eventId, storeId: storeId, now: environment.clock.now)
    }
}
