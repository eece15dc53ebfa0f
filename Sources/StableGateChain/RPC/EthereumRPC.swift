import BigInt
import StableGateDomain

/// Typed Ethereum JSON-RPC calls over ``JSONRPCClient``.
public struct EthereumRPC: Sendable {
    public let client: JSONRPCClient

    public init(client: JSONRPCClient) {
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
        try quantity64(try await client.call("eth_chainId", []), "eth_chainId")
    }

    public func blockNumber() async throws -> UInt64 {
        try quantity64(try await client.call("eth_blockNumber", []), "eth_blockNumber")
    }

    /// The header of block `number`, or nil when the chain is shorter.
    public func block(_ number: UInt64) async throws -> BlockHeader? {
        try await header(client.call("eth_getBlockByNumber", [.string(Hex.quantity(number)), .bool(false)]))
    }

    /// The header of the latest block.
    public func latestBlock() async throws -> BlockHeader {
        guard let header = try await header(client.call("eth_getBlockByNumber", [.string("latest"), .bool(false)])) else {
            throw JSONRPCError.unexpectedResult(method: "eth_getBlockByNumber", detail: "no latest block")
        }
        return header
    }

    private func header(_ value: JSONValue) throws -> BlockHeader? {
        if value == .null { return nil }
        guard case .string(let hash)? = value["hash"] else {
            throw JSONRPCError.unexpectedResult(method: "eth_getBlockByNumber", detail: "no hash")
        }
        var baseFee: BigUInt?
        if case .string(let text)? = value["baseFeePerGas"] { baseFee = Hex.parseQuantity(text) }
        return BlockHeader(
            number: try quantity64(value["number"], "block.number"), hash: hash.lowercased(),
            timestamp: try quantity64(value["timestamp"], "block.timestamp"), baseFeePerGas: baseFee)
    }

    /// `Transfer`-style logs of `addresses` in `[from, to]` whose topic0 is `topic0`.
    public func logs(from: UInt64, to: UInt64, addresses: [EthereumAddress], topic0: [UInt8]) async throws -> [Log] {
        let filter = JSONValue.object([
            ("fromBlock", .string(Hex.quantity(from))), ("toBlock", .string(Hex.quantity(to))),
            ("address", .array(addresses.map { .string($0.lowercased) })), ("topics", .array([.string(Hex.encode(topic0))])),
        ])
        guard case .array(let entries) = try await client.call("eth_getLogs", [filter]) else {
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
            return Log(
                address: token, topics: topics, data: Hex.decode(data) ?? [], blockNumber: try quantity64(entry["blockNumber"], "log.blockNumber"),
                blockHash: blockHash.lowercased(), transactionHash: txHash.lowercased(), logIndex: try quantity64(entry["logIndex"], "log.logIndex"),
                removed: removed)
        }
    }

    /// The receipt of a mined transaction, nil while pending or unknown.
    public func receipt(_ transactionHash: String) async throws -> Receipt? {
        let value = try await client.call("eth_getTransactionReceipt", [.string(transactionHash)])
        if value == .null { return nil }
        guard case .string(let blockHash)? = value["blockHash"] else { return nil }
        let status = try quantity(value["status"], "receipt.status")
        return Receipt(
            transactionHash: transactionHash.lowercased(), blockNumber: try quantity64(value["blockNumber"], "receipt.blockNumber"),
            blockHash: blockHash.lowercased(), succeeded: status == 1, gasUsed: try quantity(value["gasUsed"], "receipt.gasUsed"))
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
        return try quantity64(try await client.call("eth_estimateGas", [call]), "eth_estimateGas")
    }

    /// Broadcasts a signed transaction and returns its hash. A node that already has it
    /// ("already known") counts as success: rebroadcasting after a crash is safe.
    public func sendRawTransaction(_ signed: EthereumTransaction.Signed) async throws -> String {
        do {
            guard case .string(let hash) = try await client.call("eth_sendRawTransaction", [.string(signed.rawHex)]) else {
                throw JSONRPCError.unexpectedResult(method: "eth_sendRawTransaction", detail: "not a hash")
            }
            return hash.lowercased()
        } catch JSONRPCError.node(_, let message) where message.lowercased().contains("already known") || message.lowercased().contains("known transaction") {
            return signed.hashHex
        }
    }

    /// The next nonce of `address` (`pending` counts transactions not yet mined).
    public func transactionCount(_ address: EthereumAddress, pending: Bool = true) async throws -> UInt64 {
        try quantity64(try await client.call("eth_getTransactionCount", [.string(address.lowercased), .string(pending ? "pending" : "latest")]), "eth_getTransactionCount")
    }

    /// The native-coin balance in wei.
    public func balance(_ address: EthereumAddress) async throws -> BigUInt {
        try quantity(try await client.call("eth_getBalance", [.string(address.lowercased), .string("latest")]), "eth_getBalance")
    }

    /// `eth_gasPrice`.
    public func gasPrice() async throws -> BigUInt {
        try quantity(try await client.call("eth_gasPrice", []), "eth_gasPrice")
    }

    /// `eth_maxPriorityFeePerGas`.
    public func maxPriorityFeePerGas() async throws -> BigUInt {
        try quantity(try await client.call("eth_maxPriorityFeePerGas", []), "eth_maxPriorityFeePerGas")
    }

    private func quantity(_ value: JSONValue?, _ what: String) throws -> BigUInt {
        guard case .string(let text)? = value, let number = Hex.parseQuantity(text) else {
            throw JSONRPCError.unexpectedResult(method: what, detail: "not a hex quantity")
        }
        return number
    }

    private func quantity64(_ value: JSONValue?, _ what: String) throws -> UInt64 {
        guard let number = UInt64(exactly: try quantity(value, what)) else {
            throw JSONRPCError.unexpectedResult(method: what, detail: "out of range")
        }
        return number
    }
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
