import Foundation
import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle
import StableGateDomain
import StableGateEthereum
import StableGatePayments
import StableGateStore

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

/// Builds the gateway on an already opened environment: environment → services → router,
/// then the HTTP server and the background services around them.
public func buildApplication(environment: GatewayEnvironment, dependencies: GatewayDependencies) async throws -> Gateway {
    let configuration = environment.configuration
    let logger = dependencies.logger
    let clock = environment.clock
    let services = try await GatewayServices.build(environment, dependencies: dependencies)
    let router = try buildRouter(services)

    // Idle timeout, request deadlines and a per-client cap: half-sent requests must not hold
    // sockets (and with them file descriptors) for ever.
    let connectionPolicy = ConnectionPolicy(configuration)
    if configuration.mode == .production, connectionPolicy.maximumConnectionsPerClient > 0 {
        // Production runs behind a TLS proxy (the gateway serves no TLS): every connection is then
        // the proxy's, and the cap applies to all clients together.
        logger.warning(
            "http.max.connections.per.client counts socket peers: behind a TLS proxy it caps the proxy's connections; raise it above the proxy's pool or set 0 and limit clients at the proxy",
            metadata: [
                "max_connections_per_client": "\(connectionPolicy.maximumConnectionsPerClient)"
            ])
    }
    if configuration.mode == .production, configuration.trustedProxies.ranges.isEmpty {
        // Behind the TLS proxy production needs, every client would be the proxy: allowlists
        // could not tell keys' callers apart and one client's failed logins would lock out all.
        logger.warning(
            "trusted.proxies is empty: X-Forwarded-For is not believed, so behind a reverse proxy every client is the proxy's address; set trusted.proxies to the proxy's address"
        )
    }
    var application = Application(
        router: router, server: .guardedHTTP1(connectionPolicy),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "StableGate"),
        logger: logger)
    if let listen = configuration.metricsListen {
        let metricsRouter = Router(context: GatewayRequestContext.self)
        metricsRouter.add(middleware: EnvelopeMiddleware(identifiers: environment.identifiers, maximumBodyBytes: configuration.maximumBodyBytes))
        metricsRouter.get("metrics", use: MetricsRoute(registry: dependencies.metrics, token: configuration.metricsToken).metrics)
        application.addServices(
            Application(
                router: metricsRouter, server: .guardedHTTP1(connectionPolicy),
                configuration: .init(address: .hostname(listen.host, port: listen.port), serverName: "StableGate"), logger: logger))
    }
    // Background services: expiry of nonces, sessions and windows, the order totals' folding,
    // one watcher per chain, then webhooks, e-mail, reports and operator alerts.
    application.addServices(
        ExpiredStateJanitor(
            ledger: services.ledger, sessions: services.sessions, loginAttempts: services.loginAttempts, clock: clock, interval: .seconds(60),
            logger: logger))
    application.addServices(
        OrderTotalsCompactor(totals: OrderTotalsRepository(database: environment.database), interval: .seconds(2), logger: logger))
    application.addServices(
        ExpiryService(
            database: environment.database, processor: services.chains.processor, clock: clock, checkoutLifetime: configuration.checkoutLifetime,
            interval: configuration.expiryInterval, logger: logger))
    for watcher in services.chains.watchers { application.addServices(watcher) }
    let notifications = services.notifications
    if dependencies.runsNotificationServices {
        for service in notifications.all { application.addServices(service) }
        if let smtp = configuration.smtp, !configuration.alertEmails.isEmpty, !services.chains.watchers.isEmpty {
            application.addServices(
                OperatorAlerts(
                    board: services.chains.health, client: SMTPClient(configuration: smtp), recipients: configuration.alertEmails, clock: clock,
                    identifiers: environment.identifiers, maximumLagBlocks: configuration.readinessMaximumLagBlocks,
                    maximumLagSeconds: configuration.readinessMaximumLagSeconds, interval: .seconds(60), repeatEvery: 3600, logger: logger))
        }
    }
    let trustedProxies = configuration.trustedProxies.ranges
    logger.info(
        "gateway configured",
        metadata: [
            "mode": "\(configuration.mode.rawValue)", "database": "\(environment.database.dialect.rawValue)",
            "public_url": "\(configuration.resolvedPublicURL)", "fx": "\(services.rateProvider.name)",
            "trusted_proxies": "\(trustedProxies.isEmpty ? "none" : trustedProxies.map(\.description).joined(separator: ","))",
            "smtp": "\(configuration.smtp.map { "\($0.host):\($0.port) (\($0.security.rawValue))" } ?? "off")",
            "metrics": "\(configuration.metricsListen.map { "\($0)" } ?? (configuration.metricsToken == nil ? "off" : "public port, bearer token"))",
        ])
    return Gateway(
        application: application, environment: environment, processor: services.chains.processor, watchers: services.chains.watchers,
        notifications: notifications)
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
                logger.warning(
                    "RPC endpoint unreachable at start; will keep trying",
                    metadata: ["chain_id": "\(chain.chainId)", "endpoint": "\(label)", "error": "\(error)"])
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
                throw ConfigurationError([
                    "\(chain.name): \(token.contract.checksummed) does not answer decimals(); is it the \(token.symbol) contract?"
                ])
            }
            guard decimals == token.decimals else {
                throw ConfigurationError([
                    "\(chain.name): \(token.symbol) at \(token.contract.checksummed) has \(decimals) decimals, the chains file says \(token.decimals)"
                ])
            }
        }
    }
}
