import Foundation
import SQLKit
import StableGateApp
import StableGateStore
import StableGateTestSupport
import Testing

@Suite("Configuration and modes")
struct GatewayConfigurationTests {
    @Test("Production refuses to start without a master key, a live rate provider and an https public URL, naming each")
    func productionRefusal() async throws {
        var configuration = GatewayConfiguration()
        configuration.mode = .production
        configuration.publicURL = "http://pay.example.com"
        configuration.dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("sg-prod-\(UUID())").path
        do {
            _ = try await buildApplication(configuration, dependencies: .init(logger: testLogger))
            Issue.record("production started with an unsafe configuration")
        } catch let error as ConfigurationError {
            #expect(error.problems.count == 3)
            #expect(error.problems[0].contains("master key"))
            #expect(error.problems[1].contains("rate provider"))
            #expect(error.problems[2].contains("https"))
        }
        #expect(!FileManager.default.fileExists(atPath: configuration.dataDirectory), "nothing may be created when refusing")
    }

    @Test("Flags beat environment variables, which beat the config file, which beats the defaults")
    func precedence() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sg-config-\(UUID()).json").path
        try #"{"http": {"port": "9001", "host": "0.0.0.0"}, "mode": "sandbox", "fx": {"max": {"age": "120"}}}"#.write(
            toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let configuration = try await ConfigurationLoader.load(
            overrides: ["http.port": "9003"],
            environment: ["STABLEGATE_HTTP_PORT": "9002", "STABLEGATE_HTTP_HOST": "127.0.0.2", "STABLEGATE_DATABASE_URL": "sqlite:/tmp/x.sqlite"],
            configFile: file)
        #expect(configuration.port == 9003)
        #expect(configuration.host == "127.0.0.2")
        #expect(configuration.rateMaximumAge == 120)
        #expect(configuration.resolvedDatabaseURL == "sqlite:/tmp/x.sqlite")
        let defaults = try await ConfigurationLoader.load(overrides: [:], environment: [:], configFile: nil)
        #expect(defaults.port == 8080)
        #expect(defaults.host == "127.0.0.1")
        #expect(defaults.mode == .sandbox)
        #expect(defaults.resolvedDatabaseURL == "sqlite:.stablegate/stablegate.sqlite")
        #expect(defaults.resolvedPublicURL == "http://127.0.0.1:8080")
    }

    @Test("Connection deadlines, the per-client cap and the metrics settings are read; bad ones are refused")
    func connectionAndMetricsSettings() async throws {
        let defaults = try await ConfigurationLoader.load(overrides: [:], environment: [:], configFile: nil)
        #expect(defaults.httpIdleTimeout == .seconds(60))
        #expect(defaults.httpHeaderTimeout == .seconds(10))
        #expect(defaults.httpBodyTimeout == .seconds(30))
        #expect(defaults.maximumConnectionsPerClient == 128)
        #expect(defaults.metricsToken == nil)
        #expect(defaults.metricsListen == nil)
        let set = try await ConfigurationLoader.load(
            overrides: [:],
            environment: [
                "STABLEGATE_HTTP_IDLE_TIMEOUT": "5", "STABLEGATE_HTTP_HEADER_TIMEOUT": "2", "STABLEGATE_HTTP_BODY_TIMEOUT": "3",
                "STABLEGATE_HTTP_MAX_CONNECTIONS_PER_CLIENT": "0", "STABLEGATE_METRICS_TOKEN": "0123456789abcdef0123",
                "STABLEGATE_METRICS_LISTEN": "[::1]:9100",
            ],
            configFile: nil)
        #expect(set.httpIdleTimeout == .seconds(5))
        #expect(set.httpHeaderTimeout == .seconds(2))
        #expect(set.httpBodyTimeout == .seconds(3))
        #expect(set.maximumConnectionsPerClient == 0)
        #expect(set.metricsToken == "0123456789abcdef0123")
        #expect(set.metricsListen == GatewayConfiguration.ListenAddress(host: "::1", port: 9100))
        do {
            _ = try await ConfigurationLoader.load(
                overrides: ["http.header.timeout": "0", "http.body.timeout": "soon", "metrics.token": "short", "metrics.listen": "9100"],
                environment: [:], configFile: nil)
            Issue.record("accepted bad connection and metrics settings")
        } catch let error as ConfigurationError {
            #expect(error.problems.count == 4, "\(error.problems)")
            #expect(error.problems.contains { $0.contains("http.header.timeout") })
            #expect(error.problems.contains { $0.contains("metrics.token") && !$0.contains("short") }, "the token must not be echoed")
        }
    }

    @Test("Bad values are refused with every reason")
    func badValues() async throws {
        do {
            _ = try await ConfigurationLoader.load(
                overrides: ["mode": "staging", "http.port": "eighty", "fx.provider": "http"], environment: [:], configFile: nil)
            Issue.record("accepted a bad configuration")
        } catch let error as ConfigurationError {
            #expect(error.problems.count == 3, "\(error.problems)")
        }
    }
}

@Suite("The master key a database is sealed with")
struct MasterKeyCheckTests {
    @Test(
        "A process with another master key refuses to open the database and writes nothing; the right key opens it; an older database is checked against a secret it holds"
    )
    func anotherKeyIsRefused() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sg-key-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var server = GatewayConfiguration()
        server.dataDirectory = directory
        server.masterKey = SecretBox.generateMasterKey()
        let environment = try await GatewayEnvironment.open(server, logger: testLogger)
        let merchant = try await MerchantOnboarding(environment: environment).createMerchant(name: "Key Shop", wallet: nil)
        await environment.close()

        // The CLI run with another key (another data directory's master.key in the sandbox).
        var other = server
        other.masterKey = SecretBox.generateMasterKey()
        do {
            let opened = try await GatewayEnvironment.open(other, logger: testLogger)
            await opened.close()
            Issue.record("a process with another master key opened the database")
        } catch let error as ConfigurationError {
            #expect(error.problems.first?.contains("sealed with another master key") == true)
            #expect(error.problems.first?.contains("STABLEGATE_MASTER_KEY") == true)
        }

        // A database from before the check (no check value yet): the key is checked against an
        // API secret it already holds, before anything is written.
        let reopened = try await GatewayEnvironment.open(server, logger: testLogger)
        try await reopened.database.transaction { db in try await db.raw("DELETE FROM gateway_secrets WHERE name = 'master_key_check'").run() }
        #expect(try await reopened.apiKeys.find(id: merchant.apiKey) != nil)
        await reopened.close()
        await #expect(throws: ConfigurationError.self) { try await GatewayEnvironment.open(other, logger: testLogger) }
        let checked = try await GatewayEnvironment.open(server, logger: testLogger)
        let stored = try await checked.database.read { db in
            try await db.raw("SELECT name FROM gateway_secrets WHERE name = 'master_key_check'").first()
        }
        #expect(stored != nil, "the right key writes the check value")
        await checked.close()
    }
}
