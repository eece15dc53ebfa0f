import Foundation
import Hummingbird
import Logging
import StableGateDomain
import StableGateStore

/// `/dashboard/login`, `/dashboard/setup` (the operator's one-time link), logout and
/// logout-everywhere. Before a session exists, forms are protected by a double-submit cookie
/// (``preSession``); the router puts the CSRF and rate-limit middleware in front.
struct DashboardLoginRoutes {
    let pages: DashboardPages

    static let preSessionCookie = "sg_dcsrf"
    /// The double-submit token of the login and setup forms.
    var preSession: DoubleSubmitToken {
        DoubleSubmitToken(cookieName: Self.preSessionCookie, path: "/dashboard", secure: pages.sessions.secureCookies)
    }

    @Sendable func loginPage(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let next = Self.safeNext(request.uri.queryParameters["next"].map(String.init))
        if context.dashboard != nil { return PageTemplates.seeOther(next) }
        return loginForm(request: request, next: next, email: "", error: nil, status: .ok)
    }

    @Sendable func login(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let form = context.form
        let next = Self.safeNext(form["next"])
        let email = form.trimmed("email").lowercased()
        let client = context.clientAddress ?? "unknown"
        let user = try await pages.users.user(email: email)
        let verdict = try await pages.throttle.attempt(
            email: email, client: client, password: form["password"] ?? "", storedHash: user?.disabledAt == nil ? user?.passwordHash : nil,
            hasher: pages.hasher)
        switch verdict {
        case .throttled:
            context.logger.warning("dashboard login throttled", metadata: ["email": "\(email)", "client": "\(client)"])
            return loginForm(
                request: request, next: next, email: email, error: "Too many failed attempts. Wait 15 minutes and try again.",
                status: .tooManyRequests)
        case .wrong:
            return loginForm(request: request, next: next, email: email, error: "The e-mail or the password is not right.", status: .unauthorized)
        case .right:
            guard let user else { return PageTemplates.seeOther("/dashboard/login") }
            context.logger.info("dashboard login", metadata: ["user_id": "\(user.id)"])
            return try await pages.sessions.startRedirecting(userId: user.id, to: next)
        }
    }

    @Sendable func setupPage(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let token = request.uri.queryParameters["token"].map(String.init) ?? ""
        guard let user = try await pages.users.user(setupTokenHash: SessionManager.digest(token), now: pages.clock.now) else {
            return expiredLink()
        }
        return setupForm(request: request, token: token, email: user.email, error: nil, status: .ok)
    }

    @Sendable func setPassword(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let form = context.form
        let token = form["token"] ?? ""
        guard let user = try await pages.users.user(setupTokenHash: SessionManager.digest(token), now: pages.clock.now) else {
            return expiredLink()
        }
        let password = form["password"] ?? ""
        if let problem = PasswordHasher.problem(with: password) {
            return setupForm(request: request, token: token, email: user.email, error: "Not set: \(problem).", status: .badRequest)
        }
        guard password == form["password2"] else {
            return setupForm(request: request, token: token, email: user.email, error: "Not set: the two passwords differ.", status: .badRequest)
        }
        try await pages.users.setPassword(userId: user.id, hash: try await pages.hasher.hash(password))
        context.logger.info("dashboard password set", metadata: ["user_id": "\(user.id)"])
        return PageTemplates.seeOther("/dashboard/login?set=1")
    }

    /// A login or setup form whose double-submit token did not match: shown again, nothing done.
    @Sendable func refuseStaleForm(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let form = context.form
        guard request.uri.path.hasSuffix("/setup") else {
            return loginForm(
                request: request, next: Self.safeNext(form["next"]), email: form.trimmed("email").lowercased(),
                error: "The login form expired. Please try again.", status: .forbidden)
        }
        let token = form["token"] ?? ""
        guard let user = try await pages.users.user(setupTokenHash: SessionManager.digest(token), now: pages.clock.now) else {
            return expiredLink()
        }
        return setupForm(request: request, token: token, email: user.email, error: "The form expired. Please try again.", status: .forbidden)
    }

    @Sendable func logout(_ request: Request, context: DashboardContext) async throws -> Response {
        var response = PageTemplates.seeOther("/dashboard/login")
        response.setCookie(try await pages.sessions.end(context.session))
        return response
    }

    @Sendable func logoutEverywhere(_ request: Request, context: DashboardContext) async throws -> Response {
        var response = PageTemplates.seeOther("/dashboard/login?everywhere=1")
        response.setCookie(try await pages.sessions.endAll(userId: context.session.userId))
        context.logger.info("dashboard logout everywhere", metadata: ["user_id": "\(context.session.userId)"])
        return response
    }

    private func loginForm(request: Request, next: String, email: String, error: String?, status: HTTPResponse.Status) -> Response {
        let token = preSession.value(for: request, identifiers: pages.identifiers)
        let query = request.uri.queryParameters
        let notice = query["set"] != nil ? "Your password is set. Log in." : query["everywhere"] != nil ? "You are logged out on every device." : nil
        var response = pages.page(
            "login", title: "Log in", identity: nil, status: status, notice: notice, error: error,
            LoginPage(csrf: token, next: next, email: email))
        response.setCookie(preSession.cookie(token))
        return response
    }

    private func setupForm(request: Request, token: String, email: String, error: String?, status: HTTPResponse.Status) -> Response {
        let csrf = preSession.value(for: request, identifiers: pages.identifiers)
        var response = pages.page(
            "setup", title: "Choose your password", identity: nil, status: status, error: error,
            SetupPage(csrf: csrf, token: token, email: email))
        response.setCookie(preSession.cookie(csrf))
        return response
    }

    private func expiredLink() -> Response {
        pages.page(
            "message", title: "Link expired", identity: nil, status: .notFound,
            MessagePage(
                heading: "This link is not valid any more", body: "Setup links work once and expire after 72 hours. Ask your operator for a new one.")
        )
    }

    /// Only local dashboard paths: never an open redirect.
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/dashboard"), !next.hasPrefix("//"), !next.contains("\\"), !next.contains("\r"), !next.contains("\n") else {
            return "/dashboard"
        }
        return next
    }
}

/// The login form.
struct LoginPage: Sendable {
    /// `csrf`: the pre-session CSRF token.
    let csrf, next, email: String
    let mainClass = "centered"
}

/// The form that sets a password from a setup link.
struct SetupPage: Sendable {
    let csrf, token, email: String
}
