import Foundation
import SQLKit
import StableGateDomain

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
