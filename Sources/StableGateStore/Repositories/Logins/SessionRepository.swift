import Foundation
import SQLKit
import StableGateDomain

/// Login sessions of both realms (`dashboard`, and `account` for shoppers), stored by the
/// SHA-256 of their cookie token.
public struct SessionRepository: Sendable {
    private let database: any DatabaseClient

    public init(database: any DatabaseClient) {
        self.database = database
    }

    public func createSession(_ session: SessionRecord) async throws {
        try await database.transaction { db in
            try await db.raw(
                """
                INSERT INTO sessions (id, user_id, realm, csrf_token, created_at, last_seen_at, expires_at)
                VALUES (\(bind: session.id), \(bind: session.userId), \(bind: session.realm), \(bind: session.csrfToken),
                        \(bind: session.createdAt.unixMilliseconds), \(bind: session.lastSeenAt.unixMilliseconds), \(bind: session.expiresAt.unixMilliseconds))
                """
            ).run()
        }
    }

    /// The live session with this id, nil when unknown or expired.
    public func session(id: String, realm: String, now: Date) async throws -> SessionRecord? {
        try await database.read { db in
            try await db.raw(
                """
                SELECT * FROM sessions WHERE id = \(bind: id) AND realm = \(bind: realm) AND expires_at > \(bind: now.unixMilliseconds)
                """
            ).first().map { row in
                SessionRecord(
                    id: try row.decode(column: "id", as: String.self), userId: try row.decode(column: "user_id", as: String.self),
                    realm: try row.decode(column: "realm", as: String.self), csrfToken: try row.decode(column: "csrf_token", as: String.self),
                    createdAt: Date(unixMilliseconds: try row.decode(column: "created_at", as: Int64.self)),
                    lastSeenAt: Date(unixMilliseconds: try row.decode(column: "last_seen_at", as: Int64.self)),
                    expiresAt: Date(unixMilliseconds: try row.decode(column: "expires_at", as: Int64.self)))
            }
        }
    }

    /// Slides a session's idle expiry forward.
    public func touch(sessionId: String, now: Date, expiresAt: Date) async throws {
        try await database.transaction { db in
            try await db.raw(
                """
                UPDATE sessions SET last_seen_at = \(bind: now.unixMilliseconds), expires_at = \(bind: expiresAt.unixMilliseconds) WHERE id = \(bind: sessionId)
                """
            ).run()
        }
    }

    public func deleteSession(id: String) async throws {
        try await database.transaction { db in try await db.raw("DELETE FROM sessions WHERE id = \(bind: id)").run() }
    }

    /// Logs a user out everywhere.
    public func deleteSessions(userId: String, realm: String) async throws {
        try await database.transaction { db in
            try await db.raw("DELETE FROM sessions WHERE realm = \(bind: realm) AND user_id = \(bind: userId)").run()
        }
    }

    /// Forgets expired sessions.
    public func purge(now: Date) async throws {
        try await database.transaction { db in
            try await db.raw("DELETE FROM sessions WHERE expires_at < \(bind: now.unixMilliseconds)").run()
        }
    }
}
