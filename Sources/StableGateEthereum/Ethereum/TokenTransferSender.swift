import BigInt

/// Sends an ERC-20 `transfer` signed with a private key: what a customer's wallet does, used
/// by `stablegate sandbox pay` and the tests.
public struct TokenTransferSender: Sendable {
    public let rpc: EthereumRPC
    public let chainId: UInt64

    public init(rpc: EthereumRPC, chainId: UInt64) {
        self.rpc = rpc
        self.chainId = chainId
    }

    /// Signs and broadcasts `token.transfer(to, amount)` from the key's address; returns the hash.
    public func send(token: EthereumAddress, to recipient: EthereumAddress, amount: BigUInt, privateKey: [UInt8]) async throws -> String {
        let sender = try EthereumAddress(privateKey: privateKey)
        let data = ERC20.transferCall(to: recipient, amount: amount)
        let nonce = try await rpc.transactionCount(sender, pending: true)
        let latest = try await rpc.latestBlock()
        let fees: EthereumTransaction.Fees
        if let baseFee = latest.baseFeePerGas {
            let priority = (try? await rpc.maxPriorityFeePerGas()) ?? 1_000_000_000
            fees = .eip1559(maxFeePerGas: baseFee * 2 + priority, maxPriorityFeePerGas: priority)
        } else {
            fees = .legacy(gasPrice: try await rpc.gasPrice())
        }
        let gas = try await rpc.estimateGas(from: sender, to: token, data: data)
        let transaction = EthereumTransaction(chainId: chainId, nonce: nonce, fees: fees, gasLimit: gas * 5 / 4, to: token, data: data)
        return try await rpc.sendRawTransaction(try transaction.signed(with: privateKey))
    }
}
