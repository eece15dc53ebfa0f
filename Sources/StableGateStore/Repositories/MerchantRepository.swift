import SQLKit
import StableGateDomain

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Merchants and their stores.
public struct MerchantRepository: Sendable {
    private let database: any DatabaseClient

    public init(database: any DatabaseClient) {
        self.database = database
    }

    /// Creates a merchant, its store and the store's first API key, all or nothing.
    public func onboard(merchant: Merchant, store: Store, firstKey: APIKeyRecord) async throws {
        try await database.transaction { db in
            try await db.raw("""
                INSERT INTO merchants (id, name, created_at)
                VALUES (\(bind: merchant.id), \(bind: merchant.name), \(bind: merchant.createdAt.unixMilliseconds))
                """).run()
            try await db.raw("""
                INSERT INTO stores (id, merchant_id, name, wallet_address, created_at)
                VALUES (\(bind: store.id), \(bind: store.merchantId), \(bind: store.name), \(bind: store.walletAddress),
                        \(bind: store.createdAt.unixMilliseconds))
                """).run()
            try await APIKeyRepository.insert(firstKey, on: db)
        }
    }

    /// The store with `id`, if any.
    public func store(id: String) async throws -> Store? {
        try await database.read { db in
            try await Self.store(id: id, on: db)
        }
    }

    /// The store with `id`, read inside a transaction.
    public static func store(id: String, on db: any SQLDatabase) async throws -> Store? {
        try await db.raw("SELECT * FROM stores WHERE id = \(bind: id)").first().map(store(from:))
    }

    /// Stores changed settings of a store. Returns false when there is no such store.
    @discardableResult
    public func update(_ store: Store) async throws -> Bool {
        try await database.transaction { db in
            try await db.raw("""
                UPDATE stores SET name = \(bind: store.name), wallet_address = \(bind: store.walletAddress),
                    fee_bps = \(bind: store.feeBasisPoints.map(Int64.init)), kyt_enabled = \(bind: store.kytEnabled ? Int64(1) : Int64(0)),
                    payment_window_seconds = \(bind: store.paymentWindowSeconds.map(Int64.init))
                WHERE id = \(bind: store.id) RETURNING id
                """).first() != nil
        }
    }

    static func store(from row: any SQLRow) throws -> Store {
        Store(
            id: try row.decode(column: "id", as: String.self),
            merchantId: try row.decode(column: "merchant_id", as: String.self),
            name: try row.decode(column: "name", as: String.self),
            walletAddress: try row.decode(column: "wallet_address", as: String?.self),
            createdAt: Date(unixMilliseconds: try row.decode(column: "created_at", as: Int64.self)),
            feeBasisPoints: try row.decode(column: "fee_bps", as: Int64?.self).map { Int($0) },
            kytEnabled: try row.decode(column: "kyt_enabled", as: Int64.self) != 0,
            paymentWindowSeconds: try row.decode(column: "payment_window_seconds", as: Int64?.self).map { Int($0) })
    }
}
