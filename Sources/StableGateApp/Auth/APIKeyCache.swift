import StableGateDomain
import StableGateStore
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An API key with its decrypted secret, held in memory only.
struct ResolvedAPIKey: Sendable {
    let record: APIKeyRecord
    let secret: String
}

/// Looks up API keys and decrypts their secrets, reusing each for ``GatewayConfiguration/apiKeyCacheTTL``
/// so the hot path neither reads the key row nor runs AES-GCM on every request.
///
/// Only keys that exist are cached; a revoked key is cached as revoked. A revocation made by
/// another process is seen within the TTL.
final class APIKeyCache: Sendable {
    private struct Entry {
        let key: ResolvedAPIKey
        let expiresAt: Date
    }

    private static let maximumEntries = 10_000
    private let repository: APIKeyRepository
    private let secretBox: SecretBox
    private let ttl: TimeInterval
    private let entries = Mutex<[String: Entry]>([:])

    init(repository: APIKeyRepository, secretBox: SecretBox, ttl: TimeInterval) {
        self.repository = repository
        self.secretBox = secretBox
        self.ttl = ttl
    }

    /// The key with this id, or nil when there is none.
    func key(id: String, now: Date) async throws -> ResolvedAPIKey? {
        if ttl > 0, let cached = entries.withLock({ $0[id] }), cached.expiresAt > now {
            return cached.key
        }
        guard let record = try await repository.find(id: id) else { return nil }
        let secret = try secretBox.open(record.sealedSecret, purpose: APIKeyRecord.secretPurpose)
        let resolved = ResolvedAPIKey(record: record, secret: secret)
        if ttl > 0 {
            entries.withLock { entries in
                if entries.count >= Self.maximumEntries { entries.removeAll(keepingCapacity: true) }
                entries[id] = Entry(key: resolved, expiresAt: now.addingTimeInterval(ttl))
            }
        }
        return resolved
    }
}
