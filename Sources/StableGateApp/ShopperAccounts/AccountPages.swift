import Foundation
import HTTPTypes
import Hummingbird
import StableGateEthereum
import StableGateDomain
import StableGateStore


/// A logged-in shopper: the account and its session (whose CSRF token every form carries).
struct ShopperIdentity: Sendable {
    let account: ShopperAccount
    let session: SessionRecord
}

/// What the shopper-account pages share: templates, the `account` session realm (its cookie
/// covers `/` so the checkout page sees it), login throttling, and the account services.
struct AccountPages: Sendable {
    let templates: PageTemplates
    let sessions: SessionManager
    let throttle: LoginThrottle
    let accounts: ShopperAccountRepository
    let payments: AccountPaymentService
    let wallets: GatewayWallets?
    let hasher: PasswordHasher
    let clock: any WallClock
    let identifiers: any IdentifierGenerator

    static let preSessionCookie = "sg_acsrf"

    /// The logged-in shopper, or nil (no session, expired, or a disabled account).
    func identity(_ request: Request) async throws -> ShopperIdentity? {
        guard let session = try await sessions.resolve(request), let account = try await accounts.account(id: session.userId),
            account.disabledAt == nil
        else { return nil }
        return ShopperIdentity(account: account, session: session)
    }

    /// An account page inside the layout.
    func page(_ template: String, title: String, identity: ShopperIdentity?, status: HTTPResponse.Status = .ok, notice: String? = nil,
              error: String? = nil, _ model: [String: Any] = [:]) -> Response {
        var model = model
        model["title"] = title
        if let identity {
            model["session"] = ["email": identity.account.email, "csrf": identity.session.csrfToken]
            model["csrf"] = identity.session.csrfToken
        }
        if let notice { model["notice"] = notice }
        if let error { model["error"] = error }
        return PageTemplates.html(templates.render(model, "account-\(template)"), status: status)
    }

    func message(_ heading: String, _ body: String, identity: ShopperIdentity?, status: HTTPResponse.Status, link: String = "/account",
                 linkText: String = "Back to your account") -> Response {
        page("message", title: heading, identity: identity, status: status, ["heading": heading, "body": body, "link": link, "linkText": linkText])
    }

    /// The page for a form whose CSRF token did not match (a stale page or a cross-site post).
    func staleForm(_ identity: ShopperIdentity?, link: String = "/account") -> Response {
        message("This form expired", "Its security token did not match your session. Nothing was changed. Reload the page and try again.",
                identity: identity, status: .forbidden, link: link, linkText: "Try again")
    }

    /// Redirect to the login page, coming back to `next` afterwards.
    static func login(next: String) -> Response {
        PageTemplates.seeOther("/account/login?next=" + (next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "%2Faccount"))
    }

    /// Only the account's own pages and a checkout's account flow: never an open redirect.
    static func safeNext(_ next: String?) -> String {
        guard let next, !next.hasPrefix("//"), !next.contains("\\"), !next.contains("\r"), !next.contains("\n") else { return "/account" }
        if next == "/account" || next.hasPrefix("/account/") { return next }
        let parts = next.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count == 4, parts[0].isEmpty, parts[1] == "checkout", CheckoutLink.isWellFormed(parts[2]), parts[3] == "account" { return next }
        return "/account"
    }

    /// The double-submit token of the pre-session forms (login, sign-up).
    var preSession: DoubleSubmitToken { DoubleSubmitToken(cookieName: Self.preSessionCookie, path: "/account", secure: sessions.secureCookies) }

    static func form(_ request: Request) async throws -> [String: String] { try await PageTemplates.form(request, upTo: 16 * 1024) }

    /// Display form of an exact amount: at least two decimals, never floating point.
    static func amount(_ value: DecimalAmount) -> String { MoneyRules.wireString(value) }
}
