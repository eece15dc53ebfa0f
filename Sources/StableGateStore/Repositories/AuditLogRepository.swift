import Foundation
import SQLKit
import StableGateDomain

/// Each store's audit log: who changed what, when. Changes write their entry in their own
/// transaction (``audit(_:on:)``).
public struct AuditLogRepository: Sendable {
    private let database: any DatabaseClient

    public init(database: any DatabaseClient) {
        self.database = database
    }

    public func audit(_ entry: AuditEntry) async throws {
        try await database.transaction { db in try await Self.audit(entry, on: db) }
    }

    public static func audit(_ entry: AuditEntry, on db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO audit_log (id, store_id, user_id, actor, at, action, detail)
            VALUES (\(bind: entry.id), \(bind: entry.storeId), \(bind: entry.userId), \(bind: entry.actor), \(bind: entry.at.unixMilliseconds),
                    \(bind: entry.action), \(bind: entry.detail))
            """
        ).run()
    }

    /// The newest audit entries of a store.
    public func auditLog(storeId: String, limit: Int = 200) async throws -> [AuditEntry] {
        try await database.read { db in
            try await db.raw(
                """
                SELECT * FROM audit_log WHERE store_id = \(bind: storeId) ORDER BY at DESC, id DESC LIMIT \(unsafeRaw: String(limit))
                """
            ).all().map { row in
                AuditEntry(
                    id: try row.decode(column: "id", as: String.self), storeId: try row.decode(column: "store_id", as: String.self),
                    userId: try row.decode(column: "user_id", as: String?.self), actor: try row.decode(column: "actor", as: String.self),
                    at: Date(unixMilliseconds: try row.decode(column: "at", as: Int64.self)),
                    action: try row.decode(column: "action", as: String.self),
                    detail: try row.decode(column: "detail", as: String.self))
            }
        }
    }
}
