import Foundation
import Logging
import SQLKit
import SQLiteKit
import SQLiteNIO

#if canImport(Glibc)
import Glibc
#endif

/// Whole-file operations on an SQLite database: an online backup of a running gateway's
/// database, checking a copy before it is trusted, and putting a checked copy in place.
///
/// Every file written here is first written beside its destination under a temporary name
/// (mode 600), synced, checked, and only then renamed over the destination: a crash leaves the
/// destination as it was, never half-written.
public enum SQLiteFile {
    /// What a checked database file holds.
    public struct Summary: Sendable {
        /// The file's size in bytes.
        public let bytes: Int64
        /// The schema versions applied to it.
        public let appliedVersions: [Int]
        /// Merchants and checkout intents in it.
        public let merchants: Int
        public let intents: Int

        /// The newest schema version applied.
        public var schemaVersion: Int { appliedVersions.max() ?? 0 }
    }

    /// Copies the database at `source` to `destination` while other processes keep using it:
    /// `VACUUM INTO` reads one consistent snapshot (a WAL read transaction, which never blocks
    /// the gateway's writer) and writes a compact copy. Refuses an existing `destination`
    /// unless `overwrite`. The copy is integrity-checked before it takes the destination's name.
    public static func backup(database source: String, to destination: String, overwrite: Bool, logger: Logger) async throws -> Summary {
        guard FileManager.default.fileExists(atPath: source) else {
            throw SQLiteFileError("there is no SQLite database at \(source) (check --database / --data-dir)")
        }
        try refuseExisting(destination, overwrite: overwrite)
        let staged = try createStagingFile(beside: destination)
        do {
            try await withConnection(source, logger: logger) { db in
                try await db.raw("PRAGMA busy_timeout=10000").run()
                try await db.raw("VACUUM INTO \(bind: staged)").run()
            }
            let summary = try await check(staged, logger: logger) { _ in }
            try install(staged, as: destination)
            return summary
        } catch {
            removeWithCompanions(staged)
            throw error
        }
    }

    /// Copies `source` beside `target` (mode 600) for ``check(_:logger:_:)`` and
    /// ``install(_:as:)``, and returns the copy's path. Nothing is read from `source` by SQLite,
    /// so an untrusted file is never opened in place.
    public static func stageCopy(of source: String, beside target: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory), !isDirectory.boolValue,
            let input = FileHandle(forReadingAtPath: source)
        else {
            throw SQLiteFileError("cannot read \(source)")
        }
        defer { try? input.close() }
        let staged = try createStagingFile(beside: target)
        do {
            let output = try FileHandle(forWritingTo: URL(fileURLWithPath: staged))
            defer { try? output.close() }
            while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
                try output.write(contentsOf: chunk)
            }
            return staged
        } catch {
            removeWithCompanions(staged)
            throw error
        }
    }

    /// Checks a file this process owns (a staged copy): it is an SQLite database, `PRAGMA
    /// integrity_check` says ok, it has StableGate's schema, and `extra` (more checks on it)
    /// passes. Leaves it as one self-contained file (rollback journal mode, no `-wal`), synced.
    public static func check(
        _ path: String, logger: Logger, _ extra: @Sendable (any SQLDatabase) async throws -> Void
    ) async throws -> Summary {
        let (versions, merchants, intents) = try await withConnection(path, logger: logger) { db in
            let integrity: [String]
            do {
                _ = try await db.raw("PRAGMA journal_mode=DELETE").all()
                integrity = try await db.raw("PRAGMA integrity_check").all().map { try $0.decode(column: "integrity_check", as: String.self) }
            } catch {
                throw SQLiteFileError("it is not a readable SQLite database (\(String(reflecting: error)))")
            }
            guard integrity == ["ok"] else {
                throw SQLiteFileError("PRAGMA integrity_check failed: \(integrity.prefix(5).joined(separator: "; "))")
            }
            let versions = try await Migrator.appliedVersions(on: db)
            guard !versions.isEmpty else { throw SQLiteFileError("it is an SQLite database but not StableGate's (no schema_migrations)") }
            try await extra(db)
            let merchants = try await db.raw("SELECT COUNT(*) AS n FROM merchants").first()?.decode(column: "n", as: Int.self) ?? 0
            let intents = try await db.raw("SELECT COUNT(*) AS n FROM checkout_intents").first()?.decode(column: "n", as: Int.self) ?? 0
            return (versions, merchants, intents)
        }
        try sync(path)
        let bytes = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
        return Summary(bytes: bytes, appliedVersions: versions, merchants: merchants, intents: intents)
    }

    /// Refuses when another process has the database at `path` open (a running gateway keeps
    /// its connections, and with them a shared lock, for its whole life). When none has, its
    /// write-ahead log is checkpointed into the file and removed, so the file alone is the
    /// database: what ``install(_:as:)`` may then replace.
    public static func refuseIfInUse(_ path: String, logger: Logger) async throws {
        try await withConnection(path, logger: logger) { db in
            do {
                _ = try await db.raw("PRAGMA journal_mode=DELETE").all()
            } catch let error as SQLiteError where [.busy, .locked, .busyTimeout, .busyInRecovery].contains(error.reason) {
                throw SQLiteFileError(
                    "\(path) is in use by another process (a running gateway?): stop every gateway on it first (\(String(reflecting: error)))")
            }
        }
    }

    /// Puts the checked file `staged` in place of `target` by rename (atomic), after removing
    /// `target`'s stale `-wal`, `-shm` and `-journal` (an old log applied to a new file would
    /// corrupt it), and syncs the directory.
    public static func install(_ staged: String, as target: String) throws {
        for suffix in ["-wal", "-shm", "-journal"] where FileManager.default.fileExists(atPath: target + suffix) {
            try FileManager.default.removeItem(atPath: target + suffix)
        }
        try AtomicFile.rename(staged, to: target)
    }

    /// Removes a staged file and whatever SQLite left beside it.
    public static func removeWithCompanions(_ path: String) {
        for suffix in ["", "-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    /// Throws when `path` exists and may not be overwritten.
    public static func refuseExisting(_ path: String, overwrite: Bool) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return }
        guard !isDirectory.boolValue else { throw SQLiteFileError("\(path) is a directory; give a file name") }
        guard overwrite else { throw SQLiteFileError("\(path) already exists; pass --force to replace it") }
    }

    /// An empty file (mode 600) beside `destination`, under a name no one else uses.
    static func createStagingFile(beside destination: String) throws -> String {
        let url = URL(fileURLWithPath: destination)
        let directory = url.deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let staged = directory + "/." + url.lastPathComponent + "." + UUID().uuidString.prefix(8).lowercased() + ".tmp"
        guard FileManager.default.createFile(atPath: staged, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw SQLiteFileError("cannot create \(staged) (is \(directory) writable?)")
        }
        return staged
    }

    /// One plain connection to `path` (no WAL switch, no reader pool), closed afterwards.
    static func withConnection<T: Sendable>(
        _ path: String, logger: Logger, _ body: @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T {
        let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        do {
            let result = try await body(connection.sql(queryLogLevel: nil))
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    static func sync(_ path: String) throws { try AtomicFile.sync(path) }
}

/// Replacing a file in one step: write a sibling, sync it, rename it over the target, sync
/// the directory. A reader (or a crash) sees the old file or the new one, never a mix.
public enum AtomicFile {
    /// Renames `staged` over `target` (same directory) and syncs the directory.
    public static func rename(_ staged: String, to target: String) throws {
        #if canImport(Glibc)
        guard Glibc.rename(staged, target) == 0 else {
            throw SQLiteFileError("cannot rename \(staged) to \(target): \(String(cString: strerror(errno)))")
        }
        #else
        _ = try FileManager.default.replaceItemAt(URL(fileURLWithPath: target), withItemAt: URL(fileURLWithPath: staged))
        #endif
        try sync(URL(fileURLWithPath: target).deletingLastPathComponent().path)
    }

    /// fsync of a file or directory: the bytes (or the rename) are on disk before we say so.
    public static func sync(_ path: String) throws {
        #if canImport(Glibc)
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw SQLiteFileError("cannot open \(path) to sync it: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw SQLiteFileError("cannot sync \(path): \(String(cString: strerror(errno)))") }
        #endif
    }
}

/// A database file that cannot be backed up, restored or used as asked; says why.
public struct SQLiteFileError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
