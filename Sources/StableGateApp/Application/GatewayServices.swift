import Foundation
import Hummingbird
import Logging
import Prometheus
import StableGateDomain
import StableGateEthereum
import StableGatePayments
import StableGateStore

/// Everything the routes and the background services use, built once from the environment:
/// the second step of ``buildApplication(environment:dependencies:)`` (environment → services
/// → router). Each service exists once; the two login realms (dashboard, shopper accounts)
/// each have their own sessions and throttle over the one user repository and password hasher.
struct GatewayServices: Sendable {
    let environment: GatewayEnvironment
    let configuration: GatewayConfiguration
    let clock: any WallClock
    let logger: Logger
    let metrics: PrometheusCollectorRegistry

    let rateProvider: any RateProvider
    /// The merchant API's intent creation and reads.
    let intents: CheckoutIntentService
    /// Nonces and per-key rate counters of signed requests.
    let ledger: RequestLedger
    let keys: APIKeyCache
    /// The chains' watchers, their health and the deposit service (none without a chains file).
    let chains: ChainServices
    let checkout: CheckoutService
    let templates: PageTemplates
    let checkoutRenderer: CheckoutPageRenderer
    /// Sessions of both realms and the login attempts that throttle guessing.
    let sessions: SessionRepository
    let loginAttempts: LoginAttemptRepository
    let shopperAccounts: ShopperAccountRepository
    let dashboard: DashboardPages
    let shopper: ShopperPages
    let notifications: NotificationServices
    /// Per-client budgets of the public routes: the checkout (page, JSON, account flow), and
    /// each realm's logins (each costs a bcrypt check).
    let checkoutLimiter = ClientRateLimiter(perMinute: 240, burst: 60)
    let dashboardLoginLimiter = ClientRateLimiter(perMinute: 30, burst: 20)
    let shopperLoginLimiter = ClientRateLimiter(perMinute: 30, burst: 20)

    static func build(_ environment: GatewayEnvironment, dependencies: GatewayDependencies) async throws -> GatewayServices {
        let configuration = environment.configuration
        let logger = dependencies.logger
        let clock = environment.clock
        let identifiers = environment.identifiers
        let rateProvider = try dependencies.rateProvider ?? makeRateProvider(configuration, clock: clock, logger: logger)
        let keys = APIKeyCache(
            repository: environment.apiKeys, merchants: environment.merchants, secretBox: environment.secretBox, ttl: configuration.apiKeyCacheTTL)
        let shopperAccounts = ShopperAccountRepository(database: environment.database)
        let chains = try await ChainServices.build(environment, accounts: shopperAccounts, logger: logger)
        let checkout = CheckoutService(
            intents: environment.intents, merchants: environment.merchants, transfers: environment.chainTransfers, deposits: chains.deposits,
            accounts: chains.deposits == nil ? nil : shopperAccounts, heads: ChainHeadCache(rpcs: chains.rpcs), clock: clock)
        let templates = try await PageTemplates()
        let secureCookies = configuration.resolvedPublicURL.hasPrefix("https://")
        let users = DashboardUserRepository(database: environment.database)
        let sessions = SessionRepository(database: environment.database)
        let loginAttempts = LoginAttemptRepository(database: environment.database)
        let hasher = PasswordHasher(cost: configuration.passwordHashCost)
        let dashboard = DashboardPages(
            templates: templates,
            sessions: SessionManager(
                realm: "dashboard", cookieName: "sg_session", cookiePath: "/dashboard", store: sessions, identifiers: identifiers,
                clock: clock, secureCookies: secureCookies),
            throttle: LoginThrottle(attempts: loginAttempts, clock: clock), users: users,
            auditLog: AuditLogRepository(database: environment.database), merchants: environment.merchants, apiKeys: environment.apiKeys,
            intents: environment.intents, transfers: environment.chainTransfers, settlements: environment.settlements,
            signedTransactions: environment.signedTransactions, orders: OrderQueryRepository(database: environment.database),
            chains: environment.chains, hasher: hasher, onboarding: MerchantOnboarding(environment: environment),
            keyCache: keys, configuration: configuration, clock: clock, identifiers: identifiers,
            notifications: DashboardNotifications(
                webhooks: environment.webhooks, emails: environment.emails, operations: WebhookOperations(environment: environment)))
        let shopper = ShopperPages(
            templates: templates,
            sessions: SessionManager(
                realm: "account", cookieName: "sg_account", cookiePath: "/", store: sessions, identifiers: identifiers, clock: clock,
                secureCookies: secureCookies),
            throttle: LoginThrottle(attempts: loginAttempts, clock: clock, keyPrefix: "account:"), accounts: shopperAccounts,
            payments: ShopperPaymentService(
                accounts: shopperAccounts, ledger: LedgerRepository(database: environment.database), intents: environment.intents,
                deposits: chains.deposits, chains: environment.chains, rpcs: chains.rpcs, clock: clock, identifiers: identifiers),
            wallets: environment.wallets, hasher: hasher, clock: clock, identifiers: identifiers)
        return GatewayServices(
            environment: environment, configuration: configuration, clock: clock, logger: logger, metrics: dependencies.metrics,
            rateProvider: rateProvider,
            intents: CheckoutIntentService(
                intents: environment.intents, merchants: environment.merchants,
                rates: RateService(provider: rateProvider, maximumAge: configuration.rateMaximumAge, clock: clock),
                clock: clock, identifiers: identifiers,
                policy: ValidationPolicy(allowsInsecureRedirect: configuration.mode == .sandbox),
                links: environment.links, idempotencyTTL: configuration.idempotencyTTL,
                stores: ExpiringCache(ttl: configuration.apiKeyCacheTTL)),
            ledger: RequestLedger(database: environment.database, logger: logger), keys: keys, chains: chains, checkout: checkout,
            templates: templates, checkoutRenderer: CheckoutPageRenderer(templates: templates), sessions: sessions, loginAttempts: loginAttempts,
            shopperAccounts: shopperAccounts,
            dashboard: dashboard, shopper: shopper,
            notifications: NotificationServices(environment: environment, templates: templates, rates: rateProvider, logger: logger))
    }

    /// Whether cookies get `Secure`: the gateway is served over https.
    var secureCookies: Bool { dashboard.sessions.secureCookies }
}

/// The chains' part of the services: one RPC endpoint pool, watcher and sweeper per chain,
/// sharing the payment processor and the health board `/readyz` reads.
struct ChainServices: Sendable {
    let processor: PaymentProcessor
    let rpcs: [Int64: EthereumRPC]
    let watchers: [ChainWatcher]
    let health: ChainHealthBoard
    /// Deposit addresses for intents; nil without a chains file.
    let deposits: DepositService?

    static func build(_ environment: GatewayEnvironment, accounts: ShopperAccountRepository, logger: Logger) async throws -> ChainServices {
        let configuration = environment.configuration
        let clock = environment.clock
        let processor = environment.paymentProcessor(logger: logger)
        let health = ChainHealthBoard()
        guard let wallets = environment.wallets else {
            return ChainServices(processor: processor, rpcs: [:], watchers: [], health: health, deposits: nil)
        }
        if configuration.mode == .sandbox {
            FaultPoint.arm(fromEnvironment: ProcessInfo.processInfo.environment["STABLEGATE_FAULT_INJECTION"])
        }
        let screening = try makeScreening(configuration.screening)
        let holder = LeaseHolder.name(random: environment.identifiers.randomBytes(4).hexString)
        var rpcs: [Int64: EthereumRPC] = [:]
        var watchers: [ChainWatcher] = []
        for chain in environment.chains {
            let rpc = EthereumRPC(client: RPCEndpointPool(chainId: chain.chainId, urls: chain.rpcURLs, timeout: chain.rpcTimeout))
            rpcs[chain.chainId] = rpc
            try await ChainStartupCheck.verify(chain, rpc: rpc, logger: logger)
            let sweeper = Sweeper(
                chain: chain, rpc: rpc, database: environment.database, intents: environment.intents, merchants: environment.merchants,
                wallets: wallets,
                clock: clock, identifiers: environment.identifiers, stuckAfter: configuration.sweepStuckAfter, logger: logger)
            let shopperSender = ShopperTransferSender(
                chain: chain, rpc: rpc, accounts: accounts, database: environment.database, intents: environment.intents, wallets: wallets,
                clock: clock,
                identifiers: environment.identifiers, stuckAfter: configuration.sweepStuckAfter, logger: logger)
            watchers.append(
                ChainWatcher(
                    chain: chain, rpc: rpc, database: environment.database, processor: processor, screening: screening, sweeper: sweeper,
                    accounts: accounts, shopperSender: shopperSender, holder: holder, clock: clock, leaseTTL: configuration.chainLeaseTTL,
                    board: health, logger: logger))
        }
        let deposits = DepositService(
            intents: environment.intents, chains: environment.chains, wallets: wallets, clock: clock,
            defaultPaymentWindow: configuration.paymentWindow, logger: logger)
        logger.info(
            "chains configured",
            metadata: [
                "chains": "\(environment.chains.map { "\($0.name) (\($0.chainId))" }.joined(separator: ", "))",
                "hot_wallet": "\(wallets.hotWallet.checksummed)", "fee_wallet": "\(wallets.feeAddress.checksummed)",
                "kyt": "\(screening?.name ?? "off")",
            ])
        return ChainServices(processor: processor, rpcs: rpcs, watchers: watchers, health: health, deposits: deposits)
    }
}
