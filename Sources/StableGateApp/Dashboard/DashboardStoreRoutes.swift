import Foundation
import HTTPTypes
import Hummingbird
import StableGateEthereum
import StableGateDomain
import StableGateStore

/// Store settings (with logo), API keys and the audit log. Every change is audited.
struct DashboardStoreRoutes {
    let pages: DashboardPages

    func register(on group: RouterGroup<GatewayRequestContext>) {
        group.get("settings") { request, context in
            let query = request.uri.queryParameters
            let notice = query["saved"] != nil ? "Settings saved."
                : query["test"].map { "Test event \($0) queued; it is sent within a few seconds." }
                ?? query["redelivered"].map { "Event \($0) queued for redelivery." }
            return try await settingsPage(try identity(context), notice: notice)
        }
        group.post("settings") { request, context in try await saveSettings(request, try identity(context)) }
        group.post("webhooks/test") { request, context in
            let identity = try identity(context)
            guard SessionManager.csrfMatches(identity.session, try await DashboardPages.form(request)["csrf"]) else { return pages.staleForm(identity) }
            let eventId: String
            do {
                eventId = try await pages.notifications.operations.queueTestEvent(storeId: identity.store.id)
            } catch let error as MerchantOnboarding.InputError {
                return try await settingsPage(identity, error: error.description, status: .badRequest)
            }
            try await pages.audit(identity, "webhook.test_sent", .object([("event_id", .string(eventId))]))
            return PageTemplates.seeOther("/dashboard/settings?test=\(eventId)")
        }
        group.post("webhooks/redeliver") { request, context in
            let identity = try identity(context)
            let form = try await DashboardPages.form(request)
            guard SessionManager.csrfMatches(identity.session, form["csrf"]) else { return pages.staleForm(identity) }
            guard let event = form["event"], try await pages.notifications.redeliver(eventId: event, storeId: identity.store.id) else {
                return pages.notFound(identity)
            }
            try await pages.audit(identity, "webhook.redelivered", .object([("event_id", .string(event))]))
            return PageTemplates.seeOther("/dashboard/settings?redelivered=\(event)")
        }
        group.post("settings/logo") { request, context in try await uploadLogo(request, try identity(context)) }
        group.post("settings/logo/remove") { request, context in
            let identity = try identity(context)
            guard SessionManager.csrfMatches(identity.session, try await DashboardPages.form(request)["csrf"]) else { return pages.staleForm(identity) }
            try await pages.merchants.setLogo(
                storeId: identity.store.id, contentType: nil, data: nil, audit: pages.auditEntry(identity, "logo.removed", .object([])))
            return PageTemplates.seeOther("/dashboard/settings?saved=1")
        }
        group.get("keys") { request, context in
            try await keysPage(try identity(context), notice: request.uri.queryParameters["revoked"] != nil ? "The key is revoked." : nil, error: nil)
        }
        group.post("keys") { request, context in try await createKey(request, try identity(context)) }
        group.get("keys/:key") { _, context in
            let identity = try identity(context)
            guard let key = try await ownKey(try context.parameters.require("key"), identity) else { return pages.notFound(identity) }
            return keyPage(key, identity, error: nil)
        }
        group.post("keys/:key") { request, context in
            let identity = try identity(context)
            guard var key = try await ownKey(try context.parameters.require("key"), identity) else { return pages.notFound(identity) }
            let form = try await DashboardPages.form(request)
            guard SessionManager.csrfMatches(identity.session, form["csrf"]) else { return pages.staleForm(identity) }
            let before = key
            switch Self.keySettings(form) {
            case .failure(let problem): return keyPage(key, identity, error: problem.reason, status: .badRequest)
            case .success(let settings):
                (key.label, key.allowedRanges, key.rateLimitPerMinute) = (settings.label, settings.ranges, settings.rate ?? key.rateLimitPerMinute)
            }
            try await pages.apiKeys.update(key, audit: pages.auditEntry(identity, "api_key.updated", .object([
                ("api_key", .string(key.id)),
                ("changes", StoreSettingsDiff.fields([("label", before.label ?? "", key.label ?? ""),
                                       ("allowed_ips", before.allowedRanges.map(\.description).joined(separator: ","), key.allowedRanges.map(\.description).joined(separator: ",")),
                                       ("rate_limit_per_minute", String(before.rateLimitPerMinute), String(key.rateLimitPerMinute))])),
            ])))
            pages.keyCache.invalidate(id: key.id)
            return PageTemplates.seeOther("/dashboard/keys")
        }
        group.post("keys/:key/revoke") { request, context in
            let identity = try identity(context)
            guard let key = try await ownKey(try context.parameters.require("key"), identity) else { return pages.notFound(identity) }
            let form = try await DashboardPages.form(request)
            guard SessionManager.csrfMatches(identity.session, form["csrf"]) else { return pages.staleForm(identity) }
            guard form["confirm"] == "yes" else { return keyPage(key, identity, error: "Tick the box to confirm the revocation.", status: .badRequest) }
            try await pages.apiKeys.revoke(
                id: key.id, at: pages.clock.now,
                audit: pages.auditEntry(identity, "api_key.revoked", .object([("api_key", .string(key.id)), ("label", .stringOrNull(key.label))])))
            pages.keyCache.invalidate(id: key.id)
            return PageTemplates.seeOther("/dashboard/keys?revoked=1")
        }
        group.get("audit") { _, context in
            let identity = try identity(context)
            let entries = try await pages.accounts.auditLog(storeId: identity.store.id).map { entry -> [String: String] in
                ["at": DashboardPages.time(entry.at), "actor": entry.actor, "action": entry.action, "detail": entry.detail]
            }
            return pages.page("audit", title: "Audit log", identity: identity, nav: "audit", ["entries": entries])
        }
    }

    private func identity(_ context: GatewayRequestContext) throws -> DashboardIdentity {
        guard let identity = context.dashboard else { throw HTTPError(.unauthorized) }
        return identity
    }

    // MARK: Settings

    private func settingsPage(_ identity: DashboardIdentity, store override: Store? = nil, notice: String? = nil, error: String? = nil,
                              status: HTTPResponse.Status = .ok) async throws -> Response {
        let store = override ?? identity.store
        let feeBasisPoints = store.feeBasisPoints ?? pages.configuration.defaultFeeBasisPoints
        var storeModel: [String: Any] = [
            "name": store.name, "webhook": store.webhookURL ?? "", "webhookId": store.endpoint(.allscale)?.id ?? "",
            "eventsURL": store.eventsURL ?? "", "eventsWebhookId": store.endpoint(.events)?.id ?? "", "signedResponses": store.signedResponses,
            "emails": store.notificationEmails.joined(separator: "\n"),
            "wallet": store.walletAddress ?? "", "windowMinutes": store.paymentWindowSeconds.map { String($0 / 60) } ?? "", "kyt": store.kytEnabled,
            "replayWindow": store.replayWindowSeconds.map(String.init) ?? "",
            "fee": "\(DecimalAmount(units: .init(feeBasisPoints), scale: 2).plainString()) %",
        ]
        if store.logoContentType != nil { storeModel["logoURL"] = "/stores/\(store.id)/logo?v=\(store.logoVersion)" }
        let chains = pages.chains.map { ["chainId": String($0.chainId), "name": $0.name, "wallet": store.chainWallets[$0.chainId] ?? ""] }
        let recent = try await pages.notifications.recent(storeId: store.id)
        return pages.page("settings", title: "Settings", identity: identity, nav: "settings", status: status, notice: notice, error: error,
                          ["store": storeModel, "chains": chains, "defaultWindow": String(Int(pages.configuration.paymentWindow / 60)), "recentEvents": recent])
    }

    private func saveSettings(_ request: Request, _ identity: DashboardIdentity) async throws -> Response {
        let form = try await DashboardPages.form(request)
        guard SessionManager.csrfMatches(identity.session, form["csrf"]) else { return pages.staleForm(identity) }
        var store = identity.store
        var problems: [String] = []
        let name = (form["name"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if name.isEmpty || name.count > 200 { problems.append("the store name must be 1–200 characters") } else { store.name = name }
        for (endpoint, field, newIdField) in [(WebhookEndpoint.allscale, "webhook_url", "new_webhook_id"), (.events, "events_url", "new_events_webhook_id")] {
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
        if let bad = emails.first(where: { !EmailAddress.isValid($0) }) { problems.append("\(bad) is not an e-mail address") }
        else if emails.count > 10 { problems.append("at most 10 notification addresses") }
        else { store.notificationEmails = emails.map { $0.lowercased() } }
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
        if windowText.isEmpty { store.paymentWindowSeconds = nil }
        else if let minutes = Int(windowText), (1...1440).contains(minutes) { store.paymentWindowSeconds = minutes * 60 }
        else { problems.append("the payment window must be 1–1440 minutes") }
        let replayText = (form["replay_window_seconds"] ?? "").trimmingCharacters(in: .whitespaces)
        let range = RequestSigning.replayWindowRange
        if replayText.isEmpty { store.replayWindowSeconds = nil }
        else if let seconds = Int(replayText), range.contains(seconds) { store.replayWindowSeconds = seconds }
        else { problems.append("the replay window must be \(range.lowerBound)–\(range.upperBound) seconds") }
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

    private func uploadLogo(_ request: Request, _ identity: DashboardIdentity) async throws -> Response {
        var request = request
        let body = Array(try await request.collectBody(upTo: LogoImage.maximumBytes + 64 * 1024).readableBytesView)
        guard let form = MultipartForm(body: body, contentType: request.headers[.contentType] ?? "") else {
            return try await settingsPage(identity, error: "The upload could not be read.", status: .badRequest)
        }
        guard SessionManager.csrfMatches(identity.session, form.field("csrf")) else { return pages.staleForm(identity) }
        let image: LogoImage
        do {
            image = try LogoImage(form.part("logo")?.body ?? [])
        } catch {
            return try await settingsPage(identity, error: "Logo not saved: \(error.reason).", status: .badRequest)
        }
        try await pages.merchants.setLogo(
            storeId: identity.store.id, contentType: image.contentType, data: image.bytes,
            audit: pages.auditEntry(identity, "logo.updated", .object([
                ("content_type", .string(image.contentType)), ("width", .int(image.width)), ("height", .int(image.height)), ("bytes", .int(image.bytes.count)),
            ])))
        return PageTemplates.seeOther("/dashboard/settings?saved=1")
    }

    // MARK: Keys

    private func ownKey(_ id: String, _ identity: DashboardIdentity) async throws -> APIKeyRecord? {
        guard let key = try await pages.apiKeys.find(id: id), key.storeId == identity.store.id, key.isActive else { return nil }
        return key
    }

    private func keysPage(_ identity: DashboardIdentity, notice: String?, error: String?, status: HTTPResponse.Status = .ok) async throws -> Response {
        let keys = try await pages.apiKeys.list(storeId: identity.store.id).map { key -> [String: Any] in
            ["id": key.id, "label": key.label ?? "", "ips": key.allowedRanges.isEmpty ? "any" : key.allowedRanges.map(\.description).joined(separator: ", "),
             "rate": key.rateLimitPerMinute, "created": DashboardPages.time(key.createdAt), "lastUsed": key.lastUsedAt.map(DashboardPages.time) ?? "never",
             "status": key.isActive ? "active" : "revoked", "active": key.isActive]
        }
        return pages.page("keys", title: "API keys", identity: identity, nav: "keys", status: status, notice: notice, error: error,
                          ["keys": keys, "defaultRate": pages.configuration.defaultRateLimitPerMinute, "integration": integration(identity.store)])
    }

    /// What a merchant's integration needs besides the key: the API base URL (the vendor's
    /// `ALLSCALE_BASE_URL`) and the webhook ids its receiver may pin.
    private func integration(_ store: Store) -> [String: Any] {
        [
            "baseURL": pages.configuration.resolvedPublicURL, "webhookURL": store.webhookURL ?? "", "webhookId": store.endpoint(.allscale)?.id ?? "",
            "eventsURL": store.eventsURL ?? "", "eventsWebhookId": store.endpoint(.events)?.id ?? "", "signedResponses": store.signedResponses,
        ]
    }

    private func keyPage(_ key: APIKeyRecord, _ identity: DashboardIdentity, error: String?, status: HTTPResponse.Status = .ok) -> Response {
        pages.page("key", title: "API key", identity: identity, nav: "keys", status: status, error: error, [
            "id": key.id, "label": key.label ?? "", "ipLines": key.allowedRanges.map(\.description).joined(separator: "\n"), "rate": key.rateLimitPerMinute,
        ])
    }

    private struct KeySettings {
        let label: String?
        let ranges: [IPAddressRange]
        let rate: Int?
    }

    private struct KeyProblem: Error {
        let reason: String
    }

    private static func keySettings(_ form: [String: String]) -> Result<KeySettings, KeyProblem> {
        let label = (form["label"] ?? "").trimmingCharacters(in: .whitespaces)
        guard label.count <= 100 else { return .failure(KeyProblem(reason: "the label may be at most 100 characters")) }
        var ranges: [IPAddressRange] = []
        for line in (form["ips"] ?? "").split(whereSeparator: { $0.isNewline || $0 == "," }).map({ $0.trimmingCharacters(in: .whitespaces) })
        where !line.isEmpty {
            guard let range = IPAddressRange(line) else { return .failure(KeyProblem(reason: "\(line) is not an IP address or CIDR range")) }
            ranges.append(range)
        }
        var rate: Int?
        if let text = form["rate"]?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            guard let value = Int(text), (1...1_000_000).contains(value) else { return .failure(KeyProblem(reason: "the rate limit must be 1–1,000,000 per minute")) }
            rate = value
        }
        return .success(KeySettings(label: label.isEmpty ? nil : label, ranges: ranges, rate: rate))
    }

    private func createKey(_ request: Request, _ identity: DashboardIdentity) async throws -> Response {
        let form = try await DashboardPages.form(request)
        guard SessionManager.csrfMatches(identity.session, form["csrf"]) else { return pages.staleForm(identity) }
        let settings: KeySettings
        switch Self.keySettings(form) {
        case .failure(let problem): return try await keysPage(identity, notice: nil, error: "Not created: \(problem.reason).", status: .badRequest)
        case .success(let value): settings = value
        }
        let issued = try await pages.onboarding.createKey(
            storeId: identity.store.id, label: settings.label, allowedCIDRs: settings.ranges.map(\.description), rateLimitPerMinute: settings.rate,
            actor: identity.actor)
        return pages.page("key-created", title: "New API key", identity: identity, nav: "keys", [
            "key": issued.record.id, "secret": issued.secret, "integration": integration(identity.store),
        ])
    }
}

/// `GET /stores/{id}/logo`: the store's logo, public (the checkout page shows it).
struct StoreLogoRoute {
    let merchants: MerchantRepository

    func register(on router: Router<GatewayRequestContext>) {
        router.get("stores/:id/logo") { _, context in
            guard let logo = try await merchants.logo(storeId: try context.parameters.require("id")) else { throw HTTPError(.notFound) }
            var headers = HTTPFields()
            headers[.contentType] = logo.contentType
            headers[.cacheControl] = "public, max-age=86400"
            headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
            headers[HTTPField.Name("Content-Security-Policy")!] = "default-src 'none'"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: logo.data)))
        }
    }
}
