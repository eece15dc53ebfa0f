import Foundation
import HTTPTypes
import Hummingbird
import StableGateDomain
import StableGateEthereum
import StableGateStore

/// The store's API keys: list, create (the secret is shown once), edit, revoke. Every change is
/// audited, and the API's key cache is told at once.
struct DashboardKeyRoutes {
    let pages: DashboardPages

    @Sendable func keys(_ request: Request, context: DashboardContext) async throws -> Response {
        try await keysPage(context.identity, notice: request.uri.queryParameters["revoked"] != nil ? "The key is revoked." : nil, error: nil)
    }

    @Sendable func key(_ request: Request, context: DashboardContext) async throws -> Response {
        let identity = context.identity
        guard let key = try await ownKey(try context.parameters.require("key"), identity) else { return pages.notFound(identity) }
        return keyPage(key, identity, error: nil)
    }

    @Sendable func updateKey(_ request: Request, context: DashboardContext) async throws -> Response {
        let identity = context.identity
        guard var key = try await ownKey(try context.parameters.require("key"), identity) else { return pages.notFound(identity) }
        let before = key
        switch Self.keySettings(context.form) {
        case .failure(let problem): return keyPage(key, identity, error: problem.reason, status: .badRequest)
        case .success(let settings):
            (key.label, key.allowedRanges, key.rateLimitPerMinute) = (settings.label, settings.ranges, settings.rate ?? key.rateLimitPerMinute)
        }
        try await pages.apiKeys.update(
            key,
            audit: pages.auditEntry(
                identity, "api_key.updated",
                .object([
                    ("api_key", .string(key.id)),
                    (
                        "changes",
                        StoreSettingsDiff.fields([
                            ("label", before.label ?? "", key.label ?? ""),
                            (
                                "allowed_ips", before.allowedRanges.map(\.description).joined(separator: ","),
                                key.allowedRanges.map(\.description).joined(separator: ",")
                            ),
                            ("rate_limit_per_minute", String(before.rateLimitPerMinute), String(key.rateLimitPerMinute)),
                        ])
                    ),
                ])))
        pages.keyCache.invalidate(id: key.id)
        return PageTemplates.seeOther("/dashboard/keys")
    }

    @Sendable func revokeKey(_ request: Request, context: DashboardContext) async throws -> Response {
        let identity = context.identity
        guard let key = try await ownKey(try context.parameters.require("key"), identity) else { return pages.notFound(identity) }
        guard context.form["confirm"] == "yes" else {
            return keyPage(key, identity, error: "Tick the box to confirm the revocation.", status: .badRequest)
        }
        try await pages.apiKeys.revoke(
            id: key.id, at: pages.clock.now,
            audit: pages.auditEntry(identity, "api_key.revoked", .object([("api_key", .string(key.id)), ("label", .stringOrNull(key.label))])))
        pages.keyCache.invalidate(id: key.id)
        return PageTemplates.seeOther("/dashboard/keys?revoked=1")
    }

    private func ownKey(_ id: String, _ identity: DashboardIdentity) async throws -> APIKeyRecord? {
        guard let key = try await pages.apiKeys.find(id: id), key.storeId == identity.store.id, key.isActive else { return nil }
        return key
    }

    private func keysPage(_ identity: DashboardIdentity, notice: String?, error: String?, status: HTTPResponse.Status = .ok) async throws -> Response
    {
        let keys = try await pages.apiKeys.list(storeId: identity.store.id).map { key in
            KeysPage.Key(
                id: key.id, label: key.label ?? "",
                ips: key.allowedRanges.isEmpty ? "any" : key.allowedRanges.map(\.description).joined(separator: ", "),
                rate: key.rateLimitPerMinute, created: DashboardPages.time(key.createdAt),
                lastUsed: key.lastUsedAt.map(DashboardPages.time) ?? "never",
                status: key.isActive ? "active" : "revoked", active: key.isActive)
        }
        return pages.page(
            "keys", title: "API keys", identity: identity, nav: "keys", status: status, notice: notice, error: error,
            KeysPage(keys: keys, defaultRate: pages.configuration.defaultRateLimitPerMinute, integration: integration(identity.store)))
    }

    /// What a merchant's integration needs besides the key: the API base URL (the vendor's
    /// `ALLSCALE_BASE_URL`) and the webhook ids its receiver may pin.
    private func integration(_ store: Store) -> IntegrationDetails {
        IntegrationDetails(
            baseURL: pages.configuration.resolvedPublicURL, webhookURL: store.webhookURL ?? "", webhookId: store.endpoint(.allscale)?.id ?? "",
            eventsURL: store.eventsURL ?? "", eventsWebhookId: store.endpoint(.events)?.id ?? "", signedResponses: store.signedResponses)
    }

    private func keyPage(_ key: APIKeyRecord, _ identity: DashboardIdentity, error: String?, status: HTTPResponse.Status = .ok) -> Response {
        pages.page(
            "key", title: "API key", identity: identity, nav: "keys", status: status, error: error,
            KeyPage(
                id: key.id, label: key.label ?? "", ipLines: key.allowedRanges.map(\.description).joined(separator: "\n"),
                rate: key.rateLimitPerMinute))
    }

    private struct KeySettings {
        let label: String?
        let ranges: [IPAddressRange]
        let rate: Int?
    }

    private struct KeyProblem: Error {
        let reason: String
    }

    private static func keySettings(_ form: FormFields) -> Result<KeySettings, KeyProblem> {
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
            guard let value = Int(text), (1...1_000_000).contains(value) else {
                return .failure(KeyProblem(reason: "the rate limit must be 1–1,000,000 per minute"))
            }
            rate = value
        }
        return .success(KeySettings(label: label.isEmpty ? nil : label, ranges: ranges, rate: rate))
    }

    @Sendable func createKey(_ request: Request, context: DashboardContext) async throws -> Response {
        let identity = context.identity
        let form = context.form
        let settings: KeySettings
        switch Self.keySettings(form) {
        case .failure(let problem): return try await keysPage(identity, notice: nil, error: "Not created: \(problem.reason).", status: .badRequest)
        case .success(let value): settings = value
        }
        let issued = try await pages.onboarding.createKey(
            storeId: identity.store.id, label: settings.label, allowedCIDRs: settings.ranges.map(\.description), rateLimitPerMinute: settings.rate,
            actor: identity.actor)
        return pages.page(
            "key-created", title: "New API key", identity: identity, nav: "keys",
            KeyCreatedPage(key: issued.record.id, secret: issued.secret, integration: integration(identity.store)))
    }
}

/// The store's keys, and what an integration needs besides them.
struct KeysPage: Sendable {
    struct Key: Sendable {
        let id, label, ips: String
        let rate: Int
        let created, lastUsed, status: String
        let active: Bool
    }

    let keys: [Key]
    let defaultRate: Int
    let integration: IntegrationDetails
}

/// One key's edit form.
struct KeyPage: Sendable {
    let id, label: String
    /// One range per line.
    let ipLines: String
    let rate: Int
}

/// A new key with its secret, shown once.
struct KeyCreatedPage: Sendable {
    let key, secret: String
    let integration: IntegrationDetails
}

/// The API base URL and webhook endpoints an integration is configured with.
struct IntegrationDetails: Sendable {
    let baseURL, webhookURL, webhookId, eventsURL, eventsWebhookId: String
    let signedResponses: Bool
}
