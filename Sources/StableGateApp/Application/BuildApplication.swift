import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle
import StableGateEthereum
import StableGatePayments
import StableGateDomain
import StableGateStore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Things `buildApplication` uses that tests may replace.
public struct GatewayDependencies: Sendable {
    public var clock: any WallClock
    public var identifiers: any IdentifierGenerator
    /// Replaces the configured FX provider.
    public var rateProvider: (any RateProvider)?
    public var logger: Logger
    /// Where `/metrics` reads from; `serve` also bootstraps swift-metrics with it.
    public var metrics: PrometheusCollectorRegistry
    /// Whether the webhook dispatcher, mailer and report scheduler run as services of the
    /// application. Tests that drive them pass by pass (`deliverWebhooks()`…) turn this off so a
    /// background pass never races the one under test.
    public var runsNotificationServices: Bool

    public init(
        clock: any WallClock = SystemClock(), identifiers: any IdentifierGenerator = SystemIdentifierGenerator(),
        rateProvider: (any RateProvider)? = nil, logger: Logger = Logger(label: "stablegate"),
        metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), runsNotificationServices: Bool = true
    ) {
        self.clock = clock
        self.identifiers = identifiers
        self.rateProvider = rateProvider
        self.logger = logger
        self.metrics = metrics
        self.runsNotificationServices = runsNotificationServices
    }
}

/// The gateway: the HTTP application plus the environment it runs on.
public struct Gateway: Sendable {
    public let application: Application<RouterResponder<GatewayRequestContext>>
    public let environment: GatewayEnvironment
    /// Applies on-chain facts to intents (tests drive it directly).
    public let processor: PaymentProcessor
    /// One per configured chain; each is also a service of the application.
    public let watchers: [ChainWatcher]
    /// Webhook dispatcher, mailer, report scheduler (also services of the application).
    let notifications: NotificationServices

    /// Makes one webhook pass now (tests, the CLI): returns the attempts made.
    public func deliverWebhooks() async -> Int {
        await notifications.dispatcher.runOnce()
    }

    /// Makes one mail pass now: returns the e-mails tried (0 without a mail server).
    public func sendEmails() async -> Int {
        await notifications.mailer?.runOnce() ?? 0
    }

    /// Queues the reports that are due now: returns how many.
    public func queueDueReports() async -> Int {
        await notifications.scheduler?.runOnce() ?? 0
    }

    /// Runs until SIGTERM/SIGINT (when run as a service group), then closes the database.
    public func run() async throws {
        do {
            try await application.runService()
        } catch {
            await environment.close()
            throw error
        }
        await environment.close()
    }
}

/// Builds the gateway: `serve` and the tests call this same function.
public func buildApplication(_ configuration: GatewayConfiguration, dependencies: GatewayDependencies = .init()) async throws -> Gateway {
    let logger = dependencies.logger
    let environment = try await GatewayEnvironment.open(
        configuration, clock: dependencies.clock, identifiers: dependencies.identifiers, logger: logger)
    do {
        return try await buildApplication(environment: environment, dependencies: dependencies)
    } catch {
        await environment.close()
        throw error
    }
}

/// Builds the gateway on an already opened environment.
public func buildApplication(environment: GatewayEnvironment, dependencies: GatewayDependencies) async throws -> Gateway {
    let configuration = environment.configuration
    let logger = dependencies.logger
    let clock = environment.clock

    let rateProvider = try dependencies.rateProvider ?? makeRateProvider(configuration, clock: clock, logger: logger)
    let intents = CheckoutIntentService(
        intents: environment.intents, merchants: environment.merchants,
        rates: RateService(provider: rateProvider, maximumAge: configuration.rateMaximumAge, clock: clock),
        clock: clock, identifiers: environment.identifiers,
        policy: ValidationPolicy(allowsInsecureRedirect: configuration.mode == .sandbox),
        links: environment.links, idempotencyTTL: configuration.idempotencyTTL,
        stores: ExpiringCache(ttl: configuration.apiKeyCacheTTL))
    let ledger = RequestLedger(database: environment.database, logger: logger)
    let keys = APIKeyCache(
        repository: environment.apiKeys, merchants: environment.merchants, secretBox: environment.secretBox, ttl: configuration.apiKeyCacheTTL)

    // Chains: one RPC client, watcher and sweeper per chain, sharing the payment processor.
    let processor = environment.paymentProcessor(logger: logger)
    let shopperAccounts = ShopperAccountRepository(database: environment.database)
    var rpcs: [Int64: EthereumRPC] = [:]
    var watchers: [ChainWatcher] = []
    let chainHealth = ChainHealthBoard()
    var deposits: DepositService?
    if let wallets = environment.wallets {
        if configuration.mode == .sandbox {
            FaultPoint.arm(fromEnvironment: ProcessInfo.processInfo.environment["STABLEGATE_FAULT_INJECTION"])
        }
        let screening = try makeScreening(configuration.screening)
        let holder = LeaseHolder.name(random: environment.identifiers.randomBytes(4).hexString)
        for chain in environment.chains {
            let rpc = EthereumRPC(client: RPCEndpointPool(chainId: chain.chainId, urls: chain.rpcURLs, timeout: chain.rpcTimeout))
            rpcs[chain.chainId] = rpc
            try await ChainStartupCheck.verify(chain, rpc: rpc, logger: logger)
            let sweeper = Sweeper(
                chain: chain, rpc: rpc, database: environment.database, intents: environment.intents, merchants: environment.merchants, wallets: wallets,
                clock: clock, identifiers: environment.identifiers, stuckAfter: configuration.sweepStuckAfter, logger: logger)
            let accountSender = ShopperTransferSender(
                chain: chain, rpc: rpc, accounts: shopperAccounts, database: environment.database, intents: environment.intents, wallets: wallets, clock: clock,
                identifiers: environment.identifiers, stuckAfter: configuration.sweepStuckAfter, logger: logger)
            watchers.append(ChainWatcher(
                chain: chain, rpc: rpc, database: environment.database, processor: processor, screening: screening, sweeper: sweeper,
                accounts: shopperAccounts, accountSender: accountSender, holder: holder, clock: clock, leaseTTL: configuration.chainLeaseTTL,
                board: chainHealth, logger: logger))
        }
        deposits = DepositService(
            intents: environment.intents, chains: environment.chains, wallets: wallets, clock: clock,
            defaultPaymentWindow: configuration.paymentWindow, logger: logger)
        logger.info("chains configured", metadata: [
            "chains": "\(environment.chains.map { "\($0.name) (\($0.chainId))" }.joined(separator: ", "))",
            "hot_wallet": "\(wallets.hotWallet.checksummed)", "fee_wallet": "\(wallets.feeAddress.checksummed)",
            "kyt": "\(screening?.name ?? "off")",
        ])
    }

    let router = Router(context: GatewayRequestContext.self)
    router.add(middleware: EnvelopeMiddleware(identifiers: environment.identifiers, maximumBodyBytes: configuration.maximumBodyBytes))
    router.add(middleware: MetricsMiddleware())
    HealthRoutes(
        database: environment.database, board: chainHealth, clock: clock, maximumLagBlocks: configuration.readinessMaximumLagBlocks,
        maximumLagSeconds: configuration.readinessMaximumLagSeconds
    ).register(on: router)
    // Metrics name every route and its traffic: on the public port only behind the token.
    if configuration.metricsListen == nil, let token = configuration.metricsToken {
        MetricsRoute(registry: dependencies.metrics, token: token).register(on: router)
    }
    try APIReference.load().register(on: router)
    let api = router.group("v1").add(
        middleware: SignatureAuthMiddleware(keys: keys, ledger: ledger, clock: clock, maximumBodyBytes: configuration.maximumBodyBytes,
            signer: ResponseSigner(identifiers: environment.identifiers, clock: clock)))
    OpenAPIRoutes(intents: intents).register(on: api)
    let checkout = CheckoutService(
        intents: environment.intents, merchants: environment.merchants, transfers: environment.chainTransfers, deposits: deposits,
        accounts: deposits == nil ? nil : shopperAccounts, heads: ChainHeadCache(rpcs: rpcs), clock: clock)
    let publicLimiter = ClientRateLimiter(perMinute: 240, burst: 60)
    CheckoutRoutes(checkout: checkout, limiter: publicLimiter, clock: clock, maximumBodyBytes: 4096).register(on: router)
    let pages = try await PageTemplates()
    pages.register(on: router)
    let secureCookies = configuration.resolvedPublicURL.hasPrefix("https://")
    let checkoutRenderer = CheckoutPageRenderer(templates: pages)
    CheckoutPageRoutes(
        checkout: checkout, renderer: checkoutRenderer, limiter: publicLimiter, clock: clock,
        identifiers: environment.identifiers, secureCookies: secureCookies
    ).register(on: router)
    StoreLogoRoute(merchants: environment.merchants).register(on: router)

    // The merchant dashboard.
    let accounts = AccountRepository(database: environment.database)
    let dashboard = DashboardPages(
        templates: pages,
        sessions: SessionManager(
            realm: "dashboard", cookieName: "sg_session", cookiePath: "/dashboard", accounts: accounts, identifiers: environment.identifiers,
            clock: clock, secureCookies: secureCookies),
        throttle: LoginThrottle(accounts: accounts, clock: clock), accounts: accounts, merchants: environment.merchants, apiKeys: environment.apiKeys,
        intents: environment.intents, transfers: environment.chainTransfers, settlements: environment.settlements,
        signedTransactions: environment.signedTransactions, orders: OrderQueryRepository(database: environment.database), chains: environment.chains,
        hasher: PasswordHasher(cost: configuration.passwordHashCost), onboarding: MerchantOnboarding(environment: environment),
        keyCache: keys, configuration: configuration, clock: clock, identifiers: environment.identifiers,
        notifications: DashboardNotifications(
            webhooks: environment.webhooks, emails: environment.emails, operations: WebhookOperations(environment: environment)))
    // Shopper accounts ("Pay with StableGate account").
    let accountPages = AccountPages(
        templates: pages,
        sessions: SessionManager(
            realm: "account", cookieName: "sg_account", cookiePath: "/", accounts: accounts, identifiers: environment.identifiers, clock: clock,
            secureCookies: secureCookies),
        throttle: LoginThrottle(accounts: accounts, clock: clock, keyPrefix: "account:"), accounts: shopperAccounts,
        payments: AccountPaymentService(
            accounts: shopperAccounts, ledger: LedgerRepository(database: environment.database), intents: environment.intents, deposits: deposits,
            chains: environment.chains, rpcs: rpcs, clock: clock, identifiers: environment.identifiers),
        wallets: environment.wallets, hasher: PasswordHasher(cost: configuration.passwordHashCost), clock: clock,
        identifiers: environment.identifiers)
    AccountAuthRoutes(pages: accountPages, limiter: ClientRateLimiter(perMinute: 30, burst: 20)).register(on: router)
    AccountHomeRoutes(pages: accountPages).register(on: router)
    CheckoutAccountRoutes(pages: accountPages, checkout: checkout, limiter: publicLimiter, renderer: checkoutRenderer).register(on: router)
    DashboardAuthRoutes(pages: dashboard, limiter: ClientRateLimiter(perMinute: 30, burst: 20)).register(on: router)
    let dashboardGroup = router.group("dashboard").add(middleware: DashboardSessionMiddleware(pages: dashboard))
    DashboardOrderRoutes(pages: dashboard).register(on: dashboardGroup)
    DashboardStoreRoutes(pages: dashboard).register(on: dashboardGroup)

    // Idle timeout, request deadlines and a per-client cap: half-sent requests must not hold
    // sockets (and with them file descriptors) for ever.
    let connectionPolicy = ConnectionPolicy(configuration)
    if configuration.mode == .production, connectionPolicy.maximumConnectionsPerClient > 0 {
        // Production runs behind a TLS proxy (the gateway serves no TLS): every connection is then
        // the proxy's, and the cap applies to all clients together.
        logger.warning("http.max.connections.per.client counts socket peers: behind a TLS proxy it caps the proxy's connections; raise it above the proxy's pool or set 0 and limit clients at the proxy", metadata: [
            "max_connections_per_client": "\(connectionPolicy.maximumConnectionsPerClient)",
        ])
    }
    var application = Application(
        router: router, server: .guardedHTTP1(connectionPolicy),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "StableGate"),
        logger: logger)
    if let listen = configuration.metricsListen {
        let metricsRouter = Router(context: GatewayRequestContext.self)
        metricsRouter.add(middleware: EnvelopeMiddleware(identifiers: environment.identifiers, maximumBodyBytes: configuration.maximumBodyBytes))
        MetricsRoute(registry: dependencies.metrics, token: configuration.metricsToken).register(on: metricsRouter)
        application.addServices(Application(
            router: metricsRouter, server: .guardedHTTP1(connectionPolicy),
            configuration: .init(address: .hostname(listen.host, port: listen.port), serverName: "StableGate"), logger: logger))
    }
    application.addServices(ExpiredStateJanitor(ledger: ledger, accounts: accounts, clock: clock, interval: .seconds(60), logger: logger))
    application.addServices(ExpiryService(
        database: environment.database, processor: processor, clock: clock, checkoutLifetime: configuration.checkoutLifetime,
        interval: configuration.expiryInterval, logger: logger))
    for watcher in watchers { application.addServices(watcher) }
    // Webhooks, e-mail and reports.
    let notifications = NotificationServices(environment: environment, templates: pages, rates: rateProvider, logger: logger)
    if dependencies.runsNotificationServices {
        for service in notifications.all { application.addServices(service) }
        if let smtp = configuration.smtp, !configuration.alertEmails.isEmpty, !watchers.isEmpty {
            application.addServices(OperatorAlerts(
                board: chainHealth, client: SMTPClient(configuration: smtp), recipients: configuration.alertEmails, clock: clock,
                identifiers: environment.identifiers, maximumLagBlocks: configuration.readinessMaximumLagBlocks,
                maximumLagSeconds: configuration.readinessMaximumLagSeconds, interval: .seconds(60), repeatEvery: 3600, logger: logger))
        }
    }
    logger.info("gateway configured", metadata: [
        "mode": "\(configuration.mode.rawValue)", "database": "\(environment.database.dialect.rawValue)",
        "public_url": "\(configuration.resolvedPublicURL)", "fx": "\(rateProvider.name)",
        "smtp": "\(configuration.smtp.map { "\($0.host):\($0.port) (\($0.security.rawValue))" } ?? "off")",
        "metrics": "\(configuration.metricsListen.map { "\($0)" } ?? (configuration.metricsToken == nil ? "off" : "public port, bearer token"))",
    ])
    return Gateway(application: application, environment: environment, processor: processor, watchers: watchers, notifications: notifications)
}

/// The configured FX provider.
func makeRateProvider(_ configuration: GatewayConfiguration, clock: any WallClock, logger: Logger) throws -> any RateProvider {
    switch configuration.rateSource {
    case .snapshot: return try SnapshotRateProvider()
    case .http(let url): return HTTPRateProvider(url: url, ttl: configuration.rateCacheTTL, clock: clock, logger: logger)
    }
}

/// The configured KYT provider.
func makeScreening(_ source: GatewayConfiguration.ScreeningSource) throws -> (any AddressScreening)? {
    switch source {
    case .none: return nil
    case .denylist(let path): return try DenylistScreening(path: path)
    case .http(let url, let key): return HTTPScreening(url: url, apiKey: key)
    }
}

/// Checks a chain against its node before watching it: the node must be the configured chain
/// and every token must have the configured decimals — a wrong decimals value would price
/// every payment wrong by orders of magnitude, so it stops the start. An unreachable node
/// only warns: the watcher retries.
enum ChainStartupCheck {
    static func verify(_ chain: ChainConfiguration, rpc: EthereumRPC, logger: Logger) async throws {
        // Every endpoint must serve this chain: a second URL pointing at another network would
        // take over the moment the first one fails.
        var reachable = false
        for (index, url) in chain.rpcURLs.enumerated() {
            let label = "\(index):\(JSONRPCClientRedaction.redacted(url))"
            let chainId: UInt64
            do {
                chainId = try await EthereumRPC(url: url).chainId()
            } catch {
                logger.warning("RPC endpoint unreachable at start; will keep trying", metadata: ["chain_id": "\(chain.chainId)", "endpoint": "\(label)", "error": "\(error)"])
                continue
            }
            guard chainId == UInt64(chain.chainId) else {
                throw ConfigurationError(["\(chain.name): the RPC endpoint \(label) serves chain \(chainId), not \(chain.chainId)"])
            }
            reachable = true
        }
        guard reachable else { return }
        for token in chain.tokens {
            guard let decimals = try? await rpc.tokenDecimals(token.contract) else {
                throw ConfigurationError(["\(chain.name): \(token.contract.checksummed) does not answer decimals(); is it the \(token.symbol) contract?"])
            }
            guard decimals == token.decimals else {
                throw ConfigurationError(["\(chain.name): \(token.symbol) at \(token.contract.checksummed) has \(decimals) decimals, the chains file says \(token.decimals)"])
            }
        }
    }
}
