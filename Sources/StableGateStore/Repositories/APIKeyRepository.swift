import Foundation
import SQLKit
import StableGateDomain

/// API keys: created, listed, looked up on every request, revoked.
public struct APIKeyRepository: Sendable {
    private let database: any DatabaseClient

    public init(database: any DatabaseClient) {
        self.database = database
    }

    /// Stores a new key, with its audit entry in the same transaction.
    public func create(_ key: APIKeyRecord, audit: AuditEntry? = nil) async throws {
        try await database.transaction { db in
            try await Self.insert(key, on: db)
            if let audit { try await AuditLogRepository.audit(audit, on: db) }
        }
    }

    static func insert(_ key: APIKeyRecord, on db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO api_keys (id, store_id, secret_ciphertext, label, allowed_cidrs, rate_limit_per_minute, created_at, last_used_at, revoked_at)
            VALUES (\(bind: key.id), \(bind: key.storeId), \(bind: key.sealedSecret), \(bind: key.label),
                    \(bind: key.allowedRanges.map(\.description).joined(separator: ",")), \(bind: Int64(key.rateLimitPerMinute)),
                    \(bind: key.createdAt.unixMilliseconds), \(bind: key.lastUsedAt?.unixMilliseconds), \(bind: key.revokedAt?.unixMilliseconds))
            """
        ).run()
    }

    /// The key with this public id, revoked or not.
    public func find(id: String) async throws -> APIKeyRecord? {
        try await database.read { db in
            try await db.raw("SELECT \(unsafeRaw: Self.columns) FROM api_keys WHERE id = \(bind: id)").first().map(Self.key(from:))
        }
    }

    /// Every key of a store, newest first.
    public func list(storeId: String) async throws -> [APIKeyRecord] {
        try await database.read { db in
            try await db.raw("SELECT \(unsafeRaw: Self.columns) FROM api_keys WHERE store_id = \(bind: storeId) ORDER BY created_at DESC, id")
                .all().map(Self.key(from:))
        }
    }

    /// Stores a key's label, allowlist and rate limit.
    public func update(_ key: APIKeyRecord, audit: AuditEntry? = nil) async throws {
        try await database.transaction { db in
            try await db.raw(
                """
                UPDATE api_keys SET label = \(bind: key.label), allowed_cidrs = \(bind: key.allowedRanges.map(\.description).joined(separator: ",")),
                    rate_limit_per_minute = \(bind: Int64(key.rateLimitPerMinute)) WHERE id = \(bind: key.id)
                """
            ).run()
            if let audit { try await AuditLogRepository.audit(audit, on: db) }
        }
    }

    /// Revokes a key. Returns false when no such key exists; revoking twice keeps the first time.
    @discardableResult
    public func revoke(id: String, at date: Date, audit: AuditEntry? = nil) async throws -> Bool {
        try await database.transaction { db in
            let row = try await db.raw(
                """
                UPDATE api_keys SET revoked_at = COALESCE(revoked_at, \(bind: date.unixMilliseconds)) WHERE id = \(bind: id) RETURNING id
                """
            ).first()
            if row != nil, let audit { try await AuditLogRepository.audit(audit, on: db) }
            return row != nil
        }
    }

    private static let columns =
        "id, store_id, secret_ciphertext, label, allowed_cidrs, rate_limit_per_minute, created_at, last_used_at, revoked_at"

    static func key(from row: any SQLRow) throws -> APIKeyRecord {
        let ranges = try row.decode(column: "allowed_cidrs", as: String.self)
            .split(separator: ",").compactMap { IPAddressRange(String($0)) }
        return APIKeyRecord(
            id: try row.decode(column: "id", as: String.self),
            storeId: try row.decode(column: "store_id", as: String.self),
            sealedSecret: try row.decode(column: "secret_ciphertext", as: String.self),
            label: try row.decode(column: "label", as: String?.self),
            allowedRanges: ranges,
            rateLimitPerMinute: Int(try row.decode(column: "rate_limit_per_minute", as: Int64.self)),
            createdAt: Date(unixMilliseconds: try row.decode(column: "created_at", as: Int64.self)),
            lastUsedAt: try row.decode(column: "last_used_at", as: Int64?.self).map(Date.init(unixMilliseconds:)),
            revokedAt: try row.decode(column: "revoked_at", as: Int64?.self).map(Date.init(unixMilliseconds:)))
    }
}
