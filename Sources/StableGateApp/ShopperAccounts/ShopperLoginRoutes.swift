import Foundation
import HTTPTypes
import Hummingbird
import Logging
import StableGateDomain
import StableGateEthereum
import StableGateStore

/// `/account/signup`, `/account/login` and `/account/logout`: e-mail and password, bcrypt,
/// throttled guessing, a fresh session per login — the dashboard's rules, in a realm of its own.
/// The router puts the CSRF and rate-limit middleware in front.
struct ShopperLoginRoutes {
    let pages: ShopperPages

    @Sendable func loginPage(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        emptyForm("login", title: "Log in", request: request, context: context)
    }

    @Sendable func login(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let next = ShopperPages.safeNext(context.form["next"])
        let email = context.form.trimmed("email").lowercased()
        let client = context.clientAddress ?? "unknown"
        let account = try await pages.accounts.account(email: email)
        let verdict = try await pages.throttle.attempt(
            email: email, client: client, password: context.form["password"] ?? "",
            storedHash: account?.disabledAt == nil ? account?.passwordHash : nil, hasher: pages.hasher)
        switch verdict {
        case .throttled:
            context.logger.warning("account login throttled", metadata: ["client": "\(client)"])
            return form(
                "login", title: "Log in", request: request, next: next, email: email,
                error: "Too many failed attempts. Wait 15 minutes and try again.", status: .tooManyRequests)
        case .wrong:
            return form(
                "login", title: "Log in", request: request, next: next, email: email,
                error: "The e-mail or the password is not right.", status: .unauthorized)
        case .right:
            guard let account else { return PageTemplates.seeOther("/account/login") }
            context.logger.info("account login", metadata: ["account_id": "\(account.id)"])
            return try await pages.sessions.startRedirecting(userId: account.id, to: next)
        }
    }

    @Sendable func signupPage(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        emptyForm("signup", title: "Create your account", request: request, context: context)
    }

    @Sendable func signup(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let next = ShopperPages.safeNext(context.form["next"])
        let email = context.form.trimmed("email").lowercased()
        func refuse(_ message: String, _ status: HTTPResponse.Status) -> Response {
            form("signup", title: "Create your account", request: request, next: next, email: email, error: message, status: status)
        }
        guard EmailAddress.isValid(email) else { return refuse("Not created: enter a valid e-mail address.", .badRequest) }
        let password = context.form["password"] ?? ""
        if let problem = PasswordHasher.problem(with: password) { return refuse("Not created: \(problem).", .badRequest) }
        guard password == context.form["password2"] else { return refuse("Not created: the two passwords differ.", .badRequest) }
        guard let wallets = pages.wallets else {
            return refuse("Accounts are not available: this gateway has no payment network configured.", .serviceUnavailable)
        }
        let account: ShopperAccount
        do {
            account = try await pages.accounts.create(
                id: pages.identifiers.objectId(at: pages.clock.now), email: email, passwordHash: try await pages.hasher.hash(password),
                at: pages.clock.now, address: { try wallets.accountAddress(index: $0).lowercased })
        } catch is ShopperAccountRepository.EmailTaken {
            return refuse("An account with this e-mail address exists. Log in instead.", .conflict)
        }
        context.logger.info("account created", metadata: ["account_id": "\(account.id)"])
        return try await pages.sessions.startRedirecting(userId: account.id, to: next)
    }

    /// A login or sign-up form whose double-submit token did not match: shown again, nothing done.
    @Sendable func refuseStaleForm(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let signup = request.uri.path.hasSuffix("/signup")
        return form(
            signup ? "signup" : "login", title: signup ? "Create your account" : "Log in", request: request,
            next: ShopperPages.safeNext(context.form["next"]), email: context.form.trimmed("email").lowercased(),
            error: signup ? "The form expired. Please try again." : "The login form expired. Please try again.", status: .forbidden)
    }

    @Sendable func logout(_ request: Request, context: ShopperContext) async throws -> Response {
        var response = PageTemplates.seeOther("/account/login")
        response.setCookie(try await pages.sessions.end(context.session))
        return response
    }

    /// A form to fill in; a logged-in shopper goes on to `next` at once.
    private func emptyForm(_ template: String, title: String, request: Request, context: GatewayRequestContext) -> Response {
        let next = ShopperPages.safeNext(request.uri.queryParameters["next"].map(String.init))
        if context.shopper != nil { return PageTemplates.seeOther(next) }
        return form(template, title: title, request: request, next: next, email: "", error: nil, status: .ok)
    }

    private func form(
        _ template: String, title: String, request: Request, next: String, email: String, error: String?, status: HTTPResponse.Status
    ) -> Response {
        let token = pages.preSession.value(for: request, identifiers: pages.identifiers)
        let model = ShopperLoginPage(
            csrf: token, next: next, email: email, nextEncoded: next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "%2Faccount",
            checkout: next.hasPrefix("/checkout/") ? String(next.dropLast("/account".count)) : nil)
        var response = pages.page(template, title: title, identity: nil, status: status, error: error, model)
        response.setCookie(pages.preSession.cookie(token))
        return response
    }
}

/// The login and sign-up forms.
struct ShopperLoginPage: Sendable {
    /// `csrf`: the pre-session CSRF token.
    let csrf, next, email: String
    /// `next`, percent-encoded, for the link to the other form.
    let nextEncoded: String
    /// The checkout page to go back to, when the shopper came from one.
    let checkout: String?
}
