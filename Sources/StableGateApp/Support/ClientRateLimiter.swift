import StableGateDomain
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Per-client request budgets for the public (unsigned) endpoints, in memory: a token bucket
/// per client address. It protects this instance from one noisy client; it is not the signed
/// API's per-key limit, which lives in the database.
final class ClientRateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updatedAt: Date
    }

    private let capacity: Double
    private let refillPerSecond: Double
    private let buckets = Mutex<[String: Bucket]>([:])
    private static let maximumClients = 50_000

    /// `perMinute` requests per minute, with bursts up to `burst`.
    init(perMinute: Int, burst: Int) {
        capacity = Double(burst)
        refillPerSecond = Double(perMinute) / 60
    }

    /// Takes one request from `client`'s budget; returns the seconds to wait when there is none.
    func take(client: String, now: Date) -> Int? {
        buckets.withLock { buckets in
            if buckets.count > Self.maximumClients { buckets.removeAll(keepingCapacity: true) }
            var bucket = buckets[client] ?? Bucket(tokens: capacity, updatedAt: now)
            bucket.tokens = min(capacity, bucket.tokens + now.timeIntervalSince(bucket.updatedAt) * refillPerSecond)
            bucket.updatedAt = now
            defer { buckets[client] = bucket }
            guard bucket.tokens >= 1 else { return Int(((1 - bucket.tokens) / refillPerSecond).rounded(.up)) }
            bucket.tokens -= 1
            return nil
        }
    }
}

extension ClientRateLimiter {
    /// Takes one request from the budget of the request's client address, or throws 40001
    /// ("rate limited") with Retry-After.
    func admit(_ context: GatewayRequestContext, now: Date, what: String = "requests") throws {
        if let wait = take(client: context.remoteAddress?.ipAddress ?? "unknown", now: now) {
            throw APIError(.rateLimited, "too many \(what) from this address; retry in \(wait) s", retryAfterSeconds: wait)
        }
    }
}
