import Foundation
import Logging
import StableGateDomain
import StableGateEthereum
import StableGatePayments
import StableGateStore

/// What every command needs: the migrated database, the secret box and the repositories.
/// `serve` builds its application on one; the CLI's `merchants` and `keys` use one directly.
public struct GatewayEnvironment: Sendable {
    public let configuration: GatewayConfiguration
    public let database: any DatabaseClient
    public let secretBox: SecretBox
    public let clock: any WallClock
    public let identifiers: any IdentifierGenerator
    public let logger: Logger

    public var merchants: MerchantRepository { MerchantRepository(database: database) }
    public var apiKeys: APIKeyRepository { APIKeyRepository(database: database) }
    /// One per environment, so concurrent creates share its write batches. Every create and
    /// change through it writes its webhook events and e-mails in the same transaction.
    public let intents: CheckoutIntentRepository
    public var webhooks: WebhookRepository { WebhookRepository(database: database) }
    public var emails: EmailOutboxRepository { EmailOutboxRepository(database: database) }
    public var depositAddresses: DepositAddressRepository { DepositAddressRepository(database: database) }
    public var chainTransfers: ChainTransferRepository { ChainTransferRepository(database: database) }
    public var chainCursors: ChainCursorRepository { ChainCursorRepository(database: database) }
    public var settlements: SettlementRepository { SettlementRepository(database: database) }
    public var signedTransactions: SignedTransactionRepository { SignedTransactionRepository(database: database) }
    public var gatewaySecrets: GatewaySecretRepository { GatewaySecretRepository(database: database) }
    /// The chains from the chains file (none without one).
    public let chains: [ChainConfiguration]
    /// The gateway's keys; nil when no chain is configured.
    public let wallets: GatewayWallets?
    /// Hosted checkout URLs: their capability tokens, issued and read back.
    public let links: CheckoutLinks

    /// Checks the configuration, opens the database and applies pending migrations.
    public static func open(
        _ configuration: GatewayConfiguration, clock: any WallClock = SystemClock(),
        identifiers: any IdentifierGenerator = SystemIdentifierGenerator(), logger: Logger
    ) async throws -> GatewayEnvironment {
        let problems = configuration.productionProblems()
        guard problems.isEmpty else { throw ConfigurationError(problems) }
        let location = try DatabaseLocation(url: configuration.resolvedDatabaseURL)
        if case .sqlite(let path) = location {
            try FileManager.default.createDirectory(
                atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
        }
        let secretBox = try MasterKeyStore.secretBox(for: configuration, logger: logger)
        let database = try await DatabaseFactory.open(location, sqliteDurability: configuration.sqliteDurability, logger: logger)
        do {
            try await Migrator(database: database, logger: logger).migrate(now: clock.now.unixMilliseconds)
        } catch {
            await database.shutdown()
            throw error
        }
        logger.debug("database ready", metadata: ["database": "\(location)"])
        do {
            try await MasterKeyCheck.verify(
                secretBox, secrets: GatewaySecretRepository(database: database), configuration: configuration, now: clock.now)
            let chains = try loadChains(configuration)
            let wallets =
                chains.isEmpty
                ? nil
                : try await WalletLoader.wallets(
                    configuration: configuration, secrets: GatewaySecretRepository(database: database), secretBox: secretBox, now: clock.now)
            let links = CheckoutLinks(secretBox: secretBox, identifiers: identifiers, publicURL: configuration.resolvedPublicURL)
            let intents = CheckoutIntentRepository(
                database: database, observer: NotificationRecorder(identifiers: identifiers, links: links, emailsEnabled: configuration.smtp != nil))
            // Intents from before checkout links (migration 7) get theirs now: this needs the
            // master key, which the SQL migration does not have.
            let issued = try await links.issueMissing(in: intents)
            if issued > 0 {
                logger.notice(
                    "gave existing checkout intents their checkout link tokens; their old /checkout/{id} URLs no longer open",
                    metadata: [
                        "intents": "\(issued)"
                    ])
            }
            return GatewayEnvironment(
                configuration: configuration, database: database, secretBox: secretBox, clock: clock, identifiers: identifiers, logger: logger,
                intents: intents, chains: chains, wallets: wallets, links: links)
        } catch {
            await database.shutdown()
            throw error
        }
    }

    /// The chains of the configured chains file (none without one).
    static func loadChains(_ configuration: GatewayConfiguration) throws -> [ChainConfiguration] {
        guard let path = configuration.chainsFile else { return [] }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(["cannot read the chains file \(path)"])
        }
        return try ChainsFile.parse(Array(data))
    }

    /// Closes the database.
    public func close() async {
        await database.shutdown()
    }
}

/// Resolves the gateway's keys: from configuration, or in the sandbox generated once and kept
/// sealed (AES-GCM under the master key) in the database.
enum WalletLoader {
    /// `generate: false` (`stablegate doctor`) reads the sandbox's stored keys but never makes them.
    static func wallets(
        configuration: GatewayConfiguration, secrets: GatewaySecretRepository, secretBox: SecretBox, now: Date, generate: Bool = true
    ) async throws -> GatewayWallets {
        func secret(_ configured: String?, name: String, what: String, make: @escaping @Sendable () -> [UInt8]) async throws -> [UInt8] {
            if let configured, !configured.isEmpty {
                guard let bytes = Hex.decode(configured) else { throw ConfigurationError(["\(what) must be hex"]) }
                return bytes
            }
            guard configuration.mode == .sandbox else { throw ConfigurationError(["no \(what) configured"]) }
            let stored: String?
            if generate {
                stored = try await secrets.sealedSecret(name: name, now: now) { try secretBox.seal(make().hexString, purpose: name) }
            } else {
                stored = try await secrets.storedSecret(name: name)
            }
            guard let sealed = stored else {
                throw ConfigurationError(["no \(what) configured, and none stored yet (the sandbox's first `serve` generates it)"])
            }
            guard let bytes = Hex.decode(try secretBox.open(sealed, purpose: name)) else {
                throw ConfigurationError(["stored \(what) is unreadable"])
            }
            return bytes
        }
        let seed = try await secret(configuration.depositSeed, name: "deposit_seed", what: "deposit seed") {
            SystemIdentifierGenerator().randomBytes(32)
        }
        let hotKey = try await secret(configuration.hotWalletKey, name: "hot_wallet_key", what: "hot wallet key") {
            while true {
                let candidate = SystemIdentifierGenerator().randomBytes(32)
                if Secp256k1.isValidPrivateKey(candidate) { return candidate }
            }
        }
        var fee: EthereumAddress?
        if let text = configuration.feeWallet {
            guard let address = EthereumAddress(text) else { throw ConfigurationError(["the fee wallet \(text) is not a valid address"]) }
            fee = address
        }
        do {
            return try GatewayWallets(depositSeed: seed, hotWalletKey: hotKey, feeAddress: fee)
        } catch {
            throw ConfigurationError(["wallet keys refused: \(error)"])
        }
    }
}

/// Makes sure every process writes a database's secrets under the same master key. A CLI
/// command run with another data directory (or key) than the server used to seal new API
/// secrets under a fresh key, which the server then could not open (90000 for that merchant).
/// Now the database keeps a value sealed under its key at first use; a process whose key does
/// not open it refuses to start and says what to do. A database from before the check is
/// checked against a secret it already holds before the value is written.
enum MasterKeyCheck {
    static let name = "master_key_check"
    static let plaintext = "StableGate master key check v1"

    static func verify(_ secretBox: SecretBox, secrets: GatewaySecretRepository, configuration: GatewayConfiguration, now: Date) async throws {
        let refusal = ConfigurationError([
            """
            this database's secrets are sealed with another master key than this process has \
            (\(configuration.masterKey?.isEmpty == false ? "STABLEGATE_MASTER_KEY" : "\(configuration.dataDirectory)/master.key")). \
            Run it with the master key of the server that uses this database: the same STABLEGATE_MASTER_KEY, or, in the sandbox, \
            the server's --data-dir (which holds master.key). Nothing was written.
            """
        ])
        if let earlier = try await secrets.someSealedSecret(excluding: name), (try? secretBox.open(earlier.sealed, purpose: earlier.purpose)) == nil {
            throw refusal
        }
        let sealed = try await secrets.sealedSecret(name: name, now: now) { try secretBox.seal(plaintext, purpose: name) }
        guard (try? secretBox.open(sealed, purpose: name)) == plaintext else { throw refusal }
    }
}

/// Finds the master key: from configuration, or in sandbox from (or newly into)
/// `<data-dir>/master.key`, readable by the owner only.
enum MasterKeyStore {
    /// `create: false` (`stablegate doctor`) reads a sandbox key file but never writes one.
    static func secretBox(for configuration: GatewayConfiguration, create: Bool = true, logger: Logger) throws -> SecretBox {
        if let key = configuration.masterKey, !key.isEmpty {
            return try SecretBox(base64MasterKey: key)
        }
        guard configuration.mode == .sandbox else {
            throw ConfigurationError(["no master key: set STABLEGATE_MASTER_KEY"])
        }
        let directory = configuration.dataDirectory
        let path = directory + "/master.key"
        let manager = FileManager.default
        if let data = manager.contents(atPath: path) {
            return try SecretBox(base64MasterKey: String(decoding: data, as: UTF8.self))
        }
        guard create else {
            throw ConfigurationError(["no master key: neither STABLEGATE_MASTER_KEY nor \(path) (the sandbox's first `serve` creates that file)"])
        }
        try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let key = SecretBox.generateMasterKey()
        guard manager.createFile(atPath: path, contents: Data((key + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ConfigurationError(["cannot write the sandbox master key to \(path)"])
        }
        logger.notice("generated a sandbox master key", metadata: ["path": "\(path)"])
        return try SecretBox(base64MasterKey: key)
    }

    /// The key ``secretBox(for:logger:)`` would use, without generating one: nil when none is
    /// configured and (in the sandbox) `<data-dir>/master.key` does not exist. `source` names
    /// where it came from; `file` is set when that is a key file.
    static func existingSecretBox(for configuration: GatewayConfiguration) throws -> (box: SecretBox, source: String, file: String?)? {
        if let key = configuration.masterKey, !key.isEmpty {
            return (try SecretBox(base64MasterKey: key), "STABLEGATE_MASTER_KEY", nil)
        }
        guard configuration.mode == .sandbox else { return nil }
        let path = configuration.dataDirectory + "/master.key"
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return (try SecretBox(base64MasterKey: String(decoding: data, as: UTF8.self)), path, path)
    }

    /// Replaces the sandbox key file at `path` with `key` (mode 600, written beside it and
    /// renamed, so it holds one key or the other, never half of one).
    static func replaceKeyFile(_ path: String, with key: String) throws {
        let staged = path + ".new"
        let manager = FileManager.default
        try? manager.removeItem(atPath: staged)
        guard manager.createFile(atPath: staged, contents: Data((key + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ConfigurationError(["cannot write the new master key to \(staged); the database is sealed under the new key now: put it in \(path)"]
            )
        }
        try AtomicFile.sync(staged)
        try AtomicFile.rename(staged, to: path)
    }
}

extension GatewayEnvironment {
    /// The one payment processor of this configuration (the gateway's, and the CLI's for an
    /// operator's release of held dust).
    public func paymentProcessor(logger: Logger) -> PaymentProcessor {
        PaymentProcessor(
            intents: intents, clock: clock, identifiers: identifiers, defaultFeeBasisPoints: configuration.defaultFeeBasisPoints,
            checkoutLifetime: configuration.checkoutLifetime, feeAddress: wallets?.feeAddress.lowercased, lateMinimum: configuration.lateMinimum,
            logger: logger)
    }

    /// The schema versions applied to the database.
    public func appliedMigrations() async throws -> [Int] {
        try await Migrator(database: database, logger: logger).appliedVersions()
    }
}
