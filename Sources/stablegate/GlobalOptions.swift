import ArgumentParser
import Foundation
import Logging
import StableGateApp

/// Options every command takes. Each falls back to its `STABLEGATE_*` environment variable,
/// then to the `--config` file, then to the default.
struct GlobalOptions: ParsableArguments {
    @Option(help: "Database URL: sqlite:PATH or postgres://user:pass@host:port/db (env STABLEGATE_DATABASE_URL).")
    var database: String?

    @Option(name: .customLong("data-dir"), help: "Data directory (default ./.stablegate; env STABLEGATE_DATA_DIR).")
    var dataDirectory: String?

    @Option(help: "sandbox or production (env STABLEGATE_MODE).")
    var mode: String?

    @Option(help: "JSON configuration file (keys as in the README).")
    var config: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String?

    @Option(help: "Chains file to watch (env STABLEGATE_CHAINS_FILE).")
    var chains: String?

    /// Loads the configuration with these flags (and any extra ones) on top.
    func load(extra: [String: String?] = [:]) async throws -> GatewayConfiguration {
        var overrides: [String: String] = [:]
        if let database { overrides["database.url"] = database }
        if let dataDirectory { overrides["data.dir"] = dataDirectory }
        if let mode { overrides["mode"] = mode }
        if let chains { overrides["chains.file"] = chains }
        for (key, value) in extra { if let value { overrides[key] = value } }
        return try await ConfigurationLoader.load(overrides: overrides, configFile: config)
    }

    /// A logger writing to standard error at the chosen level (default: `fallback`).
    func logger(fallback: Logger.Level) -> Logger {
        var logger = Logger(label: "stablegate")
        logger.logLevel = logLevel.flatMap(Logger.Level.init(rawValue:)) ?? fallback
        return logger
    }

    /// Opens the environment for an administrative command, runs `body`, closes it.
    func withEnvironment<T>(extra: [String: String?] = [:], _ body: (GatewayEnvironment) async throws -> T) async throws -> T {
        let environment = try await GatewayEnvironment.open(try await load(extra: extra), logger: logger(fallback: .warning))
        do {
            let result = try await body(environment)
            await environment.close()
            return result
        } catch {
            await environment.close()
            throw error
        }
    }
}

/// Prints a JSON object of string fields, keys in the given order.
func printJSON(_ fields: [(String, String?)]) {
    let members = fields.map { key, value -> String in
        "  " + jsonString(key) + ": " + (value.map(jsonString) ?? "null")
    }
    print("{\n" + members.joined(separator: ",\n") + "\n}")
}

func jsonString(_ text: String) -> String {
    var output = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": output += "\\\""
        case "\\": output += "\\\\"
        case "\n": output += "\\n"
        default:
            if scalar.value < 0x20 { output += String(format: "\\u%04x", scalar.value) } else { output.unicodeScalars.append(scalar) }
        }
    }
    return output + "\""
}
