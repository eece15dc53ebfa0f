import SQLKit
import StableGateDomain

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A person who logs into the merchant dashboard.
public struct DashboardUser: Sendable, Equatable {
    public let id: String
    public let merchantId: String
    /// Lower-case.
    public let email: String
    /// bcrypt; nil until the user followed the setup link.
    public var passwordHash: String?
    public let createdAt: Date
    public var disabledAt: Date?
}

/// A logged-in browser. The cookie holds a random token; only its SHA-256 is stored.
public struct SessionRecord: Sendable, Equatable {
    /// SHA-256 (hex) of the cookie token.
    public let id: String
    public let userId: String
    /// Which login this is for: `dashboard` or `account` (shopper accounts).
    public let realm: String
    /// The synchronizer token every form of this session must carry.
    public let csrfToken: String
    public let createdAt: Date
    public var lastSeenAt: Date
    public var expiresAt: Date

    public init(id: String, userId: String, realm: String, csrfToken: String, createdAt: Date, lastSeenAt: Date, expiresAt: Date) {
        self.id = id
        self.userId = userId
        self.realm = realm
        self.csrfToken = csrfToken
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
        self.expiresAt = expiresAt
    }
}

/// Who makes an audited change.
public struct AuditActor: Sendable, Equatable {
    public let userId: String?
    /// In words: the user's e-mail address, or `operator (CLI)`.
    public let name: String

    public init(userId: String?, name: String) {
        self.userId = userId
        self.name = name
    }

    /// The operator, changing things with the `stablegate` command.
    public static let operatorCLI = AuditActor(userId: nil, name: "operator (CLI)")
}

/// One audited change: who, when, what.
public struct AuditEntry: Sendable, Equatable {
    public let id: String
    public let storeId: String
    public let userId: String?
    /// Who did it, in words (`alice@shop.example`, `operator (CLI)`).
    public let actor: String
    public let at: Date
    /// What was done, e.g. `settings.updated`, `api_key.created`.
    public let action: String
    /// A JSON object with the details (old → new values; never secrets).
    public let detail: String

    public init(id: String, storeId: String, actor: AuditActor, at: Date, action: String, detail: String) {
        self.init(id: id, storeId: storeId, userId: actor.userId, actor: actor.name, at: at, action: action, detail: detail)
    }

    public init(id: String, storeId: String, userId: String?, actor: String, at: Date, action: String, detail: String) {
        self.id = id
        self.storeId = storeId
        self.userId = userId
        self.actor = actor
        self.at = at
        self.action = action
        self.detail = detail
    }
}

/// Dashboard users, sessions, login throttling and the audit log.
public struct AccountRepository: Sendable {
    private let database: any DatabaseClient

    public init(database: any DatabaseClient) {
        self.database = database
    }

    // MARK: Users

    /// Creates a user who sets a password by following a setup link (the token's hash is stored).
    public func createUser(id: String, merchantId: String, email: String, setupTokenHash: String, setupExpiresAt: Date, at date: Date) async throws {
        try await database.transaction { db in
            try await db.raw("""
                INSERT INTO users (id, merchant_id, email, password_hash, setup_token_hash, setup_expires_at, created_at)
                VALUES (\(bind: id), \(bind: merchantId), \(bind: email.lowercased()), \(bind: String?.none), \(bind: setupTokenHash),
                        \(bind: setupExpiresAt.unixMilliseconds), \(bind: date.unixMilliseconds))
                """).run()
        }
    }

    /// Issues a new setup link for an existing user (a forgotten password), invalidating the old one.
    public func resetSetupToken(userId: String, setupTokenHash: String, expiresAt: Date) async throws {
        try await database.transaction { db in
            try await db.raw("""
                UPDATE users SET setup_token_hash = \(bind: setupTokenHash), setup_expires_at = \(bind: expiresAt.unixMilliseconds) WHERE id = \(bind: userId)
                """).run()
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
            try await db.raw("""
                SELECT * FROM users WHERE setup_token_hash = \(bind: tokenHash) AND setup_expires_at > \(bind: now.unixMilliseconds)
                """).first().map(Self.user(from:))
        }
    }

    /// Sets the password (consuming the setup token) and ends every session of the user.
    public func setPassword(userId: String, hash: String) async throws {
        try await database.transaction { db in
            try await db.raw("""
                UPDATE users SET password_hash = \(bind: hash), setup_token_hash = \(bind: String?.none), setup_expires_at = \(bind: Int64?.none)
                WHERE id = \(bind: userId)
                """).run()
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

    // MARK: Sessions

    public func createSession(_ session: SessionRecord) async throws {
        try await database.transaction { db in
            try await db.raw("""
                INSERT INTO sessions (id, user_id, realm, csrf_token, created_at, last_seen_at, expires_at)
                VALUES (\(bind: session.id), \(bind: session.userId), \(bind: session.realm), \(bind: session.csrfToken),
                        \(bind: session.createdAt.unixMilliseconds), \(bind: session.lastSeenAt.unixMilliseconds), \(bind: session.expiresAt.unixMilliseconds))
                """).run()
        }
    }

    /// The live session with this id, nil when unknown or expired.
    public func session(id: String, realm: String, now: Date) async throws -> SessionRecord? {
        try await database.read { db in
            try await db.raw("""
                SELECT * FROM sessions WHERE id = \(bind: id) AND realm = \(bind: realm) AND expires_at > \(bind: now.unixMilliseconds)
                """).first().map { row in
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
            try await db.raw("""
                UPDATE sessions SET last_seen_at = \(bind: now.unixMilliseconds), expires_at = \(bind: expiresAt.unixMilliseconds) WHERE id = \(bind: sessionId)
                """).run()
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

    // MARK: Login throttling

    /// One counter a login attempt is checked against: at most `maximumFailures` failed
    /// attempts of `key` (an e-mail address, a client address) within the window.
    public struct LoginLimit: Sendable, Equatable {
        public let key: String
        public let maximumFailures: Int

        public init(key: String, maximumFailures: Int) {
            self.key = key
            self.maximumFailures = maximumFailures
        }
    }

    /// A login attempt stored as failed before its password was checked.
    public struct LoginAttemptClaim: Sendable, Equatable {
        /// Random; stored with each of the attempt's rows so exactly those are marked later.
        public let id: String
        /// The throttle keys it was counted under.
        public let keys: [String]
    }

    /// Counts a login attempt as failed before its password is checked — so attempts sent at
    /// once cannot all pass the count before any of them is recorded — unless one of `limits`
    /// already has its maximum of failures after `since`: then nil, and nothing is stored.
    /// The count and the insert are one transaction, serialized per key (PostgreSQL: an
    /// advisory lock per key; SQLite runs one writing transaction at a time), so instances
    /// sharing the database share the count. A right password is then marked with
    /// ``markLoginSucceeded(_:)``.
    public func claimLoginAttempt(_ limits: [LoginLimit], since: Date, at date: Date) async throws -> LoginAttemptClaim? {
        let dialect = database.dialect
        // One lock order, so two claims never wait on each other in a cycle.
        let limits = limits.sorted { $0.key < $1.key }
        let claim = LoginAttemptClaim(id: UUID().uuidString.lowercased(), keys: limits.map(\.key))
        return try await database.transaction { db in
            if dialect == .postgres {
                for limit in limits {
                    try await db.raw("SELECT pg_advisory_xact_lock(hashtextextended(\(bind: "login:" + limit.key), 0))").run()
                }
            }
            for limit in limits {
                let failures = try await Self.failedAttempts(key: limit.key, since: since, on: db)
                guard failures < limit.maximumFailures else { return nil }
            }
            for key in claim.keys {
                try await db.raw("""
                    INSERT INTO login_attempts (throttle_key, at, succeeded, claim_id)
                    VALUES (\(bind: key), \(bind: date.unixMilliseconds), \(bind: Int64(0)), \(bind: claim.id))
                    """).run()
            }
            return claim
        }
    }

    /// Marks a claimed attempt as succeeded (the password was right): it no longer counts as
    /// a failure.
    public func markLoginSucceeded(_ claim: LoginAttemptClaim) async throws {
        try await database.transaction { db in
            for key in claim.keys {
                try await db.raw("""
                    UPDATE login_attempts SET succeeded = \(bind: Int64(1)) WHERE throttle_key = \(bind: key) AND claim_id = \(bind: claim.id)
                    """).run()
            }
        }
    }

    /// Failed attempts for `key` since `since`.
    public func failedAttempts(key: String, since: Date) async throws -> Int {
        try await database.read { db in try await Self.failedAttempts(key: key, since: since, on: db) }
    }

    private static func failedAttempts(key: String, since: Date, on db: any SQLDatabase) async throws -> Int {
        try await db.raw("""
            SELECT COUNT(*) AS n FROM login_attempts WHERE throttle_key = \(bind: key) AND at > \(bind: since.unixMilliseconds) AND succeeded = 0
            """).first()?.decode(column: "n", as: Int.self) ?? 0
    }

    /// Forgets attempts older than `before` and expired sessions.
    public func purge(before: Date, now: Date) async throws {
        try await database.transaction { db in
            try await db.raw("DELETE FROM login_attempts WHERE at < \(bind: before.unixMilliseconds)").run()
            try await db.raw("DELETE FROM sessions WHERE expires_at < \(bind: now.unixMilliseconds)").run()
        }
    }

    // MARK: Audit

    public func audit(_ entry: AuditEntry) async throws {
        try await database.transaction { db in try await Self.audit(entry, on: db) }
    }

    public static func audit(_ entry: AuditEntry, on db: any SQLDatabase) async throws {
        try await db.raw("""
            INSERT INTO audit_log (id, store_id, user_id, actor, at, action, detail)
            VALUES (\(bind: entry.id), \(bind: entry.storeId), \(bind: entry.userId), \(bind: entry.actor), \(bind: entry.at.unixMilliseconds),
                    \(bind: entry.action), \(bind: entry.detail))
            """).run()
    }

    /// The newest audit entries of a store.
    public func auditLog(storeId: String, limit: Int = 200) async throws -> [AuditEntry] {
        try await database.read { db in
            try await db.raw("""
                SELECT * FROM audit_log WHERE store_id = \(bind: storeId) ORDER BY at DESC, id DESC LIMIT \(unsafeRaw: String(limit))
                """).all().map { row in
                AuditEntry(
                    id: try row.decode(column: "id", as: String.self), storeId: try row.decode(column: "store_id", as: String.self),
                    userId: try row.decode(column: "user_id", as: String?.self), actor: try row.decode(column: "actor", as: String.self),
                    at: Date(unixMilliseconds: try row.decode(column: "at", as: Int64.self)), action: try row.decode(column: "action", as: String.self),
                    detail: try row.decode(column: "detail", as: String.self))
            }
        }
    }
}
