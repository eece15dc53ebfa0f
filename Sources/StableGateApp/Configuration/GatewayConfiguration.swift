import BigInt
import Foundation
import StableGateDomain
import StableGateStore

/// Everything the gateway needs to start. Every field has a default that runs the sandbox.
public struct GatewayConfiguration: Sendable {
    /// Sandbox (test chain, snapshot FX, relaxed checks) or production (everything strict).
    public enum Mode: String, Sendable, CaseIterable {
        case sandbox
        case production
    }

    /// Where FX rates come from.
    public enum RateSource: Sendable, Equatable {
        /// The bundled snapshot (sandbox default).
        case snapshot
        /// A live HTTP endpoint returning USD-based rates.
        case http(url: String)
    }

    public var mode: Mode = .sandbox
    public var host = "127.0.0.1"
    public var port = 8080
    /// A connection with no request in progress is closed after this long.
    public var httpIdleTimeout: Duration = .seconds(60)
    /// A request head must arrive in full within this long of its first byte.
    public var httpHeaderTimeout: Duration = .seconds(10)
    /// A request body must arrive in full within this long of its head.
    public var httpBodyTimeout: Duration = .seconds(30)
    /// Connections one client address (an IPv6 /64 counts as one) may hold open at once; 0
    /// allows any number. It counts socket peers: behind a reverse proxy every connection is
    /// the proxy's, whatever ``trustedProxies`` says.
    public var maximumConnectionsPerClient = 128
    /// The reverse proxies whose `X-Forwarded-For` names the client (for IP allowlists, login
    /// throttles and per-client limits); none by default, so the socket's peer is the client.
    public var trustedProxies = TrustedProxies()
    /// Where `/metrics` is served: nowhere (404) unless a token or a separate address is set.
    /// With a token alone it is served on the public port to `Authorization: Bearer <token>`.
    public var metricsToken: String?
    /// A separate listen address for `/metrics` (then never on the public port); the token,
    /// when set, is required there too.
    public var metricsListen: ListenAddress?

    /// A host and port to listen on.
    public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// Reads `host:port` (`[::1]:9100` for IPv6); nil when it is not that.
        public init?(_ text: String) {
            guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else {
                return nil
            }
            var host = String(text[..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard !host.isEmpty else { return nil }
            self.init(host: host, port: port)
        }

        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }
    /// Holds the SQLite file (by default) and, in sandbox, the generated master key.
    public var dataDirectory = ".stablegate"
    /// nil means `sqlite:<dataDirectory>/stablegate.sqlite`.
    public var databaseURL: String?
    /// The gateway's public base URL; checkout URLs are `{publicURL}/checkout/{id}`.
    public var publicURL: String?
    /// Base64 of the 32-byte master key that encrypts secrets at rest. In sandbox, when unset,
    /// one is generated into `<dataDirectory>/master.key`.
    public var masterKey: String?

    public var rateSource: RateSource = .snapshot
    /// How long fetched HTTP rates are reused.
    public var rateCacheTTL: TimeInterval = 60
    /// Rates older than this fail creates with 50002; nil disables the check (sandbox snapshot).
    public var rateMaximumAge: TimeInterval?

    /// Largest accepted request body.
    public var maximumBodyBytes = 64 * 1024
    /// How long a looked-up API key (and its decrypted secret) is reused before re-reading it;
    /// a revocation takes effect on every instance within this time.
    public var apiKeyCacheTTL: TimeInterval = 5
    /// Rate limit for keys created without an explicit one.
    public var defaultRateLimitPerMinute = 600
    /// How long an `Idempotency-Key` is remembered.
    public var idempotencyTTL: TimeInterval = 24 * 3600

    /// The chains file (`--chains`); nil watches no chain.
    public var chainsFile: String?
    /// Hex of the 16–64 byte HD seed behind deposit addresses. Sandbox: generated and stored sealed.
    public var depositSeed: String?
    /// Hex of the hot wallet's private key (pays deposit wallets' gas). Sandbox: generated and stored sealed.
    public var hotWalletKey: String?
    /// The operator's fee wallet; defaults to the hot wallet.
    public var feeWallet: String?
    /// Service fee for stores without their own, in basis points (100 = 1 %).
    public var defaultFeeBasisPoints = 100
    /// Payment window from the customer's choice of network, for stores without their own.
    public var paymentWindow: TimeInterval = 30 * 60
    /// Late money (after an order ended) adding up to less than this many coins is held as dust
    /// rather than forwarded: forwarding costs the gateway gas, and anyone can send dust to a
    /// public deposit address.
    public var lateMinimum = DecimalAmount(units: 1, scale: 0)
    /// How long an intent waits for a network to be chosen before it expires.
    public var checkoutLifetime: TimeInterval = 24 * 3600
    /// How often expired intents are looked for.
    public var expiryInterval: Duration = .seconds(5)
    /// Broadcast sweep transactions not mined after this long are replaced with higher fees.
    public var sweepStuckAfter: TimeInterval = 120
    /// How long a chain's watcher lease lasts without renewal: another instance takes the
    /// chain over this long after its watcher died (at least three poll intervals).
    public var chainLeaseTTL: TimeInterval = 15
    /// SQLite's durability: `full` (the default) syncs every commit, `normal` survives process
    /// crashes only (README "Durability").
    public var sqliteDurability: SQLiteDatabaseClient.Durability = .full
    /// `/readyz` answers 503 when a chain this instance watches is more blocks than this behind
    /// its head, or has not been at the head for `readinessMaximumLagSeconds` (or no detection
    /// pass completed for that long).
    public var readinessMaximumLagBlocks: Int64 = 50
    public var readinessMaximumLagSeconds: TimeInterval = 300
    /// Who is e-mailed (with SMTP configured) when the gateway is not ready: at once, again at
    /// most hourly while it lasts, and when it recovers.
    public var alertEmails: [String] = []

    /// Who screens payment senders (KYT).
    public enum ScreeningSource: Sendable, Equatable {
        case none
        case denylist(path: String)
        case http(url: String, apiKey: String?)
    }

    public var screening: ScreeningSource = .none

    /// bcrypt cost (log2 rounds) for dashboard and account passwords.
    public var passwordHashCost = 12
    /// How long a dashboard setup link works.
    public var setupLinkLifetime: TimeInterval = 72 * 3600

    /// A webhook attempt that has no 2xx answer within this many seconds failed.
    public var webhookTimeout: TimeInterval = 10
    /// When failed webhook attempts are retried.
    public var webhookRetrySchedule: RetrySchedule = .webhooks
    /// How often the webhook and e-mail outboxes are polled when idle.
    public var notificationPollInterval: Duration = .seconds(1)
    /// How long a claimed webhook or e-mail belongs to the instance sending it; after that a
    /// stopped instance's claim is taken over. Must exceed the send timeouts.
    public var outboxLease: TimeInterval = 60

    /// The mail server; nil sends no e-mail (and queues none).
    public var smtp: SMTPConfiguration?
    /// When failed e-mails are retried.
    public var emailRetrySchedule: RetrySchedule = .email
    /// Local time of day reports are sent, in ``reportTimeZone``.
    public var reportHour = 8
    public var reportMinute = 0
    /// An IANA time zone such as `Asia/Shanghai`: report periods are its local days and months.
    public var reportTimeZone = "UTC"
    /// Reports whose CSV is larger are sent without it (with a note).
    public var reportAttachmentLimit = 10 * 1_048_576

    public init() {}

    /// The database URL in effect.
    public var resolvedDatabaseURL: String {
        databaseURL ?? "sqlite:\(dataDirectory)/stablegate.sqlite"
    }

    /// The public URL in effect.
    public var resolvedPublicURL: String {
        var url = publicURL ?? "http://\(host == "0.0.0.0" ? "127.0.0.1" : host):\(port)"
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }

    /// Why this configuration may not run in production; empty when it may (or in sandbox).
    public func productionProblems() -> [String] {
        guard mode == .production else { return [] }
        var problems: [String] = []
        if masterKey?.isEmpty ?? true {
            problems.append(
                "no master key for secrets at rest: set STABLEGATE_MASTER_KEY (base64 of 32 random bytes, e.g. `openssl rand -base64 32`)")
        }
        if case .snapshot = rateSource {
            problems.append("no live rate provider: set STABLEGATE_FX_PROVIDER=http and STABLEGATE_FX_URL")
        }
        if !(publicURL?.lowercased().hasPrefix("https://") ?? false) {
            problems.append("the public URL must be https: set --public-url or STABLEGATE_PUBLIC_URL to https://…")
        }
        if chainsFile != nil {
            if depositSeed?.isEmpty ?? true { problems.append("no deposit seed: set STABLEGATE_WALLET_SEED (hex of 32 random bytes)") }
            if hotWalletKey?.isEmpty ?? true { problems.append("no hot wallet key for gas top-ups: set STABLEGATE_WALLET_HOT_KEY") }
            if feeWallet?.isEmpty ?? true { problems.append("no fee wallet: set STABLEGATE_WALLET_FEE_ADDRESS") }
        }
        return problems
    }
}

/// A configuration that cannot run, with every reason.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public let problems: [String]
    public init(_ problems: [String]) { self.problems = problems }
    public var description: String {
        "configuration refused:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}
