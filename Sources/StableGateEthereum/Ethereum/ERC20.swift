import BigInt
import Foundation

/// The parts of ERC-20 StableGate speaks: transfers, balances, decimals, and `Transfer` logs.
public enum ERC20 {
    /// topic0 of `Transfer(address,address,uint256)`.
    public static let transferTopic: [UInt8] = Keccak256.hash(Array("Transfer(address,address,uint256)".utf8))

    /// The 4-byte selector of a function signature.
    public static func selector(_ signature: String) -> [UInt8] {
        Array(Keccak256.hash(Array(signature.utf8)).prefix(4))
    }

    /// Calldata of `transfer(to, amount)`.
    public static func transferCall(to: EthereumAddress, amount: BigUInt) -> [UInt8] {
        selector("transfer(address,uint256)") + to.word + amount.paddedBytes(width: 32)!
    }

    /// Calldata of `balanceOf(owner)`.
    public static func balanceOfCall(_ owner: EthereumAddress) -> [UInt8] {
        selector("balanceOf(address)") + owner.word
    }

    /// Calldata of `decimals()`.
    public static let decimalsCall: [UInt8] = selector("decimals()")

    /// A decoded `Transfer` event.
    public struct Transfer: Sendable, Equatable {
        public let token: EthereumAddress
        public let from: EthereumAddress
        public let to: EthereumAddress
        public let amount: BigUInt
    }

    /// Decodes a log as a `Transfer`: topic0 matches, exactly 3 topics (ERC-721 transfers have
    /// 4), 32 bytes of data. Anything else is nil.
    public static func decodeTransfer(token: EthereumAddress, topics: [[UInt8]], data: [UInt8]) -> Transfer? {
        guard topics.count == 3, topics[0] == transferTopic, data.count == 32,
            topics[1].count == 32, topics[2].count == 32,
            topics[1].prefix(12).allSatisfy({ $0 == 0 }), topics[2].prefix(12).allSatisfy({ $0 == 0 }),
            let from = EthereumAddress(bytes: Array(topics[1].suffix(20))),
            let to = EthereumAddress(bytes: Array(topics[2].suffix(20)))
        else { return nil }
        return Transfer(token: token, from: from, to: to, amount: BigUInt(Data(data)))
    }
}
