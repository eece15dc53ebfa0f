import BigInt
import Foundation
import StableGateDomain
import StableGateEthereum
import StableGateStore

/// The one engine by which this gateway sends its own transactions on a chain — the sweeper's
/// and the shopper-account sender's: fees, nonces that never collide with anything this gateway
/// signed, and the rules that make a crash at any point safe:
///
/// - a transaction is signed and stored (``signAndStore(_:key:ownerId:kind:attempt:from:)``)
///   *before* it is broadcast, so after a crash the only thing that can happen is broadcasting
///   that same transaction again (same nonce, same hash), which the chain accepts at most once;
/// - a transaction not mined after ``stuckAfter`` is replaced (same nonce, fees up 25 %,
///   ``replacementFees(over:)``); when one attempt is mined its siblings are marked replaced;
/// - errors are retried with back-off, up to ``maximumAttempts``.
struct OutgoingTransactions: Sendable {
    let chain: ChainConfiguration
    let rpc: EthereumRPC
    /// Where its signed transactions are kept (sweeps, or account transfers).
    let transactions: SignedTransactionRepository
    let wallets: GatewayWallets
    let clock: any WallClock
    let identifiers: any IdentifierGenerator
    /// How long a broadcast transaction may stay unmined before it is replaced.
    let stuckAfter: TimeInterval
    /// Failed attempts after which the work is given up (its funds stay where they are).
    static let maximumAttempts = 20

    var chainId: Int64 { chain.chainId }

    struct Refused: Error, CustomStringConvertible {
        let description: String
    }

    /// Fees for a new transaction: EIP-1559 where the chain has a base fee, legacy otherwise.
    func currentFees() async throws -> EthereumTransaction.Fees { try await rpc.suggestedFees() }

    /// Fees for replacing a stuck transaction: today's, and at least 25 % over the stuck one's.
    func replacementFees(over stuck: BigUInt) async throws -> EthereumTransaction.Fees {
        let bumped = stuck * 5 / 4
        switch try await currentFees() {
        case .legacy(let price): return .legacy(gasPrice: max(price, bumped))
        case .eip1559(let maximum, let priority): return .eip1559(maxFeePerGas: max(maximum, bumped), maxPriorityFeePerGas: max(priority, bumped / 4))
        }
    }

    /// The next nonce for `address`: past what the chain has seen and past anything this
    /// gateway signed (sweeps and account transfers) that may still be mined.
    func nextNonce(_ address: EthereumAddress) async throws -> UInt64 {
        let onChain = try await rpc.transactionCount(address, pending: true)
        let ours = try await transactions.highestLiveNonce(chainId: chainId, from: address.lowercased)
        return max(onChain, ours.map { $0 + 1 } ?? 0)
    }

    /// Signs `transaction` into a stored-form record (state `signed`; the caller stores it
    /// before calling ``broadcast(_:save:fault:)``).
    func signed(
        _ transaction: EthereumTransaction, key: [UInt8], id: String, ownerId: String, kind: SweepKind, attempt: Int, from: EthereumAddress
    ) throws -> SweepTransaction {
        let signed = try transaction.signed(with: key)
        let now = clock.now
        return SweepTransaction(
            id: id, settlementId: ownerId, chainId: chainId, kind: kind, attempt: attempt, from: from.lowercased, to: transaction.to.lowercased,
            nonce: transaction.nonce, rawTransaction: signed.rawHex, hash: signed.hashHex, maxFeePerGas: transaction.fees.maximumPerGas,
            state: .signed, createdAt: now, updatedAt: now)
    }

    /// Signs `transaction` and stores it, not yet broadcast: the first of the rules above.
    func signAndStore(
        _ transaction: EthereumTransaction, key: [UInt8], ownerId: String, kind: SweepKind, attempt: Int, from: EthereumAddress
    ) async throws -> SweepTransaction {
        let record = try signed(
            transaction, key: key, id: identifiers.objectId(at: clock.now), ownerId: ownerId, kind: kind, attempt: attempt, from: from)
        try await transactions.insert(record)
        return record
    }

    /// Records `receipt` on `transaction` (mined, or failed when it reverted) and marks the other
    /// live attempts with the same kind and nonce replaced: at most one of them can be mined.
    func record(
        _ receipt: EthereumRPC.Receipt, on transaction: inout SweepTransaction, among attempts: [SweepTransaction],
        save: (SweepTransaction) async throws -> Void
    ) async throws {
        let now = clock.now
        transaction.state = receipt.succeeded ? .mined : .failed
        transaction.blockNumber = Int64(receipt.blockNumber)
        transaction.updatedAt = now
        try await save(transaction)
        for var sibling in attempts
        where sibling.kind == transaction.kind && sibling.nonce == transaction.nonce && sibling.id != transaction.id
            && (sibling.state == .signed || sibling.state == .broadcast)
        {
            sibling.state = .replaced
            sibling.updatedAt = now
            try await save(sibling)
        }
    }

    /// Broadcasts a stored transaction and records (through `save`) what became of it. A node
    /// refusing it because it was already mined (a rebroadcast after a crash) records the
    /// receipt; a refusal that can never succeed marks it failed; both other errors throw.
    ///
    /// `nonceTooLowIsFinal: false` keeps a transaction the node calls "nonce too low" alive:
    /// with one signer per wallet that nonce was used by one of ours — perhaps this very
    /// transaction, mined but not yet visible on a lagging node — so it must not be given up on.
    func broadcast(
        _ transaction: inout SweepTransaction, save: (SweepTransaction) async throws -> Void, fault: FaultPoint, nonceTooLowIsFinal: Bool = true
    ) async throws {
        guard let raw = Hex.decode(transaction.rawTransaction) else { throw Refused(description: "stored transaction \(transaction.id) is not hex") }
        let signed = EthereumTransaction.Signed(raw: raw, hash: Keccak256.hash(raw))
        do {
            _ = try await rpc.sendRawTransaction(signed)
        } catch JSONRPCError.node(_, let message) {
            if let receipt = try await rpc.receipt(transaction.hash) {
                transaction.state = receipt.succeeded ? .mined : .failed
                transaction.blockNumber = Int64(receipt.blockNumber)
                transaction.updatedAt = clock.now
                try await save(transaction)
                return
            }
            let lower = message.lowercased()
            if (nonceTooLowIsFinal && lower.contains("nonce too low")) || lower.contains("insufficient funds") || lower.contains("intrinsic gas") {
                transaction.state = .failed
                transaction.updatedAt = clock.now
                try await save(transaction)
            }
            throw Refused(description: "node refused the \(transaction.kind.rawValue) transaction: \(message)")
        }
        fault.trigger()
        transaction.state = .broadcast
        transaction.broadcastAt = clock.now
        transaction.updatedAt = clock.now
        try await save(transaction)
    }
}

extension EthereumRPC {
    /// The fees this gateway offers for a new transaction now: EIP-1559 (twice the base fee plus
    /// the node's tip) where the chain has a base fee, the node's gas price + 10 % otherwise.
    public func suggestedFees() async throws -> EthereumTransaction.Fees {
        let latest = try await latestBlock()
        if let baseFee = latest.baseFeePerGas {
            let priority = (try? await maxPriorityFeePerGas()) ?? 1_500_000_000
            return .eip1559(maxFeePerGas: baseFee * 2 + priority, maxPriorityFeePerGas: priority)
        }
        return .legacy(gasPrice: try await gasPrice() * 11 / 10)
    }

    /// What sending `amount` of `token` from `from` would cost in gas at most, in wei: the
    /// node's estimate (or 65 000 when it cannot estimate) at ``suggestedFees()``.
    public func estimatedTokenTransferCost(
        token: EthereumAddress, from: EthereumAddress, to: EthereumAddress, amount: BigUInt
    ) async throws -> BigUInt {
        let gas = (try? await estimateGas(from: from, to: token, data: ERC20.transferCall(to: to, amount: amount))) ?? 65_000
        return BigUInt(gas) * (try await suggestedFees()).maximumPerGas
    }
}
