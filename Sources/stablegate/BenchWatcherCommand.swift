import ArgumentParser
import Foundation
import StableGateApp
import StableGateBenchmarks
import StableGateDomain
import StableGateEthereum

/// `stablegate bench-watcher`: the cost per block of watching many open intents (used by
/// scripts/bench-watcher.sh; needs the sandbox chain).
struct BenchWatcherCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-watcher", abstract: "Measure the chain watcher's cost per block with many open intents.", shouldDisplay: false)

    @OptionGroup var global: GlobalOptions
    @Option(help: "Open intents to load.") var intents = 100_000
    @Option(help: "Token transfers to send (one block each on the sandbox chain).") var transfers = 200
    @Option(name: .customLong("state-file"), help: "The sandbox chain's state file.") var stateFile: String
    @Option(help: "Instead: pay this many orders in a burst while the watcher runs (detection under forwarding load).") var burst: Int?
    @Option(name: .customLong("poll-ms"), help: "The watcher's poll interval for --burst.") var pollMilliseconds = 200

    func run() async throws {
        if let burst {
            let result = try await global.withEnvironment { environment -> WatcherBenchmark.BurstResult in
                guard let chain = environment.chains.first else { throw ValidationError("pass --chains with the sandbox chains file") }
                return try await WatcherBenchmark.burst(
                    environment: environment, chain: chain, payerKeys: try payerKeys(), payments: burst,
                    pollInterval: .milliseconds(pollMilliseconds),
                    logger: environment.logger)
            }
            print(
                String(
                    format: "burst payments=%d poll_ms=%d detect_p50_ms=%.0f detect_p95_ms=%.0f detect_max_ms=%.0f settlements_forwarding_or_done=%d",
                    result.payments, result.pollMilliseconds, result.percentile(0.5), result.percentile(0.95), result.percentile(1),
                    result.settlementsForwarded))
            return
        }
        let result = try await global.withEnvironment { environment -> WatcherBenchmark.Result in
            guard let chain = environment.chains.first else { throw ValidationError("pass --chains with the sandbox chains file") }
            return try await WatcherBenchmark.run(
                environment: environment, chain: chain, payerKeys: try payerKeys(), openIntents: intents, transfers: transfers,
                logger: environment.logger)
        }
        print(
            String(
                format: "open_intents=%d blocks=%d transfers_to_intents=%d load_s=%.1f scan_s=%.3f scan_ms_per_block=%.2f confirm_s=%.3f",
                result.openIntents, result.blocks, result.transfersToIntents, result.loadSeconds, result.scanSeconds, result.scanMillisecondsPerBlock,
                result.confirmSeconds))
    }
}

extension BenchWatcherCommand {
    /// The sandbox's funded test accounts 1–4, which pay in the benchmark.
    func payerKeys() throws -> [[UInt8]] {
        guard let data = FileManager.default.contents(atPath: stateFile), let json = try? JSONParser.parse(Array(data)),
            case .array(let accounts)? = json["chains"]?.arrayFirst?["accounts"]
        else { throw ValidationError("cannot read \(stateFile)") }
        return accounts[1...4].compactMap { account -> [UInt8]? in
            if case .string(let key)? = account["private_key"] { return Hex.decode(key) }
            return nil
        }
    }
}

extension JSONValue {
    fileprivate var arrayFirst: JSONValue? {
        if case .array(let values) = self { return values.first }
        return nil
    }
}
