import BigInt
import Foundation
import Logging
import NIOCore
import StableGateDomain
import StableGateEthereum
import StableGatePayments
import StableGateStore
import Synchronization

/// `stablegate doctor`: checks an installation the way `serve` would use it — configuration,
/// database and schema, master key, each chain and each of its RPC endpoints, the hot wallet,
/// SMTP, the FX provider, the stores' webhook endpoints — and says what to do about each
/// problem (``DoctorRules`` judges; this gathers the findings).
///
/// It changes nothing: no migration, no generated key, no e-mail sent. Every probe runs under
/// `timeout`, so a dead endpoint costs that long and no more, and whatever an endpoint answers
/// becomes a finding, never a crash.
public struct Doctor: Sendable {
    let timeout: Duration
    let clock: any WallClock
    let logger: Logger

    public init(timeout: Duration = .seconds(10), clock: any WallClock = SystemClock(), logger: Logger) {
        self.timeout = timeout
        self.clock = clock
        self.logger = logger
    }

    /// Runs every check; `load` loads the configuration as `serve` does.
    public func run(load: () async throws -> GatewayConfiguration) async -> DoctorReport {
        let configuration: GatewayConfiguration
        do {
            configuration = try await load()
        } catch {
            return DoctorReport(checks: [
                .fail("configuration", "\(error)", action: "fix the setting named (flags, STABLEGATE_* variables or the --config file)")
            ])
        }
        var problems = configuration.productionProblems()
        var chains: [ChainConfiguration] = []
        do { chains = try GatewayEnvironment.loadChains(configuration) } catch { problems.append("\(error)") }
        var checks = [DoctorRules.configuration(configuration, chains: chains.count, problems: problems)]

        let (databaseCheck, database) = await openDatabase(configuration)
        checks.append(databaseCheck)
        // Whether the tables the remaining checks read are there, or why not.
        var unreadable: String? = database == nil ? "the database did not open" : nil
        if let database {
            let schema = await guarded("schema") { DoctorRules.schema(try await Migrator(database: database, logger: logger).schemaState()) }
            checks.append(schema)
            if schema.status != .ok { unreadable = "the schema is not the one this binary expects" }
        }
        let readable = unreadable == nil ? database : nil
        let secretBox = Result { try MasterKeyStore.secretBox(for: configuration, create: false, logger: logger) }
        let (found, why) = (chains, unreadable)

        // The independent groups run at once; the report keeps this order.
        let groups: [@Sendable () async -> [DoctorCheck]] = [
            { [self] in [await masterKey(configuration, secretBox: secretBox, database: readable, unreadable: why)] },
            { [self] in await self.chains(found, configuration: configuration, secretBox: secretBox, database: readable, unreadable: why) },
            { [self] in [await smtp(configuration)] },
            { [self] in [await fx(configuration)] },
            { [self] in await webhooks(database: readable, unreadable: why) },
        ]
        let results = await withTaskGroup(of: (Int, [DoctorCheck]).self) { group in
            for (index, run) in groups.enumerated() { group.addTask { (index, await run()) } }
            var results: [Int: [DoctorCheck]] = [:]
            for await (index, found) in group { results[index] = found }
            return results
        }
        for index in groups.indices { checks += results[index] ?? [] }
        if let database { _ = try? await deadline { await database.shutdown() } }
        return DoctorReport(checks: checks)
    }

    // MARK: Database

    private func openDatabase(_ configuration: GatewayConfiguration) async -> (DoctorCheck, (any DatabaseClient)?) {
        let fixURL = "fix --database / STABLEGATE_DATABASE_URL (or --data-dir for the default SQLite file)"
        let location: DatabaseLocation
        do {
            location = try DatabaseLocation(url: configuration.resolvedDatabaseURL)
        } catch {
            return (.fail("database", "\(error)", action: fixURL), nil)
        }
        switch location {
        case .sqlite(let path):
            // Opening would create it: a doctor must not, and a missing file is the finding.
            guard FileManager.default.fileExists(atPath: path) else {
                return (
                    .fail(
                        "database", "no SQLite database at \(path)",
                        action: "\(fixURL); a new installation gets its file from `stablegate migrate` or the first `serve`"), nil
                )
            }
        case .postgres(let url):
            do {
                try await deadline { try await PostgresDatabaseClient.probe(url: url, timeout: self.timeout * 0.8, logger: self.logger) }
            } catch {
                return (
                    .fail(
                        "database", "cannot connect to \(location): \(DatabaseErrorText.describe(error))",
                        action: "start PostgreSQL (or make it reachable from here), or \(fixURL)"), nil
                )
            }
        }
        do {
            let database = try await deadline {
                try await DatabaseFactory.open(location, sqliteDurability: configuration.sqliteDurability, logger: self.logger)
            }
            do {
                try await deadline { try await database.ping() }
            } catch {
                _ = try? await deadline { await database.shutdown() }
                throw error
            }
            return (.ok("database", "\(location) answers"), database)
        } catch {
            return (.fail("database", "\(location): \(DatabaseErrorText.describe(error))", action: fixURL), nil)
        }
    }

    // MARK: Master key

    private func masterKey(
        _ configuration: GatewayConfiguration, secretBox key: Result<SecretBox, any Error>, database: (any DatabaseClient)?, unreadable: String?
    ) async -> DoctorCheck {
        let secretBox: SecretBox
        switch key {
        case .success(let box): secretBox = box
        case .failure(let error):
            return .fail("master key", "\(error)", action: "set STABLEGATE_MASTER_KEY to this installation's key (base64 of 32 bytes)")
        }
        guard let database else { return .notChecked("master key", because: unreadable ?? "no database") }
        // Named by where it comes from and its fingerprint, so after an interrupted rotation the
        // report says which of the two keys it checked (`keys verify-master` prints the same).
        let source =
            (configuration.masterKey?.isEmpty == false ? "STABLEGATE_MASTER_KEY" : "\(configuration.dataDirectory)/master.key")
            + ", fingerprint \(secretBox.fingerprint)"
        return await guarded("master key") {
            let value: DoctorRules.KeyCheckValue
            switch try await GatewaySecretRepository(database: database).storedSecret(name: MasterKeyCheck.name) {
            case nil: value = .absent
            case let sealed?: value = (try? secretBox.open(sealed, purpose: MasterKeyCheck.name)) == MasterKeyCheck.plaintext ? .opens : .refused
            }
            let tally = try await SealedSecrets.tally(keys: [secretBox], in: database)
            return DoctorRules.masterKey(source: source, checkValue: value, tally: tally)
        }
    }

    // MARK: Chains

    private func chains(
        _ chains: [ChainConfiguration], configuration: GatewayConfiguration, secretBox: Result<SecretBox, any Error>,
        database: (any DatabaseClient)?, unreadable: String?
    ) async -> [DoctorCheck] {
        guard !chains.isEmpty else { return [] }
        // The hot wallet is the same key on every chain; loading it reads the database (sandbox).
        var wallets: Result<GatewayWallets, any Error>?
        if let database, case .success(let box) = secretBox {
            do {
                wallets = .success(
                    try await deadline {
                        try await WalletLoader.wallets(
                            configuration: configuration, secrets: GatewaySecretRepository(database: database), secretBox: box, now: self.clock.now,
                            generate: false)
                    })
            } catch {
                wallets = .failure(error)
            }
        }
        let loaded = wallets
        return await withTaskGroup(of: (Int, [DoctorCheck]).self) { group in
            for (index, chain) in chains.enumerated() {
                group.addTask {
                    (index, await self.chain(chain, configuration: configuration, wallets: loaded, database: database, unreadable: unreadable))
                }
            }
            var found: [Int: [DoctorCheck]] = [:]
            for await (index, checks) in group { found[index] = checks }
            return chains.indices.flatMap { found[$0] ?? [] }
        }
    }

    private func chain(
        _ chain: ChainConfiguration, configuration: GatewayConfiguration, wallets: Result<GatewayWallets, any Error>?,
        database: (any DatabaseClient)?, unreadable: String?
    ) async -> [DoctorCheck] {
        // A little under the check's own deadline, so the client's error (connection refused,
        // HTTP 401, …) is what the report shows rather than a bare timeout.
        let rpcTimeout = min(chain.rpcTimeout, timeout * 0.8)
        // Every endpoint on its own: the failover pool would hide a dead one behind a live one.
        let answers = await withTaskGroup(of: (Int, Result<DoctorRules.EndpointAnswer, any Error>).self) { group in
            for (index, url) in chain.rpcURLs.enumerated() {
                group.addTask {
                    let started = ContinuousClock.now
                    let result = await outcome {
                        try await self.deadline {
                            let rpc = EthereumRPC(client: JSONRPCClient(url: url, timeout: .milliseconds(Self.milliseconds(rpcTimeout))))
                            let chainId = try await rpc.chainId()
                            let head = try await rpc.blockNumber()
                            return DoctorRules.EndpointAnswer(
                                chainId: chainId, head: head, milliseconds: Int(Self.milliseconds(ContinuousClock.now - started)))
                        }
                    }
                    return (index, result)
                }
            }
            var answers: [Int: Result<DoctorRules.EndpointAnswer, any Error>] = [:]
            for await (index, result) in group { answers[index] = result }
            return chain.rpcURLs.indices.map { answers[$0]! }
        }
        let good = answers.compactMap { try? $0.get() }.filter { $0.chainId == UInt64(chain.chainId) }
        var checks = answers.enumerated().map { index, result in
            DoctorRules.endpoint(chain, index: index, answered: good.count, result: result)
        }
        guard let head = good.map(\.head).max() else {
            let reason = "no RPC endpoint of chain \(chain.chainId) answers for it"
            return checks + [
                .notChecked("chain \(chain.chainId) tokens", because: reason), .notChecked("chain \(chain.chainId) scan", because: reason),
                .notChecked("chain \(chain.chainId) hot wallet", because: reason),
            ]
        }
        // The rest asks the endpoints that serve this chain, with failover, as the gateway does.
        let urls = chain.rpcURLs.indices.filter { (try? answers[$0].get())?.chainId == UInt64(chain.chainId) }.map { chain.rpcURLs[$0] }
        let rpc = EthereumRPC(client: RPCEndpointPool(chainId: chain.chainId, urls: urls, timeout: rpcTimeout))
        var decimals: [(TokenConfiguration, Result<Int, any Error>)] = []
        for token in chain.tokens {
            decimals.append((token, await outcome { try await deadline { try await rpc.tokenDecimals(token.contract) } }))
        }
        checks.append(DoctorRules.tokens(chain, decimals: decimals))
        guard let database else {
            let reason = unreadable ?? "no database"
            return checks + [
                .notChecked("chain \(chain.chainId) scan", because: reason), .notChecked("chain \(chain.chainId) hot wallet", because: reason),
            ]
        }
        checks.append(
            await guarded("chain \(chain.chainId) scan") {
                DoctorRules.headLag(
                    chain, cursor: try await ChainCursorRepository(database: database).cursor(chainId: chain.chainId), head: head,
                    maximumBlocks: configuration.readinessMaximumLagBlocks)
            })
        switch wallets {
        case .success(let wallets):
            checks.append(
                await guarded("chain \(chain.chainId) hot wallet") {
                    // The sweeper's own estimate, so the doctor and `/readyz` agree.
                    let sweeper = Sweeper(
                        chain: chain, rpc: rpc, database: database, intents: CheckoutIntentRepository(database: database),
                        merchants: MerchantRepository(database: database), wallets: wallets, clock: clock, identifiers: SystemIdentifierGenerator(),
                        logger: logger)
                    return DoctorRules.hotWallet(chain, address: wallets.hotWallet, funding: try await sweeper.funding())
                })
        case .failure(let error):
            checks.append(.fail("chain \(chain.chainId) hot wallet", "\(error)", action: "configure the wallet keys (README \"Chains\")"))
        case nil:
            checks.append(.notChecked("chain \(chain.chainId) hot wallet", because: "no master key"))
        }
        return checks
    }

    // MARK: SMTP, FX, webhooks

    private func smtp(_ configuration: GatewayConfiguration) async -> DoctorCheck {
        guard var settings = configuration.smtp else { return .ok("smtp", "not configured: no e-mail is sent") }
        settings.timeout = min(settings.timeout, Double(Self.milliseconds(timeout * 0.8)) / 1000)
        let smtp = settings
        return DoctorRules.smtp(await outcome { try await deadline { try await SMTPClient(configuration: smtp).verifyLogin() } })
    }

    private func fx(_ configuration: GatewayConfiguration) async -> DoctorCheck {
        let provider: any RateProvider
        do {
            provider = try makeRateProvider(configuration, clock: clock, logger: logger)
        } catch {
            return .fail("fx", "\(error)", action: "fix fx.provider / fx.url")
        }
        let result = await outcome {
            try await deadline {
                // One document serves every currency; any rate in it carries its date.
                for currency in [FiatCurrency.eur, .usd] + FiatCurrency.allCases {
                    if let rate = try await provider.rate(for: currency) { return rate }
                }
                throw DoctorFinding("the rate document holds no rate for a supported currency")
            }
        }
        return DoctorRules.fx(provider: provider.name, result: result, now: clock.now, maximumAge: configuration.rateMaximumAge)
    }

    private func webhooks(database: (any DatabaseClient)?, unreadable: String?) async -> [DoctorCheck] {
        guard let database else { return [.notChecked("webhooks", because: unreadable ?? "no database")] }
        do {
            return try await deadline {
                var checks: [DoctorCheck] = []
                let outbox = WebhookRepository(database: database)
                for store in try await MerchantRepository(database: database).storesWithWebhooks() {
                    let events = try await outbox.events(storeId: store.id, limit: 100)
                    for endpoint in WebhookEndpoint.allCases {
                        guard let target = store.endpoint(endpoint) else { continue }
                        checks.append(
                            DoctorRules.webhook(
                                storeId: store.id, endpoint: endpoint, url: target.url, events: events.filter { $0.endpoint == endpoint }))
                    }
                }
                return checks.isEmpty ? [.ok("webhooks", "no store has a webhook URL")] : checks
            }
        } catch {
            return [.fail("webhooks", "cannot read the webhook outbox: \(error)", action: "see the database check")]
        }
    }

    // MARK: Time limits

    /// A check's body under the deadline; whatever it throws becomes that check's failure.
    private func guarded(_ name: String, _ body: @escaping @Sendable () async throws -> DoctorCheck) async -> DoctorCheck {
        do {
            return try await deadline(body)
        } catch {
            return .fail(name, "\(DatabaseErrorText.describe(error))", action: "see the checks above; run again with --log-level debug for more")
        }
    }

    /// Runs `body` for at most `timeout`. On time out the doctor moves on without waiting for
    /// `body` (it is cancelled, but a call that ignores cancellation cannot hold the report up).
    func deadline<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let timeout = self.timeout
        let pending = PendingResult<T>()
        return try await withCheckedThrowingContinuation { continuation in
            pending.set(continuation)
            let work = Task {
                do { pending.resume(with: .success(try await body())) } catch { pending.resume(with: .failure(error)) }
            }
            Task {
                try? await Task.sleep(for: timeout)
                if pending.resume(with: .failure(DoctorFinding("no answer within \(Self.milliseconds(timeout) / 1000) s"))) { work.cancel() }
            }
        }
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }
}

/// A finding that is not some component's error (a timeout, an empty document).
struct DoctorFinding: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A continuation resumed exactly once, by whichever comes first.
private final class PendingResult<T: Sendable>: Sendable {
    private let continuation = Mutex<CheckedContinuation<T, any Error>?>(nil)

    func set(_ continuation: CheckedContinuation<T, any Error>) {
        self.continuation.withLock { $0 = continuation }
    }

    /// Resumes with `result` unless already resumed; true when this call did.
    @discardableResult
    func resume(with result: Result<T, any Error>) -> Bool {
        guard let continuation = continuation.withLock({ $0.take() }) else { return false }
        continuation.resume(with: result)
        return true
    }
}

/// The outcome of an async throwing call, as a value.
func outcome<T>(_ body: () async throws -> T) async -> Result<T, any Error> {
    do { return .success(try await body()) } catch { return .failure(error) }
}
