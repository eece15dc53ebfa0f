import Foundation
import Logging
import StableGateDomain
import StableGateStore

/// Backups and restores of an SQLite database, and the master key: checking which key a
/// database's secrets are sealed under, and re-sealing them under a new one. The CLI's
/// `backup`, `restore` and `keys …-master` commands and `doctor` call these; the file and
/// SQL work is in ``SQLiteFile`` and ``SealedSecrets``.
public enum DatabaseCare {
    /// Where to read the PostgreSQL procedure instead.
    static let postgresPointer =
        "this database is PostgreSQL: back it up with pg_dump -Fc and restore with pg_restore (README \"Backups and restore\")"

    /// The SQLite file of `configuration`, or a refusal naming the PostgreSQL procedure.
    static func sqlitePath(_ configuration: GatewayConfiguration, doing what: String) throws -> String {
        switch try DatabaseLocation(url: configuration.resolvedDatabaseURL) {
        case .sqlite(let path): return path
        case .postgres: throw DatabaseCareError("stablegate \(what) copies SQLite files; \(postgresPointer)")
        }
    }

    // MARK: Backup and restore

    /// Writes a consistent copy of the configured SQLite database to `file` while gateways keep
    /// running on it (``SQLiteFile/backup(database:to:overwrite:logger:)``).
    public static func backup(
        _ configuration: GatewayConfiguration, to file: String, overwrite: Bool, logger: Logger
    ) async throws
        -> SQLiteFile.Summary
    {
        let path = try sqlitePath(configuration, doing: "backup")
        return try await SQLiteFile.backup(database: path, to: file, overwrite: overwrite, logger: logger)
    }

    /// Replaces the configured SQLite database with the backup `file`, after checking a copy of
    /// it: an SQLite database that passes `PRAGMA integrity_check`, StableGate's schema no
    /// newer than this binary's, every sealed secret opened by the configured master key. An
    /// existing database is replaced only with `overwrite` and only when no process has it
    /// open. Nothing is changed when a check fails.
    public static func restore(
        _ configuration: GatewayConfiguration, from file: String, overwrite: Bool, logger: Logger
    ) async throws
        -> SQLiteFile.Summary
    {
        let target = try sqlitePath(configuration, doing: "restore")
        func refused(_ reason: String) -> DatabaseCareError {
            let reason = reason.hasSuffix("Nothing was changed.") ? String(reason.dropLast(" Nothing was changed.".count)) : reason + "."
            return DatabaseCareError("refusing to restore \(file): \(reason) Nothing was changed.")
        }
        guard let key = try MasterKeyStore.existingSecretBox(for: configuration) else {
            throw refused(
                """
                no master key to check it with: set STABLEGATE_MASTER_KEY to the key of the server the backup came from \
                (in the sandbox, copy its master.key into \(configuration.dataDirectory) first)
                """)
        }
        do {
            try SQLiteFile.refuseExisting(target, overwrite: overwrite)
        } catch {
            throw refused("\(error)")
        }
        let staged: String
        do {
            staged = try SQLiteFile.stageCopy(of: file, beside: target)
        } catch {
            throw refused("\(error)")
        }
        do {
            let summary = try await SQLiteFile.check(staged, logger: logger) { db in
                try Migrator.checkCompatible(applied: try await Migrator.appliedVersions(on: db))
                let tally = try await SealedSecrets.tally(keys: [key.box], on: db)
                guard tally.keyOpeningEverything == 0 else {
                    throw SQLiteFileError(
                        """
                        its secrets are not sealed under the configured master key \(key.box.fingerprint) (\(key.source)): it opens \
                        \(tally.openedBy[0]) of \(tally.total). Configure the master key of the server the backup came from
                        """)
                }
            }
            if FileManager.default.fileExists(atPath: target) {
                try await SQLiteFile.refuseIfInUse(target, logger: logger)
            }
            try SQLiteFile.install(staged, as: target)
            return summary
        } catch {
            SQLiteFile.removeWithCompanions(staged)
            throw refused("\(error)")
        }
    }

    // MARK: The master key

    /// A master key to try, with where it came from (never the key itself).
    public struct CandidateKey: Sendable {
        /// Where the key came from, as the operator named it.
        public let source: String
        public let box: SecretBox

        public init(source: String, box: SecretBox) {
            self.source = source
            self.box = box
        }
    }

    /// Which of some keys a database's sealed secrets open with.
    public struct KeyReport: Sendable {
        /// The keys tried, in order (the configured one first when there is one).
        public let candidates: [CandidateKey]
        /// What each opens.
        public let tally: SealedSecrets.Tally

        /// The key that opens every sealed secret; nil when none does (secrets under a key not
        /// tried, or a mix).
        public var keyOpeningEverything: CandidateKey? { tally.keyOpeningEverything.map { candidates[$0] } }

        /// One line per key, then the verdict.
        public var lines: [String] {
            var lines = candidates.enumerated().map { index, key in
                "\(key.source) (fingerprint \(key.box.fingerprint)): opens \(tally.openedBy[index]) of \(tally.total) sealed secrets"
            }
            let tables = tally.totalByTable.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            if let key = keyOpeningEverything {
                lines.append("every sealed secret (\(tables.isEmpty ? "none stored" : tables)) opens with \(key.source)")
            } else {
                lines.append(
                    """
                    no key tried opens every sealed secret: \(tally.openedByNone) open with none of them \
                    (e.g. \(tally.examplesOpenedByNone.joined(separator: ", ")))
                    """)
            }
            return lines
        }
    }

    /// The configured master key as a candidate (never generating one), or nil.
    public static func configuredKey(_ configuration: GatewayConfiguration) throws -> CandidateKey? {
        try MasterKeyStore.existingSecretBox(for: configuration).map { CandidateKey(source: "configured key \($0.source)", box: $0.box) }
    }

    /// Tries every sealed secret in `database` with each of `candidates`. Reads only.
    public static func checkKeys(_ candidates: [CandidateKey], in database: any DatabaseClient) async throws -> KeyReport {
        KeyReport(candidates: candidates, tally: try await SealedSecrets.tally(keys: candidates.map(\.box), in: database))
    }

    /// Opens the configured database for reading sealed secrets, without migrating it or
    /// writing anything (a wrong key must not leave a trace), after refusing a schema newer
    /// than this binary's. For SQLite the file must exist.
    public static func withDatabase<T>(
        _ configuration: GatewayConfiguration, logger: Logger, _ body: (any DatabaseClient) async throws -> T
    ) async throws -> T {
        let location = try DatabaseLocation(url: configuration.resolvedDatabaseURL)
        if case .sqlite(let path) = location, !FileManager.default.fileExists(atPath: path) {
            throw DatabaseCareError("there is no SQLite database at \(path) (check --database / --data-dir)")
        }
        let database = try await DatabaseFactory.open(location, sqliteDurability: configuration.sqliteDurability, logger: logger)
        do {
            try Migrator.checkCompatible(applied: try await database.read { db in try await Migrator.appliedVersions(on: db) })
            let result = try await body(database)
            await database.shutdown()
            return result
        } catch {
            await database.shutdown()
            throw error
        }
    }

    /// What a rotation did.
    public struct Rotation: Sendable {
        /// Values re-sealed, per table.
        public let resealed: [String: Int]
        public let oldFingerprint: String
        public let newFingerprint: String
        /// The sandbox key file rewritten with the new key, when the old key came from one.
        public let rewrittenKeyFile: String?
    }

    /// Re-seals every sealed secret of the configured database from the configured master key
    /// to `newKey` (base64) in one transaction (``SealedSecrets/rotate(from:to:in:)``): the
    /// database ends all under the old key or all under the new one, whenever the process
    /// dies. Every gateway on the database must be stopped (SQLite: refused while another
    /// process has the file open), and started again with the new key: they cache opened
    /// API secrets, and a gateway still running on the old key would seal new secrets under
    /// it. `willRotate` runs once the database is open and checked, just before the
    /// transaction. In the sandbox, a key kept in `<data-dir>/master.key` is replaced there.
    public static func rotateMasterKey(
        _ configuration: GatewayConfiguration, newKey: String, logger: Logger, willRotate: @Sendable (Int) -> Void = { _ in }
    ) async throws -> Rotation {
        guard let current = try MasterKeyStore.existingSecretBox(for: configuration) else {
            throw DatabaseCareError("no master key is configured (STABLEGATE_MASTER_KEY), so there is nothing to rotate from")
        }
        let new: SecretBox
        do {
            new = try SecretBox(base64MasterKey: newKey)
        } catch {
            throw DatabaseCareError("the new master key cannot be used: \(error)")
        }
        guard new.fingerprint != current.box.fingerprint else {
            throw DatabaseCareError("the new master key is the configured one; generate a new one with `openssl rand -base64 32`")
        }
        if case .sqlite(let path) = try DatabaseLocation(url: configuration.resolvedDatabaseURL), FileManager.default.fileExists(atPath: path) {
            try await SQLiteFile.refuseIfInUse(path, logger: logger)
        }
        // Opening migrates and checks the current key against the database's check value.
        let environment = try await GatewayEnvironment.open(configuration, logger: logger)
        let resealed: [String: Int]
        do {
            let tally = try await SealedSecrets.tally(keys: [current.box], in: environment.database)
            willRotate(tally.total)
            resealed = try await SealedSecrets.rotate(from: current.box, to: new, in: environment.database)
            await environment.close()
        } catch {
            await environment.close()
            throw error
        }
        var rewritten: String?
        if let file = current.file {
            try MasterKeyStore.replaceKeyFile(file, with: newKey)
            rewritten = file
        }
        return Rotation(resealed: resealed, oldFingerprint: current.box.fingerprint, newFingerprint: new.fingerprint, rewrittenKeyFile: rewritten)
    }
}

/// A backup, restore or key operation refused, with what to do; nothing was changed.
public struct DatabaseCareError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
