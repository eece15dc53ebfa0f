import Foundation
import StableGateDomain
import Synchronization

/// Per-client request budgets for the public (unsigned) endpoints, in memory: a token bucket
/// per client — an IPv4 address, or an IPv6 /64, the block one subscriber is usually given,
/// so cycling through one's own addresses does not make new clients. It protects this
/// instance from one noisy client; it is not the signed API's per-key limit, which lives in
/// the database.
final class ClientRateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updatedAt: Date
    }

    private let capacity: Double
    private let refillPerSecond: Double
    private let maximumClients: Int
    private let buckets = Mutex<[String: Bucket]>([:])

    /// `perMinute` requests per minute, with bursts up to `burst`, remembering at most
    /// `maximumClients` clients.
    init(perMinute: Int, burst: Int, maximumClients: Int = 50_000) {
        capacity = Double(burst)
        refillPerSecond = Double(perMinute) / 60
        self.maximumClients = max(1, maximumClients)
    }

    /// Takes one request from `client`'s budget; returns the seconds to wait when there is none.
    func take(client: String, now: Date) -> Int? {
        let key = Self.bucket(for: client)
        return buckets.withLock { buckets in
            if buckets[key] == nil && buckets.count >= maximumClients { evict(&buckets, now: now) }
            var bucket = buckets[key] ?? Bucket(tokens: capacity, updatedAt: now)
            bucket.tokens = refilled(bucket, now: now)
            bucket.updatedAt = now
            defer { buckets[key] = bucket }
            guard bucket.tokens >= 1 else { return Int(((1 - bucket.tokens) / refillPerSecond).rounded(.up)) }
            bucket.tokens -= 1
            return nil
        }
    }

    private func refilled(_ bucket: Bucket, now: Date) -> Double {
        min(capacity, bucket.tokens + max(0, now.timeIntervalSince(bucket.updatedAt)) * refillPerSecond)
    }

    /// Makes room for new clients without resetting everyone (which would let one client
    /// cycling through addresses lift every limit): buckets that have refilled go first — a
    /// new client gets a full one anyway, so nothing is lost — then, when that is not a tenth,
    /// the ones untouched the longest. Freeing a tenth at a time keeps the sort rare.
    private func evict(_ buckets: inout [String: Bucket], now: Date) {
        buckets = buckets.filter { refilled($0.value, now: now) < capacity }
        let target = maximumClients - max(1, maximumClients / 10)
        guard buckets.count > target else { return }
        for (key, _) in buckets.sorted(by: { $0.value.updatedAt < $1.value.updatedAt }).prefix(buckets.count - target) {
            buckets.removeValue(forKey: key)
        }
    }

    /// The client a remote address counts as: an IPv4 address (also when written IPv4-mapped,
    /// `::ffff:203.0.113.7`) as it is, an IPv6 address by its /64 (`2001:db8:0:1::/64`),
    /// anything unparsable by its text.
    static func bucket(for address: String) -> String {
        guard let bytes = IPAddressRange(address)?.network, bytes.count == 16 else { return address }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
            return bytes[12...].map(String.init).joined(separator: ".")
        }
        let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
        return groups.joined(separator: ":") + "::/64"
    }
}
