import Foundation
import StableGateDomain

/// A merchant: the business an operator onboards.
public struct Merchant: Sendable, Equatable {
    public let id: String
    public var name: String
    public let createdAt: Date

    public init(id: String, name: String, createdAt: Date) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
    }
}

/// A merchant's store: what API keys and checkout intents belong to.
public struct Store: Sendable, Equatable {
    public let id: String
    public let merchantId: String
    public var name: String
    /// Where settled funds go (EIP-55 address), if set.
    public var walletAddress: String?
    public let createdAt: Date
    /// Service fee in basis points; nil uses the gateway default.
    public var feeBasisPoints: Int?
    /// Whether senders are screened (KYT) before payments are accepted.
    public var kytEnabled: Bool
    /// Payment window in seconds; nil uses the gateway default.
    public var paymentWindowSeconds: Int?
    /// How far a signed request's `X-Timestamp` may be from the server's time, in seconds
    /// (``RequestSigning/replayWindowRange``); nil uses ``RequestSigning/defaultReplayWindow``.
    public var replayWindowSeconds: Int?
    /// Where AllScale-format deliveries of confirmed payments are POSTed, if set.
    public var webhookURL: String?
    /// The id of the ``webhookURL`` endpoint (`X-Webhook-Id`), stable while the URL changes.
    public var webhookId: String?
    /// Where StableGate's own events (every transition, late payments, tests) are POSTed, if set.
    public var eventsURL: String?
    /// The id of the ``eventsURL`` endpoint.
    public var eventsWebhookId: String?
    /// Whether every API response to this store's keys is signed (docs/WIRE-CONTRACT.md §8).
    public var signedResponses: Bool
    /// Who gets order e-mails and reports.
    public var notificationEmails: [String]
    /// The logo's content type when one was uploaded, and a counter that changes with it.
    public var logoContentType: String?
    public var logoVersion: Int
    /// Settlement wallets by chain (EIP-155 id); ``walletAddress`` is used for chains not listed.
    public var chainWallets: [Int64: String]

    /// The URL and id of one of the store's webhook endpoints, when it has that endpoint.
    public func endpoint(_ endpoint: WebhookEndpoint) -> (url: String, id: String)? {
        let (url, id) = endpoint == .allscale ? (webhookURL, webhookId) : (eventsURL, eventsWebhookId)
        guard let url, !url.isEmpty, let id else { return nil }
        return (url, id)
    }

    /// Points an endpoint at `url` (nil removes it). The endpoint keeps its id when it has one
    /// and `newId` is false, so a merchant who pinned it need not change anything; it gets
    /// `makeId()` when it has none or `newId` asks for a fresh one.
    public mutating func setEndpoint(_ endpoint: WebhookEndpoint, url: String?, newId: Bool = false, makeId: () -> String) {
        let url = url.flatMap { $0.isEmpty ? nil : $0 }
        var id = endpoint == .allscale ? webhookId : eventsWebhookId
        if url != nil, id == nil || newId { id = makeId() }
        switch endpoint {
        case .allscale: (webhookURL, webhookId) = (url, id)
        case .events: (eventsURL, eventsWebhookId) = (url, id)
        }
    }

    /// The wallet that receives settlements on `chainId`.
    public func settlementWallet(chainId: Int64) -> String? {
        chainWallets[chainId] ?? walletAddress
    }

    public init(
        id: String, merchantId: String, name: String, walletAddress: String?, createdAt: Date, feeBasisPoints: Int? = nil,
        kytEnabled: Bool = true, paymentWindowSeconds: Int? = nil, webhookURL: String? = nil, notificationEmails: [String] = [],
        logoContentType: String? = nil, logoVersion: Int = 0, chainWallets: [Int64: String] = [:], replayWindowSeconds: Int? = nil,
        webhookId: String? = nil, eventsURL: String? = nil, eventsWebhookId: String? = nil, signedResponses: Bool = false
    ) {
        self.replayWindowSeconds = replayWindowSeconds
        self.webhookId = webhookId
        self.eventsURL = eventsURL
        self.eventsWebhookId = eventsWebhookId
        self.signedResponses = signedResponses
        self.id = id
        self.merchantId = merchantId
        self.name = name
        self.walletAddress = walletAddress
        self.createdAt = createdAt
        self.feeBasisPoints = feeBasisPoints
        self.kytEnabled = kytEnabled
        self.paymentWindowSeconds = paymentWindowSeconds
        self.webhookURL = webhookURL
        self.notificationEmails = notificationEmails
        self.logoContentType = logoContentType
        self.logoVersion = logoVersion
        self.chainWallets = chainWallets
    }
}

/// An API key as stored: its secret only in sealed form.
public struct APIKeyRecord: Sendable, Equatable {
    /// The public key string sent in `X-API-Key`.
    public let id: String
    public let storeId: String
    /// The secret sealed by ``SecretBox`` under purpose ``APIKeyRecord/secretPurpose``.
    public let sealedSecret: String
    public var label: String?
    /// Networks allowed to use the key; empty means any.
    public var allowedRanges: [IPAddressRange]
    public var rateLimitPerMinute: Int
    public let createdAt: Date
    /// When the key first signed a request in the last minute it was used in (kept to the
    /// minute, so request claims rarely write the key's row).
    public var lastUsedAt: Date?
    public var revokedAt: Date?

    /// The ``SecretBox`` purpose for API secrets.
    public static let secretPurpose = "api_key_secret"

    public init(
        id: String, storeId: String, sealedSecret: String, label: String?, allowedRanges: [IPAddressRange],
        rateLimitPerMinute: Int, createdAt: Date, lastUsedAt: Date? = nil, revokedAt: Date? = nil
    ) {
        self.id = id
        self.storeId = storeId
        self.sealedSecret = sealedSecret
        self.label = label
        self.allowedRanges = allowedRanges
        self.rateLimitPerMinute = rateLimitPerMinute
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.revokedAt = revokedAt
    }

    /// Whether the key may still be used.
    public var isActive: Bool { revokedAt == nil }
}
