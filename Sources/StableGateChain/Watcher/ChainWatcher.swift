import BigInt
import Logging
import ServiceLifecycle
import StableGateDomain
import StableGateStore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What one pass of a watcher did.
public struct WatchReport: Sendable, Equatable {
    public var head: Int64 = 0
    public var scannedBlocks: Int64 = 0
    public var logs = 0
    public var recorded = 0
    public var confirmed = 0
    public var dropped = 0
    public var screened = 0
    public var settlementsTouched = 0
    /// Deposits to shopper accounts seen, confirmed (credited) and dropped by a reorg.
    public var accountDepositsSeen = 0
    public var accountDepositsConfirmed = 0
    public var accountDepositsDropped = 0
    public var accountTransfersTouched = 0
    /// False when another instance holds this chain's lease.
    public var isLeader = true
}

/// Watches one chain: detects `Transfer`s to deposit addresses, confirms them, notices
/// reorgs, screens senders, and drives the sweeper. Only the instance holding the chain's
/// lease watches it; a dead holder's lease expires and another instance takes over.
///
/// The cost of a pass does not grow with the number of open intents: it asks the node for the
/// configured tokens' `Transfer` logs in a bounded block range and looks their recipients up
/// in the indexed deposit-address table.
public final class ChainWatcher: Service {
    public let chain: ChainConfiguration
    let rpc: EthereumRPC
    let payments: PaymentStateRepository
    let processor: PaymentProcessor
    let screening: (any AddressScreening)?
    let sweeper: Sweeper
    /// Shopper accounts: deposits to their addresses are credited, their transfers sent.
    let accounts: ShopperAccountRepository?
    let accountSender: AccountTransferSender?
    let holder: String
    let clock: any WallClock
    let logger: Logger
    /// Blocks scanned back from the head when a chain is watched for the first time.
    let initialLookback: Int64
    /// How long the lease lasts without renewal.
    let leaseTTL: TimeInterval
    /// At most this many log ranges per pass, so confirmations keep flowing while catching up.
    let maximumRangesPerPass = 20

    public init(
        chain: ChainConfiguration, rpc: EthereumRPC, payments: PaymentStateRepository, processor: PaymentProcessor,
        screening: (any AddressScreening)?, sweeper: Sweeper, accounts: ShopperAccountRepository?, accountSender: AccountTransferSender?,
        holder: String, clock: any WallClock, initialLookback: Int64 = 1000, leaseTTL: TimeInterval = 15, logger: Logger
    ) {
        self.chain = chain
        self.rpc = rpc
        self.payments = payments
        self.processor = processor
        self.screening = screening
        self.sweeper = sweeper
        self.accounts = accounts
        self.accountSender = accountSender
        self.holder = holder
        self.clock = clock
        self.initialLookback = initialLookback
        let poll = Double(chain.pollInterval.components.seconds) + Double(chain.pollInterval.components.attoseconds) / 1e18
        self.leaseTTL = max(leaseTTL, 3 * poll)
        var logger = logger
        logger[metadataKey: "chain_id"] = "\(chain.chainId)"
        self.logger = logger
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    _ = try await self.pass()
                } catch {
                    self.logger.warning("chain watcher pass failed; retrying", metadata: ["error": "\(error)"])
                }
                try await Task.sleep(for: self.chain.pollInterval)
            }
        }
        try? await payments.releaseLease(chainId: chain.chainId, holder: holder)
    }

    /// One pass: lease, reorg and confirmation checks, scanning, screening, catch-up, sweeping.
    public func pass() async throws -> WatchReport {
        var report = WatchReport()
        guard try await payments.acquireLease(chainId: chain.chainId, holder: holder, ttl: leaseTTL, now: clock.now) else {
            report.isLeader = false
            return report
        }
        let head = Int64(try await rpc.blockNumber())
        report.head = head
        try await checkSeenTransfers(head: head, report: &report)
        try await scan(head: head, report: &report)
        try await screenPending(report: &report)
        for intentId in try await payments.intentsWithUncreditedMoney(chainId: chain.chainId) {
            try await processor.process(intentId: intentId)
        }
        report.settlementsTouched = try await sweeper.run()
        report.accountTransfersTouched = try await accountSender?.run() ?? 0
        return report
    }

    /// Confirms transfers deep enough in the canonical chain; drops those whose block left it.
    private func checkSeenTransfers(head: Int64, report: inout WatchReport) async throws {
        var canonical: [Int64: String?] = [:]
        var rewindTo = try await checkAccountDeposits(head: head, canonical: &canonical, report: &report)
        let seen = try await payments.seenTransfers(chainId: chain.chainId)
        guard !seen.isEmpty || rewindTo != nil else { return }
        var changes: [String: [(id: String, state: TransferState)]] = [:]
        for transfer in seen {
            var state: TransferState?
            if transfer.blockNumber > head {
                state = .dropped
            } else {
                if canonical[transfer.blockNumber] == nil {
                    canonical[transfer.blockNumber] = try await rpc.block(UInt64(transfer.blockNumber))?.hash
                }
                if canonical[transfer.blockNumber]! != transfer.blockHash {
                    state = .dropped
                } else if head - transfer.blockNumber + 1 >= Int64(chain.confirmations) {
                    state = .confirmed
                }
            }
            guard let state else { continue }
            if state == .dropped {
                rewindTo = min(rewindTo ?? transfer.blockNumber, transfer.blockNumber)
                logger.warning("transfer dropped by a reorg", metadata: ["intent_id": "\(transfer.intentId)", "tx": "\(transfer.transactionHash)"])
            }
            changes[transfer.intentId, default: []].append((transfer.id, state))
        }
        let now = clock.now
        for (intentId, updates) in changes {
            try await processor.process(intentId: intentId) { _, db in
                for update in updates {
                    try await PaymentStateRepository.setState(
                        transferId: update.id, update.state, confirmedAt: update.state == .confirmed ? now : nil, on: db)
                }
            }
            report.confirmed += updates.filter { $0.state == .confirmed }.count
            report.dropped += updates.filter { $0.state == .dropped }.count
        }
        // The replacing blocks may hold the same transfers (or others): scan them again.
        if let rewindTo, let cursor = try await payments.cursor(chainId: chain.chainId), rewindTo < cursor {
            try await payments.database.transaction { db in
                try await PaymentStateRepository.setCursor(chainId: self.chain.chainId, nextBlock: rewindTo, at: now, on: db)
            }
        }
    }

    /// Confirms (and credits) shopper-account deposits deep enough in the canonical chain, drops
    /// those whose block left it; returns the lowest dropped block, from where to rescan.
    private func checkAccountDeposits(head: Int64, canonical: inout [Int64: String?], report: inout WatchReport) async throws -> Int64? {
        guard let accounts else { return nil }
        var rewindTo: Int64?
        for deposit in try await accounts.seenDeposits(chainId: chain.chainId) {
            // One deposit that cannot be handled must not stop the chain's intents: log, go on.
            do {
                if canonical[deposit.blockNumber] == nil, deposit.blockNumber <= head {
                    canonical[deposit.blockNumber] = try await rpc.block(UInt64(deposit.blockNumber))?.hash
                }
                if deposit.blockNumber > head || canonical[deposit.blockNumber]! != deposit.blockHash {
                    try await accounts.drop(deposit)  // rewinds the scan cursor in the same transaction
                    rewindTo = min(rewindTo ?? deposit.blockNumber, deposit.blockNumber)
                    report.accountDepositsDropped += 1
                    logger.warning("account deposit dropped by a reorg", metadata: ["account_id": "\(deposit.accountId)", "tx": "\(deposit.transactionHash)"])
                } else if head - deposit.blockNumber + 1 >= Int64(chain.confirmations) {
                    try await accounts.confirm(deposit, at: clock.now)
                    report.accountDepositsConfirmed += 1
                    logger.info("account deposit credited", metadata: [
                        "account_id": "\(deposit.accountId)", "tx": "\(deposit.transactionHash)", "amount": "\(deposit.amount)",
                    ])
                }
            } catch {
                logger.error("account deposit not processed; will retry", metadata: [
                    "account_id": "\(deposit.accountId)", "tx": "\(deposit.transactionHash)", "error": "\(error)",
                ])
            }
        }
        return rewindTo
    }

    /// Scans new blocks for transfers of the configured tokens to deposit addresses.
    private func scan(head: Int64, report: inout WatchReport) async throws {
        var cursor = try await payments.cursor(chainId: chain.chainId) ?? max(0, head - initialLookback)
        if cursor > head + 1 {
            // The node is behind what was scanned: a restarted sandbox chain, or a node still
            // syncing. Rescan the recent past rather than wait for blocks that may never come.
            logger.warning("chain head is behind the scan cursor; rescanning", metadata: ["head": "\(head)", "cursor": "\(cursor)"])
            cursor = max(0, head - initialLookback)
        }
        var ranges = 0
        let tokens = chain.tokens.map(\.contract)
        while cursor <= head, ranges < maximumRangesPerPass {
            ranges += 1
            let end = min(head, cursor + Int64(chain.maxLogRange) - 1)
            let logs = try await rpc.logs(from: UInt64(cursor), to: UInt64(end), addresses: tokens, topic0: ERC20.transferTopic)
            report.logs += logs.count
            var matches: [(log: EthereumRPC.Log, token: TokenConfiguration, transfer: ERC20.Transfer)] = []
            for log in logs where !log.removed {
                // A zero-value Transfer moves no money and anyone can emit one naming any sender
                // (`transferFrom(x, deposit, 0)` needs no allowance): it is no payment and no
                // deposit, so it is not recorded at all — never a tx_hash, a sender to screen, or
                // a reason to hold an order.
                guard let token = chain.token(contract: log.address),
                    let transfer = ERC20.decodeTransfer(token: log.address, topics: log.topics, data: log.data), transfer.amount > 0
                else { continue }
                matches.append((log, token, transfer))
            }
            let owners = try await payments.intents(forDepositAddresses: Set(matches.map { $0.transfer.to.lowercased }))
            if let accounts {
                let holders = try await accounts.accounts(forAddresses: Set(matches.map { $0.transfer.to.lowercased }).subtracting(owners.keys))
                for match in matches {
                    guard let accountId = holders[match.transfer.to.lowercased] else { continue }
                    try await accounts.recordSeen(AccountDeposit(
                        id: processor.identifiers.objectId(at: clock.now), accountId: accountId, chainId: chain.chainId, transactionHash: match.log.transactionHash,
                        logIndex: Int64(match.log.logIndex), blockNumber: Int64(match.log.blockNumber), blockHash: match.log.blockHash,
                        tokenContract: match.token.contract.lowercased, decimals: match.token.decimals, from: match.transfer.from.lowercased,
                        amount: match.transfer.amount, state: .seen, detectedAt: clock.now))
                    report.accountDepositsSeen += 1
                    logger.info("account deposit detected", metadata: ["account_id": "\(accountId)", "tx": "\(match.log.transactionHash)"])
                }
            }
            var byIntent: [String: [(log: EthereumRPC.Log, token: TokenConfiguration, transfer: ERC20.Transfer)]] = [:]
            for match in matches {
                if let intentId = owners[match.transfer.to.lowercased] { byIntent[intentId, default: []].append(match) }
            }
            let now = clock.now
            let chainId = chain.chainId
            let screens = screening != nil
            for (intentId, found) in byIntent {
                try await processor.process(intentId: intentId) { intent, db in
                    let kytEnabled = try await MerchantRepository.store(id: intent.storeId, on: db)?.kytEnabled ?? true
                    for match in found {
                        let selected = intent.payment.chainId == chainId && intent.payment.coinContract?.lowercased() == match.token.contract.lowercased
                        let kind: TransferKind = selected ? (intent.status.isTerminal ? .late : .payment) : .mismatched
                        try await PaymentStateRepository.recordSeen(
                            ChainTransfer(
                                chainId: chainId, transactionHash: match.log.transactionHash, logIndex: Int64(match.log.logIndex),
                                blockNumber: Int64(match.log.blockNumber), blockHash: match.log.blockHash, tokenContract: match.token.contract.lowercased,
                                stableCoin: match.token.stableCoin, decimals: match.token.decimals, from: match.transfer.from.lowercased,
                                to: match.transfer.to.lowercased, amount: match.transfer.amount, intentId: intentId, kind: kind, state: .seen,
                                screening: screens && kytEnabled ? .pending : .skipped, detectedAt: now),
                            on: db)
                    }
                }
                report.recorded += found.count
                logger.info("transfer detected", metadata: ["intent_id": "\(intentId)", "transfers": "\(found.count)"])
            }
            try await payments.database.transaction { db in
                try await PaymentStateRepository.setCursor(chainId: chainId, nextBlock: end + 1, at: now, on: db)
            }
            report.scannedBlocks += end - cursor + 1
            cursor = end + 1
        }
    }

    /// Screens senders of transfers waiting for KYT; an unavailable provider is retried next pass.
    private func screenPending(report: inout WatchReport) async throws {
        guard let screening else { return }
        for transfer in try await payments.unscreenedTransfers(chainId: chain.chainId) {
            guard let sender = EthereumAddress(transfer.from) else { continue }
            let verdict: ScreeningVerdict
            do {
                verdict = try await screening.screen(sender)
            } catch {
                logger.warning("KYT screening failed; will retry", metadata: ["intent_id": "\(transfer.intentId)", "error": "\(error)"])
                continue
            }
            try await processor.process(intentId: transfer.intentId) { _, db in
                try await PaymentStateRepository.setScreening(
                    transferId: transfer.id, verdict.flagged ? .flagged : .clear, detail: verdict.detail, on: db)
            }
            report.screened += 1
            if verdict.flagged {
                logger.warning("KYT flagged a sender; funds held", metadata: ["intent_id": "\(transfer.intentId)", "sender": "\(transfer.from)"])
            }
        }
    }
}
