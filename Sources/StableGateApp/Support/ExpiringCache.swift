import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A small in-memory cache whose entries live for a fixed time. Only found values are cached,
/// so a missing row is re-read every time. A TTL of zero disables caching.
final class ExpiringCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Entry {
        let value: Value
        let expiresAt: Date
    }

    private let ttl: TimeInterval
    private let maximumEntries: Int
    private let entries = Mutex<[Key: Entry]>([:])

    init(ttl: TimeInterval, maximumEntries: Int = 10_000) {
        self.ttl = ttl
        self.maximumEntries = maximumEntries
    }

    /// The cached value for `key`, or what `load` returns (cached when non-nil).
    func value(for key: Key, now: Date, load: () async throws -> Value?) async throws -> Value? {
        guard ttl > 0 else { return try await load() }
        if let entry = entries.withLock({ $0[key] }), entry.expiresAt > now {
            return entry.value
        }
        guard let value = try await load() else { return nil }
        entries.withLock { entries in
            // Bounded by clearing rather than tracking recency: simple, and a refill is cheap.
            if entries.count >= maximumEntries { entries.removeAll(keepingCapacity: true) }
            entries[key] = Entry(value: value, expiresAt: now.addingTimeInterval(ttl))
        }
        return value
    }
}
