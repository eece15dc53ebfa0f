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

    /// A key's one-minute rate window, aligned to the Unix minute.
    private struct KeyWindow: Hashable {
        let keyId: String
        let windowStart: Int64

        init(keyId: String, windowStart: Int64) {
            self.keyId = keyId
            self.windowStart = windowStart
        }

        init(_ claim: RequestClaim) {
            self.init(keyId: claim.apiKeyId, windowStart: claim.now.unixMilliseconds / 60_000 * 60_000)
        }
    }

    /// Writes a batch and decides each claim: in one transaction on SQLite; on PostgreSQL as
    /// one auto-committed statement (``record(_:on:)`` writes nonces and counters in one there),
    /// which needs no BEGIN and COMMIT round trips. The once-a-minute `last_used_at` update,
    /// when there is one, commits on its own after it.
    private static func write(_ claims: [RequestClaim], to database: any DatabaseClient) async throws -> [ClaimVerdict] {
        switch database.dialect {
        case .sqlite: try await database.transaction { db in try await record(claims, on: db) }
        case .postgres: try await database.read { db in try await record(claims, on: db) }
        }
    }

    /// Records `claims` inside the caller's transaction and decides each: the nonces, then one
    /// counter per key and minute. A caller that writes something only for accepted claims (a
    /// create) does it in the same transaction, so a request is counted and its effect stored
    /// together, or neither.
    public static func record(_ claims: [RequestClaim], on db: any SQLDatabase) async throws -> [ClaimVerdict] {
        // Duplicates inside the batch are replays of the first; the database reports which of
        // the rest are new.
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
        guard !candidates.isEmpty else { return verdicts.map { $0 ?? .replayedNonce } }
        let fresh = candidates.map { claims[$0] }
        let (inserted, totals) =
            db.databaseDialect == .postgres
            ? try await countInOneStatement(fresh, on: db) : try await countStatementByStatement(fresh, on: db)

        // The claims whose nonce was new, per key and minute, in batch order.
        var perWindow: [KeyWindow: [Int]] = [:]
        for index in candidates {
            let claim = claims[index]
            guard inserted.contains(claim.apiKeyId + "\u{0}" + claim.nonce) else {
                verdicts[index] = .replayedNonce
                continue
            }
            perWindow[KeyWindow(claim), default: []].append(index)
        }
        for (window, indices) in perWindow {
            let total = totals[window] ?? Int64(indices.count)
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
            // nearly every claim transaction.
            if before == 0, let first = indices.map({ claims[$0].now }).min() {
                try await db.raw("UPDATE api_keys SET last_used_at = \(bind: first.unixMilliseconds) WHERE id = \(bind: window.keyId)").run()
            }
        }
        return verdicts.map { $0 ?? .replayedNonce }
    }

    /// SQLite: the new nonces with one multi-row INSERT, then one counter upsert per key and
    /// minute. Returns the inserted `key\0nonce` identities and each window's count after.
    private static func countStatementByStatement(
        _ claims: [RequestClaim], on db: any SQLDatabase
    ) async throws -> (inserted: Set<String>, totals: [KeyWindow: Int64]) {
        var query = SQLQueryString("INSERT INTO api_nonces (api_key_id, nonce, expires_at) VALUES ")
        for (position, claim) in claims.enumerated() {
            if position > 0 { query.appendLiteral(", ") }
            query.appendTuple([claim.apiKeyId, claim.nonce, claim.nonceExpiresAt.unixMilliseconds])
        }
        query.appendLiteral(" ON CONFLICT (api_key_id, nonce) DO NOTHING RETURNING api_key_id, nonce")
        var inserted = Set<String>()
        for row in try await db.raw(query).all() {
            inserted.insert(try row.decode(column: "api_key_id", as: String.self) + "\u{0}" + row.decode(column: "nonce", as: String.self))
        }
        var counts: [KeyWindow: Int64] = [:]
        for claim in claims where inserted.contains(claim.apiKeyId + "\u{0}" + claim.nonce) {
            counts[KeyWindow(claim), default: 0] += 1
        }
        var totals: [KeyWindow: Int64] = [:]
        for (window, count) in counts {
            let row = try await db.raw(
                """
                INSERT INTO rate_limit_windows (api_key_id, window_start, request_count)
                VALUES (\(bind: window.keyId), \(bind: window.windowStart), \(bind: count))
                ON CONFLICT (api_key_id, window_start)
                DO UPDATE SET request_count = rate_limit_windows.request_count + excluded.request_count
                RETURNING request_count
                """
            ).first()
            totals[window] = try row?.decode(column: "request_count", as: Int64.self) ?? count
        }
        return (inserted, totals)
    }

    /// PostgreSQL: the same writes in one statement (data-modifying CTEs), so a batch of claims
    /// is one round trip to the server rather than one per table.
    private static func countInOneStatement(
        _ claims: [RequestClaim], on db: any SQLDatabase
    ) async throws -> (inserted: Set<String>, totals: [KeyWindow: Int64]) {
        var query = SQLQueryString("WITH claims (api_key_id, nonce, expires_at, window_start) AS (VALUES ")
        for (position, claim) in claims.enumerated() {
            if position > 0 { query.appendLiteral(", ") }
            // The binds carry their types (text, int8), which the VALUES columns take.
            query.appendTuple([claim.apiKeyId, claim.nonce, claim.nonceExpiresAt.unixMilliseconds, KeyWindow(claim).windowStart])
        }
        query.appendLiteral(
            """
            ),
            new_nonces AS (
                INSERT INTO api_nonces (api_key_id, nonce, expires_at) SELECT api_key_id, nonce, expires_at FROM claims
                ON CONFLICT (api_key_id, nonce) DO NOTHING RETURNING api_key_id, nonce
            ),
            windows AS (
                INSERT INTO rate_limit_windows (api_key_id, window_start, request_count)
                SELECT c.api_key_id, c.window_start, COUNT(*) FROM new_nonces n JOIN claims c USING (api_key_id, nonce)
                GROUP BY c.api_key_id, c.window_start
                ON CONFLICT (api_key_id, window_start)
                DO UPDATE SET request_count = rate_limit_windows.request_count + excluded.request_count
                RETURNING api_key_id, window_start, request_count
            )
            SELECT api_key_id, nonce, NULL::BIGINT AS window_start, NULL::BIGINT AS request_count FROM new_nonces
            UNION ALL SELECT api_key_id, NULL, window_start, request_count FROM windows
            """)
        var inserted = Set<String>()
        var totals: [KeyWindow: Int64] = [:]
        for row in try await db.raw(query).all() {
            let keyId = try row.decode(column: "api_key_id", as: String.self)
            if let nonce = try row.decode(column: "nonce", as: String?.self) {
                inserted.insert(keyId + "\u{0}" + nonce)
            } else {
                let windowStart = try row.decode(column: "window_start", as: Int64.self)
                totals[KeyWindow(keyId: keyId, windowStart: windowStart)] = try row.decode(column: "request_count", as: Int64.self)
            }
        }
        return (inserted, totals)
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
