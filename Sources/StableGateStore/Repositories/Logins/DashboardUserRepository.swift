import Foundation
import SQLKit
import StableGateDomain

/// The people who log into the merchant dashboard: created with a one-time setup link,
/// then a password.
public struct DashboardUserRepository: Sendable {
    private let database: any DatabaseClient

    public init(database: any DatabaseClient) {
        self.database = database
    }

    /// Creates a user who sets a password by following a setup link (the token's hash is stored).
    public func createUser(id: String, merchantId: String, email: String, setupTokenHash: String, setupExpiresAt: Date, at date: Date) async throws {
        try await database.transaction { db in
            try await db.raw(
                """
                INSERT INTO users (id, merchant_id, email, password_hash, setup_token_hash, setup_expires_at, created_at)
                VALUES (\(bind: id), \(bind: merchantId), \(bind: email.lowercased()), \(bind: String?.none), \(bind: setupTokenHash),
                        \(bind: setupExpiresAt.unixMilliseconds), \(bind: date.unixMilliseconds))
                """
            ).run()
        }
    }

    /// Issues a new setup link for an existing user (a forgotten password), invalidating the old one.
    public func resetSetupToken(userId: String, setupTokenHash: String, expiresAt: Date) async throws {
        try await database.transaction { db in
            try await db.raw(
                """
                UPDATE users SET setup_token_hash = \(bind: setupTokenHash), setup_expires_at = \(bind: expiresAt.unixMilliseconds) WHERE id = \(bind: userId)
                """
            ).run()
        }
    }

    public func user(email: String) async throws -> DashboardUser? {
        try await database.read { db in
            try await db.raw("SELECT * FROM users WHERE email = \(bind: email.lowercased())").first().map(Self.user(from:))
        }
    }

    public func user(id: String) async throws -> DashboardUser? {
        try await database.read { db in try await db.raw("SELECT * FROM users WHERE id = \(bind: id)").first().map(Self.user(from:)) }
    }

    /// The user whose unexpired setup token hashes to `tokenHash`.
    public func user(setupTokenHash tokenHash: String, now: Date) async throws -> DashboardUser? {
        try await database.read { db in
            try await db.raw(
                """
                SELECT * FROM users WHERE setup_token_hash = \(bind: tokenHash) AND setup_expires_at > \(bind: now.unixMilliseconds)
                """
            ).first().map(Self.user(from:))
        }
    }

    /// Sets the password (consuming the setup token) and ends every session of the user.
    public func setPassword(userId: String, hash: String) async throws {
        try await database.transaction { db in
            try await db.raw(
                """
                UPDATE users SET password_hash = \(bind: hash), setup_token_hash = \(bind: String?.none), setup_expires_at = \(bind: Int64?.none)
                WHERE id = \(bind: userId)
                """
            ).run()
            try await db.raw("DELETE FROM sessions WHERE realm = 'dashboard' AND user_id = \(bind: userId)").run()
        }
    }

    /// The users of a merchant.
    public func users(merchantId: String) async throws -> [DashboardUser] {
        try await database.read { db in
            try await db.raw("SELECT * FROM users WHERE merchant_id = \(bind: merchantId) ORDER BY created_at").all().map(Self.user(from:))
        }
    }

    static func user(from row: any SQLRow) throws -> DashboardUser {
        DashboardUser(
            id: try row.decode(column: "id", as: String.self), merchantId: try row.decode(column: "merchant_id", as: String.self),
            email: try row.decode(column: "email", as: String.self), passwordHash: try row.decode(column: "password_hash", as: String?.self),
            createdAt: Date(unixMilliseconds: try row.decode(column: "created_at", as: Int64.self)),
            disabledAt: try row.decode(column: "disabled_at", as: Int64?.self).map(Date.init(unixMilliseconds:)))
    }
}
