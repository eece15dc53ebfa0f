import BigInt
import Foundation
import StableGateDomain
import StableGateEthereum
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A sandbox chain process (tools/sandbox-chain) started for a test suite: two real EVMs on
/// free loopback ports. Needs `STABLEGATE_TEST_PYTHON`, a Python with the sandbox chain's
/// requirements (the README's test command sets it to `.venv/bin/python`).
public final class SandboxChain: @unchecked Sendable {
    /// An account of the sandbox chain, funded with ether and every token.
    public struct Account: Sendable {
        public let address: String
        public let privateKey: String
    }

    /// One of the served chains.
    public struct Chain: Sendable {
        public let chainId: Int64
        public let rpcURL: String
        public let accounts: [Account]
        /// Token symbol → contract (checksummed), decimals.
        public let tokens: [String: (contract: String, decimals: Int)]
    }

    public let chains: [Chain]
    /// The chains file the gateway reads.
    public let chainsFile: String
    public let stateFile: String
    private let process: Process
    private let directory: String

    private static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Starts a sandbox chain; `confirmations` and `pollIntervalMilliseconds` go into its chains file.
    public static func start(confirmations: Int = 2, pollIntervalMilliseconds: Int = 100) throws -> SandboxChain {
        // The ports are free when picked, but a server of a test running in parallel may bind
        // one before the chain does; then the chain exits at once and another pair is tried.
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try launch(confirmations: confirmations, pollIntervalMilliseconds: pollIntervalMilliseconds)
            } catch let error as TestSetupError where attempt < 5 && error.description.contains("Address already in use") {
                continue
            }
        }
    }

    private static func launch(confirmations: Int, pollIntervalMilliseconds: Int) throws -> SandboxChain {
        guard let python = ProcessInfo.processInfo.environment["STABLEGATE_TEST_PYTHON"], !python.isEmpty else {
            throw TestSetupError("STABLEGATE_TEST_PYTHON is not set; run the README's test command (it creates .venv with the sandbox chain)")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sg-chain-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let port = try freePortPair()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [
            repositoryRoot.appendingPathComponent("tools/sandbox-chain/sandbox_chain.py").path, "--port", String(port),
            "--chains-file", directory + "/chains.json", "--state-file", directory + "/state.json",
            "--confirmations", String(confirmations), "--poll-interval-ms", String(pollIntervalMilliseconds), "--exit-with-parent",
        ]
        let log =
            FileHandle(forWritingAtPath: directory + "/chain.log")
            ?? {
                FileManager.default.createFile(atPath: directory + "/chain.log", contents: nil)
                return FileHandle(forWritingAtPath: directory + "/chain.log")!
            }()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: directory + "/state.json") {
            guard process.isRunning, Date() < deadline else {
                let output = (try? String(contentsOfFile: directory + "/chain.log", encoding: .utf8)) ?? ""
                process.terminate()
                throw TestSetupError("sandbox chain did not start:\n\(output)")
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return try SandboxChain(process: process, directory: directory)
    }

    private init(process: Process, directory: String) throws {
        self.process = process
        self.directory = directory
        self.chainsFile = directory + "/chains.json"
        self.stateFile = directory + "/state.json"
        let state = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: stateFile))) as! [String: Any]
        chains = (state["chains"] as! [[String: Any]]).map { chain in
            let accounts = (chain["accounts"] as! [[String: Any]]).map {
                Account(address: $0["address"] as! String, privateKey: $0["private_key"] as! String)
            }
            var tokens: [String: (String, Int)] = [:]
            for token in chain["tokens"] as! [[String: Any]] {
                tokens[token["symbol"] as! String] = (token["contract"] as! String, token["decimals"] as! Int)
            }
            return Chain(
                chainId: (chain["chain_id"] as! NSNumber).int64Value, rpcURL: chain["rpc_url"] as! String, accounts: accounts, tokens: tokens)
        }
    }

    /// Stops the process and removes its files.
    public func stop() {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Calls a JSON-RPC method of chain `index` (0: 6-decimal chain, 1: BSC-style chain).
    @discardableResult
    public func rpc(_ method: String, _ params: [JSONValue] = [], chain index: Int = 0) async throws -> JSONValue {
        try await JSONRPCClient(url: chains[index].rpcURL).call(method, params)
    }

    /// Mines `count` empty blocks on chain `index`.
    public func mine(_ count: Int, chain index: Int = 0) async throws {
        try await rpc("evm_mine", [.int(count)], chain: index)
    }

    /// A token balance (base units) of `owner` on chain `index`.
    public func tokenBalance(_ symbol: String, of owner: String, chain index: Int = 0) async throws -> BigUInt {
        let rpc = EthereumRPC(url: chains[index].rpcURL)
        return try await rpc.tokenBalance(
            token: EthereumAddress(chains[index].tokens[symbol]!.contract)!, owner: EthereumAddress(owner.lowercased())!)
    }

    private static func freePortPair() throws -> Int {
        // The chain serves on port p and p + 1: find a free pair.
        for _ in 0..<50 {
            let first = boundPort(0)
            if first > 0, boundPort(first + 1) == first + 1 { return first }
        }
        throw TestSetupError("no two consecutive free ports")
    }

    /// Binds a loopback socket to `port` (0 = any), closes it, and returns the port it got
    /// (0 when binding failed).
    private static func boundPort(_ port: Int) -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { return 0 }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: actual.sin_port))
    }
}
