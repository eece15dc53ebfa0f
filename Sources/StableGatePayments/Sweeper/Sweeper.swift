import BigInt
import Foundation
import Logging
import StableGateDomain
import StableGateEthereum
import StableGateStore

/// Forwards settled money from deposit wallets: the net to the store's wallet (`tx_hash_2`),
/// the fee to the operator's, after topping up the deposit wallet's gas from the hot wallet.
///
/// Restart-safe by the rules of ``OutgoingTransactions`` (stored before broadcast, stuck ones
/// replaced, retries with back-off). After its maximum attempts — or a token transfer that
/// reverts twice — the settlement is failed: the intent says why in `error_message` and the
/// funds stay in the deposit wallet.
public struct Sweeper: Sendable {
    /// Fees, nonces, signing and broadcasting from this chain's wallets (its rules: ``OutgoingTransactions``).
    let outgoing: OutgoingTransactions
    let settlements: SettlementRepository
    let depositAddresses: DepositAddressRepository
    let intents: CheckoutIntentRepository
    let merchants: MerchantRepository
    let logger: Logger

    public init(
        chain: ChainConfiguration, rpc: EthereumRPC, database: any DatabaseClient, intents: CheckoutIntentRepository,
        merchants: MerchantRepository, wallets: GatewayWallets, clock: any WallClock, identifiers: any IdentifierGenerator,
        stuckAfter: TimeInterval = 120, logger: Logger
    ) {
        self.outgoing = OutgoingTransactions(
            chain: chain, rpc: rpc, transactions: SignedTransactionRepository(database: database), wallets: wallets, clock: clock,
            identifiers: identifiers, stuckAfter: stuckAfter)
        self.settlements = SettlementRepository(database: database)
        self.depositAddresses = DepositAddressRepository(database: database)
        self.intents = intents
        self.merchants = merchants
        self.logger = logger
    }

    /// Moves every due settlement of the chain one step. Returns how many were looked at.
    @discardableResult
    public func run() async throws -> Int {
        let due = try await settlements.dueSettlements(chainId: outgoing.chainId, now: outgoing.clock.now)
        for settlement in due {
            do {
                try await advance(settlement)
            } catch {
                try await postpone(settlement, because: "\(error)", countsAsAttempt: true)
            }
        }
        return due.count
    }

    /// What forwarding needs from the hot wallet now.
    public struct Funding: Sendable, Equatable {
        public let hotWalletBalance: BigUInt
        /// Gas for the waiting settlements (at least one, so the next payment can be forwarded)
        /// at today's fees: a top-up and two token transfers each, with a 20 % margin.
        public let needed: BigUInt
        public let waiting: Int
        public let oldestWaiting: Date?
    }

    /// The hot wallet's balance against what the waiting settlements will cost.
    public func funding() async throws -> Funding {
        let waiting = try await settlements.waitingSettlements(chainId: outgoing.chainId)
        let perSettlement = BigUInt(2 * 100_000 + 21_000) * (try await outgoing.currentFees()).maximumPerGas * 6 / 5
        let balance = try await outgoing.rpc.balance(outgoing.wallets.hotWallet)
        return Funding(
            hotWalletBalance: balance, needed: perSettlement * BigUInt(max(waiting.count, 1)), waiting: waiting.count, oldestWaiting: waiting.oldest)
    }

    private struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private func advance(_ original: SettlementRecord) async throws {
        var settlement = original
        let now = outgoing.clock.now
        if settlement.merchantAddress == nil {
            guard let intent = try await intents.find(id: settlement.intentId),
                let wallet = try await merchants.store(id: intent.storeId)?.settlementWallet(chainId: settlement.chainId)
            else {
                try await postpone(settlement, because: "the store has no settlement wallet; set one to release the funds", countsAsAttempt: false)
                return
            }
            settlement.merchantAddress = wallet.lowercased()
        }
        if settlement.feeAddress == nil { settlement.feeAddress = outgoing.wallets.feeAddress.lowercased }
        guard let merchant = EthereumAddress(settlement.merchantAddress!), let feeWallet = EthereumAddress(settlement.feeAddress!),
            let token = EthereumAddress(settlement.tokenContract), let deposit = EthereumAddress(settlement.depositAddress)
        else { throw Failure(description: "settlement \(settlement.id) has a malformed address") }

        // 1. Follow up what is already on its way.
        var sweeps = try await outgoing.transactions.sweeps(settlementId: settlement.id)
        var waiting = false
        for var sweep in sweeps where sweep.state == .signed || sweep.state == .broadcast {
            if let receipt = try await outgoing.rpc.receipt(sweep.hash) {
                try await outgoing.record(receipt, on: &sweep, among: sweeps, save: outgoing.transactions.update)
                logger.info(
                    "sweep transaction mined",
                    metadata: [
                        "intent_id": "\(settlement.intentId)", "kind": "\(sweep.kind.rawValue)", "tx": "\(sweep.hash)", "ok": "\(receipt.succeeded)",
                    ])
            } else if sweep.state == .signed {
                try await broadcast(&sweep)  // after a crash: the very same transaction again
                waiting = true
            } else if let sent = sweep.broadcastAt, now.timeIntervalSince(sent) > outgoing.stuckAfter,
                sweep.attempt == sweeps.filter({ $0.kind == sweep.kind }).map(\.attempt).max()
            {
                try await replace(sweep, settlement: settlement, merchant: merchant, feeWallet: feeWallet, token: token, deposit: deposit)
                waiting = true
            } else {
                waiting = true
            }
        }
        if waiting {
            if settlement.state != .sending || settlement != original {
                settlement.state = .sending
                settlement.updatedAt = now
                try await settlements.update(settlement)
            }
            return
        }

        sweeps = try await outgoing.transactions.sweeps(settlementId: settlement.id)
        let mined = Set(sweeps.filter { $0.state == .mined }.map(\.kind))
        let needsFee = settlement.fee > 0 && feeWallet != deposit
        let remaining = ([SweepKind.merchant] + (needsFee ? [.fee] : [])).filter { !mined.contains($0) }
        if remaining.isEmpty {
            try await finish(settlement, merchantTransaction: sweeps.first { $0.kind == .merchant && $0.state == .mined }?.hash)
            return
        }
        if sweeps.filter({ $0.state == .failed && $0.kind != .gas && $0.blockNumber != nil }).count >= 2 {
            try await giveUp(settlement, because: "the token transfer out of the deposit wallet reverted twice")
            return
        }

        // 2. The deposit wallet's key, checked against its address (a changed seed must not sign).
        guard let index = try await depositAddresses.derivationIndex(intentId: settlement.intentId) else {
            try await giveUp(settlement, because: "no deposit key index is recorded for this intent")
            return
        }
        let depositKey = try outgoing.wallets.depositKey(index: index)
        guard try EthereumAddress(privateKey: depositKey) == deposit else {
            try await giveUp(settlement, because: "the configured deposit seed no longer derives \(deposit.checksummed); restore the original seed")
            return
        }

        // 3. Gas for the token transfers, from the hot wallet.
        let fees = try await outgoing.currentFees()
        var gasLimit: UInt64 = 100_000
        if let estimate = try? await outgoing.rpc.estimateGas(
            from: deposit, to: token, data: ERC20.transferCall(to: merchant, amount: settlement.net))
        {
            gasLimit = max(estimate * 5 / 4, 50_000)
        }
        let needed = BigUInt(gasLimit) * BigUInt(remaining.count) * fees.maximumPerGas
        let balance = try await outgoing.rpc.balance(deposit)
        if balance < needed {
            let topUp = needed * 6 / 5 - balance
            let attempt = (sweeps.filter { $0.kind == .gas }.map(\.attempt).max() ?? 0) + 1
            var sweep = try await sign(
                kind: .gas, attempt: attempt, settlement: settlement, from: outgoing.wallets.hotWallet, key: outgoing.wallets.hotKey,
                transaction: EthereumTransaction(
                    chainId: UInt64(outgoing.chainId), nonce: try await outgoing.nextNonce(outgoing.wallets.hotWallet), fees: fees,
                    gasLimit: 21_000, to: deposit,
                    value: topUp))
            try await broadcast(&sweep)
            settlement.state = .sending
            settlement.updatedAt = now
            try await settlements.update(settlement)
            return
        }

        // 4. The token transfers themselves.
        for kind in remaining {
            let attempt = (sweeps.filter { $0.kind == kind }.map(\.attempt).max() ?? 0) + 1
            let recipient = kind == .merchant ? merchant : feeWallet
            let amount = kind == .merchant ? settlement.net : settlement.fee
            var sweep = try await sign(
                kind: kind, attempt: attempt, settlement: settlement, from: deposit, key: depositKey,
                transaction: EthereumTransaction(
                    chainId: UInt64(outgoing.chainId), nonce: try await outgoing.nextNonce(deposit), fees: fees, gasLimit: gasLimit, to: token,
                    data: ERC20.transferCall(to: recipient, amount: amount)))
            try await broadcast(&sweep)
        }
        settlement.state = .sending
        settlement.updatedAt = now
        try await settlements.update(settlement)
        try await refreshIntent(settlement.intentId, merchantTransaction: nil)
    }

    /// Signs and stores a transaction (not yet broadcast).
    private func sign(
        kind: SweepKind, attempt: Int, settlement: SettlementRecord, from: EthereumAddress, key: [UInt8], transaction: EthereumTransaction
    ) async throws -> SweepTransaction {
        try await outgoing.signAndStore(transaction, key: key, ownerId: settlement.id, kind: kind, attempt: attempt, from: from)
    }

    /// Broadcasts a stored transaction and records that it was.
    private func broadcast(_ sweep: inout SweepTransaction) async throws {
        try await outgoing.broadcast(&sweep, save: outgoing.transactions.update, fault: .afterSweepBroadcast)
        guard sweep.state == .broadcast else { return }
        logger.info(
            "sweep transaction broadcast",
            metadata: [
                "settlement_id": "\(sweep.settlementId)", "kind": "\(sweep.kind.rawValue)", "tx": "\(sweep.hash)", "nonce": "\(sweep.nonce)",
            ])
    }

    /// Replaces a stuck transaction: same nonce and intent, fees up 25 %.
    private func replace(
        _ stuck: SweepTransaction, settlement: SettlementRecord, merchant: EthereumAddress, feeWallet: EthereumAddress, token: EthereumAddress,
        deposit: EthereumAddress
    ) async throws {
        let fees = try await outgoing.replacementFees(over: stuck.maxFeePerGas)
        let transaction: EthereumTransaction
        let key: [UInt8]
        let from: EthereumAddress
        switch stuck.kind {
        case .gas:
            key = outgoing.wallets.hotKey
            from = outgoing.wallets.hotWallet
            let gasNeeded = BigUInt(100_000) * 2 * fees.maximumPerGas
            transaction = EthereumTransaction(
                chainId: UInt64(outgoing.chainId), nonce: stuck.nonce, fees: fees, gasLimit: 21_000, to: deposit, value: gasNeeded)
        case .merchant, .fee, .payout:
            guard let index = try await depositAddresses.derivationIndex(intentId: settlement.intentId) else {
                throw Failure(description: "no deposit key index")
            }
            key = try outgoing.wallets.depositKey(index: index)
            from = deposit
            let recipient = stuck.kind == .merchant ? merchant : feeWallet
            let amount = stuck.kind == .merchant ? settlement.net : settlement.fee
            transaction = EthereumTransaction(
                chainId: UInt64(outgoing.chainId), nonce: stuck.nonce, fees: fees, gasLimit: 100_000, to: token,
                data: ERC20.transferCall(to: recipient, amount: amount))
        }
        var replacement = try await sign(
            kind: stuck.kind, attempt: stuck.attempt + 1, settlement: settlement, from: from, key: key, transaction: transaction)
        logger.notice("replacing a stuck sweep transaction", metadata: ["stuck": "\(stuck.hash)", "replacement": "\(replacement.hash)"])
        try await broadcast(&replacement)
    }

    private func finish(_ original: SettlementRecord, merchantTransaction: String?) async throws {
        var settlement = original
        settlement.state = .settled
        settlement.lastError = nil
        settlement.updatedAt = outgoing.clock.now
        try await settlements.update(settlement)
        try await refreshIntent(settlement.intentId, merchantTransaction: merchantTransaction)
        logger.info(
            "settlement forwarded", metadata: ["intent_id": "\(settlement.intentId)", "net": "\(settlement.net)", "fee": "\(settlement.fee)"])
    }

    private func postpone(_ original: SettlementRecord, because reason: String, countsAsAttempt: Bool) async throws {
        var settlement = original
        if countsAsAttempt { settlement.attempts += 1 }
        if settlement.attempts >= OutgoingTransactions.maximumAttempts {
            try await giveUp(settlement, because: reason)
            return
        }
        // 10 s, 20 s, 40 s … capped at 10 minutes.
        let delay: TimeInterval = countsAsAttempt ? TimeInterval(min(600, 5 << min(settlement.attempts, 7))) : 60
        settlement.lastError = reason
        settlement.nextAttemptAt = outgoing.clock.now.addingTimeInterval(delay)
        settlement.updatedAt = outgoing.clock.now
        try await settlements.update(settlement)
        logger.warning(
            "settlement postponed",
            metadata: [
                "intent_id": "\(settlement.intentId)", "reason": "\(reason)", "attempts": "\(settlement.attempts)",
            ])
    }

    private func giveUp(_ original: SettlementRecord, because reason: String) async throws {
        var settlement = original
        settlement.state = .failed
        settlement.lastError = reason
        settlement.updatedAt = outgoing.clock.now
        try await settlements.update(settlement)
        let depositAddress = settlement.depositAddress
        _ = try await intents.modify(id: settlement.intentId) { intent, _ -> (transitions: [StatusTransition], result: Bool)? in
            intent.settlementStatus = .failed
            intent.payment.errorMessage = "forwarding failed: \(reason); the funds remain in deposit wallet \(depositAddress)"
            intent.updatedAt = outgoing.clock.now
            return ([], true)
        }
        logger.error("settlement failed", metadata: ["intent_id": "\(settlement.intentId)", "reason": "\(reason)"])
    }

    /// Derives the intent's settlement status from all its settlements and records `tx_hash_2`.
    private func refreshIntent(_ intentId: String, merchantTransaction: String?) async throws {
        let all = try await settlements.settlements(intentId: intentId)
        let status: SettlementStatus =
            if all.contains(where: { $0.state == .failed }) { .failed } else if all.contains(where: { $0.state == .sending }) {
                .sending
            } else if all.contains(where: { $0.state == .pending }) { .pending } else if all.contains(where: { $0.state == .held }) { .held } else {
                .settled
            }
        let now = outgoing.clock.now
        _ = try await intents.modify(id: intentId) { intent, _ -> (transitions: [StatusTransition], result: Bool)? in
            var changed = false
            if intent.settlementStatus != status {
                intent.settlementStatus = status
                changed = true
            }
            if let merchantTransaction, intent.payment.txHash2 == nil {
                intent.payment.txHash2 = merchantTransaction
                changed = true
            }
            guard changed else { return nil }
            intent.updatedAt = now
            return ([], true)
        }
    }
}
