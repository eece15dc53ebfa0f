import Foundation
import SQLKit
import StableGateDomain

/// Failed login attempts per e-mail address and client address: the database-side count
/// that throttles password guessing across instances.
public struct LoginAttemptRepository: Sendable {
    private let database: any DatabaseClient

    public init(database: any DatabaseClient) {
        self.database = database
    }

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
                try await db.raw(
                    """
                    INSERT INTO login_attempts (throttle_key, at, succeeded, claim_id)
                    VALUES (\(bind: key), \(bind: date.unixMilliseconds), \(bind: Int64(0)), \(bind: claim.id))
                    """
                ).run()
            }
            return claim
        }
    }

    /// Marks a claimed attempt as succeeded (the password was right): it no longer counts as
    /// a failure.
    public func markLoginSucceeded(_ claim: LoginAttemptClaim) async throws {
        try await database.transaction { db in
            for key in claim.keys {
                try await db.raw(
                    """
                    UPDATE login_attempts SET succeeded = \(bind: Int64(1)) WHERE throttle_key = \(bind: key) AND claim_id = \(bind: claim.id)
                    """
                ).run()
            }
        }
    }

    /// Failed attempts for `key` since `since`.
    public func failedAttempts(key: String, since: Date) async throws -> Int {
        try await database.read { db in try await Self.failedAttempts(key: key, since: since, on: db) }
    }

    private static func failedAttempts(key: String, since: Date, on db: any SQLDatabase) async throws -> Int {
        try await db.raw(
            """
            SELECT COUNT(*) AS n FROM login_attempts WHERE throttle_key = \(bind: key) AND at > \(bind: since.unixMilliseconds) AND succeeded = 0
            """
        ).first()?.decode(column: "n", as: Int.self) ?? 0
    }

    /// Forgets attempts older than `before`.
    public func purge(before: Date) async throws {
        try await database.transaction { db in
            try await db.raw("DELETE FROM login_attempts WHERE at < \(bind: before.unixMilliseconds)").run()
        }
    }
}
