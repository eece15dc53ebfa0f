import ArgumentParser
import Logging
import Metrics
import Prometheus
import StableGateApp

/// `stablegate serve`: migrate, then run the gateway until SIGINT/SIGTERM.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the gateway (migrating the database first).")

    @OptionGroup var global: GlobalOptions

    @Option(help: "Listen address (default 127.0.0.1; env STABLEGATE_HTTP_HOST).")
    var host: String?

    @Option(help: "Listen port (default 8080; env STABLEGATE_HTTP_PORT).")
    var port: Int?

    @Option(name: .customLong("public-url"), help: "Public base URL for checkout links (env STABLEGATE_PUBLIC_URL).")
    var publicURL: String?

    func run() async throws {
        let configuration = try await global.load(extra: [
            "http.host": host, "http.port": port.map(String.init), "public.url": publicURL,
        ])
        // The handler first: a logger made before the bootstrap keeps swift-log's default handler.
        let level = global.logger(fallback: .info).logLevel
        LoggingSystem.bootstrap { label in
            var handler = GatewayLogHandler(StreamLogHandler.standardError(label: label))
            handler.logLevel = level
            return handler
        }
        let logger = global.logger(fallback: .info)
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Detection is measured from the block's time: seconds to minutes, beyond the default 10 s top bucket.
        factory.durationHistogramBuckets["stablegate_detection_delay_seconds"] = [0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600].map {
            Duration.milliseconds(Int64($0 * 1000))
        }
        MetricsSystem.bootstrap(factory)
        let gateway = try await buildApplication(configuration, dependencies: GatewayDependencies(logger: logger, metrics: registry))
        logger.notice("StableGate listening on http://\(configuration.host):\(configuration.port) (\(configuration.mode.rawValue))")
        try await gateway.run()
    }
}

/// `stablegate migrate`: apply pending migrations and exit.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "migrate", abstract: "Apply pending database migrations.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let versions = try await global.withEnvironment { environment in
            try await environment.appliedMigrations()
        }
        print("database is at schema version \(versions.max() ?? 0) (\(versions.count) migrations applied)")
    }
}
