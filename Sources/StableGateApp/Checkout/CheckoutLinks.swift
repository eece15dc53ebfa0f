import StableGateDomain
import StableGateStore

/// Issues the capability tokens of hosted checkout URLs and writes those URLs back for the
/// merchant (create response, full GET, webhook bodies, dashboard, CLI). See ``CheckoutLink``
/// for why the intent id is not the URL.
public struct CheckoutLinks: Sendable {
    let secretBox: SecretBox
    let identifiers: any IdentifierGenerator
    /// The gateway's public base URL, without a trailing slash.
    let publicURL: String

    /// A new link: a fresh token from the system CSPRNG, its digest, and the token sealed.
    public func issue() throws -> (token: String, link: CheckoutLink) {
        let token = CheckoutLink.token(from: identifiers.randomBytes(CheckoutLink.byteCount))
        return (token, CheckoutLink(tokenHash: CheckoutLink.digest(token), sealedToken: try secretBox.seal(token, purpose: CheckoutLink.sealPurpose)))
    }

    /// `path` fit for a log line: a checkout token is a credential, so `/checkout/{token}…`
    /// becomes `/checkout/{token}…` literally.
    static func redacted(_ path: String) -> String {
        guard path.hasPrefix("/checkout/") else { return path }
        let rest = path.dropFirst("/checkout/".count)
        return "/checkout/{token}" + (rest.firstIndex(of: "/").map { String(rest[$0...]) } ?? "")
    }

    /// The page's path for `token`.
    static func path(token: String) -> String {
        "/checkout/\(token)"
    }

    /// The intent's hosted checkout URL. An intent without a link (only a bulk-loaded row
    /// before the start-up backfill) or whose sealed token does not open under this master key
    /// gets a URL that opens nothing rather than one that names the intent.
    public func url(for intent: CheckoutIntent) -> String {
        guard let sealed = intent.checkoutLink?.sealedToken, let token = try? secretBox.open(sealed, purpose: CheckoutLink.sealPurpose) else {
            return "\(publicURL)/checkout/unavailable"
        }
        return publicURL + Self.path(token: token)
    }

    /// The URL for a token just issued (no need to open what was sealed a moment ago).
    func url(token: String) -> String {
        publicURL + Self.path(token: token)
    }

    /// Gives every stored intent without a link one (intents created before links existed).
    func issueMissing(in intents: CheckoutIntentRepository) async throws -> Int {
        try await intents.issueMissingCheckoutLinks { try issue().link }
    }
}
