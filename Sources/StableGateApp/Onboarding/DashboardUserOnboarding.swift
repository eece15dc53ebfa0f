import Foundation
import StableGateDomain
import StableGateStore

/// The operator's side of dashboard access: creates a merchant's dashboard users and issues the
/// one-time link with which each chooses a password. Only the link token's SHA-256 is stored.
public struct DashboardUserOnboarding: Sendable {
    let environment: GatewayEnvironment

    /// How long a setup link works.
    public static let linkLifetime: TimeInterval = 72 * 3600

    public init(environment: GatewayEnvironment) {
        self.environment = environment
    }

    /// A setup link as issued: shown to the operator once, to be passed on to the user.
    public struct SetupLink: Sendable {
        public let userId: String
        public let merchantId: String
        public let email: String
        public let url: String
        public let expiresAt: Date
    }

    /// Creates a user for `merchantId`, or with `reset` re-issues the link of an existing user
    /// (a forgotten password: the old link and, once used, the old password stop working).
    public func invite(merchantId: String, email rawEmail: String, reset: Bool) async throws -> SetupLink {
        let email = rawEmail.trimmingCharacters(in: .whitespaces).lowercased()
        guard EmailAddress.isValid(email) else {
            throw MerchantOnboarding.InputError(description: "--email \(rawEmail) is not an e-mail address")
        }
        guard try await environment.merchants.merchant(id: merchantId) != nil else {
            throw MerchantOnboarding.InputError(description: "no merchant with id \(merchantId)")
        }
        let accounts = DashboardUserRepository(database: environment.database)
        let now = environment.clock.now
        let token = environment.identifiers.randomBytes(32).hexString
        let expiresAt = now.addingTimeInterval(Self.linkLifetime)
        let userId: String
        if let existing = try await accounts.user(email: email) {
            guard existing.merchantId == merchantId else {
                throw MerchantOnboarding.InputError(description: "\(email) already belongs to another merchant's dashboard")
            }
            guard reset else {
                throw MerchantOnboarding.InputError(description: "\(email) already has a dashboard login; pass --reset to issue a new setup link")
            }
            try await accounts.resetSetupToken(userId: existing.id, setupTokenHash: SessionManager.digest(token), expiresAt: expiresAt)
            userId = existing.id
        } else {
            userId = environment.identifiers.objectId(at: now)
            try await accounts.createUser(
                id: userId, merchantId: merchantId, email: email, setupTokenHash: SessionManager.digest(token), setupExpiresAt: expiresAt, at: now)
        }
        let url = environment.configuration.resolvedPublicURL + "/dashboard/setup?token=" + token
        return SetupLink(userId: userId, merchantId: merchantId, email: email, url: url, expiresAt: expiresAt)
    }
}
