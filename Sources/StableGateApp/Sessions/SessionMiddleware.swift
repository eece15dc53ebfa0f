import Foundation
import HTTPTypes
import Hummingbird
import Logging
import StableGateDomain
import StableGateStore

/// Resolves the dashboard session of a request: the user (not disabled) and their store go
/// into the context. Without one, `loginRedirect` answers (the login page, and back
/// afterwards); when it is nil the request goes on without an identity (the login page itself,
/// which sends logged-in users on).
struct DashboardSessionMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext
    let sessions: SessionManager
    let users: DashboardUserRepository
    let merchants: MerchantRepository
    var loginRedirect: (@Sendable (Request) -> Response)? = DashboardSessionMiddleware.backAfterLogin

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let session = try await sessions.resolve(request),
            let user = try await users.user(id: session.userId), user.disabledAt == nil,
            let store = try await merchants.stores(merchantId: user.merchantId).first
        else {
            if let loginRedirect { return loginRedirect(request) }
            return try await next(request, context)
        }
        var context = context
        context.dashboard = DashboardIdentity(user: user, store: store, session: session)
        context.logger[metadataKey: "user_id"] = .string(user.id)
        context.logger[metadataKey: "store_id"] = .string(store.id)
        return try await next(request, context)
    }

    /// To the login page, coming back to the page asked for (a form post comes back to the overview).
    @Sendable static func backAfterLogin(_ request: Request) -> Response {
        let back = request.method == .get ? request.uri.path + (request.uri.query.map { "?" + $0 } ?? "") : "/dashboard"
        var query = URLComponents()
        query.queryItems = [URLQueryItem(name: "next", value: back)]
        return PageTemplates.seeOther("/dashboard/login?" + (query.percentEncodedQuery ?? ""))
    }
}

/// Resolves the shopper-account session of a request (the account must not be disabled).
/// Without one, `loginRedirect` answers; when it is nil the request goes on without an identity.
struct ShopperSessionMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext
    let sessions: SessionManager
    let accounts: ShopperAccountRepository
    var loginRedirect: (@Sendable (Request, Context) -> Response)?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let session = try await sessions.resolve(request), let account = try await accounts.account(id: session.userId),
            account.disabledAt == nil
        else {
            if let loginRedirect { return loginRedirect(request, context) }
            return try await next(request, context)
        }
        var context = context
        context.shopper = ShopperIdentity(account: account, session: session)
        context.logger[metadataKey: "account_id"] = .string(account.id)
        return try await next(request, context)
    }
}

/// An identity that comes with a live session (and the CSRF token its forms echo).
protocol SessionIdentity: ContextIdentity {
    var session: SessionRecord { get }
}

/// A context whose request has a live session.
protocol SessionContext: GatewayContext {
    var session: SessionRecord { get }
}

extension IdentifiedContext: SessionContext where Identity: SessionIdentity {
    var session: SessionRecord { identity.session }
}

extension DashboardIdentity: SessionIdentity {
    static func established(in context: GatewayRequestContext) -> DashboardIdentity? { context.dashboard }
}

extension ShopperIdentity: SessionIdentity {
    static func established(in context: GatewayRequestContext) -> ShopperIdentity? { context.shopper }
}

/// CSRF protection of the forms of logged-in pages: every POST decodes its form here and must
/// echo the session's CSRF token in `csrf` (compared in constant time); otherwise `refuse`
/// answers and nothing runs. A cross-site post cannot know the token.
struct SessionCSRFMiddleware<Context: SessionContext>: RouterMiddleware {
    let limits: FormFields.Limits
    let refuse: @Sendable (Request, Context) async throws -> Response

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post else { return try await next(request, context) }
        var request = request
        var context = context
        context.form = try await FormFields.read(&request, limits: limits)
        guard SessionManager.csrfMatches(context.session, context.form["csrf"]) else { return try await refuse(request, context) }
        return try await next(request, context)
    }
}

/// CSRF protection of forms shown before there is a session (login, sign-up, the checkout
/// page): every POST decodes its form here and must echo the ``DoubleSubmitToken`` cookie's
/// value, in the `csrf` field or — for scripts — in `header`; otherwise `refuse` answers.
struct DoubleSubmitCSRFMiddleware<Context: GatewayContext>: RouterMiddleware {
    let token: DoubleSubmitToken
    let limits: FormFields.Limits
    /// Where a script sends the token instead of a form field (it posts JSON, not a form).
    var header: HTTPField.Name?
    let refuse: @Sendable (Request, Context) async throws -> Response

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post else { return try await next(request, context) }
        if let header {
            guard token.matches(request, request.headers[header]) else { return try await refuse(request, context) }
            return try await next(request, context)
        }
        var request = request
        var context = context
        context.form = try await FormFields.read(&request, limits: limits)
        guard token.matches(request, context.form["csrf"]) else { return try await refuse(request, context) }
        return try await next(request, context)
    }
}
