import Foundation
import StableGateEthereum
import Synchronization

/// The latest block of each chain, fetched at most once a second, so the checkout page can
/// show "confirmations n of N" without a node call per page poll.
final class ChainHeadCache: Sendable {
    private let rpcs: [Int64: EthereumRPC]
    private let heads = Mutex<[Int64: (number: Int64, fetchedAt: Date)]>([:])

    init(rpcs: [Int64: EthereumRPC]) {
        self.rpcs = rpcs
    }

    /// The chain's head, or nil when its node cannot be reached.
    func head(chainId: Int64, now: Date) async -> Int64? {
        if let cached = heads.withLock({ $0[chainId] }), now.timeIntervalSince(cached.fetchedAt) < 1 { return cached.number }
        guard let rpc = rpcs[chainId], let number = try? await rpc.blockNumber() else { return heads.withLock { $0[chainId]?.number } }
        heads.withLock { $0[chainId] = (Int64(number), now) }
        return Int64(number)
    }
}
