import BigInt
import Foundation
import Logging
import StableGateDomain
import StableGateEthereum
import StableGateStore

/// Sends shopper-account transfers (checkout payments and withdrawals) from the account's
/// custodial wallet, topping its gas up from the hot wallet first, by the rules of
/// ``OutgoingTransactions`` (as the sweeper):
///
/// - the ledger debit and the transfer row were written together at approval, before
///   anything is signed, so a crash before signing leaves an approved transfer this sender
///   picks up, never a second debit; after signing, the transaction is stored before it is
///   broadcast, so a crash can only broadcast that same transaction again;
/// - the transfer ends `sent` (in flight → out of custody) when its transaction has the chain's
///   confirmations, or `failed` (in flight → back to the balance) only when no transaction of it
///   can still be mined: a token transfer that reverted twice, an order that stopped waiting for
///   the payment before anything was signed, or too many errors with nothing in flight.
///
/// Runs inside the chain watcher's pass, so only the instance holding the chain's lease sends,
/// and hot-wallet nonces are handed out by one sender at a time.
public struct ShopperTransferSender: Sendable {
    /// Fees, nonces, signing and broadcasting from this chain's wallets (its rules:
    /// ``OutgoingTransactions``); its signed transactions are the account transfers'.
    let outgoing: OutgoingTransactions
    let accounts: ShopperAccountRepository
    let intents: CheckoutIntentRepository
    let logger: Logger

    public init(
        chain: ChainConfiguration, rpc: EthereumRPC, accounts: ShopperAccountRepository, database: any DatabaseClient,
        intents: CheckoutIntentRepository, wallets: GatewayWallets, clock: any WallClock, identifiers: any IdentifierGenerator,
        stuckAfter: TimeInterval = 120, logger: Logger
    ) {
        self.outgoing = OutgoingTransactions(
            chain: chain, rpc: rpc, transactions: SignedTransactionRepository(database: database, table: .accountTransfers), wallets: wallets,
            clock: clock, identifiers: identifiers, stuckAfter: stuckAfter)
        self.accounts = accounts
        self.intents = intents
        self.logger = logger
    }

    private struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Moves every due transfer of the chain one step. Returns how many were looked at.
    @discardableResult
    public func run() async throws -> Int {
        let due = try await accounts.openTransfers(chainId: outgoing.chainId, now: outgoing.clock.now)
        for transfer in due {
            do {
                try await advance(transfer)
            } catch {
                try await postpone(transfer, because: "\(error)")
            }
        }
        return due.count
    }

    private func advance(_ original: AccountTransfer) async throws {
        var transfer = original
        let now = outgoing.clock.now
        guard let account = try await accounts.account(id: transfer.accountId) else {
            throw Failure(description: "account \(transfer.accountId) of transfer \(transfer.id) does not exist")
        }
        guard let token = EthereumAddress(transfer.tokenContract), let recipient = EthereumAddress(transfer.to),
            let wallet = EthereumAddress(account.depositAddress)
        else { throw Failure(description: "transfer \(transfer.id) has a malformed address") }

        // 1. Follow up what is already on its way. A payout counts as mined (or reverted) only
        // once its block has the chain's confirmations: a reorg could still undo it before.
        var transactions = try await outgoing.transactions.transactions(owner: transfer.id)
        var waiting = false
        let head = Int64(try await outgoing.rpc.blockNumber())
        for var transaction in transactions where transaction.state == .signed || transaction.state == .broadcast {
            let receipt = try await outgoing.rpc.receipt(transaction.hash)
            if let receipt, transaction.kind == .gas || head - Int64(receipt.blockNumber) + 1 >= Int64(outgoing.chain.confirmations) {
                try await outgoing.record(receipt, on: &transaction, among: transactions, save: outgoing.transactions.update)
                logger.info(
                    "account transaction mined",
                    metadata: metadata(transfer, ["kind": "\(transaction.kind.rawValue)", "tx": "\(transaction.hash)", "ok": "\(receipt.succeeded)"]))
            } else if receipt != nil {
                waiting = true  // mined, not yet deep enough (broadcast, or signed and sent just before a crash)
            } else if transaction.state == .signed {
                try await broadcast(&transaction, transfer)  // after a crash: the very same transaction again
                waiting = true
            } else if let sent = transaction.broadcastAt, now.timeIntervalSince(sent) > outgoing.stuckAfter,
                transaction.attempt == transactions.filter({ $0.kind == transaction.kind && $0.state != .failed }).map(\.attempt).max()
            {
                try await replace(transaction, transfer: transfer, account: account, token: token, recipient: recipient, wallet: wallet)
                waiting = true
            } else {
                waiting = true
            }
        }
        transactions = try await outgoing.transactions.transactions(owner: transfer.id)
        if let mined = transactions.first(where: { $0.kind == .payout && $0.state == .mined }) {
            transfer.state = .sent
            transfer.lastError = nil
            transfer.updatedAt = now
            try await accounts.finish(transfer, at: now)
            logger.info("account transfer sent", metadata: metadata(transfer, ["tx": "\(mined.hash)"]))
            return
        }
        if waiting {
            if transfer.state != .sending {
                transfer.state = .sending
                transfer.updatedAt = now
                try await accounts.update(transfer)
            }
            return
        }
        if transactions.filter({ $0.kind == .payout && $0.state == .failed && $0.blockNumber != nil }).count >= 2 {
            try await giveUp(transfer, because: "the token transfer reverted twice")
            return
        }
        // Nothing of it can be mined any more: before a payment's tokens go, the order must
        // still wait for exactly them (not canceled, re-targeted or out of time meanwhile).
        if transfer.kind == .payment, let problem = try await paymentProblem(transfer) {
            try await giveUp(transfer, because: problem)
            return
        }

        // 2. The account's key, checked against its address (a changed seed must not sign).
        let key = try outgoing.wallets.accountKey(index: account.derivationIndex)
        guard try EthereumAddress(privateKey: key) == wallet else {
            throw Failure(
                description: "the configured deposit seed no longer derives account wallet \(wallet.checksummed); restore the original seed")
        }
        let onChain = try await outgoing.rpc.tokenBalance(token: token, owner: wallet)
        guard onChain >= transfer.amount else {
            throw Failure(
                description: "account wallet \(wallet.checksummed) holds \(onChain) base units of \(token.checksummed), fewer than \(transfer.amount)"
            )
        }

        // 3. Gas for the token transfer, from the hot wallet.
        let fees = try await outgoing.currentFees()
        let call = ERC20.transferCall(to: recipient, amount: transfer.amount)
        var gasLimit: UInt64 = 100_000
        if let estimate = try? await outgoing.rpc.estimateGas(from: wallet, to: token, data: call) { gasLimit = max(estimate * 5 / 4, 50_000) }
        if try await toppedUp(wallet, toCover: BigUInt(gasLimit) * fees.maximumPerGas, fees: fees, transfer: transfer, transactions: transactions) {
            try await markSending(&transfer)
            return
        }

        // 4. The token transfer itself.
        let attempt = (transactions.filter { $0.kind == .payout }.map(\.attempt).max() ?? 0) + 1
        var payout = try await sign(
            EthereumTransaction(
                chainId: UInt64(outgoing.chainId), nonce: try await outgoing.nextNonce(wallet), fees: fees, gasLimit: gasLimit, to: token,
                data: call),
            key: key, kind: .payout, attempt: attempt, transfer: transfer, from: wallet)
        FaultPoint.afterAccountSigned.trigger()
        try await broadcast(&payout, transfer)
        try await markSending(&transfer)
    }

    private func markSending(_ transfer: inout AccountTransfer) async throws {
        transfer.state = .sending
        transfer.updatedAt = outgoing.clock.now
        try await accounts.update(transfer)
    }

    /// Signs and stores a transaction (not yet broadcast).
    private func sign(
        _ transaction: EthereumTransaction, key: [UInt8], kind: SweepKind, attempt: Int, transfer: AccountTransfer, from: EthereumAddress
    ) async throws -> SweepTransaction {
        try await outgoing.signAndStore(transaction, key: key, ownerId: transfer.id, kind: kind, attempt: attempt, from: from)
    }

    private func broadcast(_ transaction: inout SweepTransaction, _ transfer: AccountTransfer) async throws {
        try await outgoing.broadcast(&transaction, save: outgoing.transactions.update, fault: .afterAccountBroadcast, nonceTooLowIsFinal: false)
        guard transaction.state == .broadcast else { return }
        logger.info(
            "account transaction broadcast",
            metadata: metadata(
                transfer,
                [
                    "kind": "\(transaction.kind.rawValue)", "tx": "\(transaction.hash)", "nonce": "\(transaction.nonce)",
                ]))
    }

    /// Sends the account's wallet gas from the hot wallet when it holds less than `needed` wei
    /// (topping it up to 120 % of that); returns whether it did, so the caller waits for it.
    private func toppedUp(
        _ wallet: EthereumAddress, toCover needed: BigUInt, fees: EthereumTransaction.Fees, transfer: AccountTransfer,
        transactions: [SweepTransaction]
    ) async throws -> Bool {
        let balance = try await outgoing.rpc.balance(wallet)
        guard balance < needed else { return false }
        let attempt = (transactions.filter { $0.kind == .gas }.map(\.attempt).max() ?? 0) + 1
        var topUp = try await sign(
            EthereumTransaction(
                chainId: UInt64(outgoing.chainId), nonce: try await outgoing.nextNonce(outgoing.wallets.hotWallet), fees: fees,
                gasLimit: 21_000, to: wallet,
                value: needed * 6 / 5 - balance),
            key: outgoing.wallets.hotKey, kind: .gas, attempt: attempt, transfer: transfer, from: outgoing.wallets.hotWallet)
        try await broadcast(&topUp, transfer)
        return true
    }

    /// Replaces a stuck transaction: same nonce, fees up 25 %.
    private func replace(
        _ stuck: SweepTransaction, transfer: AccountTransfer, account: ShopperAccount, token: EthereumAddress, recipient: EthereumAddress,
        wallet: EthereumAddress
    ) async throws {
        let fees = try await outgoing.replacementFees(over: stuck.maxFeePerGas)
        let transaction: EthereumTransaction
        let key: [UInt8]
        let from: EthereumAddress
        if stuck.kind == .gas {
            key = outgoing.wallets.hotKey
            from = outgoing.wallets.hotWallet
            transaction = EthereumTransaction(
                chainId: UInt64(outgoing.chainId), nonce: stuck.nonce, fees: fees, gasLimit: 21_000, to: wallet,
                value: BigUInt(100_000) * fees.maximumPerGas)
        } else {
            // The replacement offers more for gas than the top-up covered: top up first.
            let transactions = try await outgoing.transactions.transactions(owner: transfer.id)
            if try await toppedUp(wallet, toCover: BigUInt(100_000) * fees.maximumPerGas, fees: fees, transfer: transfer, transactions: transactions)
            {
                return
            }
            key = try outgoing.wallets.accountKey(index: account.derivationIndex)
            from = wallet
            transaction = EthereumTransaction(
                chainId: UInt64(outgoing.chainId), nonce: stuck.nonce, fees: fees, gasLimit: 100_000, to: token,
                data: ERC20.transferCall(to: recipient, amount: transfer.amount))
        }
        var replacement = try await sign(transaction, key: key, kind: stuck.kind, attempt: stuck.attempt + 1, transfer: transfer, from: from)
        logger.notice(
            "replacing a stuck account transaction", metadata: metadata(transfer, ["stuck": "\(stuck.hash)", "replacement": "\(replacement.hash)"]))
        try await broadcast(&replacement, transfer)
    }

    /// Why the transfer's order can no longer be paid by it, or nil when it still can.
    private func paymentProblem(_ transfer: AccountTransfer) async throws -> String? {
        guard let intentId = transfer.intentId, let intent = try await intents.find(id: intentId) else { return "the order does not exist" }
        guard intent.status == .tempWalletReceived else { return "the order is \(intent.status.name) and no longer waits for this payment" }
        guard let deposit = intent.deposit, deposit.address.lowercased() == transfer.to else { return "the order's deposit address changed" }
        guard deposit.expiresAt > outgoing.clock.now.addingTimeInterval(30) else {
            return "the order's payment window ended before the payment could be sent"
        }
        return nil
    }

    private func postpone(_ original: AccountTransfer, because reason: String) async throws {
        var transfer = original
        transfer.attempts += 1
        let live = try await outgoing.transactions.transactions(owner: transfer.id).contains { $0.state == .signed || $0.state == .broadcast }
        if transfer.attempts >= OutgoingTransactions.maximumAttempts && !live {
            try await giveUp(transfer, because: reason)
            return
        }
        // 10 s, 20 s, 40 s … capped at 10 minutes.
        transfer.lastError = reason
        transfer.nextAttemptAt = outgoing.clock.now.addingTimeInterval(TimeInterval(min(600, 5 << min(transfer.attempts, 7))))
        transfer.updatedAt = outgoing.clock.now
        try await accounts.update(transfer)
        logger.warning("account transfer postponed", metadata: metadata(transfer, ["reason": "\(reason)", "attempts": "\(transfer.attempts)"]))
    }

    /// Ends the transfer as failed: the in-flight money goes back to the shopper's balance.
    /// Only called when no transaction of it can still be mined.
    private func giveUp(_ original: AccountTransfer, because reason: String) async throws {
        var transfer = original
        transfer.state = .failed
        transfer.lastError = reason
        transfer.updatedAt = outgoing.clock.now
        try await accounts.finish(transfer, at: outgoing.clock.now)
        logger.error("account transfer failed; balance restored", metadata: metadata(transfer, ["reason": "\(reason)"]))
        // The order no longer shows this account as paying it.
        if let intentId = transfer.intentId {
            let now = outgoing.clock.now
            _ = try await intents.modify(id: intentId) { intent, _ -> (transitions: [StatusTransition], result: Bool)? in
                guard intent.payment.paymentMethodType == .allScalePay, intent.payment.txHash == nil else { return nil }
                intent.payment.paymentMethodType = .unknown
                intent.payment.txFrom = nil
                intent.updatedAt = now
                return ([], true)
            }
        }
    }

    private func metadata(_ transfer: AccountTransfer, _ extra: Logger.Metadata = [:]) -> Logger.Metadata {
        var metadata: Logger.Metadata = [
            "transfer_id": "\(transfer.id)", "account_id": "\(transfer.accountId)", "transfer_kind": "\(transfer.kind.rawValue)",
        ]
        if let intentId = transfer.intentId { metadata["intent_id"] = "\(intentId)" }
        return metadata.merging(extra) { _, new in new }
    }
}
