import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle
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

    public init(
        clock: any WallClock = SystemClock(), identifiers: any IdentifierGenerator = SystemIdentifierGenerator(),
        rateProvider: (any RateProvider)? = nil, logger: Logger = Logger(label: "stablegate"),
        metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry()
    ) {
        self.clock = clock
        self.identifiers = identifiers
        self.rateProvider = rateProvider
        self.logger = logger
        self.metrics = metrics
    }
}

/// The gateway: the HTTP application plus the environment it runs on.
public struct Gateway: Sendable {
    public let application: Application<RouterResponder<GatewayRequestContext>>
    public let environment: GatewayEnvironment

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

    let rateProvider: any RateProvider
    if let injected = dependencies.rateProvider {
        rateProvider = injected
    } else {
        switch configuration.rateSource {
        case .snapshot: rateProvider = try SnapshotRateProvider()
        case .http(let url): rateProvider = HTTPRateProvider(url: url, ttl: configuration.rateCacheTTL, clock: clock, logger: logger)
        }
    }
    let intents = CheckoutIntentService(
        intents: environment.intents, merchants: environment.merchants,
        rates: RateService(provider: rateProvider, maximumAge: configuration.rateMaximumAge, clock: clock),
        clock: clock, identifiers: environment.identifiers,
        policy: ValidationPolicy(allowsInsecureRedirect: configuration.mode == .sandbox),
        publicURL: configuration.resolvedPublicURL, idempotencyTTL: configuration.idempotencyTTL,
        stores: ExpiringCache(ttl: configuration.apiKeyCacheTTL))
    let ledger = RequestLedger(database: environment.database, logger: logger)
    let keys = APIKeyCache(repository: environment.apiKeys, secretBox: environment.secretBox, ttl: configuration.apiKeyCacheTTL)

    let router = Router(context: GatewayRequestContext.self)
    router.add(middleware: EnvelopeMiddleware(identifiers: environment.identifiers, maximumBodyBytes: configuration.maximumBodyBytes))
    router.add(middleware: MetricsMiddleware())
    HealthRoutes(database: environment.database, metrics: dependencies.metrics).register(on: router)
    let api = router.group("v1").add(
        middleware: SignatureAuthMiddleware(keys: keys, ledger: ledger, clock: clock, maximumBodyBytes: configuration.maximumBodyBytes))
    OpenAPIRoutes(intents: intents).register(on: api)

    var application = Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "StableGate"),
        logger: logger)
    application.addServices(ExpiredStateJanitor(ledger: ledger, clock: clock, interval: .seconds(60), logger: logger))
    logger.info("gateway configured", metadata: [
        "mode": "\(configuration.mode.rawValue)", "database": "\(environment.database.dialect.rawValue)",
        "public_url": "\(configuration.resolvedPublicURL)", "fx": "\(rateProvider.name)",
    ])
    return Gateway(application: application, environment: environment)
}
