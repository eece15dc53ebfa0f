import Configuration
// Full Foundation: TimeZone(identifier:) must know named zones.
import Foundation
import StableGateDomain
import StableGateStore
import SystemPackage

/// Reads ``GatewayConfiguration`` with swift-configuration, highest priority first:
/// command-line flags, then `STABLEGATE_*` environment variables, then a JSON config file,
/// then the defaults.
///
/// | key | environment | meaning |
/// |---|---|---|
/// | `mode` | `STABLEGATE_MODE` | `sandbox` or `production` |
/// | `http.host`, `http.port` | `STABLEGATE_HTTP_HOST`, `…_PORT` | listen address |
/// | `http.idle.timeout`, `http.header.timeout`, `http.body.timeout` | `STABLEGATE_HTTP_…_TIMEOUT` | seconds a connection may rest, a request head and a body may take |
/// | `http.max.connections.per.client` | `STABLEGATE_HTTP_MAX_CONNECTIONS_PER_CLIENT` | open connections per client address (0: no cap) |
/// | `trusted.proxies` | `STABLEGATE_TRUSTED_PROXIES` | CIDRs of reverse proxies whose `X-Forwarded-For` is believed, comma-separated |
/// | `metrics.token`, `metrics.listen` | `STABLEGATE_METRICS_TOKEN`, `…_LISTEN` | bearer token for `/metrics`; a separate `host:port` for it |
/// | `database.url` | `STABLEGATE_DATABASE_URL` | `sqlite:PATH` or `postgres://…` |
/// | `data.dir` | `STABLEGATE_DATA_DIR` | data directory |
/// | `public.url` | `STABLEGATE_PUBLIC_URL` | public base URL |
/// | `master.key` | `STABLEGATE_MASTER_KEY` | base64 master key |
/// | `fx.provider`, `fx.url` | `STABLEGATE_FX_PROVIDER`, `…_URL` | `snapshot` or `http` + URL |
/// | `fx.cache.ttl`, `fx.max.age` | `STABLEGATE_FX_CACHE_TTL`, `…_MAX_AGE` | seconds |
/// | `api.max.body.bytes` | `STABLEGATE_API_MAX_BODY_BYTES` | request size limit |
/// | `api.key.cache.ttl` | `STABLEGATE_API_KEY_CACHE_TTL` | seconds |
/// | `api.default.rate.limit` | `STABLEGATE_API_DEFAULT_RATE_LIMIT` | requests per minute |
/// | `chains.file` | `STABLEGATE_CHAINS_FILE` | the chains file |
/// | `wallet.seed`, `wallet.hot.key`, `wallet.fee.address` | `STABLEGATE_WALLET_…` | key material (hex) and fee wallet |
/// | `payments.fee.bps`, `payments.window`, `payments.checkout.lifetime` | `STABLEGATE_PAYMENTS_…` | fee and timing |
/// | `kyt.provider`, `kyt.denylist`, `kyt.url`, `kyt.api.key` | `STABLEGATE_KYT_…` | sender screening |
/// | `sweep.stuck.after` | `STABLEGATE_SWEEP_STUCK_AFTER` | seconds before a sweep is re-sent |
/// | `chains.lease.ttl` | `STABLEGATE_CHAINS_LEASE_TTL` | seconds before another instance takes a chain over |
/// | `database.sqlite.synchronous` | `STABLEGATE_DATABASE_SQLITE_SYNCHRONOUS` | `full` or `normal` |
/// | `alerts.emails` | `STABLEGATE_ALERTS_EMAILS` | operator addresses for readiness alerts, comma-separated |
/// | `readiness.max.lag.blocks` | `STABLEGATE_READINESS_MAX_LAG_BLOCKS` | blocks a chain may be behind before `/readyz` fails |
/// | `readiness.max.lag.seconds` | `STABLEGATE_READINESS_MAX_LAG_SECONDS` | seconds a chain may be behind before `/readyz` fails |
/// | `passwords.bcrypt.cost` | `STABLEGATE_PASSWORDS_BCRYPT_COST` | bcrypt cost for dashboard passwords (default 12) |
/// | `webhooks.timeout`, `webhooks.retry.delays` | `STABLEGATE_WEBHOOKS_…` | seconds per attempt; retry delays (`5,300,…`) |
/// | `notifications.poll.ms`, `notifications.lease` | `STABLEGATE_NOTIFICATIONS_…` | outbox polling; claim lease seconds |
/// | `smtp.host`, `smtp.port`, `smtp.security`, `smtp.username`, `smtp.password`, `smtp.from`, `smtp.from.name`, `smtp.helo`, `smtp.timeout`, `smtp.ca.file` | `STABLEGATE_SMTP_…` | the mail server |
/// | `email.retry.delays` | `STABLEGATE_EMAIL_RETRY_DELAYS` | e-mail retry delays |
/// | `reports.time`, `reports.timezone`, `reports.attachment.max.bytes` | `STABLEGATE_REPORTS_…` | when and in which zone reports go out |
public enum ConfigurationLoader {
    /// Builds the configuration from flags (already parsed into `overrides`, keyed as in the
    /// table), the process environment and an optional JSON file.
    public static func load(
        overrides: [String: String], environment: [String: String] = ProcessInfo.processInfo.environment, configFile: String?
    ) async throws -> GatewayConfiguration {
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        for (key, value) in overrides {
            values[AbsoluteConfigKey(key.split(separator: ".").map(String.init))] = .init(
                .string(value),
                isSecret: ["master.key", "wallet.seed", "wallet.hot.key", "kyt.api.key", "smtp.password", "metrics.token"].contains(key))
        }
        var providers: [any ConfigProvider] = [
            InMemoryProvider(name: "flags", values: values),
            KeyMappingProvider(
                upstream: EnvironmentVariablesProvider(
                    environmentVariables: environment,
                    secretsSpecifier: .specific([
                        "STABLEGATE_MASTER_KEY", "STABLEGATE_WALLET_SEED", "STABLEGATE_WALLET_HOT_KEY", "STABLEGATE_KYT_API_KEY",
                        "STABLEGATE_SMTP_PASSWORD",
                        "STABLEGATE_METRICS_TOKEN",
                    ]))
            ) { $0.prepending(["stablegate"]) },
        ]
        if let configFile {
            providers.append(try await FileProvider<JSONSnapshot>(filePath: FilePath(configFile)))
        }
        return try configuration(from: ConfigReader(providers: providers))
    }

    /// Maps a reader onto the configuration struct, with clear errors for bad values.
    public static func configuration(from reader: ConfigReader) throws -> GatewayConfiguration {
        var configuration = GatewayConfiguration()
        var problems: [String] = []

        func integer(_ key: String, _ apply: (Int) -> Void) {
            guard let text = reader.string(forKey: ConfigKey(key)) else { return }
            if let value = Int(text), value >= 0 { apply(value) } else { problems.append("\(key) must be a non-negative integer, got \(text)") }
        }

        if let mode = reader.string(forKey: "mode") {
            if let value = GatewayConfiguration.Mode(rawValue: mode.lowercased()) {
                configuration.mode = value
            } else {
                problems.append("mode must be sandbox or production, got \(mode)")
            }
        }
        if let host = reader.string(forKey: "http.host") { configuration.host = host }
        integer("http.port") { configuration.port = $0 }
        for (key, assign) in [
            ("http.idle.timeout", { (timeout: Duration) in configuration.httpIdleTimeout = timeout }),
            ("http.header.timeout", { (timeout: Duration) in configuration.httpHeaderTimeout = timeout }),
            ("http.body.timeout", { (timeout: Duration) in configuration.httpBodyTimeout = timeout }),
        ] {
            // 0 is refused rather than read as "never": that is the hole these close.
            integer(key) { value in
                if (1...3600).contains(value) { assign(.seconds(value)) } else { problems.append("\(key) must be 1–3600 seconds") }
            }
        }
        integer("http.max.connections.per.client") { configuration.maximumConnectionsPerClient = $0 }
        if let text = reader.string(forKey: "trusted.proxies") {
            do {
                configuration.trustedProxies = try TrustedProxies(list: text)
            } catch {
                problems.append("trusted.proxies: \(error.description) (give CIDRs such as 10.0.0.0/8, separated by commas)")
            }
        }
        if let token = reader.string(forKey: "metrics.token", isSecret: true), !token.isEmpty {
            // Compared as a password, so it must be as hard to guess as one.
            if token.count >= 16 {
                configuration.metricsToken = token
            } else {
                problems.append("metrics.token must be at least 16 characters (e.g. `openssl rand -hex 32`)")
            }
        }
        if let text = reader.string(forKey: "metrics.listen"), !text.isEmpty {
            if let address = GatewayConfiguration.ListenAddress(text) {
                configuration.metricsListen = address
            } else {
                problems.append("metrics.listen must be host:port (e.g. 127.0.0.1:9100), got \(text)")
            }
        }
        if let directory = reader.string(forKey: "data.dir") { configuration.dataDirectory = directory }
        configuration.databaseURL = reader.string(forKey: "database.url")
        configuration.publicURL = reader.string(forKey: "public.url")
        configuration.masterKey = reader.string(forKey: "master.key", isSecret: true)
        switch reader.string(forKey: "fx.provider")?.lowercased() {
        case nil, "snapshot": configuration.rateSource = .snapshot
        case "http":
            if let url = reader.string(forKey: "fx.url") {
                configuration.rateSource = .http(url: url)
            } else {
                problems.append("fx.provider=http needs fx.url (STABLEGATE_FX_URL)")
            }
        case let other?: problems.append("fx.provider must be snapshot or http, got \(other)")
        }
        integer("fx.cache.ttl") { configuration.rateCacheTTL = TimeInterval($0) }
        integer("fx.max.age") { configuration.rateMaximumAge = TimeInterval($0) }
        if configuration.rateMaximumAge == nil, case .http = configuration.rateSource {
            configuration.rateMaximumAge = 24 * 3600
        }
        integer("api.max.body.bytes") { configuration.maximumBodyBytes = $0 }
        integer("api.key.cache.ttl") { configuration.apiKeyCacheTTL = TimeInterval($0) }
        integer("api.default.rate.limit") { configuration.defaultRateLimitPerMinute = $0 }
        configuration.chainsFile = reader.string(forKey: "chains.file")
        configuration.depositSeed = reader.string(forKey: "wallet.seed", isSecret: true)
        configuration.hotWalletKey = reader.string(forKey: "wallet.hot.key", isSecret: true)
        configuration.feeWallet = reader.string(forKey: "wallet.fee.address")
        integer("payments.fee.bps") { value in
            if value <= 10_000 { configuration.defaultFeeBasisPoints = value } else { problems.append("payments.fee.bps must be 0–10000") }
        }
        integer("payments.window") { configuration.paymentWindow = TimeInterval($0) }
        integer("payments.checkout.lifetime") { configuration.checkoutLifetime = TimeInterval($0) }
        if let text = reader.string(forKey: "payments.late.minimum") {
            // At most 6 decimals: every configured token can express it exactly (USDT/USDC have 6 or 18).
            if let minimum = DecimalAmount(text), minimum.scale <= 6 {
                configuration.lateMinimum = minimum
            } else {
                problems.append("payments.late.minimum must be a coin amount with at most 6 decimals, such as 1 or 0.5, got \(text)")
            }
        }
        integer("sweep.stuck.after") { configuration.sweepStuckAfter = TimeInterval($0) }
        integer("chains.lease.ttl") { configuration.chainLeaseTTL = TimeInterval($0) }
        if let text = reader.string(forKey: "database.sqlite.synchronous") {
            if let value = SQLiteDatabaseClient.Durability(rawValue: text.lowercased()) {
                configuration.sqliteDurability = value
            } else {
                problems.append("database.sqlite.synchronous must be full or normal, got \(text)")
            }
        }
        if let text = reader.string(forKey: "alerts.emails") {
            let list = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
            if let bad = list.first(where: { !EmailAddress.isValid($0) }) {
                problems.append("alerts.emails: \(bad) is not an e-mail address")
            } else {
                configuration.alertEmails = list
            }
        }
        integer("readiness.max.lag.blocks") { value in
            if value >= 1 {
                configuration.readinessMaximumLagBlocks = Int64(value)
            } else {
                problems.append("readiness.max.lag.blocks must be at least 1")
            }
        }
        integer("readiness.max.lag.seconds") { value in
            if value >= 10 {
                configuration.readinessMaximumLagSeconds = TimeInterval(value)
            } else {
                problems.append("readiness.max.lag.seconds must be at least 10")
            }
        }
        integer("passwords.bcrypt.cost") { value in
            if (4...31).contains(value) { configuration.passwordHashCost = value } else { problems.append("passwords.bcrypt.cost must be 4–31") }
        }
        integer("webhooks.timeout") { value in
            if (1...120).contains(value) {
                configuration.webhookTimeout = TimeInterval(value)
            } else {
                problems.append("webhooks.timeout must be 1–120 seconds")
            }
        }
        for (key, assign) in [
            ("webhooks.retry.delays", { (schedule: RetrySchedule) in configuration.webhookRetrySchedule = schedule }),
            ("email.retry.delays", { (schedule: RetrySchedule) in configuration.emailRetrySchedule = schedule }),
        ] {
            guard let text = reader.string(forKey: ConfigKey(key)) else { continue }
            if let schedule = RetrySchedule(text: text) {
                assign(schedule)
            } else {
                problems.append("\(key) must be seconds separated by commas, like 5,300,1800")
            }
        }
        integer("notifications.poll.ms") { value in
            if value >= 10 {
                configuration.notificationPollInterval = .milliseconds(value)
            } else {
                problems.append("notifications.poll.ms must be at least 10")
            }
        }
        integer("notifications.lease") { configuration.outboxLease = TimeInterval($0) }
        if let host = reader.string(forKey: "smtp.host"), !host.isEmpty {
            if let from = reader.string(forKey: "smtp.from"), EmailAddress.isValid(from) {
                var smtp = SMTPConfiguration(host: host, from: from)
                integer("smtp.port") { smtp.port = $0 }
                if let text = reader.string(forKey: "smtp.security") {
                    if let security = SMTPConfiguration.Security(rawValue: text.lowercased()) {
                        smtp.security = security
                    } else {
                        problems.append("smtp.security must be starttls, tls or none, got \(text)")
                    }
                } else if smtp.port == 465 {
                    smtp.security = .tls
                }
                smtp.username = reader.string(forKey: "smtp.username")
                smtp.password = reader.string(forKey: "smtp.password", isSecret: true)
                if let name = reader.string(forKey: "smtp.from.name") { smtp.fromName = name }
                if let helo = reader.string(forKey: "smtp.helo") { smtp.heloName = helo }
                integer("smtp.timeout") { smtp.timeout = TimeInterval(max($0, 1)) }
                smtp.caFile = reader.string(forKey: "smtp.ca.file")
                configuration.smtp = smtp
            } else {
                problems.append("smtp.host needs smtp.from (STABLEGATE_SMTP_FROM), the sender's e-mail address")
            }
        }
        if let time = reader.string(forKey: "reports.time") {
            let parts = time.split(separator: ":")
            if parts.count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]), (0...23).contains(hour), (0...59).contains(minute) {
                configuration.reportHour = hour
                configuration.reportMinute = minute
            } else {
                problems.append("reports.time must be HH:MM (24-hour), got \(time)")
            }
        }
        if let zone = reader.string(forKey: "reports.timezone") {
            if TimeZone(identifier: zone) != nil {
                configuration.reportTimeZone = zone
            } else {
                problems.append("reports.timezone must be an IANA time zone such as Europe/Berlin, got \(zone)")
            }
        }
        integer("reports.attachment.max.bytes") { configuration.reportAttachmentLimit = $0 }
        if configuration.outboxLease <= configuration.webhookTimeout + 5 {
            problems.append("notifications.lease must be longer than webhooks.timeout + 5 s")
        }
        switch reader.string(forKey: "kyt.provider")?.lowercased() {
        case nil, "none": configuration.screening = .none
        case "denylist":
            if let path = reader.string(forKey: "kyt.denylist") {
                configuration.screening = .denylist(path: path)
            } else {
                problems.append("kyt.provider=denylist needs kyt.denylist (STABLEGATE_KYT_DENYLIST), a file of addresses")
            }
        case "http":
            if let url = reader.string(forKey: "kyt.url") {
                configuration.screening = .http(url: url, apiKey: reader.string(forKey: "kyt.api.key", isSecret: true))
            } else {
                problems.append("kyt.provider=http needs kyt.url (STABLEGATE_KYT_URL)")
            }
        case let other?: problems.append("kyt.provider must be none, denylist or http, got \(other)")
        }
        guard problems.isEmpty else { throw ConfigurationError(problems) }
        return configuration
    }
}
