import Foundation
import Synchronization

/// A small in-memory cache whose entries live for a fixed time. Only found values are cached,
/// so a missing row is re-read every time. A TTL of zero disables caching.
final class ExpiringCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Entry {
        let value: Value
        let expiresAt: Date
    }

    private let ttl: TimeInterval
    private let maximumEntries: Int
    /// The entries, and a count of invalidations so a load that raced one is not cached.
    private let state = Mutex<(entries: [Key: Entry], generation: UInt64)>(([:], 0))

    init(ttl: TimeInterval, maximumEntries: Int = 10_000) {
        self.ttl = ttl
        self.maximumEntries = maximumEntries
    }

    /// The cached value for `key`, or what `load` returns (cached when non-nil).
    func value(for key: Key, now: Date, load: () async throws -> Value?) async throws -> Value? {
        guard ttl > 0 else { return try await load() }
        let (cached, generation) = state.withLock { ($0.entries[key], $0.generation) }
        if let cached, cached.expiresAt > now {
            return cached.value
        }
        guard let value = try await load() else { return nil }
        state.withLock { state in
            guard state.generation == generation else { return }  // invalidated while loading: may be stale
            // Bounded by clearing rather than tracking recency: simple, and a refill is cheap.
            if state.entries.count >= maximumEntries { state.entries.removeAll(keepingCapacity: true) }
            state.entries[key] = Entry(value: value, expiresAt: now.addingTimeInterval(ttl))
        }
        return value
    }

    /// Stores `value` for `key` (replacing any), e.g. after a fresh computation.
    func set(_ value: Value, for key: Key, now: Date) {
        guard ttl > 0 else { return }
        state.withLock { state in
            if state.entries.count >= maximumEntries { state.entries.removeAll(keepingCapacity: true) }
            state.entries[key] = Entry(value: value, expiresAt: now.addingTimeInterval(ttl))
        }
    }

    /// Forgets `key` now (its row changed in this process), rather than when its TTL ends.
    func invalidate(_ key: Key) {
        state.withLock { state in
            state.entries.removeValue(forKey: key)
            state.generation &+= 1
        }
    }
}
