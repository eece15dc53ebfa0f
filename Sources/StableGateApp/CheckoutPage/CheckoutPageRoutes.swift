import Foundation
import HTTPTypes
import Hummingbird
import StableGateDomain

/// The hosted checkout page: `GET /checkout/{token}` (HTML), its forms
/// (`POST /checkout/{token}/select`, `/cancel`), the wallet report
/// (`POST /checkout/{token}/wallet-tx`) and its two static assets under `/assets/`. The token
/// is the checkout URL's capability (``CheckoutLink``); an intent id opens nothing here.
///
/// Forms carry a double-submit CSRF token: a random value in a SameSite=Strict cookie, echoed in
/// the form; a cross-site form post arrives without the cookie and is refused.
struct CheckoutPageRoutes {
    let checkout: CheckoutService
    let renderer: CheckoutPageRenderer
    let identifiers: any IdentifierGenerator
    /// Cookies get `Secure` when the gateway is served over https.
    let secureCookies: Bool

    static let csrfCookie = "sg_csrf"
    /// The double-submit token of the page's forms and its script.
    var csrf: DoubleSubmitToken { DoubleSubmitToken(cookieName: Self.csrfCookie, path: "/checkout", secure: secureCookies) }
    static let languageCookie = "sg_lang"
    /// The header the page's script sends the CSRF token in.
    static let csrfHeader = HTTPField.Name("X-CSRF-Token")!
    /// How large the page's forms may be.
    static let formLimits = FormFields.Limits(urlEncoded: 4096)

    @Sendable func page(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let id = try context.parameters.require("token")
        var mode = CheckoutPageRenderer.Mode.normal
        let query = request.uri.queryParameters
        if query["cancel"] != nil {
            mode = .confirmCancel
        } else if query["change"] != nil {
            mode = .changeNetwork
        } else if query["topup"] != nil {
            mode = .topUp
        }
        return try await render(id: id, request: request, locale: Self.locale(request), mode: mode, error: nil, status: .ok)
    }

    /// Deposits on the network and coin the shopper chose.
    @Sendable func select(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let id = try context.parameters.require("token")
        let locale = Self.locale(request)
        guard let choice = NetworkChoice(formValue: context.form["option"]) else {
            return try await render(id: id, request: request, locale: locale, mode: .changeNetwork, error: nil, status: .badRequest)
        }
        do {
            _ = try await checkout.selectDeposit(token: id, chainId: choice.chainId, coin: choice.coin)
        } catch let error as APIError {
            // An unknown token renders as the one 404 page, like every other route's.
            return try await render(id: id, request: request, locale: locale, mode: .normal, error: error.message, status: .badRequest)
        }
        return PageTemplates.seeOther(CheckoutLinks.path(token: id))
    }

    @Sendable func cancel(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let id = try context.parameters.require("token")
        do {
            try await checkout.cancel(token: id)
        } catch let error as APIError {
            return try await render(id: id, request: request, locale: Self.locale(request), mode: .normal, error: error.message, status: .conflict)
        }
        return PageTemplates.seeOther(CheckoutLinks.path(token: id))
    }

    /// The wallet's transaction hash, as the page's script reports it.
    @Sendable func walletTransaction(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let id = try context.parameters.require("token")
        var request = request
        try await checkout.recordWalletPayment(token: id, body: Array(try await request.collectBody(upTo: 4096).readableBytesView))
        return Envelope.success(.object([("recorded", .bool(true))]), requestId: context.requestId)
    }

    /// A form whose double-submit token did not match: the page again, in the form's mode.
    @Sendable func refuseStaleForm(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let locale = Self.locale(request)
        let mode: CheckoutPageRenderer.Mode = request.uri.path.hasSuffix("/cancel") ? .confirmCancel : .changeNetwork
        return try await render(
            id: try context.parameters.require("token"), request: request, locale: locale, mode: mode, error: Self.staleForm(locale),
            status: .forbidden)
    }

    /// The script's report without the page's token.
    @Sendable static func refuseStaleScript(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        throw APIError(.forbidden, "missing or stale CSRF token; reload the page")
    }

    private func render(
        id: String, request: Request, locale: CheckoutLocale, mode: CheckoutPageRenderer.Mode, error: String?, status: HTTPResponse.Status
    ) async throws -> Response {
        let token = csrf.value(for: request, identifiers: identifiers)
        let html: String
        var status = status
        do {
            html = renderer.page(try await checkout.open(token: id), locale: locale, csrf: token, mode: mode, error: error)
        } catch let failure as APIError where failure.code == .notFound {
            // The same page for every unknown token: nothing of the request is echoed in it.
            html = renderer.notFound(locale: locale)
            status = .notFound
        }
        var response = PageTemplates.html(html, status: status)
        response.setCookie(csrf.cookie(token))
        if let chosen = request.uri.queryParameters["lang"], let locale = CheckoutLocale(rawValue: String(chosen)) {
            response.setCookie(
                Cookie(
                    name: Self.languageCookie, value: locale.rawValue, maxAge: 365 * 86_400, path: "/", secure: secureCookies, httpOnly: true,
                    sameSite: .lax))
        }
        return response
    }

    /// The shopper's language: `?lang=`, then the remembered choice, then `Accept-Language`.
    static func locale(_ request: Request) -> CheckoutLocale {
        let explicit = request.uri.queryParameters["lang"].map(String.init) ?? request.cookies[Self.languageCookie]?.value
        return CheckoutLocale.negotiate(explicit: explicit, acceptLanguage: request.headers[.acceptLanguage])
    }

    private static func staleForm(_ locale: CheckoutLocale) -> String {
        locale == .simplifiedChinese ? "页面已过期，请再试一次。" : "This page was open too long; please try again."
    }
}
