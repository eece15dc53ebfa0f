import ArgumentParser
import Foundation
import Logging
import StableGateApp
import StableGateStore

/// `stablegate backup --to FILE`: a consistent copy of the SQLite database, taken while the
/// gateway runs.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the SQLite database to a file while the gateway keeps running (PostgreSQL: use pg_dump, see the README).")

    @OptionGroup var global: GlobalOptions

    @Option(help: "The backup file to write (mode 600).")
    var to: String

    @Flag(help: "Replace the file if it exists.")
    var force = false

    func run() async throws {
        let configuration = try await global.load()
        let summary = try await DatabaseCare.backup(configuration, to: to, overwrite: force, logger: global.logger(fallback: .warning))
        print("wrote \(to): \(describe(summary)), integrity check ok")
    }
}

/// `stablegate restore --from FILE`: replaces the configured SQLite database with a checked
/// backup.
struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Replace the configured SQLite database with a backup, after checking it (integrity, schema version, master key).")

    @OptionGroup var global: GlobalOptions

    @Option(help: "The backup file, as written by `stablegate backup`.")
    var from: String

    @Flag(help: "Replace an existing database (refused while a process has it open).")
    var force = false

    func run() async throws {
        let configuration = try await global.load()
        let summary = try await DatabaseCare.restore(configuration, from: from, overwrite: force, logger: global.logger(fallback: .warning))
        print("restored \(from) to \(configuration.resolvedDatabaseURL): \(describe(summary))")
    }
}

/// One line about a database file.
func describe(_ summary: SQLiteFile.Summary) -> String {
    "\(summary.bytes) bytes, schema version \(summary.schemaVersion), \(summary.merchants) merchants, \(summary.intents) checkout intents"
}
