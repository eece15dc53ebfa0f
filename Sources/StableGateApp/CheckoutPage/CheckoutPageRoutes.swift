import Foundation
import HTTPTypes
import Hummingbird
import StableGateDomain

/// The hosted checkout page: `GET /checkout/{id}` (HTML), its forms
/// (`POST /checkout/{id}/select`, `/cancel`), the wallet report (`POST /checkout/{id}/wallet-tx`)
/// and its two static assets under `/assets/`.
///
/// Forms carry a double-submit CSRF token: a random value in a SameSite=Strict cookie, echoed in
/// the form; a cross-site form post arrives without the cookie and is refused.
struct CheckoutPageRoutes {
    let checkout: CheckoutService
    let renderer: CheckoutPageRenderer
    let limiter: ClientRateLimiter
    let clock: any WallClock
    let identifiers: any IdentifierGenerator
    /// Cookies get `Secure` when the gateway is served over https.
    let secureCookies: Bool

    static let csrfCookie = "sg_csrf"
    private var csrf: DoubleSubmitToken { DoubleSubmitToken(cookieName: Self.csrfCookie, path: "/checkout", secure: secureCookies) }
    static let languageCookie = "sg_lang"

    func register(on router: Router<GatewayRequestContext>) {
        router.get("checkout/:id") { request, context in
            try limit(context)
            let id = try context.parameters.require("id")
            let locale = locale(request)
            var mode = CheckoutPageRenderer.Mode.normal
            let query = request.uri.queryParameters
            if query["cancel"] != nil { mode = .confirmCancel } else if query["change"] != nil { mode = .changeNetwork } else if query["topup"] != nil { mode = .topUp }
            return try await render(id: id, request: request, locale: locale, mode: mode, error: nil, status: .ok)
        }
        router.post("checkout/:id/select") { request, context in
            try limit(context)
            let id = try context.parameters.require("id")
            let form = try await PageTemplates.form(request, upTo: 4096)
            let locale = locale(request)
            guard csrf.matches(request, form["csrf"]) else {
                return try await render(id: id, request: request, locale: locale, mode: .changeNetwork, error: Self.staleForm(locale), status: .forbidden)
            }
            guard let choice = NetworkChoice(formValue: form["option"]) else {
                return try await render(id: id, request: request, locale: locale, mode: .changeNetwork, error: nil, status: .badRequest)
            }
            do {
                _ = try await checkout.selectDeposit(id: id, chainId: choice.chainId, coin: choice.coin)
            } catch let error as APIError where error.code != .notFound {
                return try await render(id: id, request: request, locale: locale, mode: .normal, error: error.message, status: .badRequest)
            }
            return PageTemplates.seeOther("/checkout/\(id)")
        }
        router.post("checkout/:id/cancel") { request, context in
            try limit(context)
            let id = try context.parameters.require("id")
            let form = try await PageTemplates.form(request, upTo: 4096)
            let locale = locale(request)
            guard csrf.matches(request, form["csrf"]) else {
                return try await render(id: id, request: request, locale: locale, mode: .confirmCancel, error: Self.staleForm(locale), status: .forbidden)
            }
            do {
                try await checkout.cancel(id: id)
            } catch let error as APIError where error.code != .notFound {
                return try await render(id: id, request: request, locale: locale, mode: .normal, error: error.message, status: .conflict)
            }
            return PageTemplates.seeOther("/checkout/\(id)")
        }
        router.post("checkout/:id/wallet-tx") { request, context in
            try limit(context)
            let id = try context.parameters.require("id")
            guard csrf.matches(request, request.headers[HTTPField.Name("X-CSRF-Token")!]) else {
                throw APIError(.forbidden, "missing or stale CSRF token; reload the page")
            }
            var request = request
            try await checkout.recordWalletPayment(id: id, body: Array(try await request.collectBody(upTo: 4096).readableBytesView))
            return Envelope.success(.object([("recorded", .bool(true))]), requestId: context.requestId)
        }
    }

    private func render(
        id: String, request: Request, locale: CheckoutLocale, mode: CheckoutPageRenderer.Mode, error: String?, status: HTTPResponse.Status
    ) async throws -> Response {
        let token = csrf.value(for: request, identifiers: identifiers)
        let html: String
        var status = status
        do {
            try await checkout.markViewed(id: id)
            html = renderer.page(try await checkout.snapshot(id: id), locale: locale, csrf: token, mode: mode, error: error)
        } catch let failure as APIError where failure.code == .notFound {
            html = renderer.notFound(locale: locale, path: request.uri.path)
            status = .notFound
        }
        var response = PageTemplates.html(html, status: status)
        response.setCookie(csrf.cookie(token))
        if let chosen = request.uri.queryParameters["lang"], let locale = CheckoutLocale(rawValue: String(chosen)) {
            response.setCookie(Cookie(
                name: Self.languageCookie, value: locale.rawValue, maxAge: 365 * 86_400, path: "/", secure: secureCookies, httpOnly: true, sameSite: .lax))
        }
        return response
    }

    private func locale(_ request: Request) -> CheckoutLocale {
        let explicit = request.uri.queryParameters["lang"].map(String.init) ?? request.cookies[Self.languageCookie]?.value
        return CheckoutLocale.negotiate(explicit: explicit, acceptLanguage: request.headers[.acceptLanguage])
    }


    private func limit(_ context: GatewayRequestContext) throws {
        try limiter.admit(context, now: clock.now)
    }

    private static func staleForm(_ locale: CheckoutLocale) -> String {
        locale == .simplifiedChinese ? "页面已过期，请再试一次。" : "This page was open too long; please try again."
    }

}
