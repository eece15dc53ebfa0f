import Foundation
import StableGateDomain
import StableGateStore

/// The operator's side of "contact the BD team": merchants, stores and API keys.
public struct MerchantOnboarding: Sendable {
    let environment: GatewayEnvironment

    public init(environment: GatewayEnvironment) {
        self.environment = environment
    }

    /// Credentials shown to the operator once.
    public struct Credentials: Sendable {
        public let merchantId: String
        public let storeId: String
        public let apiKey: String
        /// Plaintext, never stored: only the sealed form is.
        public let apiSecret: String
    }

    /// A key as issued: its id and its one-time plaintext secret.
    public struct IssuedKey: Sendable {
        public let record: APIKeyRecord
        public let secret: String
    }

    /// Why onboarding input was refused.
    public struct InputError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Creates a merchant with one store (named like the merchant) and its first API key.
    public func createMerchant(name: String, wallet: String?) async throws -> Credentials {
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 200 else { throw InputError(description: "--name must be 1–200 characters") }
        if let wallet {
            guard EVMAddressFormat.isValid(wallet) else {
                throw InputError(description: "--wallet must be a 0x-prefixed 20-byte hex address, got \(wallet)")
            }
        }
        let now = environment.clock.now
        let ids = environment.identifiers
        let merchant = Merchant(id: ids.objectId(at: now), name: name, createdAt: now)
        let store = Store(id: ids.objectId(at: now), merchantId: merchant.id, name: name, walletAddress: wallet, createdAt: now)
        let key = try issueKey(storeId: store.id, label: "first key", allowedRanges: [], rateLimitPerMinute: nil, now: now)
        try await environment.merchants.onboard(merchant: merchant, store: store, firstKey: key.record)
        return Credentials(merchantId: merchant.id, storeId: store.id, apiKey: key.record.id, apiSecret: key.secret)
    }

    /// Creates another API key for a store (rotation: create the new one, deploy, then revoke
    /// the old one; both work in between).
    /// The creation is audited as done by `actor`, in the key's own transaction.
    public func createKey(
        storeId: String, label: String?, allowedCIDRs: [String], rateLimitPerMinute: Int?, actor: AuditActor = .operatorCLI
    ) async throws -> IssuedKey {
        guard try await environment.merchants.store(id: storeId) != nil else {
            throw InputError(description: "no store with id \(storeId)")
        }
        var ranges: [IPAddressRange] = []
        for text in allowedCIDRs {
            guard let range = IPAddressRange(text) else {
                throw InputError(description: "--allow-ip \(text) is not an IPv4/IPv6 address or CIDR range (e.g. 203.0.113.0/24)")
            }
            ranges.append(range)
        }
        if let rateLimitPerMinute, rateLimitPerMinute < 1 {
            throw InputError(description: "--rate-limit must be at least 1 request per minute")
        }
        let now = environment.clock.now
        let key = try issueKey(storeId: storeId, label: label, allowedRanges: ranges, rateLimitPerMinute: rateLimitPerMinute, now: now)
        let audit = AuditEntry(
            id: environment.identifiers.objectId(at: now), storeId: storeId, actor: actor, at: now, action: "api_key.created",
            detail: JSONValue.object([
                ("api_key", .string(key.record.id)), ("label", .stringOrNull(label)),
                ("allowed_ips", .string(ranges.map(\.description).joined(separator: ","))),
                ("rate_limit_per_minute", .int(key.record.rateLimitPerMinute)),
            ]).serialized)
        try await environment.apiKeys.create(key.record, audit: audit)
        return key
    }

    private func issueKey(storeId: String, label: String?, allowedRanges: [IPAddressRange], rateLimitPerMinute: Int?, now: Date) throws -> IssuedKey {
        let ids = environment.identifiers
        let secret = "sgs_" + ids.randomBytes(32).hexString
        let record = APIKeyRecord(
            id: "sgk_" + ids.randomBytes(16).hexString, storeId: storeId,
            sealedSecret: try environment.secretBox.seal(secret, purpose: APIKeyRecord.secretPurpose), label: label,
            allowedRanges: allowedRanges, rateLimitPerMinute: rateLimitPerMinute ?? environment.configuration.defaultRateLimitPerMinute,
            createdAt: now)
        return IssuedKey(record: record, secret: secret)
    }
}
