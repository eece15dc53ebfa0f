import Hummingbird
import StableGateDomain

/// Every route of the gateway, by product area, with the checks in front of each group: the
/// table of contents of the HTTP side. Handlers live in the route collections named here;
/// cross-cutting checks (signatures, sessions, CSRF, per-client limits) are middleware on
/// groups, never repeated in handlers.
func buildRouter(_ services: GatewayServices) throws -> Router<GatewayRequestContext> {
    let configuration = services.configuration
    let clock = services.clock
    let router = Router(context: GatewayRequestContext.self)
    // Request ids and error envelopes around everything, then per-route metrics.
    router.add(middleware: EnvelopeMiddleware(identifiers: services.environment.identifiers, maximumBodyBytes: configuration.maximumBodyBytes))
    router.add(middleware: MetricsMiddleware())

    // Operations: liveness, readiness and — on the public port only behind its token — metrics.
    HealthRoutes(
        database: services.environment.database, board: services.chains.health, clock: clock,
        maximumLagBlocks: configuration.readinessMaximumLagBlocks, maximumLagSeconds: configuration.readinessMaximumLagSeconds
    ).addRoutes(to: router)
    if configuration.metricsListen == nil, let token = configuration.metricsToken {
        MetricsRoute(registry: services.metrics, token: token).addRoutes(to: router)
    }

    // The merchant API (AllScale Open API v1): signed requests, nonces, per-key limits and IP
    // allowlists; the caller is known in every handler. Its document and reference page are public.
    try APIReference.load().addRoutes(to: router)
    MerchantAPIRoutes(intents: services.intents).addRoutes(
        to: router.group("v1")
            .add(
                middleware: SignatureAuthMiddleware(
                    keys: services.keys, ledger: services.ledger, clock: clock, maximumBodyBytes: configuration.maximumBodyBytes,
                    signer: ResponseSigner(identifiers: services.environment.identifiers, clock: clock))
            )
            .group(context: MerchantAPIContext.self))

    // The hosted checkout: the token in the path is the capability; every route is limited per client.
    let checkout = router.group("checkout/:token").add(middleware: ClientRateLimitMiddleware(limiter: services.checkoutLimiter, clock: clock))
    CheckoutRoutes(checkout: services.checkout, maximumBodyBytes: 4096).addRoutes(to: checkout)
    let checkoutPage = CheckoutPageRoutes(
        checkout: services.checkout, renderer: services.checkoutRenderer, identifiers: services.environment.identifiers,
        secureCookies: services.secureCookies)
    checkoutPage.addRoutes(to: checkout)
    checkoutPage.addFormRoutes(
        to: checkout.group().add(
            middleware: DoubleSubmitCSRFMiddleware<GatewayRequestContext>(
                token: checkoutPage.csrf, limits: CheckoutPageRoutes.formLimits, refuse: checkoutPage.refuseStaleForm)))
    checkoutPage.addScriptRoutes(
        to: checkout.group().add(
            middleware: DoubleSubmitCSRFMiddleware<GatewayRequestContext>(
                token: checkoutPage.csrf, limits: CheckoutPageRoutes.formLimits, header: CheckoutPageRoutes.csrfHeader,
                refuse: CheckoutPageRoutes.refuseStaleScript)))
    // "Pay with StableGate account": a known checkout, then a shopper session, then its CSRF token.
    let shopperCheckout = ShopperCheckoutRoutes(pages: services.shopper, checkout: services.checkout)
    shopperCheckout.addRoutes(
        to: checkout.group("account")
            .add(middleware: CheckoutTokenMiddleware(checkout: services.checkout, renderer: services.checkoutRenderer))
            .add(middleware: shopperSession(services, loginRedirect: ShopperCheckoutRoutes.loginFirst))
            .group(context: ShopperContext.self)
            .add(middleware: SessionCSRFMiddleware(limits: ShopperPages.formLimits, refuse: shopperCheckout.refuseStaleForm)))
    services.templates.addRoutes(to: router)
    StoreLogoRoute(merchants: services.environment.merchants).addRoutes(to: router)

    // Shopper accounts: sign-up and login (double-submit CSRF, per-client limits), then the
    // logged-in pages (session, CSRF token).
    let shopperLogin = ShopperLoginRoutes(pages: services.shopper)
    shopperLogin.addRoutes(
        to: router.group("account")
            .add(
                middleware: ClientRateLimitMiddleware(
                    limiter: services.shopperLoginLimiter, clock: clock, what: "sign-ups or logins", methods: [.post])
            )
            .add(middleware: shopperSession(services, loginRedirect: nil))
            .add(
                middleware: DoubleSubmitCSRFMiddleware<GatewayRequestContext>(
                    token: services.shopper.preSession, limits: ShopperPages.formLimits, refuse: shopperLogin.refuseStaleForm)))
    shopperLogin.addLogoutRoutes(
        to: router.group("account")
            .add(middleware: shopperSession(services, loginRedirect: { _, _ in PageTemplates.seeOther("/account/login") }))
            .group(context: ShopperContext.self)
            .add(middleware: SessionCSRFMiddleware(limits: ShopperPages.formLimits) { _, _ in PageTemplates.seeOther("/account/login") }))
    ShopperHomeRoutes(pages: services.shopper).addRoutes(
        to: router.group("account")
            .add(middleware: shopperSession(services, loginRedirect: ShopperHomeRoutes.loginFirst))
            .group(context: ShopperContext.self)
            .add(
                middleware: SessionCSRFMiddleware(limits: ShopperPages.formLimits) { [pages = services.shopper] _, context in
                    pages.staleForm(context.identity, link: "/account/withdraw")
                }))

    // The merchant dashboard: login and setup (double-submit CSRF, per-client limits), then
    // the logged-in pages (session with the user's store, CSRF token).
    let dashboardLogin = DashboardLoginRoutes(pages: services.dashboard)
    dashboardLogin.addRoutes(
        to: router.group("dashboard")
            .add(middleware: ClientRateLimitMiddleware(limiter: services.dashboardLoginLimiter, clock: clock, what: "logins", methods: [.post]))
            .add(middleware: dashboardSession(services, loginRedirect: nil))
            .add(
                middleware: DoubleSubmitCSRFMiddleware<GatewayRequestContext>(
                    token: dashboardLogin.preSession, limits: DashboardPages.formLimits, refuse: dashboardLogin.refuseStaleForm)))
    dashboardLogin.addLogoutRoutes(
        to: router.group("dashboard")
            .add(middleware: dashboardSession(services, loginRedirect: { _ in PageTemplates.seeOther("/dashboard/login") }))
            .group(context: DashboardContext.self)
            .add(middleware: SessionCSRFMiddleware(limits: DashboardPages.formLimits) { _, _ in PageTemplates.seeOther("/dashboard/login") }))
    let dashboard = router.group("dashboard")
        .add(middleware: dashboardSession(services, loginRedirect: DashboardSessionMiddleware.backAfterLogin))
        .group(context: DashboardContext.self)
        .add(
            middleware: SessionCSRFMiddleware(limits: DashboardPages.formLimits) { [pages = services.dashboard] _, context in
                pages.staleForm(context.identity)
            })
    DashboardOrderRoutes(pages: services.dashboard).addRoutes(to: dashboard)
    DashboardSettingsRoutes(pages: services.dashboard).addRoutes(to: dashboard)
    DashboardKeyRoutes(pages: services.dashboard).addRoutes(to: dashboard)
    return router
}

/// The dashboard session middleware; without a session, `loginRedirect` answers (nil: go on without one).
private func dashboardSession(_ services: GatewayServices, loginRedirect: (@Sendable (Request) -> Response)?) -> DashboardSessionMiddleware {
    DashboardSessionMiddleware(
        sessions: services.dashboard.sessions, users: services.dashboard.users, merchants: services.environment.merchants,
        loginRedirect: loginRedirect)
}

/// The shopper session middleware; without a session, `loginRedirect` answers (nil: go on without one).
private func shopperSession(
    _ services: GatewayServices, loginRedirect: (@Sendable (Request, GatewayRequestContext) -> Response)?
) -> ShopperSessionMiddleware {
    ShopperSessionMiddleware(sessions: services.shopper.sessions, accounts: services.shopperAccounts, loginRedirect: loginRedirect)
}
