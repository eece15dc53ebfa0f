import Foundation
import Logging
import SQLKit
import StableGateDomain

/// One authenticated request asking to be counted: its nonce must be new for the key, and the
/// key must have budget left in the current minute.
public struct RequestClaim: Sendable {
    public let apiKeyId: String
    public let nonce: String
    /// When the nonce may be forgotten: after its timestamp can no longer be accepted.
    public let nonceExpiresAt: Date
    /// Requests allowed per minute for this key.
    public let limitPerMinute: Int
    public let now: Date

    public init(apiKeyId: String, nonce: String, nonceExpiresAt: Date, limitPerMinute: Int, now: Date) {
        self.apiKeyId = apiKeyId
        self.nonce = nonce
        self.nonceExpiresAt = nonceExpiresAt
        self.limitPerMinute = limitPerMinute
        self.now = now
    }
}

/// The verdict on a ``RequestClaim``.
public enum ClaimVerdict: Sendable, Equatable {
    case accepted
    /// The nonce was already used with this key.
    case replayedNonce
    /// The key's budget for this minute is spent; retry after this many seconds.
    case rateLimited(retryAfterSeconds: Int)
}

/// Replay protection and per-key rate limits, kept in the database so every gateway instance
/// on one database sees the same nonces and counters.
///
/// Claims are group-committed (``GroupCommitter``): concurrent requests share one transaction.
///
/// Rate limits are fixed one-minute windows aligned to the Unix minute; every attempt counts,
/// including rejected ones.
public final class RequestLedger: Sendable {
    /// Most claims written in one transaction (keeps bind counts far below driver limits).
    static let maximumBatch = 256
    private let database: any DatabaseClient
    private let committer: GroupCommitter<RequestClaim, ClaimVerdict>
    private let logger: Logger

    public init(database: any DatabaseClient, logger: Logger) {
        self.database = database
        self.logger = logger
        self.committer = GroupCommitter(maximumBatch: Self.maximumBatch) { claims in
            do {
                return try await Self.write(claims, to: database)
            } catch {
                logger.error("request ledger write failed", metadata: ["error": "\(error)", "batch": "\(claims.count)"])
                throw error
            }
        }
    }

    /// Records the claim and returns the verdict once it is durable.
    public func claim(_ claim: RequestClaim) async throws -> ClaimVerdict {
        try await committer.submit(claim)
    }

    private struct KeyWindow: Hashable {
        let keyId: String
        let windowStart: Int64
    }

    /// Writes a batch in one transaction and decides each claim.
    private static func write(_ claims: [RequestClaim], to database: any DatabaseClient) async throws -> [ClaimVerdict] {
        try await database.transaction { db in try await record(claims, on: db) }
    }

    /// Records `claims` inside the caller's transaction and decides each: the nonces, then one
    /// counter per key and minute. A caller that writes something only for accepted claims (a
    /// create) does it in the same transaction, so a request is counted and its effect stored
    /// together, or neither.
    public static func record(_ claims: [RequestClaim], on db: any SQLDatabase) async throws -> [ClaimVerdict] {
        // 1. Nonces: duplicates inside the batch are replays of the first; the database
        //    reports which of the rest are new.
        var firstIndex: [String: Int] = [:]
        var verdicts = [ClaimVerdict?](repeating: nil, count: claims.count)
        var candidates: [Int] = []
        for (index, claim) in claims.enumerated() {
            let identity = claim.apiKeyId + "\u{0}" + claim.nonce
            if firstIndex[identity] != nil {
                verdicts[index] = .replayedNonce
            } else {
                firstIndex[identity] = index
                candidates.append(index)
            }
        }
        var inserted = Set<String>()
        if !candidates.isEmpty {
            var query = SQLQueryString("INSERT INTO api_nonces (api_key_id, nonce, expires_at) VALUES ")
            for (position, index) in candidates.enumerated() {
                let claim = claims[index]
                if position > 0 { query.appendLiteral(", ") }
                query.appendTuple([claim.apiKeyId, claim.nonce, claim.nonceExpiresAt.unixMilliseconds])
            }
            query.appendLiteral(" ON CONFLICT (api_key_id, nonce) DO NOTHING RETURNING api_key_id, nonce")
            for row in try await db.raw(query).all() {
                inserted.insert(try row.decode(column: "api_key_id", as: String.self) + "\u{0}" + row.decode(column: "nonce", as: String.self))
            }
        }
        // 2. Rate counters for the claims whose nonce was new, one upsert per key and minute.
        var perWindow: [KeyWindow: [Int]] = [:]
        for index in candidates {
            let claim = claims[index]
            guard inserted.contains(claim.apiKeyId + "\u{0}" + claim.nonce) else {
                verdicts[index] = .replayedNonce
                continue
            }
            let windowStart = claim.now.unixMilliseconds / 60_000 * 60_000
            perWindow[KeyWindow(keyId: claim.apiKeyId, windowStart: windowStart), default: []].append(index)
        }
        for (window, indices) in perWindow {
            let row = try await db.raw(
                """
                INSERT INTO rate_limit_windows (api_key_id, window_start, request_count)
                VALUES (\(bind: window.keyId), \(bind: window.windowStart), \(bind: Int64(indices.count)))
                ON CONFLICT (api_key_id, window_start)
                DO UPDATE SET request_count = rate_limit_windows.request_count + excluded.request_count
                RETURNING request_count
                """
            ).first()
            let total = try row?.decode(column: "request_count", as: Int64.self) ?? Int64(indices.count)
            let before = total - Int64(indices.count)
            for (offset, index) in indices.enumerated() {
                let claim = claims[index]
                if before + Int64(offset) + 1 <= Int64(claim.limitPerMinute) {
                    verdicts[index] = .accepted
                } else {
                    let windowEnd = window.windowStart + 60_000
                    let waitMilliseconds = max(0, windowEnd - claim.now.unixMilliseconds)
                    verdicts[index] = .rateLimited(retryAfterSeconds: Int((waitMilliseconds + 999) / 1000))
                }
            }
            // Remember when the key was last used, to the minute: by the batch that opened the
            // key's minute (its counter row is new), not by every batch — a statement fewer in
            // nearly every claim transaction on the database's one writer.
            if total == Int64(indices.count), let first = indices.map({ claims[$0].now }).min() {
                try await db.raw("UPDATE api_keys SET last_used_at = \(bind: first.unixMilliseconds) WHERE id = \(bind: window.keyId)").run()
            }
        }
        return verdicts.map { $0 ?? .replayedNonce }
    }

    /// Deletes nonces that can no longer be replayed, counters of past minutes and expired
    /// idempotency records. Returns how many rows went.
    @discardableResult
    public func purgeExpired(now: Date) async throws -> Int {
        try await database.transaction { db in
            let nowMilliseconds = now.unixMilliseconds
            let nonces = try await db.raw("DELETE FROM api_nonces WHERE expires_at < \(bind: nowMilliseconds) RETURNING nonce").all().count
            let windows = try await db.raw(
                "DELETE FROM rate_limit_windows WHERE window_start < \(bind: nowMilliseconds / 60_000 * 60_000 - 60_000) RETURNING window_start"
            ).all().count
            let records = try await db.raw(
                "DELETE FROM idempotency_records WHERE expires_at < \(bind: nowMilliseconds) RETURNING idempotency_key"
            ).all().count
            return nonces + windows + records
        }
    }
}
