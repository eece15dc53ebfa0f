import Foundation
import SQLKit
import StableGateDomain

/// Gateway secrets (wallet seeds and keys) sealed under the master key.
public struct GatewaySecretRepository: Sendable {
    public let database: any DatabaseClient

    public init(database: any DatabaseClient) {
        self.database = database
    }

    /// A sealed secret stored earlier, or `make()`'s value stored now. When two instances race,
    /// both end up with the first one stored.
    public func sealedSecret(name: String, now: Date, make: @Sendable () throws -> String) async throws -> String {
        try await database.transaction { db in
            if let existing = try await db.raw("SELECT sealed FROM gateway_secrets WHERE name = \(bind: name)").first() {
                return try existing.decode(column: "sealed", as: String.self)
            }
            let sealed = try make()
            try await db.raw(
                """
                INSERT INTO gateway_secrets (name, sealed, created_at) VALUES (\(bind: name), \(bind: sealed), \(bind: now.unixMilliseconds))
                ON CONFLICT (name) DO NOTHING
                """
            ).run()
            return try await db.raw("SELECT sealed FROM gateway_secrets WHERE name = \(bind: name)").first()?.decode(
                column: "sealed", as: String.self) ?? sealed
        }
    }

    /// The sealed secret stored under `name`, if any; never writes (`stablegate doctor`).
    public func storedSecret(name: String) async throws -> String? {
        try await database.read { db in
            try await db.raw("SELECT sealed FROM gateway_secrets WHERE name = \(bind: name)").first()?.decode(column: "sealed", as: String.self)
        }
    }

    /// Some secret already sealed in this database, with the purpose it was sealed for: a
    /// stored gateway secret (other than `excluding`), else an API key's. nil in a new database.
    public func someSealedSecret(excluding: String) async throws -> (sealed: String, purpose: String)? {
        try await database.read { db in
            if let row = try await db.raw("SELECT name, sealed FROM gateway_secrets WHERE name <> \(bind: excluding) ORDER BY created_at LIMIT 1")
                .first()
            {
                return (try row.decode(column: "sealed", as: String.self), try row.decode(column: "name", as: String.self))
            }
            if let sealed = try await db.raw("SELECT secret_ciphertext FROM api_keys ORDER BY created_at LIMIT 1").first()?
                .decode(column: "secret_ciphertext", as: String.self)
            {
                return (sealed, APIKeyRecord.secretPurpose)
            }
            return nil
        }
    }
}
