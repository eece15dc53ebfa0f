import BigInt
import Foundation
import Logging
import Metrics
import ServiceLifecycle
import StableGateDomain
import StableGateEthereum
import StableGateRuntime
import StableGateStore
import Synchronization

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
///
/// **Never past a block it has not seen.** The scan cursor only moves to the last block of a
/// range whose logs came with proof that the serving endpoint had that block
/// (``EthereumRPC/provenLogs(from:to:addresses:topic0:)``): an endpoint — or a load-balanced
/// backend — a few blocks behind the one that answered `eth_blockNumber` either proves less
/// (the cursor moves less) or nothing (the next endpoint is asked, or the range waits). What a
/// node answers is untrusted: a missing block is "not known yet", never a reorg; only a
/// different hash at a height drops a transfer; a head lower than the cursor is waited out.
/// The log range adapts to the provider's limits (``LogRangeWindow``).
public final class ChainWatcher: Service {
    public let chain: ChainConfiguration
    let rpc: EthereumRPC
    let database: any DatabaseClient
    let transfers: ChainTransferRepository
    let depositAddresses: DepositAddressRepository
    let cursors: ChainCursorRepository
    let processor: PaymentProcessor
    let screening: (any AddressScreening)?
    let sweeper: Sweeper
    /// Shopper accounts: deposits to their addresses are credited, their transfers sent.
    let accounts: ShopperAccountRepository?
    let shopperSender: ShopperTransferSender?
    let holder: String
    let clock: any WallClock
    let logger: Logger
    /// Blocks scanned back from the head when a chain is watched for the first time.
    let initialLookback: Int64
    /// How long the lease lasts without renewal.
    let leaseTTL: TimeInterval
    /// At most this many log ranges per pass, so confirmations keep flowing while catching up.
    let maximumRangesPerPass = 20
    /// How far the head may fall behind the cursor before the chain is taken to have been
    /// reset (a restarted sandbox) and rescanned; a smaller step back is a lagging node, waited out.
    let resetDistance: Int64 = 128
    /// The `eth_getLogs` width now.
    private let window: Mutex<LogRangeWindow>
    /// Where this watcher reports the chain's state for `/readyz`.
    let board: ChainHealthBoard?
    /// When the scan was last at the head.
    private let caughtUpAt = Mutex<Date?>(nil)
    /// When the hot wallet's funding was last checked (it costs RPC calls: every 30 s at most).
    private let fundingCheckedAt = Mutex<Date?>(nil)

    public init(
        chain: ChainConfiguration, rpc: EthereumRPC, database: any DatabaseClient, processor: PaymentProcessor,
        screening: (any AddressScreening)?, sweeper: Sweeper, accounts: ShopperAccountRepository?, shopperSender: ShopperTransferSender?,
        holder: String, clock: any WallClock, initialLookback: Int64 = 1000, leaseTTL: TimeInterval = 15, board: ChainHealthBoard? = nil,
        logger: Logger
    ) {
        self.board = board
        self.chain = chain
        self.rpc = rpc
        self.database = database
        self.transfers = ChainTransferRepository(database: database)
        self.depositAddresses = DepositAddressRepository(database: database)
        self.cursors = ChainCursorRepository(database: database)
        self.processor = processor
        self.screening = screening
        self.sweeper = sweeper
        self.accounts = accounts
        self.shopperSender = shopperSender
        self.holder = holder
        self.clock = clock
        self.initialLookback = initialLookback
        let poll = Double(chain.pollInterval.components.seconds) + Double(chain.pollInterval.components.attoseconds) / 1e18
        self.leaseTTL = max(leaseTTL, 3 * poll)
        self.window = Mutex(LogRangeWindow(ceiling: chain.maxLogRange))
        var logger = logger
        logger[metadataKey: "chain_id"] = "\(chain.chainId)"
        self.logger = logger
    }

    /// Detection and forwarding run as two loops, so a burst of settlements being forwarded
    /// (each a few RPC round trips) never delays the next scan: a transfer is seen within a
    /// poll interval or two of its block whatever the sweeper is doing. Both act only while
    /// this instance holds the chain's lease.
    public func run() async throws {
        // Each loop ends as soon as graceful shutdown begins; the lease is then given up at once.
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.loop("detection") { try await self.detectionPass() } }
            group.addTask { await self.loop("forwarding") { try await self.forwardingPass() } }
        }
        try? await cursors.releaseLease(chainId: chain.chainId, holder: holder)
    }

    /// Runs `body` once per poll interval: a pass that took part of the interval is followed by
    /// only the rest of it, so detection keeps to the poll rate however long passes take.
    private func loop(_ name: String, _ body: @escaping @Sendable () async throws -> WatchReport) async {
        await runPeriodically(
            every: chain.pollInterval, pacing: .fixedRate(minimumRest: .milliseconds(10)), logger: logger,
            failure: "chain watcher \(name) pass failed; retrying"
        ) {
            _ = try await body()
            return true
        }
    }

    /// One pass of both: lease, reorg and confirmation checks, scanning, screening, catch-up,
    /// then forwarding (the tests' and the benchmark's step).
    public func pass() async throws -> WatchReport {
        var report = try await detectionPass()
        guard report.isLeader else { return report }
        let forwarding = try await forwardingPass()
        report.settlementsTouched = forwarding.settlementsTouched
        report.accountTransfersTouched = forwarding.accountTransfersTouched
        return report
    }

    /// Takes or renews the chain's lease. A holder that is provably gone — a process on this
    /// host that no longer exists (a crash, a SIGKILL) — is replaced at once instead of after
    /// its lease runs out; anything else (another host, a live process) is waited for.
    func lead() async throws -> Bool {
        if try await cursors.acquireLease(chainId: chain.chainId, holder: holder, ttl: leaseTTL, now: clock.now) { return true }
        guard let current = try await cursors.leaseHolder(chainId: chain.chainId), LeaseHolder.isGone(current) else { return false }
        let taken = try await cursors.takeOverLease(chainId: chain.chainId, from: current, holder: holder, ttl: leaseTTL, now: clock.now)
        if taken { logger.notice("took the chain over from a holder that no longer runs", metadata: ["previous": "\(current)"]) }
        return taken
    }

    /// Forwards what is due (settlements, shopper-account transfers) while this instance leads the chain.
    public func forwardingPass() async throws -> WatchReport {
        var report = WatchReport()
        guard try await lead() else {
            report.isLeader = false
            return report
        }
        report.settlementsTouched = try await sweeper.run()
        report.accountTransfersTouched = try await shopperSender?.run() ?? 0
        try await checkFunding()
        return report
    }

    /// The hot wallet against the waiting settlements' gas, and how long they have waited.
    private func checkFunding() async throws {
        let now = clock.now
        let due = fundingCheckedAt.withLock { last -> Bool in
            guard last.map({ now.timeIntervalSince($0) >= 30 }) ?? true else { return false }
            last = now
            return true
        }
        guard due else { return }
        let funding = try await sweeper.funding()
        let dimensions = [("chain_id", "\(chain.chainId)")]
        Gauge(label: "stablegate_hot_wallet_balance_wei", dimensions: dimensions).record(Double(funding.hotWalletBalance))
        Gauge(label: "stablegate_hot_wallet_needed_wei", dimensions: dimensions).record(Double(funding.needed))
        Gauge(label: "stablegate_settlements_waiting", dimensions: dimensions).record(Double(funding.waiting))
        Gauge(label: "stablegate_settlement_oldest_wait_seconds", dimensions: dimensions).record(
            funding.oldestWaiting.map { now.timeIntervalSince($0) } ?? 0)
        board?.update(chainId: chain.chainId, name: chain.name, at: clock.now) { $0.funding = funding }
    }

    /// Lease, reorg and confirmation checks, scanning, screening, catch-up.
    public func detectionPass() async throws -> WatchReport {
        // From its first pass on, a watcher answers for its chain (a pass that hangs counts too).
        board?.update(chainId: chain.chainId, name: chain.name, at: clock.now) { _ in }
        do {
            let report = try await detect()
            // Another instance leads (and answers for) the chain now: nothing to say of it here.
            if !report.isLeader { board?.forget(chainId: chain.chainId) }
            if report.isLeader {
                let scanned = try await cursors.cursor(chainId: chain.chainId).map { $0 - 1 }
                let at = clock.now
                // Seconds behind: how long the scan has not been at the head (0 while it is). An
                // idle chain that mines no blocks is not behind.
                let lag = caughtUpAt.withLock { caughtUp -> Double in
                    // Counted from this instance's first pass until the scan first reaches the head.
                    if caughtUp == nil || (scanned ?? -1) >= report.head { caughtUp = at }
                    return at.timeIntervalSince(caughtUp ?? at)
                }
                Gauge(label: "stablegate_chain_lag_seconds", dimensions: [("chain_id", "\(chain.chainId)")]).record(lag)
                board?.update(chainId: chain.chainId, name: chain.name, at: clock.now) { entry in
                    entry.head = report.head
                    entry.scannedTo = scanned
                    entry.lagSeconds = lag
                    entry.lastPassAt = at
                    entry.lastError = nil
                }
            }
            return report
        } catch {
            board?.update(chainId: chain.chainId, name: chain.name, at: clock.now) { $0.lastError = "\(error)" }
            throw error
        }
    }

    private func detect() async throws -> WatchReport {
        var report = WatchReport()
        guard try await lead() else {
            report.isLeader = false
            return report
        }
        let head: Int64
        if let pool = rpc.client as? RPCEndpointPool {
            head = Int64(try await pool.head(quorum: chain.headQuorum))
        } else {
            head = Int64(try await rpc.blockNumber())
        }
        report.head = head
        Gauge(label: "stablegate_chain_head_block", dimensions: [("chain_id", "\(chain.chainId)")]).record(Double(head))
        try await checkSeenTransfers(head: head, report: &report)
        try await scan(head: head, report: &report)
        try await screenPending(report: &report)
        for intentId in try await transfers.intentsWithUncreditedMoney(chainId: chain.chainId) {
            try await processor.process(intentId: intentId)
        }
        return report
    }

    /// Confirms transfers deep enough in the canonical chain; drops those whose block left it.
    private func checkSeenTransfers(head: Int64, report: inout WatchReport) async throws {
        var canonical: [Int64: String?] = [:]
        var rewindTo = try await checkAccountDeposits(head: head, canonical: &canonical, report: &report)
        let seen = try await transfers.seenTransfers(chainId: chain.chainId)
        guard !seen.isEmpty || rewindTo != nil else { return }
        var changes: [String: [(id: String, state: TransferState)]] = [:]
        for transfer in seen {
            // A block the node does not report (beyond its head, or null) is not known yet: wait.
            guard transfer.blockNumber <= head, let hash = try await canonicalHash(transfer.blockNumber, cache: &canonical) else { continue }
            let state: TransferState
            if hash != transfer.blockHash {
                state = .dropped
            } else if head - transfer.blockNumber + 1 >= Int64(chain.confirmations) {
                state = .confirmed
            } else {
                continue
            }
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
                    try await ChainTransferRepository.setState(
                        transferId: update.id, update.state, confirmedAt: update.state == .confirmed ? now : nil, on: db)
                }
            }
            let confirmed = updates.filter { $0.state == .confirmed }.count, dropped = updates.filter { $0.state == .dropped }.count
            report.confirmed += confirmed
            report.dropped += dropped
            Counter(label: "stablegate_payments_confirmed_total", dimensions: [("chain_id", "\(chain.chainId)")]).increment(by: confirmed)
            Counter(label: "stablegate_payments_dropped_total", dimensions: [("chain_id", "\(chain.chainId)")]).increment(by: dropped)
        }
        // The replacing blocks may hold the same transfers (or others): scan them again.
        if let rewindTo, let cursor = try await cursors.cursor(chainId: chain.chainId), rewindTo < cursor {
            try await database.transaction { db in
                try await ChainCursorRepository.setCursor(chainId: self.chain.chainId, nextBlock: rewindTo, at: now, on: db)
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
                guard deposit.blockNumber <= head, let hash = try await canonicalHash(deposit.blockNumber, cache: &canonical) else { continue }
                if hash != deposit.blockHash {
                    try await accounts.drop(deposit)  // rewinds the scan cursor in the same transaction
                    rewindTo = min(rewindTo ?? deposit.blockNumber, deposit.blockNumber)
                    report.accountDepositsDropped += 1
                    logger.warning(
                        "account deposit dropped by a reorg", metadata: ["account_id": "\(deposit.accountId)", "tx": "\(deposit.transactionHash)"])
                } else if head - deposit.blockNumber + 1 >= Int64(chain.confirmations) {
                    try await accounts.confirm(deposit, at: clock.now)
                    report.accountDepositsConfirmed += 1
                    logger.info(
                        "account deposit credited",
                        metadata: [
                            "account_id": "\(deposit.accountId)", "tx": "\(deposit.transactionHash)", "amount": "\(deposit.amount)",
                        ])
                }
            } catch {
                logger.error(
                    "account deposit not processed; will retry",
                    metadata: [
                        "account_id": "\(deposit.accountId)", "tx": "\(deposit.transactionHash)", "error": "\(error)",
                    ])
            }
        }
        return rewindTo
    }

    /// The hash of block `number` as the node reports it now, nil when it reports none (not
    /// known yet: never taken for a reorg). Asked once per pass and block.
    private func canonicalHash(_ number: Int64, cache: inout [Int64: String?]) async throws -> String? {
        if let known = cache[number] { return known }
        let hash = try await rpc.block(UInt64(number))?.hash
        cache[number] = .some(hash)
        return hash
    }

    /// Scans new blocks for transfers of the configured tokens, range by range: in each, the
    /// shopper-account deposits and the intent transfers are recorded in two separate steps,
    /// then the cursor moves past the range.
    private func scan(head: Int64, report: inout WatchReport) async throws {
        var cursor = try await cursors.cursor(chainId: chain.chainId) ?? max(0, head - initialLookback)
        if cursor > head + 1 {
            guard cursor - head > resetDistance else {
                // A lagging node (or backend) reported an older head: wait until it catches up.
                logger.notice("chain head is behind the scan cursor; waiting", metadata: ["head": "\(head)", "cursor": "\(cursor)"])
                return
            }
            // Far behind what was scanned: a restarted sandbox chain, or a node resynced from
            // scratch. Rescan the recent past rather than wait for blocks that may never come.
            logger.warning("chain head is far behind the scan cursor; rescanning", metadata: ["head": "\(head)", "cursor": "\(cursor)"])
            cursor = max(0, head - initialLookback)
        }
        var ranges = 0
        let tokens = chain.tokens.map(\.contract)
        let dimensions = [("chain_id", "\(chain.chainId)")]
        while cursor <= head, ranges < maximumRangesPerPass {
            ranges += 1
            let width = window.withLock { $0.current }
            let requestedEnd = min(head, cursor + Int64(width) - 1)
            let proven: EthereumRPC.ProvenLogs
            do {
                proven = try await rpc.provenLogs(from: UInt64(cursor), to: UInt64(requestedEnd), addresses: tokens, topic0: ERC20.transferTopic)
            } catch {
                // Narrow on the provider's range limits (and on any error of a wide range), then
                // let the next pass try again; the cursor stays where it was proven.
                let failure = ProviderAnswers.classify(error)
                let asked = Int(requestedEnd - cursor + 1)
                if window.withLock({ $0.failed(width: asked, with: failure) }) {
                    let now = window.withLock { $0.current }
                    logger.notice("eth_getLogs range narrowed", metadata: ["from_blocks": "\(asked)", "to_blocks": "\(now)", "error": "\(error)"])
                    Gauge(label: "stablegate_chain_log_range_blocks", dimensions: dimensions).record(Double(now))
                    continue  // try again now with the narrower range
                }
                throw error
            }
            let end = Int64(proven.to)
            window.withLock { $0.succeeded(width: Int(end - cursor + 1)) }
            Gauge(label: "stablegate_chain_log_range_blocks", dimensions: dimensions).record(Double(window.withLock { $0.current }))
            let logs = proven.logs
            report.logs += logs.count
            var matches: [MatchedTransfer] = []
            for log in logs where !log.removed {
                // A zero-value Transfer moves no money and anyone can emit one naming any sender
                // (`transferFrom(x, deposit, 0)` needs no allowance): it is no payment and no
                // deposit, so it is not recorded at all — never a tx_hash, a sender to screen, or
                // a reason to hold an order.
                guard let token = chain.token(contract: log.address),
                    let transfer = ERC20.decodeTransfer(token: log.address, topics: log.topics, data: log.data), transfer.amount > 0
                else { continue }
                matches.append(MatchedTransfer(log: log, token: token, transfer: transfer))
            }
            let owners = try await depositAddresses.intents(forDepositAddresses: Set(matches.map { $0.transfer.to.lowercased }))
            try await recordAccountDeposits(matches, notOwnedBy: owners, report: &report)
            let now = clock.now
            try await recordIntentTransfers(matches, owners: owners, proven: proven, now: now, report: &report)
            try await database.transaction { db in
                try await ChainCursorRepository.setCursor(chainId: self.chain.chainId, nextBlock: end + 1, at: now, on: db)
            }
            report.scannedBlocks += end - cursor + 1
            cursor = end + 1
            Gauge(label: "stablegate_chain_scanned_block", dimensions: dimensions).record(Double(end))
            Gauge(label: "stablegate_chain_lag_blocks", dimensions: dimensions).record(Double(max(0, head - end)))
            if end < requestedEnd { break }  // the endpoint proved less than asked: the rest waits for the next pass
        }
    }

    /// A `Transfer` log of a configured token that moved money, decoded.
    private struct MatchedTransfer {
        let log: EthereumRPC.Log
        let token: TokenConfiguration
        let transfer: ERC20.Transfer
    }

    /// Shopper-account deposits: the transfers to a shopper account's address (never to an
    /// intent's deposit address), recorded as seen; they are credited once confirmed.
    private func recordAccountDeposits(_ matches: [MatchedTransfer], notOwnedBy owners: [String: String], report: inout WatchReport) async throws {
        guard let accounts else { return }
        let holders = try await accounts.accounts(forAddresses: Set(matches.map { $0.transfer.to.lowercased }).subtracting(owners.keys))
        for match in matches {
            guard let accountId = holders[match.transfer.to.lowercased] else { continue }
            try await accounts.recordSeen(
                AccountDeposit(
                    id: processor.identifiers.objectId(at: clock.now), accountId: accountId, chainId: chain.chainId,
                    transactionHash: match.log.transactionHash,
                    logIndex: Int64(match.log.logIndex), blockNumber: Int64(match.log.blockNumber), blockHash: match.log.blockHash,
                    tokenContract: match.token.contract.lowercased, decimals: match.token.decimals, from: match.transfer.from.lowercased,
                    amount: match.transfer.amount, state: .seen, detectedAt: clock.now))
            report.accountDepositsSeen += 1
            logger.info("account deposit detected", metadata: ["account_id": "\(accountId)", "tx": "\(match.log.transactionHash)"])
        }
    }

    /// Intent transfers: the transfers to intents' deposit addresses, recorded per intent
    /// (payment, late or mismatched) in the transaction that re-evaluates the intent.
    private func recordIntentTransfers(
        _ matches: [MatchedTransfer], owners: [String: String], proven: EthereumRPC.ProvenLogs, now: Date, report: inout WatchReport
    ) async throws {
        var byIntent: [String: [MatchedTransfer]] = [:]
        for match in matches {
            if let intentId = owners[match.transfer.to.lowercased] { byIntent[intentId, default: []].append(match) }
        }
        let chainId = chain.chainId
        let screens = screening != nil
        for (intentId, found) in byIntent {
            try await processor.process(intentId: intentId) { intent, db in
                let kytEnabled = try await MerchantRepository.store(id: intent.storeId, on: db)?.kytEnabled ?? true
                for match in found {
                    let selected = intent.payment.chainId == chainId && intent.payment.coinContract?.lowercased() == match.token.contract.lowercased
                    let kind: TransferKind = selected ? (intent.status.isTerminal ? .late : .payment) : .mismatched
                    try await ChainTransferRepository.recordSeen(
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
            Counter(label: "stablegate_payments_detected_total", dimensions: [("chain_id", "\(chainId)")]).increment(by: found.count)
            // From the block's time to its detection, where the block's time is known without
            // another request: the range's last block, or a node that puts `blockTimestamp` in logs.
            if let first = found.first?.log, let stamp = first.blockNumber == proven.to ? proven.toTimestamp : first.blockTimestamp {
                Timer(label: "stablegate_detection_delay_seconds", dimensions: [("chain_id", "\(chainId)")])
                    .recordSeconds(max(0, clock.now.timeIntervalSince1970 - Double(stamp)))
            }
            logger.info("transfer detected", metadata: ["intent_id": "\(intentId)", "transfers": "\(found.count)"])
        }
    }

    /// Screens senders of transfers waiting for KYT; an unavailable provider is retried next pass.
    private func screenPending(report: inout WatchReport) async throws {
        guard let screening else { return }
        for transfer in try await transfers.unscreenedTransfers(chainId: chain.chainId) {
            guard let sender = EthereumAddress(transfer.from) else { continue }
            let verdict: ScreeningVerdict
            do {
                verdict = try await screening.screen(sender)
            } catch {
                logger.warning("KYT screening failed; will retry", metadata: ["intent_id": "\(transfer.intentId)", "error": "\(error)"])
                continue
            }
            try await processor.process(intentId: transfer.intentId) { _, db in
                try await ChainTransferRepository.setScreening(
                    transferId: transfer.id, verdict.flagged ? .flagged : .clear, detail: verdict.detail, on: db)
            }
            report.screened += 1
            if verdict.flagged {
                logger.warning("KYT flagged a sender; funds held", metadata: ["intent_id": "\(transfer.intentId)", "sender": "\(transfer.from)"])
            }
        }
    }
}
