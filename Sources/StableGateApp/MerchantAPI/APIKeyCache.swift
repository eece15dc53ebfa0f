import Foundation
import StableGateDomain
import StableGateStore

/// An API key with its decrypted secret, held in memory only.
struct ResolvedAPIKey: Sendable {
    let record: APIKeyRecord
    let secret: String
    /// Its store's replay window in seconds (the default when the store chose none).
    let replayWindow: Int
    /// Whether its store signs every API response (docs/WIRE-CONTRACT.md §8).
    let signsResponses: Bool
}

/// Looks up API keys and decrypts their secrets, reusing each for ``GatewayConfiguration/apiKeyCacheTTL``
/// so the hot path neither reads the key row nor runs AES-GCM on every request.
///
/// Only keys that exist are cached; a revoked key is cached as revoked. A revocation or edit
/// made in this process's dashboard takes effect at once (``invalidate(id:)``); one made by
/// another process (the CLI, another instance) is seen within the TTL.
final class APIKeyCache: Sendable {
    private let repository: APIKeyRepository
    private let merchants: MerchantRepository
    private let secretBox: SecretBox
    private let cache: ExpiringCache<String, ResolvedAPIKey>

    init(repository: APIKeyRepository, merchants: MerchantRepository, secretBox: SecretBox, ttl: TimeInterval) {
        self.repository = repository
        self.merchants = merchants
        self.secretBox = secretBox
        self.cache = ExpiringCache(ttl: ttl)
    }

    /// The key with this id, or nil when there is none.
    func key(id: String, now: Date) async throws -> ResolvedAPIKey? {
        try await cache.value(for: id, now: now) {
            guard let record = try await repository.find(id: id) else { return nil }
            let secret = try secretBox.open(record.sealedSecret, purpose: APIKeyRecord.secretPurpose)
            let store = try await merchants.store(id: record.storeId)
            return ResolvedAPIKey(
                record: record, secret: secret, replayWindow: store?.replayWindowSeconds ?? RequestSigning.defaultReplayWindow,
                signsResponses: store?.signedResponses ?? false)
        }
    }

    /// Drops the cached copy of key `id` after it was revoked or edited.
    func invalidate(id: String) {
        cache.invalidate(id)
    }

    /// Drops the cached keys of a store whose settings changed (its replay window).
    func invalidate(storeId: String) async throws {
        for key in try await repository.list(storeId: storeId) { cache.invalidate(key.id) }
    }
}
