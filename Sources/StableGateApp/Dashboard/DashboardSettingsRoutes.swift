import BigInt
import Foundation
import HTTPTypes
import Hummingbird
import StableGateDomain
import StableGateEthereum
import StableGateStore

/// Store settings (webhook endpoints, wallets, windows, logo), the webhook test and
/// redelivery actions, and the audit log. Every change is audited.
struct DashboardSettingsRoutes {
    let pages: DashboardPages

    @Sendable func settings(_ request: Request, context: DashboardContext) async throws -> Response {
        let query = request.uri.queryParameters
        let notice =
            query["saved"] != nil
            ? "Settings saved."
            : query["test"].map { "Test event \($0) queued; it is sent within a few seconds." }
                ?? query["redelivered"].map { "Event \($0) queued for redelivery." }
        return try await settingsPage(context.identity, notice: notice)
    }

    @Sendable func sendTestEvent(_ request: Request, context: DashboardContext) async throws -> Response {
        let identity = context.identity
        let eventId: String
        do {
            eventId = try await pages.notifications.operations.queueTestEvent(storeId: identity.store.id)
        } catch let error as MerchantOnboarding.InputError {
            return try await settingsPage(identity, error: error.description, status: .badRequest)
        }
        try await pages.audit(identity, "webhook.test_sent", .object([("event_id", .string(eventId))]))
        return PageTemplates.seeOther("/dashboard/settings?test=\(eventId)")
    }

    @Sendable func redeliver(_ request: Request, context: DashboardContext) async throws -> Response {
        let identity = context.identity
        guard let event = context.form["event"], try await pages.notifications.redeliver(eventId: event, storeId: identity.store.id) else {
            return pages.notFound(identity)
        }
        try await pages.audit(identity, "webhook.redelivered", .object([("event_id", .string(event))]))
        return PageTemplates.seeOther("/dashboard/settings?redelivered=\(event)")
    }

    @Sendable func removeLogo(_ request: Request, context: DashboardContext) async throws -> Response {
        let identity = context.identity
        try await pages.merchants.setLogo(
            storeId: identity.store.id, contentType: nil, data: nil, audit: pages.auditEntry(identity, "logo.removed", .object([])))
        return PageTemplates.seeOther("/dashboard/settings?saved=1")
    }

    @Sendable func auditLog(_ request: Request, context: DashboardContext) async throws -> Response {
        let identity = context.identity
        let entries = try await pages.auditLog.auditLog(storeId: identity.store.id).map { entry in
            AuditPage.Entry(at: DashboardPages.time(entry.at), actor: entry.actor, action: entry.action, detail: entry.detail)
        }
        return pages.page("audit", title: "Audit log", identity: identity, nav: "audit", AuditPage(entries: entries))
    }

    private func settingsPage(
        _ identity: DashboardIdentity, store override: Store? = nil, notice: String? = nil, error: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let store = override ?? identity.store
        let feeBasisPoints = store.feeBasisPoints ?? pages.configuration.defaultFeeBasisPoints
        let model = SettingsPage(
            store: SettingsPage.StoreFields(
                name: store.name, webhook: store.webhookURL ?? "", webhookId: store.endpoint(.allscale)?.id ?? "", eventsURL: store.eventsURL ?? "",
                eventsWebhookId: store.endpoint(.events)?.id ?? "", signedResponses: store.signedResponses,
                emails: store.notificationEmails.joined(separator: "\n"), wallet: store.walletAddress ?? "",
                windowMinutes: store.paymentWindowSeconds.map { String($0 / 60) } ?? "", kyt: store.kytEnabled,
                replayWindow: store.replayWindowSeconds.map(String.init) ?? "",
                fee: "\(DecimalAmount(units: .init(feeBasisPoints), scale: 2).plainString()) %",
                logoURL: store.logoContentType == nil ? nil : "/stores/\(store.id)/logo?v=\(store.logoVersion)"),
            chains: pages.chains.map { .init(chainId: String($0.chainId), name: $0.name, wallet: store.chainWallets[$0.chainId] ?? "") },
            defaultWindow: String(Int(pages.configuration.paymentWindow / 60)), recentEvents: try await pages.notifications.recent(storeId: store.id))
        return pages.page("settings", title: "Settings", identity: identity, nav: "settings", status: status, notice: notice, error: error, model)
    }

    @Sendable func saveSettings(_ request: Request, context: DashboardContext) async throws -> Response {
        let identity = context.identity
        let form = context.form
        var store = identity.store
        var problems: [String] = []
        let name = (form["name"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if name.isEmpty || name.count > 200 { problems.append("the store name must be 1–200 characters") } else { store.name = name }
        for (endpoint, field, newIdField) in [
            (WebhookEndpoint.allscale, "webhook_url", "new_webhook_id"), (.events, "events_url", "new_events_webhook_id"),
        ] {
            let url = (form[field] ?? "").trimmingCharacters(in: .whitespaces)
            if !url.isEmpty, let problem = WebhookURLRule.problem(url, sandbox: pages.configuration.mode == .sandbox) {
                problems.append("\(endpoint.title): \(problem)")
            } else {
                store.setEndpoint(endpoint, url: url, newId: form[newIdField] == "on") { WebhookSigning.newWebhookId(pages.identifiers) }
            }
        }
        store.signedResponses = form["signed_responses"] == "on"
        let emails = (form["emails"] ?? "").split(whereSeparator: { $0.isNewline || $0 == "," })
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if let bad = emails.first(where: { !EmailAddress.isValid($0) }) {
            problems.append("\(bad) is not an e-mail address")
        } else if emails.count > 10 {
            problems.append("at most 10 notification addresses")
        } else {
            store.notificationEmails = emails.map { $0.lowercased() }
        }
        func wallet(_ text: String?, label: String) -> (ok: Bool, value: String?) {
            let text = (text ?? "").trimmingCharacters(in: .whitespaces)
            guard !text.isEmpty else { return (true, nil) }
            guard let address = EthereumAddress(text) else {
                problems.append("\(label): \(text) is not a valid address (check its capitalisation: EIP-55)")
                return (false, nil)
            }
            return (true, address.checksummed)
        }
        let main = wallet(form["wallet"], label: "settlement wallet")
        if main.ok { store.walletAddress = main.value }
        var chainWallets: [Int64: String] = [:]
        for chain in pages.chains {
            let entry = wallet(form["wallet_\(chain.chainId)"], label: "wallet on \(chain.name)")
            if let value = entry.value { chainWallets[chain.chainId] = value }
        }
        store.chainWallets = chainWallets
        let windowText = (form["window_minutes"] ?? "").trimmingCharacters(in: .whitespaces)
        if windowText.isEmpty {
            store.paymentWindowSeconds = nil
        } else if let minutes = Int(windowText), (1...1440).contains(minutes) {
            store.paymentWindowSeconds = minutes * 60
        } else {
            problems.append("the payment window must be 1–1440 minutes")
        }
        let replayText = (form["replay_window_seconds"] ?? "").trimmingCharacters(in: .whitespaces)
        let range = RequestSigning.replayWindowRange
        if replayText.isEmpty {
            store.replayWindowSeconds = nil
        } else if let seconds = Int(replayText), range.contains(seconds) {
            store.replayWindowSeconds = seconds
        } else {
            problems.append("the replay window must be \(range.lowerBound)–\(range.upperBound) seconds")
        }
        store.kytEnabled = form["kyt"] == "on"
        guard problems.isEmpty else {
            return try await settingsPage(identity, store: store, error: "Not saved: " + problems.joined(separator: "; ") + ".", status: .badRequest)
        }
        let before = identity.store
        try await pages.merchants.update(store, audit: pages.auditEntry(identity, "settings.updated", StoreSettingsDiff.between(before, store)))
        // This instance applies a new replay window or signing choice at once; others within the key cache's TTL.
        if store.replayWindowSeconds != before.replayWindowSeconds || store.signedResponses != before.signedResponses {
            try await pages.keyCache.invalidate(storeId: store.id)
        }
        return PageTemplates.seeOther("/dashboard/settings?saved=1")
    }

    @Sendable func uploadLogo(_ request: Request, context: DashboardContext) async throws -> Response {
        let identity = context.identity
        let image: LogoImage
        do {
            image = try LogoImage(context.form.files["logo"] ?? [])
        } catch {
            return try await settingsPage(identity, error: "Logo not saved: \(error.reason).", status: .badRequest)
        }
        try await pages.merchants.setLogo(
            storeId: identity.store.id, contentType: image.contentType, data: image.bytes,
            audit: pages.auditEntry(
                identity, "logo.updated",
                .object([
                    ("content_type", .string(image.contentType)), ("width", .int(image.width)), ("height", .int(image.height)),
                    ("bytes", .int(image.bytes.count)),
                ])))
        return PageTemplates.seeOther("/dashboard/settings?saved=1")
    }
}

/// The store's settings form and its newest webhook events.
struct SettingsPage: Sendable {
    /// The form's fields as stored (or as entered, when refused).
    struct StoreFields: Sendable {
        let name, webhook, webhookId, eventsURL, eventsWebhookId: String
        let signedResponses: Bool
        /// `emails`: one address per line.
        let emails, wallet, windowMinutes: String
        let kyt: Bool
        let replayWindow, fee: String
        let logoURL: String?
    }

    /// The settlement wallet on one network.
    struct ChainWallet: Sendable {
        let chainId, name, wallet: String
    }

    let store: StoreFields
    let chains: [ChainWallet]
    /// The operator's payment window, in minutes.
    let defaultWindow: String
    let recentEvents: [WebhookDeliveryRow]
}

/// The store's audit log.
struct AuditPage: Sendable {
    struct Entry: Sendable {
        let at, actor, action, detail: String
    }

    let entries: [Entry]
}
