import Foundation
import HTTPTypes
import Hummingbird
import Logging
import StableGateDomain
import StableGateEthereum
import StableGateStore

/// Who is using the dashboard: the user, their merchant's store and the session.
struct DashboardIdentity: Sendable {
    let user: DashboardUser
    let store: Store
    let session: SessionRecord

    /// The user as the audit log names them.
    var actor: AuditActor { AuditActor(userId: user.id, name: user.email) }
}

/// What the dashboard pages need, and the rendering they share.
struct DashboardPages: Sendable {
    let templates: PageTemplates
    let sessions: SessionManager
    let throttle: LoginThrottle
    let users: DashboardUserRepository
    let auditLog: AuditLogRepository
    let merchants: MerchantRepository
    let apiKeys: APIKeyRepository
    let intents: CheckoutIntentRepository
    let transfers: ChainTransferRepository
    let settlements: SettlementRepository
    let signedTransactions: SignedTransactionRepository
    let orders: OrderQueryRepository
    let chains: [ChainConfiguration]
    let hasher: PasswordHasher
    let onboarding: MerchantOnboarding
    /// The API's key cache, told at once when a key is revoked or edited here.
    let keyCache: APIKeyCache
    let configuration: GatewayConfiguration
    /// For each order's checkout URL.
    var links: CheckoutLinks { onboarding.environment.links }
    let clock: any WallClock
    let identifiers: any IdentifierGenerator
    /// Webhook deliveries and e-mails.
    let notifications: DashboardNotifications
    /// Order totals per store and filter, computed on a filter's first page and reused for a
    /// minute by its later pages, so paging stays cheap however many orders match.
    let totalsCache = ExpiringCache<String, CachedTotals>(ttl: 60)

    /// Totals and when they were computed.
    struct CachedTotals: Sendable {
        let totals: OrderTotals
        let computedAt: Date
    }

    /// A dashboard page inside the layout: `content` is the page's own model.
    func page(
        _ template: String, title: String, identity: DashboardIdentity?, nav: String? = nil, status: HTTPResponse.Status = .ok,
        notice: String? = nil, error: String? = nil, _ content: some Sendable = NoContent()
    ) -> Response {
        let frame = DashboardFrame(
            title: title,
            identity: identity.map { .init(email: $0.user.email, storeName: $0.store.name, csrf: $0.session.csrfToken) },
            csrf: identity?.session.csrfToken, nav: nav.map { [$0: true] }, notice: notice, error: error)
        return PageTemplates.html(templates.render(LayeredModel(content, frame), "dashboard-\(template)"), status: status)
    }

    /// The "not found" page: another store's order or key looks exactly like a missing one.
    func notFound(_ identity: DashboardIdentity) -> Response {
        page(
            "message", title: "Not found", identity: identity, status: .notFound,
            MessagePage(
                heading: "Not found", body: "There is nothing with this id in your store.", link: "/dashboard", linkText: "Back to the overview"))
    }

    /// The page for a form whose CSRF token did not match (a stale page or a cross-site post).
    func staleForm(_ identity: DashboardIdentity) -> Response {
        page(
            "message", title: "Form expired", identity: identity, status: .forbidden,
            MessagePage(
                heading: "This form expired",
                body: "Its security token did not match your session. Nothing was changed. Reload the page and try again.",
                link: "/dashboard", linkText: "Back to the overview"))
    }

    /// How large the dashboard's forms may be: a logo upload is the largest.
    static let formLimits = FormFields.Limits(urlEncoded: 64 * 1024, multipart: LogoImage.maximumBytes + 64 * 1024)

    /// Records an event that changes nothing else (an export, a redelivery request).
    func audit(_ identity: DashboardIdentity, _ action: String, _ detail: JSONValue) async throws {
        try await auditLog.audit(auditEntry(identity, action, detail))
    }

    /// The audit entry for a change, to be written in the change's own transaction.
    func auditEntry(_ identity: DashboardIdentity, _ action: String, _ detail: JSONValue) -> AuditEntry {
        AuditEntry(
            id: identifiers.objectId(at: clock.now), storeId: identity.store.id, actor: identity.actor, at: clock.now, action: action,
            detail: detail.serialized)
    }

    /// `yyyy-MM-dd HH:mm:ss` in UTC.
    static func time(_ date: Date) -> String { PageTemplates.utcTime(date, format: "yyyy-MM-dd HH:mm:ss") }

    func chainName(_ chainId: Int64?) -> String {
        guard let chainId else { return "—" }
        return chains.first { $0.chainId == chainId }?.name ?? "chain \(chainId)"
    }

    func explorerLink(chainId: Int64?, hash: String) -> String? {
        chains.first { $0.chainId == chainId }?.explorerLink(transaction: hash)
    }
}

/// Webhook deliveries and e-mails, as the dashboard shows them, and the merchant's webhook
/// actions (test event, redelivery), always within one store.
struct DashboardNotifications: Sendable {
    let webhooks: WebhookRepository
    let emails: EmailOutboxRepository
    let operations: WebhookOperations

    /// An intent's webhook events with their attempts, in order.
    func deliveries(intentId: String) async throws -> [WebhookDeliveryRow] {
        var rows: [WebhookDeliveryRow] = []
        for event in try await webhooks.events(intentId: intentId) {
            rows.append(try await WebhookDeliveryRow(event, attempts: webhooks.attempts(eventId: event.id)))
        }
        return rows
    }

    /// A store's newest webhook events (test events included).
    func recent(storeId: String) async throws -> [WebhookDeliveryRow] {
        try await webhooks.events(storeId: storeId, limit: 20).map { WebhookDeliveryRow($0, attempts: []) }
    }

    /// The e-mails about an intent.
    func emails(intentId: String) async throws -> [EmailRow] {
        try await emails.emails(intentId: intentId).map { email in
            EmailRow(
                subject: email.subject ?? (email.kind == .orderCreated ? "Order created" : "Order confirmed"),
                to: email.recipients.joined(separator: ", "),
                state: email.state.rawValue, created: DashboardPages.time(email.createdAt), sent: email.sentAt.map(DashboardPages.time),
                error: email.lastError)
        }
    }

    func redeliver(eventId: String, storeId: String) async throws -> Bool {
        try await operations.redeliver(eventId: eventId, storeId: storeId)
    }
}

/// What the dashboard layout shows around every page.
struct DashboardFrame: Sendable {
    /// The logged-in user, in the top bar.
    struct Who: Sendable {
        let email, storeName, csrf: String
    }

    let title: String
    let identity: Who?
    /// The session's CSRF token, for the page's forms.
    let csrf: String?
    /// The navigation entry of the page: `nav.orders` and so on.
    let nav: [String: Bool]?
    let notice, error: String?
}

/// A page with nothing of its own besides the layout.
struct NoContent: Sendable {}

/// A webhook event as the dashboard lists it, with its attempts.
struct WebhookDeliveryRow: Sendable {
    /// One delivery attempt.
    struct Attempt: Sendable {
        let number: Int
        let at, outcome: String
        let duration, excerpt: String?
    }

    let eventId, type, endpoint, state: String
    let attempts: Int
    let created: String
    let attemptList: [Attempt]
    let lastStatus: Int?
    let lastError, retryAt: String?

    init(_ event: WebhookEventRecord, attempts: [WebhookAttemptRecord]) {
        eventId = event.id
        type = event.type
        endpoint = event.endpoint == .allscale ? "webhook URL" : "events URL"
        state = event.state.rawValue
        self.attempts = event.attempts
        created = DashboardPages.time(event.createdAt)
        attemptList = attempts.map { attempt in
            Attempt(
                number: attempt.attempt, at: DashboardPages.time(attempt.startedAt),
                outcome: attempt.httpStatus.map { "HTTP \($0)" } ?? attempt.error ?? "in flight",
                duration: attempt.durationMilliseconds.map { "\($0) ms" }, excerpt: attempt.responseExcerpt.map { String($0.prefix(200)) })
        }
        lastStatus = event.lastStatus
        lastError = event.lastError
        retryAt = event.state == .pending && event.attempts > 0 ? DashboardPages.time(event.nextAttemptAt) : nil
    }
}

/// An e-mail about an order.
struct EmailRow: Sendable {
    let subject, to, state, created: String
    let sent, error: String?
}
