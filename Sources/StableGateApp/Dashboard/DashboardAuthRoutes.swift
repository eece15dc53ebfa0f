import Foundation
import Hummingbird
import StableGateDomain
import StableGateStore

/// `/dashboard/login`, `/dashboard/setup` (the operator's one-time link), logout and
/// logout-everywhere. Before a session exists, forms are protected by a double-submit cookie.
struct DashboardAuthRoutes {
    let pages: DashboardPages
    /// Logins per client address: each costs a bcrypt check, whatever the throttle decides
    /// afterwards about the e-mail address.
    let limiter: ClientRateLimiter

    static let preSessionCookie = "sg_dcsrf"
    private var preSession: DoubleSubmitToken {
        DoubleSubmitToken(cookieName: Self.preSessionCookie, path: "/dashboard", secure: pages.sessions.secureCookies)
    }

    func register(on router: Router<GatewayRequestContext>) {
        router.get("dashboard/login") { request, _ in
            let next = Self.safeNext(request.uri.queryParameters["next"].map(String.init))
            if try await pages.sessions.resolve(request) != nil { return PageTemplates.seeOther(next) }
            return loginPage(request: request, next: next, email: "", error: nil, status: .ok)
        }
        router.post("dashboard/login") { request, context in
            try limiter.admit(context, now: pages.clock.now, what: "logins")
            let form = try await DashboardPages.form(request)
            let next = Self.safeNext(form["next"])
            let email = (form["email"] ?? "").trimmingCharacters(in: .whitespaces).lowercased()
            guard preSession.matches(request, form["csrf"]) else {
                return loginPage(request: request, next: next, email: email, error: "The login form expired. Please try again.", status: .forbidden)
            }
            let client = context.remoteAddress?.ipAddress ?? "unknown"
            let user = try await pages.accounts.user(email: email)
            let verdict = try await pages.throttle.attempt(
                email: email, client: client, password: form["password"] ?? "", storedHash: user?.disabledAt == nil ? user?.passwordHash : nil,
                hasher: pages.hasher)
            switch verdict {
            case .throttled:
                context.logger.warning("dashboard login throttled", metadata: ["email": "\(email)", "client": "\(client)"])
                return loginPage(request: request, next: next, email: email, error: "Too many failed attempts. Wait 15 minutes and try again.", status: .tooManyRequests)
            case .wrong:
                return loginPage(request: request, next: next, email: email, error: "The e-mail or the password is not right.", status: .unauthorized)
            case .right:
                guard let user else { return PageTemplates.seeOther("/dashboard/login") }
                context.logger.info("dashboard login", metadata: ["user_id": "\(user.id)"])
                return try await pages.sessions.startRedirecting(userId: user.id, to: next)
            }
        }
        router.get("dashboard/setup") { request, _ in
            let token = request.uri.queryParameters["token"].map(String.init) ?? ""
            guard let user = try await pages.accounts.user(setupTokenHash: SessionManager.digest(token), now: pages.clock.now) else {
                return expiredLink()
            }
            return setupPage(request: request, token: token, email: user.email, error: nil, status: .ok)
        }
        router.post("dashboard/setup") { request, context in
            let form = try await DashboardPages.form(request)
            let token = form["token"] ?? ""
            guard let user = try await pages.accounts.user(setupTokenHash: SessionManager.digest(token), now: pages.clock.now) else {
                return expiredLink()
            }
            guard preSession.matches(request, form["csrf"]) else {
                return setupPage(request: request, token: token, email: user.email, error: "The form expired. Please try again.", status: .forbidden)
            }
            let password = form["password"] ?? ""
            if let problem = PasswordHasher.problem(with: password) {
                return setupPage(request: request, token: token, email: user.email, error: "Not set: \(problem).", status: .badRequest)
            }
            guard password == form["password2"] else {
                return setupPage(request: request, token: token, email: user.email, error: "Not set: the two passwords differ.", status: .badRequest)
            }
            try await pages.accounts.setPassword(userId: user.id, hash: try await pages.hasher.hash(password))
            context.logger.info("dashboard password set", metadata: ["user_id": "\(user.id)"])
            return PageTemplates.seeOther("/dashboard/login?set=1")
        }
        router.post("dashboard/logout") { request, context in
            let form = try await DashboardPages.form(request)
            guard let session = try await pages.sessions.resolve(request), SessionManager.csrfMatches(session, form["csrf"]) else {
                return PageTemplates.seeOther("/dashboard/login")
            }
            var response = PageTemplates.seeOther("/dashboard/login")
            response.setCookie(try await pages.sessions.end(session))
            return response
        }
        router.post("dashboard/logout-everywhere") { request, context in
            let form = try await DashboardPages.form(request)
            guard let session = try await pages.sessions.resolve(request), SessionManager.csrfMatches(session, form["csrf"]) else {
                return PageTemplates.seeOther("/dashboard/login")
            }
            var response = PageTemplates.seeOther("/dashboard/login?everywhere=1")
            response.setCookie(try await pages.sessions.endAll(userId: session.userId))
            context.logger.info("dashboard logout everywhere", metadata: ["user_id": "\(session.userId)"])
            return response
        }
    }

    private func loginPage(request: Request, next: String, email: String, error: String?, status: HTTPResponse.Status) -> Response {
        let token = preSession.value(for: request, identifiers: pages.identifiers)
        let query = request.uri.queryParameters
        let notice = query["set"] != nil ? "Your password is set. Log in." : query["everywhere"] != nil ? "You are logged out on every device." : nil
        var response = pages.page("login", title: "Log in", identity: nil, status: status, notice: notice, error: error,
                                  ["csrf": token, "next": next, "email": email, "mainClass": "centered"])
        response.setCookie(preSession.cookie(token))
        return response
    }

    private func setupPage(request: Request, token: String, email: String, error: String?, status: HTTPResponse.Status) -> Response {
        let csrf = preSession.value(for: request, identifiers: pages.identifiers)
        var response = pages.page("setup", title: "Choose your password", identity: nil, status: status, error: error,
                                  ["csrf": csrf, "token": token, "email": email])
        response.setCookie(preSession.cookie(csrf))
        return response
    }

    private func expiredLink() -> Response {
        pages.page("message", title: "Link expired", identity: nil, status: .notFound,
                   ["heading": "This link is not valid any more", "body": "Setup links work once and expire after 72 hours. Ask your operator for a new one."])
    }


    /// Only local dashboard paths: never an open redirect.
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/dashboard"), !next.hasPrefix("//"), !next.contains("\\"), !next.contains("\r"), !next.contains("\n") else {
            return "/dashboard"
        }
        return next
    }
}
