import Foundation
import SQLKit
import StableGateDomain

/// Merchants and their stores.
public struct MerchantRepository: Sendable {
    private let database: any DatabaseClient

    public init(database: any DatabaseClient) {
        self.database = database
    }

    /// Creates a merchant, its store and the store's first API key, all or nothing.
    public func onboard(merchant: Merchant, store: Store, firstKey: APIKeyRecord) async throws {
        try await database.transaction { db in
            try await db.raw(
                """
                INSERT INTO merchants (id, name, created_at)
                VALUES (\(bind: merchant.id), \(bind: merchant.name), \(bind: merchant.createdAt.unixMilliseconds))
                """
            ).run()
            try await db.raw(
                """
                INSERT INTO stores (id, merchant_id, name, wallet_address, created_at)
                VALUES (\(bind: store.id), \(bind: store.merchantId), \(bind: store.name), \(bind: store.walletAddress),
                        \(bind: store.createdAt.unixMilliseconds))
                """
            ).run()
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
        guard
            var store = try await db.raw(
                """
                SELECT id, merchant_id, name, wallet_address, created_at, fee_bps, kyt_enabled, payment_window_seconds, replay_window_seconds, webhook_url,
                       webhook_id, events_url, events_webhook_id, signed_responses, notification_emails, logo_content_type, logo_version
                FROM stores WHERE id = \(bind: id)
                """
            ).first().map(store(from:))
        else { return nil }
        for row in try await db.raw("SELECT chain_id, address FROM store_wallets WHERE store_id = \(bind: id)").all() {
            store.chainWallets[try row.decode(column: "chain_id", as: Int64.self)] = try row.decode(column: "address", as: String.self)
        }
        return store
    }

    /// Where each store wants to be told of its orders: its webhook endpoints (by id) and
    /// notification e-mail addresses, read inside a transaction (one query for any number of
    /// stores).
    public static func notificationTargets(storeIds: Set<String>, on db: any SQLDatabase) async throws -> [String: NotificationTargets] {
        guard !storeIds.isEmpty else { return [:] }
        var query = SQLQueryString("SELECT id, webhook_url, webhook_id, events_url, events_webhook_id, notification_emails FROM stores WHERE id IN ")
        query.appendTuple(storeIds.sorted())
        var targets: [String: NotificationTargets] = [:]
        for row in try await db.raw(query).all() {
            let emails = (try row.decode(column: "notification_emails", as: String?.self) ?? "").split(separator: ",").map(String.init)
            func endpoint(_ url: String, _ id: String) throws -> String? {
                guard let url = try row.decode(column: url, as: String?.self), !url.isEmpty else { return nil }
                return try row.decode(column: id, as: String?.self)
            }
            var endpoints: [WebhookEndpoint: String] = [:]
            endpoints[.allscale] = try endpoint("webhook_url", "webhook_id")
            endpoints[.events] = try endpoint("events_url", "events_webhook_id")
            targets[try row.decode(column: "id", as: String.self)] = NotificationTargets(webhookIds: endpoints, emails: emails)
        }
        return targets
    }

    /// Every store with notification e-mail addresses (the report scheduler's list).
    public func storesWithNotificationEmails() async throws -> [(id: String, emails: [String], createdAt: Date)] {
        try await database.read { db in
            try await db.raw(
                """
                SELECT id, notification_emails, created_at FROM stores WHERE notification_emails IS NOT NULL AND notification_emails <> '' ORDER BY id
                """
            ).all().map { row in
                (
                    try row.decode(column: "id", as: String.self),
                    try row.decode(column: "notification_emails", as: String.self).split(separator: ",").map(String.init),
                    Date(unixMilliseconds: try row.decode(column: "created_at", as: Int64.self))
                )
            }
        }
    }

    /// Every store with a webhook URL or a StableGate events URL, by id (`stablegate doctor`).
    public func storesWithWebhooks() async throws -> [Store] {
        try await database.read { db in
            var stores: [Store] = []
            for id in try await db.raw(
                """
                SELECT id FROM stores WHERE (webhook_url IS NOT NULL AND webhook_url <> '') OR (events_url IS NOT NULL AND events_url <> '') ORDER BY id
                """
            ).all(decodingColumn: "id", as: String.self) {
                if let store = try await Self.store(id: id, on: db) { stores.append(store) }
            }
            return stores
        }
    }

    /// The stores of a merchant, oldest first.
    public func stores(merchantId: String) async throws -> [Store] {
        try await database.read { db in
            var stores: [Store] = []
            for id in try await db.raw("SELECT id FROM stores WHERE merchant_id = \(bind: merchantId) ORDER BY created_at, id")
                .all(decodingColumn: "id", as: String.self)
            {
                if let store = try await Self.store(id: id, on: db) { stores.append(store) }
            }
            return stores
        }
    }

    /// The merchant with `id`.
    public func merchant(id: String) async throws -> Merchant? {
        try await database.read { db in
            try await db.raw("SELECT id, name, created_at FROM merchants WHERE id = \(bind: id)").first().map { row in
                Merchant(
                    id: try row.decode(column: "id", as: String.self), name: try row.decode(column: "name", as: String.self),
                    createdAt: Date(unixMilliseconds: try row.decode(column: "created_at", as: Int64.self)))
            }
        }
    }

    /// Replaces the store's logo (validated by the caller) and bumps its version.
    public func setLogo(storeId: String, contentType: String?, data: [UInt8]?, audit: AuditEntry? = nil) async throws {
        try await database.transaction { db in
            try await db.raw(
                """
                UPDATE stores SET logo_content_type = \(bind: contentType), logo_data = \(bind: data.map { Data($0).base64EncodedString() }),
                    logo_version = logo_version + 1 WHERE id = \(bind: storeId)
                """
            ).run()
            if let audit { try await AuditLogRepository.audit(audit, on: db) }
        }
    }

    /// The store's logo bytes and content type.
    public func logo(storeId: String) async throws -> (contentType: String, data: [UInt8])? {
        try await database.read { db in
            guard let row = try await db.raw("SELECT logo_content_type, logo_data FROM stores WHERE id = \(bind: storeId)").first(),
                let type = try row.decode(column: "logo_content_type", as: String?.self),
                let text = try row.decode(column: "logo_data", as: String?.self), let data = Data(base64Encoded: text)
            else { return nil }
            return (type, Array(data))
        }
    }

    /// Stores changed settings of a store, with their audit entry in the same transaction.
    /// Returns false when there is no such store.
    @discardableResult
    public func update(_ store: Store, audit: AuditEntry? = nil) async throws -> Bool {
        try await database.transaction { db in
            guard
                try await db.raw(
                    """
                    UPDATE stores SET name = \(bind: store.name), wallet_address = \(bind: store.walletAddress),
                        fee_bps = \(bind: store.feeBasisPoints.map(Int64.init)), kyt_enabled = \(bind: store.kytEnabled ? Int64(1) : Int64(0)),
                        payment_window_seconds = \(bind: store.paymentWindowSeconds.map(Int64.init)),
                        replay_window_seconds = \(bind: store.replayWindowSeconds.map(Int64.init)), webhook_url = \(bind: store.webhookURL),
                        webhook_id = \(bind: store.webhookId), events_url = \(bind: store.eventsURL), events_webhook_id = \(bind: store.eventsWebhookId),
                        signed_responses = \(bind: store.signedResponses ? Int64(1) : Int64(0)),
                        notification_emails = \(bind: store.notificationEmails.joined(separator: ","))
                    WHERE id = \(bind: store.id) RETURNING id
                    """
                ).first() != nil
            else { return false }
            try await db.raw("DELETE FROM store_wallets WHERE store_id = \(bind: store.id)").run()
            for (chainId, address) in store.chainWallets.sorted(by: { $0.key < $1.key }) {
                try await db.raw(
                    """
                    INSERT INTO store_wallets (store_id, chain_id, address) VALUES (\(bind: store.id), \(bind: chainId), \(bind: address))
                    """
                ).run()
            }
            if let audit { try await AuditLogRepository.audit(audit, on: db) }
            return true
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
            paymentWindowSeconds: try row.decode(column: "payment_window_seconds", as: Int64?.self).map { Int($0) },
            webhookURL: try row.decode(column: "webhook_url", as: String?.self),
            notificationEmails: (try row.decode(column: "notification_emails", as: String?.self) ?? "").split(separator: ",").map(String.init),
            logoContentType: try row.decode(column: "logo_content_type", as: String?.self),
            logoVersion: Int(try row.decode(column: "logo_version", as: Int64.self)),
            replayWindowSeconds: try row.decode(column: "replay_window_seconds", as: Int64?.self).map { Int($0) },
            webhookId: try row.decode(column: "webhook_id", as: String?.self), eventsURL: try row.decode(column: "events_url", as: String?.self),
            eventsWebhookId: try row.decode(column: "events_webhook_id", as: String?.self),
            signedResponses: try row.decode(column: "signed_responses", as: Int64.self) != 0)
    }
}

/// A store's notification destinations.
public struct NotificationTargets: Sendable, Equatable {
    /// The id of each webhook endpoint the store has a URL for.
    public let webhookIds: [WebhookEndpoint: String]
    public let emails: [String]

    public init(webhookIds: [WebhookEndpoint: String], emails: [String]) {
        self.webhookIds = webhookIds
        self.emails = emails
    }
}
