import Foundation
import SQLKit
import StableGateDomain

/// Where a webhook event stands.
public enum WebhookEventState: String, Sendable, CaseIterable {
    /// Waiting for its next attempt (or for an earlier event of the same intent).
    case pending
    /// An instance holds it and is sending it now.
    case delivering
    /// A 2xx answer arrived.
    case delivered
    /// Every scheduled attempt failed; only a manual redelivery sends it again.
    case failed
    /// The receiver answered 410 Gone: no more attempts.
    case gone
}

/// A webhook event to write into the outbox.
public struct NewWebhookEvent: Sendable {
    public let id: String
    public let storeId: String
    /// Which of the store's URLs it goes to.
    public let endpoint: WebhookEndpoint
    public let intentId: String?
    /// Order among the intent's events (0 for test events).
    public let sequence: Int64
    public let type: String
    /// The exact request body.
    public let body: String
    public let createdAt: Date

    public init(
        id: String, storeId: String, endpoint: WebhookEndpoint, intentId: String?, sequence: Int64, type: String, body: String, createdAt: Date
    ) {
        self.id = id
        self.endpoint = endpoint
        self.storeId = storeId
        self.intentId = intentId
        self.sequence = sequence
        self.type = type
        self.body = body
        self.createdAt = createdAt
    }
}

/// A webhook event as stored.
public struct WebhookEventRecord: Sendable, Equatable {
    public let id: String
    public let storeId: String
    public let endpoint: WebhookEndpoint
    public let intentId: String?
    public let sequence: Int64
    public let type: String
    public let body: String
    public let createdAt: Date
    public let state: WebhookEventState
    /// Attempts made in all.
    public let attempts: Int
    /// Attempts since it was last queued (the position in the retry schedule).
    public let cycleAttempts: Int
    public let nextAttemptAt: Date
    public let lastStatus: Int?
    public let lastError: String?
    public let deliveredAt: Date?
}

/// One recorded delivery attempt.
public struct WebhookAttemptRecord: Sendable, Equatable {
    public let eventId: String
    public let attempt: Int
    /// The instance that made it.
    public let owner: String
    public let url: String
    public let startedAt: Date
    /// nil while in flight, or when the instance stopped before it learned the answer.
    public let durationMilliseconds: Int?
    public let httpStatus: Int?
    public let error: String?
    /// The start of the response body, for the merchant's debugging.
    public let responseExcerpt: String?
}

/// An event an instance has claimed for one attempt, with where to send it.
public struct ClaimedWebhook: Sendable {
    public let event: WebhookEventRecord
    /// The attempt number this claim is for.
    public let attempt: Int
    public let url: String
    /// The endpoint's current webhook id (`X-Webhook-Id` and the body's `webhook_id`).
    public let webhookId: String
}

/// The result of one attempt, to record.
public struct WebhookAttemptResult: Sendable {
    public let durationMilliseconds: Int
    public let httpStatus: Int?
    public let error: String?
    public let responseExcerpt: String?

    public init(durationMilliseconds: Int, httpStatus: Int?, error: String?, responseExcerpt: String?) {
        self.durationMilliseconds = durationMilliseconds
        self.httpStatus = httpStatus
        self.error = error
        self.responseExcerpt = responseExcerpt
    }
}

/// The webhook outbox: events written with the change they describe, claimed by one instance
/// at a time under a lease, every attempt recorded.
public struct WebhookRepository: Sendable {
    private let database: any DatabaseClient

    public init(database: any DatabaseClient) {
        self.database = database
    }

    // MARK: Writing events (inside the caller's transaction)

    /// Inserts events, due at once.
    public static func enqueue(_ events: [NewWebhookEvent], on db: any SQLDatabase) async throws {
        guard !events.isEmpty else { return }
        var query = SQLQueryString(
            """
            INSERT INTO webhook_events (id, store_id, endpoint, intent_id, seq, type, body, created_at, state, next_attempt_at, updated_at) VALUES\u{20}
            """)
        for (index, event) in events.enumerated() {
            if index > 0 { query.appendLiteral(", ") }
            let at = event.createdAt.unixMilliseconds
            query.appendTuple(
                [
                    event.id, event.storeId, event.endpoint.rawValue, event.intentId, event.sequence, event.type, event.body, at,
                    WebhookEventState.pending.rawValue, at, at,
                ] as [any Encodable & Sendable])
        }
        try await db.raw(query).run()
    }

    /// The sequence number the intent's next event gets.
    public static func nextSequence(intentId: String, on db: any SQLDatabase) async throws -> Int64 {
        let last =
            try await db.raw("SELECT COALESCE(MAX(seq), 0) AS seq FROM webhook_events WHERE intent_id = \(bind: intentId)")
            .first()?.decode(column: "seq", as: Int64.self) ?? 0
        return last + 1
    }

    /// Queues a test event for a store (outside any intent).
    public func enqueueTest(_ event: NewWebhookEvent) async throws {
        try await database.transaction { db in try await Self.enqueue([event], on: db) }
    }

    // MARK: Delivering

    /// Claims up to `limit` due events for one attempt each: pending ones whose time has come
    /// and in-flight ones whose holder's lease ran out (it stopped mid-delivery).
    ///
    /// Order: an event waits while an earlier event of the same intent and endpoint is in flight
    /// or has not had its first attempt of this cycle, so while the receiver answers, an
    /// intent's events arrive in order. Once an earlier event has been refused and waits for a
    /// retry, later ones go ahead: an outcome is never held back by an older event that keeps
    /// failing (receivers compare `status`/`created_at`, README "Webhooks"). On PostgreSQL rows
    /// another instance is claiming are skipped (`FOR UPDATE SKIP LOCKED`); the lease keeps
    /// them from being claimed twice after that.
    public func claim(now: Date, owner: String, lease: TimeInterval, limit: Int) async throws -> [ClaimedWebhook] {
        let dialect = database.dialect
        return try await database.transaction { db in
            let nowMs = now.unixMilliseconds
            var select = SQLQueryString(
                """
                SELECT e.id, e.endpoint, s.webhook_url, s.webhook_id, s.events_url, s.events_webhook_id
                FROM webhook_events e JOIN stores s ON s.id = e.store_id
                WHERE e.state IN ('pending', 'delivering') AND e.next_attempt_at <= \(bind: nowMs)
                  AND (e.intent_id IS NULL OR NOT EXISTS (
                      SELECT 1 FROM webhook_events p WHERE p.intent_id = e.intent_id AND p.endpoint = e.endpoint AND p.seq < e.seq
                        AND (p.state = 'delivering' OR (p.state = 'pending' AND p.cycle_attempts = 0))))
                ORDER BY e.next_attempt_at, e.id LIMIT \(unsafeRaw: String(limit))
                """)
            if dialect == .postgres { select.appendLiteral(" FOR UPDATE OF e SKIP LOCKED") }
            let due = try await db.raw(select).all().map { row in
                let endpoint = WebhookEndpoint(rawValue: try row.decode(column: "endpoint", as: String.self)) ?? .events
                let (urlColumn, idColumn) = endpoint == .allscale ? ("webhook_url", "webhook_id") : ("events_url", "events_webhook_id")
                return (
                    id: try row.decode(column: "id", as: String.self), endpoint: endpoint, url: try row.decode(column: urlColumn, as: String?.self),
                    webhookId: try row.decode(column: idColumn, as: String?.self)
                )
            }
            var claimed: [ClaimedWebhook] = []
            for candidate in due {
                // An attempt that was in flight when its instance stopped has no answer: say so.
                try await db.raw(
                    """
                    UPDATE webhook_attempts SET error = 'interrupted: the gateway stopped before the answer arrived'
                    WHERE event_id = \(bind: candidate.id) AND duration_ms IS NULL AND error IS NULL
                    """
                ).run()
                guard let url = candidate.url, !url.isEmpty, let webhookId = candidate.webhookId else {
                    try await db.raw(
                        """
                        UPDATE webhook_events SET state = 'failed', last_error = \(bind: "the store has no \(candidate.endpoint.title)"), lease_owner = NULL,
                            lease_until = NULL, updated_at = \(bind: nowMs) WHERE id = \(bind: candidate.id)
                        """
                    ).run()
                    continue
                }
                let leaseEnd = now.addingTimeInterval(lease).unixMilliseconds
                guard
                    let row = try await db.raw(
                        """
                        UPDATE webhook_events SET state = 'delivering', lease_owner = \(bind: owner), lease_until = \(bind: leaseEnd),
                            next_attempt_at = \(bind: leaseEnd), attempts = attempts + 1, cycle_attempts = cycle_attempts + 1, updated_at = \(bind: nowMs)
                        WHERE id = \(bind: candidate.id) AND state IN ('pending', 'delivering') AND next_attempt_at <= \(bind: nowMs)
                        RETURNING *
                        """
                    ).first()
                else { continue }
                let event = try Self.event(from: row)
                try await db.raw(
                    """
                    INSERT INTO webhook_attempts (event_id, attempt, owner, url, started_at)
                    VALUES (\(bind: event.id), \(bind: Int64(event.attempts)), \(bind: owner), \(bind: url), \(bind: nowMs))
                    """
                ).run()
                claimed.append(ClaimedWebhook(event: event, attempt: event.attempts, url: url, webhookId: webhookId))
            }
            return claimed
        }
    }

    /// Records an attempt's result and moves the event on: delivered, gone, failed, or pending
    /// until `retryAt`. The event is only moved if this instance still holds it.
    public func finish(
        _ claim: ClaimedWebhook, owner: String, result: WebhookAttemptResult, state: WebhookEventState, retryAt: Date?, now: Date
    ) async throws {
        try await database.transaction { db in
            let nowMs = now.unixMilliseconds
            try await db.raw(
                """
                UPDATE webhook_attempts SET duration_ms = \(bind: Int64(result.durationMilliseconds)), http_status = \(bind: result.httpStatus.map(Int64.init)),
                    error = \(bind: result.error), response_excerpt = \(bind: result.responseExcerpt)
                WHERE event_id = \(bind: claim.event.id) AND attempt = \(bind: Int64(claim.attempt))
                """
            ).run()
            try await db.raw(
                """
                UPDATE webhook_events SET state = \(bind: state.rawValue), next_attempt_at = \(bind: (retryAt ?? now).unixMilliseconds),
                    last_status = \(bind: result.httpStatus.map(Int64.init)), last_error = \(bind: result.error),
                    delivered_at = \(bind: state == .delivered ? nowMs : nil), lease_owner = NULL, lease_until = NULL, updated_at = \(bind: nowMs)
                WHERE id = \(bind: claim.event.id) AND lease_owner = \(bind: owner) AND attempts = \(bind: Int64(claim.attempt))
                """
            ).run()
        }
    }

    /// Queues an event again now, with a fresh retry schedule. `storeId` restricts it to one
    /// store's events (the dashboard). Returns false when there is no such event.
    public func redeliver(eventId: String, storeId: String? = nil, now: Date) async throws -> Bool {
        try await database.transaction { db in
            var query = SQLQueryString(
                """
                UPDATE webhook_events SET state = 'pending', next_attempt_at = \(bind: now.unixMilliseconds), cycle_attempts = 0,
                    updated_at = \(bind: now.unixMilliseconds)
                WHERE id = \(bind: eventId) AND state <> 'delivering'
                """)
            if let storeId {
                query.appendLiteral(" AND store_id = ")
                query.appendInterpolation(bind: storeId)
            }
            query.appendLiteral(" RETURNING id")
            return try await db.raw(query).first() != nil
        }
    }

    // MARK: Reading

    public func event(id: String) async throws -> WebhookEventRecord? {
        try await database.read { db in try await db.raw("SELECT * FROM webhook_events WHERE id = \(bind: id)").first().map(Self.event(from:)) }
    }

    /// An intent's events, in order.
    public func events(intentId: String) async throws -> [WebhookEventRecord] {
        try await database.read { db in
            try await db.raw("SELECT * FROM webhook_events WHERE intent_id = \(bind: intentId) ORDER BY seq").all().map(Self.event(from:))
        }
    }

    /// A store's newest events.
    public func events(storeId: String, limit: Int = 100) async throws -> [WebhookEventRecord] {
        try await database.read { db in
            try await db.raw(
                """
                SELECT * FROM webhook_events WHERE store_id = \(bind: storeId) ORDER BY created_at DESC, id DESC LIMIT \(unsafeRaw: String(limit))
                """
            ).all().map(Self.event(from:))
        }
    }

    /// An event's attempts, in order.
    public func attempts(eventId: String) async throws -> [WebhookAttemptRecord] {
        try await database.read { db in
            try await db.raw("SELECT * FROM webhook_attempts WHERE event_id = \(bind: eventId) ORDER BY attempt").all().map { row in
                WebhookAttemptRecord(
                    eventId: try row.decode(column: "event_id", as: String.self), attempt: Int(try row.decode(column: "attempt", as: Int64.self)),
                    owner: try row.decode(column: "owner", as: String.self), url: try row.decode(column: "url", as: String.self),
                    startedAt: Date(unixMilliseconds: try row.decode(column: "started_at", as: Int64.self)),
                    durationMilliseconds: try row.decode(column: "duration_ms", as: Int64?.self).map(Int.init),
                    httpStatus: try row.decode(column: "http_status", as: Int64?.self).map(Int.init),
                    error: try row.decode(column: "error", as: String?.self),
                    responseExcerpt: try row.decode(column: "response_excerpt", as: String?.self))
            }
        }
    }

    static func event(from row: any SQLRow) throws -> WebhookEventRecord {
        let stateText = try row.decode(column: "state", as: String.self)
        guard let state = WebhookEventState(rawValue: stateText) else { throw StoreDataError("unknown webhook event state \(stateText)") }
        return WebhookEventRecord(
            id: try row.decode(column: "id", as: String.self), storeId: try row.decode(column: "store_id", as: String.self),
            endpoint: WebhookEndpoint(rawValue: try row.decode(column: "endpoint", as: String.self)) ?? .events,
            intentId: try row.decode(column: "intent_id", as: String?.self), sequence: try row.decode(column: "seq", as: Int64.self),
            type: try row.decode(column: "type", as: String.self), body: try row.decode(column: "body", as: String.self),
            createdAt: Date(unixMilliseconds: try row.decode(column: "created_at", as: Int64.self)), state: state,
            attempts: Int(try row.decode(column: "attempts", as: Int64.self)),
            cycleAttempts: Int(try row.decode(column: "cycle_attempts", as: Int64.self)),
            nextAttemptAt: Date(unixMilliseconds: try row.decode(column: "next_attempt_at", as: Int64.self)),
            lastStatus: try row.decode(column: "last_status", as: Int64?.self).map(Int.init),
            lastError: try row.decode(column: "last_error", as: String?.self),
            deliveredAt: try row.decode(column: "delivered_at", as: Int64?.self).map(Date.init(unixMilliseconds:)))
    }
}
