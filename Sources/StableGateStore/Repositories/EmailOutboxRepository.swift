import Foundation
import SQLKit
import StableGateDomain

/// What an outbox e-mail is about; its content is rendered when it is sent.
public enum EmailKind: String, Sendable, CaseIterable {
    case orderCreated = "order_created"
    case orderConfirmed = "order_confirmed"
    case report
}

public enum EmailState: String, Sendable, CaseIterable {
    case pending
    case sending
    case sent
    /// Refused for good by the server (5xx), or every retry failed.
    case failed
}

/// An e-mail waiting in (or gone through) the outbox.
public struct EmailRecord: Sendable, Equatable {
    public let id: String
    public let storeId: String
    public let intentId: String?
    public let kind: EmailKind
    public let recipients: [String]
    /// For reports: the period.
    public let reportKind: ReportPeriod.Kind?
    public let reportLabel: String?
    public let reportStart: Date?
    public let reportEnd: Date?
    public let createdAt: Date
    public let state: EmailState
    public let attempts: Int
    public let nextAttemptAt: Date
    public let subject: String?
    public let lastError: String?
    public let sentAt: Date?
}

/// The e-mail outbox: order e-mails are written with the change they report, reports with the
/// run that makes them unique per period; a mailer claims them under a lease and sends.
public struct EmailOutboxRepository: Sendable {
    private let database: any DatabaseClient

    public init(database: any DatabaseClient) {
        self.database = database
    }

    /// Queues an order e-mail inside the caller's transaction.
    public static func enqueue(
        id: String, storeId: String, intentId: String?, kind: EmailKind, recipients: [String], at date: Date, on db: any SQLDatabase
    ) async throws {
        let at = date.unixMilliseconds
        try await db.raw(
            """
            INSERT INTO email_outbox (id, store_id, intent_id, kind, recipients, created_at, state, next_attempt_at, updated_at)
            VALUES (\(bind: id), \(bind: storeId), \(bind: intentId), \(bind: kind.rawValue), \(bind: recipients.joined(separator: ",")),
                    \(bind: at), 'pending', \(bind: at), \(bind: at))
            """
        ).run()
    }

    /// Queues a store's report for `period` unless one was queued before: the report run and the
    /// e-mail are written together, and the run's key (store, kind, period) is unique, so
    /// schedulers on several instances, or a restart, never queue it twice. `force` (the
    /// operator's `reports send`) queues another copy anyway. Returns the e-mail id, or nil
    /// when the period was already done.
    public func enqueueReport(
        id: String, storeId: String, recipients: [String], period: ReportPeriod, force: Bool, at date: Date
    ) async throws -> String? {
        let at = date.unixMilliseconds
        do {
            return try await database.transaction { db -> String? in
                if !force {
                    try await db.raw(
                        """
                        INSERT INTO report_runs (store_id, kind, label, email_id, created_at)
                        VALUES (\(bind: storeId), \(bind: period.kind.rawValue), \(bind: period.label), \(bind: id), \(bind: at))
                        """
                    ).run()
                }
                try await db.raw(
                    """
                    INSERT INTO email_outbox (id, store_id, kind, recipients, report_kind, report_label, report_start, report_end, created_at,
                                              state, next_attempt_at, updated_at)
                    VALUES (\(bind: id), \(bind: storeId), 'report', \(bind: recipients.joined(separator: ",")), \(bind: period.kind.rawValue),
                            \(bind: period.label), \(bind: period.start.unixMilliseconds), \(bind: period.end.unixMilliseconds), \(bind: at),
                            'pending', \(bind: at), \(bind: at))
                    """
                ).run()
                return id
            }
        } catch  where !force {
            // Another instance (or an earlier run) queued this period first.
            if try await reportRun(storeId: storeId, period: period) != nil { return nil }
            throw error
        }
    }

    /// The e-mail id of the report queued for `period`, if any.
    public func reportRun(storeId: String, period: ReportPeriod) async throws -> String? {
        try await database.read { db in
            try await db.raw(
                """
                SELECT email_id FROM report_runs WHERE store_id = \(bind: storeId) AND kind = \(bind: period.kind.rawValue) AND label = \(bind: period.label)
                """
            ).first()?.decode(column: "email_id", as: String.self)
        }
    }

    /// The labels of a store's reports of `kind` already queued (to skip them cheaply).
    public func reportLabels(storeId: String, kind: ReportPeriod.Kind) async throws -> Set<String> {
        try await database.read { db in
            Set(
                try await db.raw("SELECT label FROM report_runs WHERE store_id = \(bind: storeId) AND kind = \(bind: kind.rawValue)")
                    .all(decodingColumn: "label", as: String.self))
        }
    }

    /// Claims up to `limit` due e-mails (pending, or sending with an expired lease).
    public func claim(now: Date, owner: String, lease: TimeInterval, limit: Int) async throws -> [EmailRecord] {
        let dialect = database.dialect
        return try await database.transaction { db in
            let nowMs = now.unixMilliseconds
            var select = SQLQueryString(
                """
                SELECT id FROM email_outbox WHERE state IN ('pending', 'sending') AND next_attempt_at <= \(bind: nowMs)
                ORDER BY next_attempt_at, id LIMIT \(unsafeRaw: String(limit))
                """)
            if dialect == .postgres { select.appendLiteral(" FOR UPDATE SKIP LOCKED") }
            let ids = try await db.raw(select).all().map { try $0.decode(column: "id", as: String.self) }
            let leaseEnd = now.addingTimeInterval(lease).unixMilliseconds
            var claimed: [EmailRecord] = []
            for id in ids {
                guard
                    let row = try await db.raw(
                        """
                        UPDATE email_outbox SET state = 'sending', lease_owner = \(bind: owner), lease_until = \(bind: leaseEnd),
                            next_attempt_at = \(bind: leaseEnd), attempts = attempts + 1, updated_at = \(bind: nowMs)
                        WHERE id = \(bind: id) AND state IN ('pending', 'sending') AND next_attempt_at <= \(bind: nowMs)
                        RETURNING *
                        """
                    ).first()
                else { continue }
                claimed.append(try Self.email(from: row))
            }
            return claimed
        }
    }

    /// Records the outcome of a send: sent, failed for good, or pending until `retryAt`.
    public func finish(id: String, owner: String, state: EmailState, subject: String?, error: String?, retryAt: Date?, now: Date) async throws {
        try await database.transaction { db in
            let nowMs = now.unixMilliseconds
            try await db.raw(
                """
                UPDATE email_outbox SET state = \(bind: state.rawValue), subject = COALESCE(\(bind: subject), subject), last_error = \(bind: error),
                    sent_at = \(bind: state == .sent ? nowMs : nil), next_attempt_at = \(bind: (retryAt ?? now).unixMilliseconds),
                    lease_owner = NULL, lease_until = NULL, updated_at = \(bind: nowMs)
                WHERE id = \(bind: id) AND lease_owner = \(bind: owner)
                """
            ).run()
        }
    }

    public func email(id: String) async throws -> EmailRecord? {
        try await database.read { db in try await db.raw("SELECT * FROM email_outbox WHERE id = \(bind: id)").first().map(Self.email(from:)) }
    }

    /// The e-mails about an intent, oldest first.
    public func emails(intentId: String) async throws -> [EmailRecord] {
        try await database.read { db in
            try await db.raw("SELECT * FROM email_outbox WHERE intent_id = \(bind: intentId) ORDER BY created_at, id").all().map(Self.email(from:))
        }
    }

    /// A store's newest e-mails.
    public func emails(storeId: String, limit: Int = 100) async throws -> [EmailRecord] {
        try await database.read { db in
            try await db.raw(
                """
                SELECT * FROM email_outbox WHERE store_id = \(bind: storeId) ORDER BY created_at DESC, id DESC LIMIT \(unsafeRaw: String(limit))
                """
            ).all().map(Self.email(from:))
        }
    }

    static func email(from row: any SQLRow) throws -> EmailRecord {
        let kindText = try row.decode(column: "kind", as: String.self)
        let stateText = try row.decode(column: "state", as: String.self)
        guard let kind = EmailKind(rawValue: kindText), let state = EmailState(rawValue: stateText) else {
            throw StoreDataError("unknown e-mail kind \(kindText) or state \(stateText)")
        }
        return EmailRecord(
            id: try row.decode(column: "id", as: String.self), storeId: try row.decode(column: "store_id", as: String.self),
            intentId: try row.decode(column: "intent_id", as: String?.self), kind: kind,
            recipients: try row.decode(column: "recipients", as: String.self).split(separator: ",").map(String.init),
            reportKind: try row.decode(column: "report_kind", as: String?.self).flatMap(ReportPeriod.Kind.init(rawValue:)),
            reportLabel: try row.decode(column: "report_label", as: String?.self),
            reportStart: try row.decode(column: "report_start", as: Int64?.self).map(Date.init(unixMilliseconds:)),
            reportEnd: try row.decode(column: "report_end", as: Int64?.self).map(Date.init(unixMilliseconds:)),
            createdAt: Date(unixMilliseconds: try row.decode(column: "created_at", as: Int64.self)), state: state,
            attempts: Int(try row.decode(column: "attempts", as: Int64.self)),
            nextAttemptAt: Date(unixMilliseconds: try row.decode(column: "next_attempt_at", as: Int64.self)),
            subject: try row.decode(column: "subject", as: String?.self), lastError: try row.decode(column: "last_error", as: String?.self),
            sentAt: try row.decode(column: "sent_at", as: Int64?.self).map(Date.init(unixMilliseconds:)))
    }
}
