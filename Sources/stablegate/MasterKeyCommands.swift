import ArgumentParser
import Foundation
import Logging
import StableGateApp
import StableGateDomain
import StableGateStore

/// `stablegate keys rotate-master` and `keys verify-master`: the master key that seals the
/// stored secrets (the work is in ``DatabaseCare``, which `doctor` shares).
extension KeysCommand {
    struct RotateMaster: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-master",
            abstract: "Re-seal every stored secret under a new master key, in one transaction. Stop every gateway first.",
            discussion: """
                The new key comes from --new-key-file, STABLEGATE_NEW_MASTER_KEY or --new-key (which other users can see in the \
                process list). Afterwards every gateway must be started with the new key (STABLEGATE_MASTER_KEY); the old key no \
                longer opens this database. Interrupted at any point, the database is left entirely under the old key or \
                entirely under the new one: `stablegate keys verify-master --key-file NEW` says which.
                """)

        @OptionGroup var global: GlobalOptions

        @Option(name: .customLong("new-key"), help: "The new master key (base64 of 32 random bytes).")
        var newKey: String?

        @Option(name: .customLong("new-key-file"), help: "A file holding the new master key.")
        var newKeyFile: String?

        func run() async throws {
            let key = try newMasterKey()
            let rotation = try await DatabaseCare.rotateMasterKey(try await global.load(), newKey: key, logger: global.logger(fallback: .warning)) {
                count in
                // Unbuffered, so whoever watches the process sees the transaction begin.
                FileHandle.standardError.write(Data("re-sealing \(count) sealed secrets under the new master key in one transaction\n".utf8))
            }
            let tables = rotation.resealed.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            print(
                """
                re-sealed \(rotation.resealed.values.reduce(0, +)) secrets (\(tables.isEmpty ? "none stored" : tables)) from master key \
                \(rotation.oldFingerprint) to \(rotation.newFingerprint).
                """)
            if let file = rotation.rewrittenKeyFile {
                print("\(file) now holds the new key.")
            } else {
                print(
                    """
                    Now set STABLEGATE_MASTER_KEY to the new key wherever a gateway or command runs on this database, then start \
                    the gateways. The old key no longer opens it.
                    """)
            }
        }

        private func newMasterKey() throws -> String {
            let given = [newKeyFile != nil, newKey != nil].filter { $0 }.count
            guard given <= 1 else { throw ValidationError("give the new key once: --new-key-file or --new-key") }
            if let newKeyFile {
                guard let data = FileManager.default.contents(atPath: newKeyFile) else { throw ValidationError("cannot read \(newKeyFile)") }
                return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            if let newKey { return newKey }
            if let key = ProcessInfo.processInfo.environment["STABLEGATE_NEW_MASTER_KEY"], !key.isEmpty { return key }
            throw ValidationError("no new master key: give --new-key-file FILE, STABLEGATE_NEW_MASTER_KEY or --new-key (`openssl rand -base64 32`)")
        }
    }

    struct VerifyMaster: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify-master",
            abstract: "Say which master key opens the database's sealed secrets (reads only).",
            discussion: """
                Tries every sealed secret with the configured master key and with each --key / --key-file, one line per key. \
                Exits 0 when the first key tried (the configured one, when there is one) opens them all, 1 otherwise.
                """)

        @OptionGroup var global: GlobalOptions

        @Option(name: .customLong("key"), help: "Also try this master key (base64; repeatable).")
        var keys: [String] = []

        @Option(name: .customLong("key-file"), help: "Also try the master key in this file (repeatable).")
        var keyFiles: [String] = []

        @Flag(help: "Print one JSON object.")
        var json = false

        func run() async throws {
            let configuration = try await global.load()
            var candidates: [DatabaseCare.CandidateKey] = []
            if let configured = try DatabaseCare.configuredKey(configuration) { candidates.append(configured) }
            for (index, key) in keys.enumerated() {
                do {
                    candidates.append(.init(source: "--key #\(index + 1)", box: try SecretBox(base64MasterKey: key)))
                } catch {
                    throw ValidationError("--key #\(index + 1): \(error)")
                }
            }
            for file in keyFiles {
                guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
                do {
                    candidates.append(.init(source: "--key-file \(file)", box: try SecretBox(base64MasterKey: String(decoding: data, as: UTF8.self))))
                } catch {
                    throw ValidationError("--key-file \(file): \(error)")
                }
            }
            guard !candidates.isEmpty else { throw ValidationError("no master key is configured and none was given with --key or --key-file") }
            let report = try await DatabaseCare.withDatabase(configuration, logger: global.logger(fallback: .warning)) { database in
                try await DatabaseCare.checkKeys(candidates, in: database)
            }
            if json {
                let tally = report.tally
                let keys = zip(candidates, tally.openedBy).map { key, opened in
                    JSONValue.object([("source", .string(key.source)), ("fingerprint", .string(key.box.fingerprint)), ("opens", .int(opened))])
                }
                print(
                    JSONValue.object([
                        ("total", .int(tally.total)),
                        ("tables", .object(tally.totalByTable.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })),
                        ("keys", .array(keys)), ("opened_by_none", .int(tally.openedByNone)),
                        ("opens_everything", .stringOrNull(report.keyOpeningEverything?.source)),
                    ]).serialized)
            } else {
                for line in report.lines { print(line) }
            }
            guard report.tally.keyOpeningEverything == 0 else { throw ExitCode(1) }
        }
    }
}
