import Foundation
import HTTPTypes
import Hummingbird
import StableGateDomain
import StableGateEthereum
import StableGateStore

/// A logged-in shopper: the account and its session (whose CSRF token every form carries).
struct ShopperIdentity: Sendable {
    let account: ShopperAccount
    let session: SessionRecord
}

/// What the shopper-account pages share: templates, the `account` session realm (its cookie
/// covers `/` so the checkout page sees it), login throttling, and the account services.
struct ShopperPages: Sendable {
    let templates: PageTemplates
    let sessions: SessionManager
    let throttle: LoginThrottle
    let accounts: ShopperAccountRepository
    let payments: ShopperPaymentService
    let wallets: GatewayWallets?
    let hasher: PasswordHasher
    let clock: any WallClock
    let identifiers: any IdentifierGenerator

    static let preSessionCookie = "sg_acsrf"

    /// An account page inside the layout: `content` is the page's own model.
    func page(
        _ template: String, title: String, identity: ShopperIdentity?, status: HTTPResponse.Status = .ok, notice: String? = nil,
        error: String? = nil, _ content: some Sendable = NoContent()
    ) -> Response {
        let frame = ShopperFrame(
            title: title, session: identity.map { .init(email: $0.account.email, csrf: $0.session.csrfToken) }, csrf: identity?.session.csrfToken,
            notice: notice, error: error)
        return PageTemplates.html(templates.render(LayeredModel(content, frame), "account-\(template)"), status: status)
    }

    func message(
        _ heading: String, _ body: String, identity: ShopperIdentity?, status: HTTPResponse.Status, link: String = "/account",
        linkText: String = "Back to your account"
    ) -> Response {
        page("message", title: heading, identity: identity, status: status, MessagePage(heading: heading, body: body, link: link, linkText: linkText))
    }

    /// The page for a form whose CSRF token did not match (a stale page or a cross-site post).
    func staleForm(_ identity: ShopperIdentity?, link: String = "/account") -> Response {
        message(
            "This form expired", "Its security token did not match your session. Nothing was changed. Reload the page and try again.",
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

    /// How large the account pages' forms may be.
    static let formLimits = FormFields.Limits(urlEncoded: 16 * 1024)

    /// Display form of an exact amount: at least two decimals, never floating point.
    static func amount(_ value: DecimalAmount) -> String { MoneyRules.wireString(value) }
}

/// What the account layout shows around every page.
struct ShopperFrame: Sendable {
    /// The logged-in shopper, in the header.
    struct Session: Sendable {
        let email: String
        let csrf: String
    }

    let title: String
    let session: Session?
    /// The session's CSRF token, for the page's forms.
    let csrf: String?
    let notice: String?
    let error: String?
}
