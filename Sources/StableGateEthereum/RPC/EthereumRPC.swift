import BigInt
import Foundation
import StableGateDomain

/// Typed Ethereum JSON-RPC calls over one endpoint or a failover pool (``JSONRPCCalling``).
public struct EthereumRPC: Sendable {
    public let client: any JSONRPCCalling

    public init(client: any JSONRPCCalling) {
        self.client = client
    }

    public init(url: String) {
        self.client = JSONRPCClient(url: url)
    }

    /// A log as `eth_getLogs` returns it.
    public struct Log: Sendable, Equatable {
        public let address: EthereumAddress
        public let topics: [[UInt8]]
        public let data: [UInt8]
        public let blockNumber: UInt64
        public let blockHash: String
        public let transactionHash: String
        public let logIndex: UInt64
        public let removed: Bool
        /// The block's time, when the node includes it (recent geth and some providers do).
        public var blockTimestamp: UInt64? = nil
    }

    /// What the gateway reads of a receipt.
    public struct Receipt: Sendable, Equatable {
        public let transactionHash: String
        public let blockNumber: UInt64
        public let blockHash: String
        /// True when the transaction succeeded (status 1).
        public let succeeded: Bool
        public let gasUsed: BigUInt
    }

    /// What the gateway reads of a block header.
    public struct BlockHeader: Sendable, Equatable {
        public let number: UInt64
        public let hash: String
        public let timestamp: UInt64
        /// nil on chains without EIP-1559.
        public let baseFeePerGas: BigUInt?
    }

    public func chainId() async throws -> UInt64 {
        try Self.quantity64(try await client.call("eth_chainId", []), "eth_chainId")
    }

    public func blockNumber() async throws -> UInt64 {
        try Self.quantity64(try await client.call("eth_blockNumber", []), "eth_blockNumber")
    }

    /// The header of block `number`, or nil when the chain is shorter.
    public func block(_ number: UInt64) async throws -> BlockHeader? {
        try Self.header(try await client.call("eth_getBlockByNumber", [.string(Hex.quantity(number)), .bool(false)]))
    }

    /// The header of the latest block.
    public func latestBlock() async throws -> BlockHeader {
        guard let header = try Self.header(try await client.call("eth_getBlockByNumber", [.string("latest"), .bool(false)])) else {
            throw JSONRPCError.unexpectedResult(method: "eth_getBlockByNumber", detail: "no latest block")
        }
        return header
    }

    static func header(_ value: JSONValue) throws -> BlockHeader? {
        if value == .null { return nil }
        guard case .string(let hash)? = value["hash"] else {
            throw JSONRPCError.unexpectedResult(method: "eth_getBlockByNumber", detail: "no hash")
        }
        var baseFee: BigUInt?
        if case .string(let text)? = value["baseFeePerGas"] { baseFee = Hex.parseQuantity(text) }
        return BlockHeader(
            number: try Self.quantity64(value["number"], "block.number"), hash: hash.lowercased(),
            timestamp: try Self.quantity64(value["timestamp"], "block.timestamp"), baseFeePerGas: baseFee)
    }

    /// `Transfer`-style logs of `addresses` in `[from, to]` whose topic0 is `topic0`.
    public func logs(from: UInt64, to: UInt64, addresses: [EthereumAddress], topic0: [UInt8]) async throws -> [Log] {
        try Self.parseLogs(try await client.call("eth_getLogs", [Self.logFilter(from: from, to: to, addresses: addresses, topic0: topic0)]))
    }

    /// Logs of a range together with the proof that the endpoint which served them had the
    /// range's last block: see ``provenLogs(from:to:addresses:topic0:)``.
    public struct ProvenLogs: Sendable, Equatable {
        public let logs: [Log]
        /// The last block covered (at most the `to` asked for: less when the endpoint was behind).
        public let to: UInt64
        /// That block's hash and timestamp, as the serving endpoint returned them.
        public let toHash: String
        public let toTimestamp: UInt64
    }

    /// The logs of `[from, to]`, never silently short. A node — or the backend a load balancer
    /// picked — that lacks some of those blocks answers `eth_getLogs` with the logs of the blocks
    /// it has and no error, so an empty answer proves nothing by itself. Each endpoint is asked
    /// in **one JSON-RPC batch** (one HTTP request, so one backend) for block `to`, the logs,
    /// block `to` again and its latest block. The logs count only when both copies of block
    /// `to` are there with the same hash: that backend had the whole range before and after
    /// it answered, and no reorg replaced block `to` in between. Every log must lie in the
    /// range, and one in block `to` must carry that hash. When block `to` is missing, the same
    /// endpoint is asked again up to its own latest block (so a lagging endpoint still moves
    /// the scan as far as it can prove); an endpoint behind `from` is marked lagging and the
    /// next endpoint is tried. A node without batch support gets the four calls one by one.
    public func provenLogs(from: UInt64, to: UInt64, addresses: [EthereumAddress], topic0: [UInt8]) async throws -> ProvenLogs {
        let filter = { (to: UInt64) in Self.logFilter(from: from, to: to, addresses: addresses, topic0: topic0) }
        return try await client.firstAnswer("eth_getLogs") { endpoint -> ProvenLogs? in
            var end = to
            for _ in 0..<2 {
                let calls = [
                    JSONRPCCall("eth_getBlockByNumber", [.string(Hex.quantity(end)), .bool(false)]), JSONRPCCall("eth_getLogs", [filter(end)]),
                    JSONRPCCall("eth_getBlockByNumber", [.string(Hex.quantity(end)), .bool(false)]),
                    JSONRPCCall("eth_getBlockByNumber", [.string("latest"), .bool(false)]),
                ]
                let results: [Result<JSONValue, JSONRPCError>]
                do {
                    results = try await endpoint.batch(calls)
                } catch JSONRPCError.node(_, let message) where message.lowercased().contains("batch") {
                    var sequential: [Result<JSONValue, JSONRPCError>] = []
                    for call in calls {
                        do { sequential.append(.success(try await endpoint.call(call.method, call.params))) } catch let error as JSONRPCError {
                            sequential.append(.failure(error))
                        }
                    }
                    results = sequential
                }
                let before = try Self.header(try results[0].get()), after = try Self.header(try results[2].get())
                guard let before, let after else {
                    // This backend does not have block `end`: prove as far as it has.
                    guard let latest = try Self.header(try results[3].get()), latest.number >= from, latest.number < end else { return nil }
                    end = latest.number
                    continue
                }
                guard before.number == end, after.number == end, before.hash == after.hash else {
                    throw JSONRPCError.unexpectedResult(
                        method: "eth_getLogs", detail: "block \(end) changed while its logs were read (a reorg); asking again")
                }
                let logs = try Self.parseLogs(try results[1].get())
                for log in logs {
                    guard log.blockNumber >= from, log.blockNumber <= end else {
                        throw JSONRPCError.unexpectedResult(method: "eth_getLogs", detail: "a log of block \(log.blockNumber) outside \(from)…\(end)")
                    }
                    guard log.blockNumber != end || log.blockHash == before.hash else {
                        throw JSONRPCError.unexpectedResult(method: "eth_getLogs", detail: "a log of block \(end) from another fork")
                    }
                }
                return ProvenLogs(logs: logs, to: end, toHash: before.hash, toTimestamp: before.timestamp)
            }
            return nil
        }
    }

    static func logFilter(from: UInt64, to: UInt64, addresses: [EthereumAddress], topic0: [UInt8]) -> JSONValue {
        .object([
            ("fromBlock", .string(Hex.quantity(from))), ("toBlock", .string(Hex.quantity(to))),
            ("address", .array(addresses.map { .string($0.lowercased) })), ("topics", .array([.string(Hex.encode(topic0))])),
        ])
    }

    static func parseLogs(_ value: JSONValue) throws -> [Log] {
        guard case .array(let entries) = value else {
            throw JSONRPCError.unexpectedResult(method: "eth_getLogs", detail: "not an array")
        }
        return try entries.map { entry in
            guard case .string(let address)? = entry["address"], let token = EthereumAddress(address.lowercased()),
                case .array(let topicValues)? = entry["topics"], case .string(let data)? = entry["data"],
                case .string(let blockHash)? = entry["blockHash"], case .string(let txHash)? = entry["transactionHash"]
            else { throw JSONRPCError.unexpectedResult(method: "eth_getLogs", detail: "malformed log") }
            let topics = try topicValues.map { value -> [UInt8] in
                guard case .string(let text) = value, let bytes = Hex.decode(text) else {
                    throw JSONRPCError.unexpectedResult(method: "eth_getLogs", detail: "malformed topic")
                }
                return bytes
            }
            var removed = false
            if case .bool(let flag)? = entry["removed"] { removed = flag }
            var log = Log(
                address: token, topics: topics, data: Hex.decode(data) ?? [],
                blockNumber: try Self.quantity64(entry["blockNumber"], "log.blockNumber"),
                blockHash: blockHash.lowercased(), transactionHash: txHash.lowercased(),
                logIndex: try Self.quantity64(entry["logIndex"], "log.logIndex"),
                removed: removed)
            log.blockTimestamp = try? Self.quantity64(entry["blockTimestamp"], "log.blockTimestamp")
            return log
        }
    }

    /// The receipt of a mined transaction, nil while pending or unknown.
    public func receipt(_ transactionHash: String) async throws -> Receipt? {
        let value = try await client.call("eth_getTransactionReceipt", [.string(transactionHash)])
        if value == .null { return nil }
        guard case .string(let blockHash)? = value["blockHash"] else { return nil }
        let status = try Self.quantity(value["status"], "receipt.status")
        return Receipt(
            transactionHash: transactionHash.lowercased(), blockNumber: try Self.quantity64(value["blockNumber"], "receipt.blockNumber"),
            blockHash: blockHash.lowercased(), succeeded: status == 1, gasUsed: try Self.quantity(value["gasUsed"], "receipt.gasUsed"))
    }

    /// `eth_call` at the latest block.
    public func call(to: EthereumAddress, data: [UInt8]) async throws -> [UInt8] {
        let value = try await client.call(
            "eth_call", [.object([("to", .string(to.lowercased)), ("data", .string(Hex.encode(data)))]), .string("latest")])
        guard case .string(let text) = value, let bytes = Hex.decode(text) else {
            throw JSONRPCError.unexpectedResult(method: "eth_call", detail: "not hex")
        }
        return bytes
    }

    /// An ERC-20 balance.
    public func tokenBalance(token: EthereumAddress, owner: EthereumAddress) async throws -> BigUInt {
        BigUInt(Data(try await call(to: token, data: ERC20.balanceOfCall(owner))))
    }

    /// An ERC-20 token's `decimals()`.
    public func tokenDecimals(_ token: EthereumAddress) async throws -> Int {
        let word = try await call(to: token, data: ERC20.decimalsCall)
        guard word.count == 32, let value = Int(exactly: BigUInt(Data(word))), value <= 36 else {
            throw JSONRPCError.unexpectedResult(method: "decimals()", detail: "not a small integer")
        }
        return value
    }

    /// Gas needed for a call from `from`.
    public func estimateGas(from: EthereumAddress, to: EthereumAddress, value: BigUInt = 0, data: [UInt8]) async throws -> UInt64 {
        let call = JSONValue.object([
            ("from", .string(from.lowercased)), ("to", .string(to.lowercased)), ("value", .string(Hex.quantity(value))),
            ("data", .string(Hex.encode(data))),
        ])
        return try Self.quantity64(try await client.call("eth_estimateGas", [call]), "eth_estimateGas")
    }

    /// Broadcasts a signed transaction and returns its hash. A node that already has it
    /// ("already known") counts as success: rebroadcasting after a crash is safe.
    public func sendRawTransaction(_ signed: EthereumTransaction.Signed) async throws -> String {
        do {
            guard case .string(let hash) = try await client.call("eth_sendRawTransaction", [.string(signed.rawHex)]) else {
                throw JSONRPCError.unexpectedResult(method: "eth_sendRawTransaction", detail: "not a hash")
            }
            return hash.lowercased()
        } catch JSONRPCError.node(_, let message)
            where message.lowercased().contains("already known") || message.lowercased().contains("known transaction")
        {
            return signed.hashHex
        }
    }

    /// The next nonce of `address` (`pending` counts transactions not yet mined).
    public func transactionCount(_ address: EthereumAddress, pending: Bool = true) async throws -> UInt64 {
        try Self.quantity64(
            try await client.call("eth_getTransactionCount", [.string(address.lowercased), .string(pending ? "pending" : "latest")]),
            "eth_getTransactionCount")
    }

    /// The native-coin balance in wei.
    public func balance(_ address: EthereumAddress) async throws -> BigUInt {
        try Self.quantity(try await client.call("eth_getBalance", [.string(address.lowercased), .string("latest")]), "eth_getBalance")
    }

    /// `eth_gasPrice`.
    public func gasPrice() async throws -> BigUInt {
        try Self.quantity(try await client.call("eth_gasPrice", []), "eth_gasPrice")
    }

    /// `eth_maxPriorityFeePerGas`.
    public func maxPriorityFeePerGas() async throws -> BigUInt {
        try Self.quantity(try await client.call("eth_maxPriorityFeePerGas", []), "eth_maxPriorityFeePerGas")
    }

    static func quantity(_ value: JSONValue?, _ what: String) throws -> BigUInt {
        guard case .string(let text)? = value, let number = Hex.parseQuantity(text) else {
            throw JSONRPCError.unexpectedResult(method: what, detail: "not a hex quantity")
        }
        return number
    }

    static func quantity64(_ value: JSONValue?, _ what: String) throws -> UInt64 {
        guard let number = UInt64(exactly: try Self.quantity(value, what)) else {
            throw JSONRPCError.unexpectedResult(method: what, detail: "out of range")
        }
        return number
    }
}
