import BigInt
import StableGateDomain
import StableGateTestSupport
import Testing

@testable import StableGateEthereum

/// Transactions signed by this code, sent to a real EVM (py-evm), must be accepted and do
/// what they say.
@Suite("Against the sandbox chain", .serialized)
struct SandboxChainTests {
    static let chain = Result { try SandboxChain.start() }

    @Test("EIP-1559 and legacy token transfers signed here are mined, move balances and emit Transfer logs")
    func transactionsAreAccepted() async throws {
        let chain = try Self.chain.get()
        for (index, legacy) in [(0, false), (1, true)] {
            let served = chain.chains[index]
            let rpc = EthereumRPC(url: served.rpcURL)
            #expect(try await rpc.chainId() == UInt64(served.chainId))
            let key = try #require(Hex.decode(served.accounts[3].privateKey))
            let sender = try EthereumAddress(privateKey: key)
            let recipient = try #require(EthereumAddress(bytes: SystemIdentifierGenerator().randomBytes(20)))
            let token = try #require(EthereumAddress(served.tokens["USDT"]!.contract))
            let decimals = served.tokens["USDT"]!.decimals
            #expect(try await rpc.tokenDecimals(token) == decimals)
            let amount = BigUInt(1_234_567) * BigUInt(10).power(decimals - 6)
            let head = try await rpc.latestBlock()
            let fees: EthereumTransaction.Fees =
                legacy
                ? .legacy(gasPrice: try await rpc.gasPrice())
                : .eip1559(maxFeePerGas: (head.baseFeePerGas ?? 0) * 2 + 1_000_000_000, maxPriorityFeePerGas: 1_000_000_000)
            let transaction = EthereumTransaction(
                chainId: UInt64(served.chainId), nonce: try await rpc.transactionCount(sender), fees: fees, gasLimit: 80_000, to: token,
                data: ERC20.transferCall(to: recipient, amount: amount))
            let signed = try transaction.signed(with: key)
            let hash = try await rpc.sendRawTransaction(signed)
            #expect(hash == signed.hashHex)
            // Sending the same bytes again is harmless: already mined, so refused, never doubled.
            _ = try? await rpc.sendRawTransaction(signed)
            let receipt = try #require(try await rpc.receipt(hash))
            #expect(receipt.succeeded)
            #expect(try await rpc.tokenBalance(token: token, owner: recipient) == amount)
            let logs = try await rpc.logs(from: receipt.blockNumber, to: receipt.blockNumber + 1000, addresses: [token], topic0: ERC20.transferTopic)
            #expect(logs.count == 1)
            let transfer = try #require(logs.first.flatMap { ERC20.decodeTransfer(token: $0.address, topics: $0.topics, data: $0.data) })
            #expect(transfer == ERC20.Transfer(token: token, from: sender, to: recipient, amount: amount))
            #expect(logs.first?.blockHash == receipt.blockHash)
            #expect(try await rpc.block(receipt.blockNumber)?.hash == receipt.blockHash)
        }
    }

    @Test("An endpoint pool fails over from a dead endpoint, proves log ranges in one batch, and needs its head quorum")
    func endpointPool() async throws {
        let chain = try Self.chain.get()
        let served = chain.chains[0]
        let dead = "http://127.0.0.1:9"
        let pool = RPCEndpointPool(chainId: served.chainId, urls: [dead, served.rpcURL], timeout: .seconds(2))
        let rpc = EthereumRPC(client: pool)
        let head = try await EthereumRPC(url: served.rpcURL).blockNumber()
        #expect(try await rpc.blockNumber() >= head, "the dead first endpoint is skipped")
        #expect(pool.candidates().first == 1, "after its failure the dead endpoint is tried last")
        let token = try #require(served.tokens["USDT"]).contract
        let proven = try await rpc.provenLogs(from: 0, to: head, addresses: [try #require(EthereumAddress(token))], topic0: ERC20.transferTopic)
        #expect(proven.to == head && proven.toHash.hasPrefix("0x"), "a range is proven to its last block")
        let beyond = try await rpc.provenLogs(from: 0, to: head + 50, addresses: [try #require(EthereumAddress(token))], topic0: ERC20.transferTopic)
        #expect(beyond.to < head + 50, "blocks the node does not have are not claimed as scanned")

        let both = RPCEndpointPool(chainId: served.chainId, urls: [served.rpcURL, served.rpcURL + "/"], timeout: .seconds(2))
        #expect(try await both.head(quorum: 2) >= head)
        await #expect(throws: JSONRPCError.self, "one answer cannot make a quorum of two") {
            _ = try await RPCEndpointPool(chainId: served.chainId, urls: [dead, served.rpcURL], timeout: .seconds(2)).head(quorum: 2)
        }
    }
}
