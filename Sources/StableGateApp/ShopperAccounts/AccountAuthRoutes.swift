import Foundation
import HTTPTypes
import Hummingbird
import StableGateDomain
import StableGateStore


/// `/account/signup`, `/account/login` and `/account/logout`: e-mail and password, bcrypt,
/// throttled guessing, a fresh session per login — the dashboard's rules, in a realm of its own.
struct AccountAuthRoutes {
    let pages: AccountPages
    /// Sign-ups and logins per client address: each costs a bcrypt hash.
    let limiter: ClientRateLimiter

    func register(on router: Router<GatewayRequestContext>) {
        router.get("account/login") { request, _ in
            let next = AccountPages.safeNext(request.uri.queryParameters["next"].map(String.init))
            if try await pages.identity(request) != nil { return PageTemplates.seeOther(next) }
            return form("login", title: "Log in", request: request, next: next, email: "", error: nil, status: .ok)
        }
        router.post("account/login") { request, context in
            try limit(context)
            let form = try await AccountPages.form(request)
            let next = AccountPages.safeNext(form["next"])
            let email = (form["email"] ?? "").trimmingCharacters(in: .whitespaces).lowercased()
            guard pages.preSession.matches(request, form["csrf"]) else {
                return self.form("login", title: "Log in", request: request, next: next, email: email, error: "The login form expired. Please try again.", status: .forbidden)
            }
            let client = context.remoteAddress?.ipAddress ?? "unknown"
            let account = try await pages.accounts.account(email: email)
            let verdict = try await pages.throttle.attempt(
                email: email, client: client, password: form["password"] ?? "",
                storedHash: account?.disabledAt == nil ? account?.passwordHash : nil, hasher: pages.hasher)
            switch verdict {
            case .throttled:
                context.logger.warning("account login throttled", metadata: ["client": "\(client)"])
                return self.form("login", title: "Log in", request: request, next: next, email: email,
                                 error: "Too many failed attempts. Wait 15 minutes and try again.", status: .tooManyRequests)
            case .wrong:
                return self.form("login", title: "Log in", request: request, next: next, email: email,
                                 error: "The e-mail or the password is not right.", status: .unauthorized)
            case .right:
                guard let account else { return PageTemplates.seeOther("/account/login") }
                context.logger.info("account login", metadata: ["account_id": "\(account.id)"])
                return try await pages.sessions.startRedirecting(userId: account.id, to: next)
            }
        }
        router.get("account/signup") { request, _ in
            let next = AccountPages.safeNext(request.uri.queryParameters["next"].map(String.init))
            if try await pages.identity(request) != nil { return PageTemplates.seeOther(next) }
            return form("signup", title: "Create your account", request: request, next: next, email: "", error: nil, status: .ok)
        }
        router.post("account/signup") { request, context in
            try limit(context)
            let form = try await AccountPages.form(request)
            let next = AccountPages.safeNext(form["next"])
            let email = (form["email"] ?? "").trimmingCharacters(in: .whitespaces).lowercased()
            func refuse(_ message: String, _ status: HTTPResponse.Status) -> Response {
                self.form("signup", title: "Create your account", request: request, next: next, email: email, error: message, status: status)
            }
            guard pages.preSession.matches(request, form["csrf"]) else { return refuse("The form expired. Please try again.", .forbidden) }
            guard EmailAddress.isValid(email) else { return refuse("Not created: enter a valid e-mail address.", .badRequest) }
            let password = form["password"] ?? ""
            if let problem = PasswordHasher.problem(with: password) { return refuse("Not created: \(problem).", .badRequest) }
            guard password == form["password2"] else { return refuse("Not created: the two passwords differ.", .badRequest) }
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
        router.post("account/logout") { request, _ in
            let form = try await AccountPages.form(request)
            guard let session = try await pages.sessions.resolve(request), SessionManager.csrfMatches(session, form["csrf"]) else {
                return PageTemplates.seeOther("/account/login")
            }
            var response = PageTemplates.seeOther("/account/login")
            response.setCookie(try await pages.sessions.end(session))
            return response
        }
    }

    private func limit(_ context: GatewayRequestContext) throws {
        try limiter.admit(context, now: pages.clock.now, what: "sign-ups or logins")
    }

    private func form(
        _ template: String, title: String, request: Request, next: String, email: String, error: String?, status: HTTPResponse.Status
    ) -> Response {
        let token = pages.preSession.value(for: request, identifiers: pages.identifiers)
        var model: [String: Any] = [
            "csrf": token, "next": next, "email": email,
            "nextEncoded": next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "%2Faccount",
        ]
        if next.hasPrefix("/checkout/") { model["checkout"] = String(next.dropLast("/account".count)) }
        var response = pages.page(template, title: title, identity: nil, status: status, error: error, model)
        response.setCookie(pages.preSession.cookie(token))
        return response
    }
}
