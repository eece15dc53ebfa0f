import Hummingbird
import StableGateDomain

/// Every route of the gateway — method, path and handler — by product area, with the checks in
/// front of each group: the table of contents of the HTTP side. Handlers are named methods of
/// the route collections named here; cross-cutting checks (signatures, sessions, CSRF,
/// per-client limits) are middleware on groups, never repeated in handlers.
func buildRouter(_ services: GatewayServices) throws -> Router<GatewayRequestContext> {
    let configuration = services.configuration
    let clock = services.clock
    let router = Router(context: GatewayRequestContext.self)
    // Request ids and error envelopes around everything, then the client's address (behind a
    // trusted proxy, the one it forwards for), then per-route metrics.
    router.add(middleware: EnvelopeMiddleware(identifiers: services.environment.identifiers, maximumBodyBytes: configuration.maximumBodyBytes))
    router.add(middleware: ClientAddressMiddleware(proxies: configuration.trustedProxies))
    router.add(middleware: MetricsMiddleware())

    // Operations: liveness, readiness and — on the public port only behind its token — metrics.
    let health = HealthRoutes(
        database: services.environment.database, board: services.chains.health, clock: clock,
        maximumLagBlocks: configuration.readinessMaximumLagBlocks, maximumLagSeconds: configuration.readinessMaximumLagSeconds)
    router.get("healthz", use: health.live)
    router.get("readyz", use: health.ready)
    if configuration.metricsListen == nil, let token = configuration.metricsToken {
        router.get("metrics", use: MetricsRoute(registry: services.metrics, token: token).metrics)
    }

    // The merchant API (AllScale Open API v1): signed requests, nonces, per-key limits and IP
    // allowlists; the caller is known in every handler. Its document and reference page are public.
    let reference = try APIReference.load()
    router.get("openapi.json", use: reference.openAPIDocument)
    router.get("docs/api", use: reference.referencePage)
    let api = MerchantAPIRoutes(intents: services.intents)
    let signed = router.group("v1")
        .add(
            middleware: SignatureAuthMiddleware(
                keys: services.keys, ledger: services.ledger, clock: clock, maximumBodyBytes: configuration.maximumBodyBytes,
                signer: ResponseSigner(identifiers: services.environment.identifiers, clock: clock))
        )
        .group(context: MerchantAPIContext.self)
    // The create records its request's nonce and rate count in the transaction that stores the
    // intent. The router ignores a trailing slash, so both /v1/checkout_intents and
    // /v1/checkout_intents/ land here (the signature still covers the path exactly as sent).
    signed.post("checkout_intents", use: api.createIntent)
    // Every other route records them before its handler runs.
    let admitted = signed.group().add(middleware: RecordClaimMiddleware(ledger: services.ledger))
    admitted.get("test/ping", use: api.ping)
    admitted.get("test/fail", use: api.fail)
    admitted.post("test/post", use: api.echo)
    admitted.get("checkout_intents/:id/status", use: api.status)
    admitted.get("checkout_intents/:id", use: api.intent)

    // The hosted checkout: the token in the path is the capability; every route is limited per
    // client. The page's forms carry a double-submit CSRF token (its script sends it in a header).
    let checkout = router.group("checkout/:token").add(middleware: ClientRateLimitMiddleware(limiter: services.checkoutLimiter, clock: clock))
    let checkoutAPI = CheckoutRoutes(checkout: services.checkout, maximumBodyBytes: 4096)
    checkout.get("state", use: checkoutAPI.state)
    checkout.post("deposit", use: checkoutAPI.deposit)
    let page = CheckoutPageRoutes(
        checkout: services.checkout, renderer: services.checkoutRenderer, identifiers: services.environment.identifiers,
        secureCookies: services.secureCookies)
    checkout.get("", use: page.page)
    let pageForms = checkout.group()
        .add(
            middleware: DoubleSubmitCSRFMiddleware<GatewayRequestContext>(
                token: page.csrf, limits: CheckoutPageRoutes.formLimits, refuse: page.refuseStaleForm))
    pageForms.post("select", use: page.select)
    pageForms.post("cancel", use: page.cancel)
    checkout.group()
        .add(
            middleware: DoubleSubmitCSRFMiddleware<GatewayRequestContext>(
                token: page.csrf, limits: CheckoutPageRoutes.formLimits, header: CheckoutPageRoutes.csrfHeader,
                refuse: CheckoutPageRoutes.refuseStaleScript)
        )
        .post("wallet-tx", use: page.walletTransaction)
    // "Pay with StableGate account": a known checkout, then a shopper session, then its CSRF token.
    let accountCheckout = ShopperCheckoutRoutes(pages: services.shopper, checkout: services.checkout)
    let payFromAccount = checkout.group("account")
        .add(middleware: CheckoutTokenMiddleware(checkout: services.checkout, renderer: services.checkoutRenderer))
        .add(middleware: shopperSession(services, loginRedirect: ShopperCheckoutRoutes.loginFirst))
        .group(context: ShopperContext.self)
        .add(middleware: SessionCSRFMiddleware(limits: ShopperPages.formLimits, refuse: accountCheckout.refuseStaleForm))
    payFromAccount.get("", use: accountCheckout.networks)
    payFromAccount.post("review", use: accountCheckout.review)
    payFromAccount.post("approve", use: accountCheckout.approve)
    // What the pages load: stylesheets and scripts, store logos.
    router.get("assets/:file", use: services.templates.asset)
    router.get("stores/:id/logo", use: StoreLogoRoute(merchants: services.environment.merchants).logo)

    // Shopper accounts: sign-up and login (double-submit CSRF, per-client limits), then the
    // logged-in pages (session, CSRF token).
    let shopperLogin = ShopperLoginRoutes(pages: services.shopper)
    let shopperEntry = router.group("account")
        .add(
            middleware: ClientRateLimitMiddleware(
                limiter: services.shopperLoginLimiter, clock: clock, what: "sign-ups or logins", methods: [.post])
        )
        .add(middleware: shopperSession(services, loginRedirect: nil))
        .add(
            middleware: DoubleSubmitCSRFMiddleware<GatewayRequestContext>(
                token: services.shopper.preSession, limits: ShopperPages.formLimits, refuse: shopperLogin.refuseStaleForm))
    shopperEntry.get("login", use: shopperLogin.loginPage)
    shopperEntry.post("login", use: shopperLogin.login)
    shopperEntry.get("signup", use: shopperLogin.signupPage)
    shopperEntry.post("signup", use: shopperLogin.signup)
    router.group("account")
        .add(middleware: shopperSession(services, loginRedirect: { _, _ in PageTemplates.seeOther("/account/login") }))
        .group(context: ShopperContext.self)
        .add(middleware: SessionCSRFMiddleware(limits: ShopperPages.formLimits) { _, _ in PageTemplates.seeOther("/account/login") })
        .post("logout", use: shopperLogin.logout)
    let shopperHome = ShopperHomeRoutes(pages: services.shopper)
    let account = router.group("account")
        .add(middleware: shopperSession(services, loginRedirect: ShopperHomeRoutes.loginFirst))
        .group(context: ShopperContext.self)
        .add(
            middleware: SessionCSRFMiddleware(limits: ShopperPages.formLimits) { [pages = services.shopper] _, context in
                pages.staleForm(context.identity, link: "/account/withdraw")
            })
    account.get("", use: shopperHome.home)
    account.get("withdraw", use: shopperHome.withdrawal)
    account.post("withdraw", use: shopperHome.reviewWithdrawal)
    account.post("withdraw/confirm", use: shopperHome.confirmWithdrawal)

    // The merchant dashboard: login and setup (double-submit CSRF, per-client limits), then
    // the logged-in pages (session with the user's store, CSRF token).
    let dashboardLogin = DashboardLoginRoutes(pages: services.dashboard)
    let dashboardEntry = router.group("dashboard")
        .add(middleware: ClientRateLimitMiddleware(limiter: services.dashboardLoginLimiter, clock: clock, what: "logins", methods: [.post]))
        .add(middleware: dashboardSession(services, loginRedirect: nil))
        .add(
            middleware: DoubleSubmitCSRFMiddleware<GatewayRequestContext>(
                token: dashboardLogin.preSession, limits: DashboardPages.formLimits, refuse: dashboardLogin.refuseStaleForm))
    dashboardEntry.get("login", use: dashboardLogin.loginPage)
    dashboardEntry.post("login", use: dashboardLogin.login)
    dashboardEntry.get("setup", use: dashboardLogin.setupPage)
    dashboardEntry.post("setup", use: dashboardLogin.setPassword)
    let dashboardExit = router.group("dashboard")
        .add(middleware: dashboardSession(services, loginRedirect: { _ in PageTemplates.seeOther("/dashboard/login") }))
        .group(context: DashboardContext.self)
        .add(middleware: SessionCSRFMiddleware(limits: DashboardPages.formLimits) { _, _ in PageTemplates.seeOther("/dashboard/login") })
    dashboardExit.post("logout", use: dashboardLogin.logout)
    dashboardExit.post("logout-everywhere", use: dashboardLogin.logoutEverywhere)
    let dashboard = router.group("dashboard")
        .add(middleware: dashboardSession(services, loginRedirect: DashboardSessionMiddleware.backAfterLogin))
        .group(context: DashboardContext.self)
        .add(
            middleware: SessionCSRFMiddleware(limits: DashboardPages.formLimits) { [pages = services.dashboard] _, context in
                pages.staleForm(context.identity)
            })
    // Orders.
    let orders = DashboardOrderRoutes(pages: services.dashboard)
    dashboard.get("", use: orders.overview)
    dashboard.get("orders", use: orders.orders)
    dashboard.get("orders.csv", use: orders.export)
    dashboard.get("orders/:id", use: orders.detail)
    dashboard.post("orders/:id/redeliver", use: orders.redeliver)
    // The store's settings, webhook tools and audit log.
    let settings = DashboardSettingsRoutes(pages: services.dashboard)
    dashboard.get("settings", use: settings.settings)
    dashboard.post("settings", use: settings.saveSettings)
    dashboard.post("settings/logo", use: settings.uploadLogo)
    dashboard.post("settings/logo/remove", use: settings.removeLogo)
    dashboard.post("webhooks/test", use: settings.sendTestEvent)
    dashboard.post("webhooks/redeliver", use: settings.redeliver)
    dashboard.get("audit", use: settings.auditLog)
    // API keys.
    let keys = DashboardKeyRoutes(pages: services.dashboard)
    dashboard.get("keys", use: keys.keys)
    dashboard.post("keys", use: keys.createKey)
    dashboard.get("keys/:key", use: keys.key)
    dashboard.post("keys/:key", use: keys.updateKey)
    dashboard.post("keys/:key/revoke", use: keys.revokeKey)
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
