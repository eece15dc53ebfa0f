import HTTPTypes
import Hummingbird
import Logging
import StableGateEthereum
import StableGateDomain
import StableGateStore

import Foundation

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
    let accounts: AccountRepository
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

    /// A dashboard page inside the layout.
    func page(_ template: String, title: String, identity: DashboardIdentity?, nav: String? = nil, status: HTTPResponse.Status = .ok,
              notice: String? = nil, error: String? = nil, _ model: [String: Any] = [:]) -> Response {
        var model = model
        model["title"] = title
        if let identity {
            model["identity"] = ["email": identity.user.email, "storeName": identity.store.name, "csrf": identity.session.csrfToken]
            model["csrf"] = identity.session.csrfToken
        }
        if let nav { model["nav"] = [nav: true] }
        if let notice { model["notice"] = notice }
        if let error { model["error"] = error }
        return PageTemplates.html(templates.render(model, "dashboard-\(template)"), status: status)
    }

    /// The "not found" page: another store's order or key looks exactly like a missing one.
    func notFound(_ identity: DashboardIdentity) -> Response {
        page("message", title: "Not found", identity: identity, status: .notFound,
             ["heading": "Not found", "body": "There is nothing with this id in your store.", "link": "/dashboard", "linkText": "Back to the overview"])
    }

    /// The page for a form whose CSRF token did not match (a stale page or a cross-site post).
    func staleForm(_ identity: DashboardIdentity) -> Response {
        page("message", title: "Form expired", identity: identity, status: .forbidden,
             ["heading": "This form expired", "body": "Its security token did not match your session. Nothing was changed. Reload the page and try again.",
              "link": "/dashboard", "linkText": "Back to the overview"])
    }

    /// Reads a url-encoded form body.
    static func form(_ request: Request) async throws -> [String: String] {
        try await PageTemplates.form(request, upTo: 64 * 1024)
    }

    /// Records an event that changes nothing else (an export, a redelivery request).
    func audit(_ identity: DashboardIdentity, _ action: String, _ detail: JSONValue) async throws {
        try await accounts.audit(auditEntry(identity, action, detail))
    }

    /// The audit entry for a change, to be written in the change's own transaction.
    func auditEntry(_ identity: DashboardIdentity, _ action: String, _ detail: JSONValue) -> AuditEntry {
        AuditEntry(id: identifiers.objectId(at: clock.now), storeId: identity.store.id, actor: identity.actor, at: clock.now, action: action, detail: detail.serialized)
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
    func deliveries(intentId: String) async throws -> [[String: Any]] {
        var rows: [[String: Any]] = []
        for event in try await webhooks.events(intentId: intentId) { rows.append(try await Self.row(event, attempts: webhooks.attempts(eventId: event.id))) }
        return rows
    }

    /// A store's newest webhook events (test events included).
    func recent(storeId: String) async throws -> [[String: Any]] {
        var rows: [[String: Any]] = []
        for event in try await webhooks.events(storeId: storeId, limit: 20) { rows.append(try await Self.row(event, attempts: [])) }
        return rows
    }

    /// The e-mails about an intent.
    func emails(intentId: String) async throws -> [[String: Any]] {
        try await emails.emails(intentId: intentId).map { email in
            var row: [String: Any] = [
                "subject": email.subject ?? (email.kind == .orderCreated ? "Order created" : "Order confirmed"), "to": email.recipients.joined(separator: ", "),
                "state": email.state.rawValue, "created": DashboardPages.time(email.createdAt),
            ]
            if let sent = email.sentAt { row["sent"] = DashboardPages.time(sent) }
            if let error = email.lastError { row["error"] = error }
            return row
        }
    }

    func redeliver(eventId: String, storeId: String) async throws -> Bool {
        try await operations.redeliver(eventId: eventId, storeId: storeId)
    }

    private static func row(_ event: WebhookEventRecord, attempts: [WebhookAttemptRecord]) -> [String: Any] {
        var row: [String: Any] = [
            "eventId": event.id, "type": event.type, "endpoint": event.endpoint == .allscale ? "webhook URL" : "events URL", "state": event.state.rawValue,
            "attempts": event.attempts, "created": DashboardPages.time(event.createdAt),
            "attemptList": attempts.map { attempt -> [String: Any] in
                var item: [String: Any] = ["number": attempt.attempt, "at": DashboardPages.time(attempt.startedAt)]
                item["outcome"] = attempt.httpStatus.map { "HTTP \($0)" } ?? attempt.error ?? "in flight"
                if let duration = attempt.durationMilliseconds { item["duration"] = "\(duration) ms" }
                if let excerpt = attempt.responseExcerpt { item["excerpt"] = String(excerpt.prefix(200)) }
                return item
            },
        ]
        if let status = event.lastStatus { row["lastStatus"] = status }
        if let error = event.lastError { row["lastError"] = error }
        if event.state == .pending && event.attempts > 0 { row["retryAt"] = DashboardPages.time(event.nextAttemptAt) }
        return row
    }
}

/// Lets only logged-in users through to `/dashboard` pages, with their store in the context;
/// others are sent to the login page (and back afterwards).
struct DashboardSessionMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext
    let pages: DashboardPages

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let session = try await pages.sessions.resolve(request),
            let user = try await pages.accounts.user(id: session.userId), user.disabledAt == nil,
            let store = try await pages.merchants.stores(merchantId: user.merchantId).first
        else {
            let back = request.method == .get ? request.uri.path + (request.uri.query.map { "?" + $0 } ?? "") : "/dashboard"
            var query = URLComponents()
            query.queryItems = [URLQueryItem(name: "next", value: back)]
            return PageTemplates.seeOther("/dashboard/login?" + (query.percentEncodedQuery ?? ""))
        }
        var context = context
        context.dashboard = DashboardIdentity(user: user, store: store, session: session)
        context.logger[metadataKey: "user_id"] = .string(user.id)
        context.logger[metadataKey: "store_id"] = .string(store.id)
        return try await next(request, context)
    }
}
