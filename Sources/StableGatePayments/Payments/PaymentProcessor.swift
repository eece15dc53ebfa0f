import BigInt
import Foundation
import Logging
import SQLKit
import StableGateDomain
import StableGateEthereum
import StableGateStore

/// Applies what happened on chain to an intent: in one transaction, the caller's transfer
/// changes are written, ``PaymentRules`` decide the status steps, each step goes through the
/// state machine and is recorded, confirmed money is credited exactly once, and a settlement
/// is queued for the sweeper. A crash anywhere leaves either all of it or none of it.
public struct PaymentProcessor: Sendable {
    let intents: CheckoutIntentRepository
    let clock: any WallClock
    let identifiers: any IdentifierGenerator
    let defaultFeeBasisPoints: Int
    /// How long an intent may wait for a network to be chosen before it expires.
    let checkoutLifetime: TimeInterval
    /// The operator's fee wallet (lower-case), nil when fees stay in the deposit wallet.
    let feeAddress: String?
    /// Late money adding up to less than this (in coins) is held as dust, not forwarded.
    let lateMinimum: DecimalAmount
    let logger: Logger

    public init(
        intents: CheckoutIntentRepository, clock: any WallClock, identifiers: any IdentifierGenerator, defaultFeeBasisPoints: Int,
        checkoutLifetime: TimeInterval, feeAddress: String?, lateMinimum: DecimalAmount = DecimalAmount(units: 1, scale: 0), logger: Logger
    ) {
        self.lateMinimum = lateMinimum
        self.intents = intents
        self.clock = clock
        self.identifiers = identifiers
        self.defaultFeeBasisPoints = defaultFeeBasisPoints
        self.checkoutLifetime = checkoutLifetime
        self.feeAddress = feeAddress
        self.logger = logger
    }

    /// Runs `changes` (writes to transfers, idempotent: it may run again after a concurrent
    /// update) and re-evaluates the intent, all in one transaction. Returns the transitions made.
    /// With `releasingDust`, held dust is credited and forwarded whatever its total (the
    /// operator's release).
    @discardableResult
    public func process(
        intentId: String, releasingDust: Bool = false,
        _ changes: @escaping @Sendable (CheckoutIntent, any SQLDatabase) async throws -> Void = { _, _ in }
    ) async throws -> [StatusTransition] {
        let now = clock.now
        let result = try await intents.modify(id: intentId) { intent, db -> (transitions: [StatusTransition], result: [StatusTransition])? in
            try await changes(intent, db)
            let before = intent
            let transitions = try await evaluate(&intent, now: now, releasingDust: releasingDust, on: db)
            // Unchanged: commit the transfer changes without rewriting the intent.
            guard intent != before else { return nil }
            intent.updatedAt = now
            return (transitions, transitions)
        }
        for transition in result ?? [] {
            logger.info(
                "intent status changed",
                metadata: [
                    "intent_id": "\(intentId)", "from": "\(transition.from?.name ?? "-")", "to": "\(transition.to.name)",
                    "reason": "\(transition.reason)",
                ])
        }
        return result ?? []
    }

    /// The operator's decision on an intent in PENDING_MANUAL_OPERATION, in one transaction
    /// with what it causes (docs/WIRE-CONTRACT.md §6.2; README "Manual review"):
    /// - `release`: the KYT-flagged payments count as clear; the rules then go on (ON_CHAIN,
    ///   CONFIRMED or UNDERPAID, credited and forwarded as any payment);
    /// - `reject`: REJECTED, the flagged money stays held (never forwarded);
    /// - `close`: for money in the wrong coin or network: the order ends as its own money
    ///   says (TIMEOUT when none came); the wrong-coin transfers stay held for a return by hand.
    /// Throws ``ReviewRefused`` when the intent is not waiting for that decision.
    @discardableResult
    public func review(intentId: String, decision: ReviewDecision) async throws -> [StatusTransition] {
        let now = clock.now
        let result = try await intents.modify(id: intentId) { intent, db -> (transitions: [StatusTransition], result: [StatusTransition])? in
            guard intent.status == .pendingManualOperation else {
                throw ReviewRefused(reason: "intent \(intent.id) is \(intent.status.name), not waiting for a review")
            }
            let transfers = try await ChainTransferRepository.transfers(intentId: intent.id, on: db)
            let flagged = transfers.filter { $0.kind == .payment && $0.screening == .flagged && $0.state != .dropped && $0.amount > 0 }
            var transitions: [StatusTransition] = []
            switch decision {
            case .release, .reject:
                guard !flagged.isEmpty else {
                    throw ReviewRefused(
                        reason: "intent \(intent.id) holds no KYT-flagged payment; money in the wrong coin or network is closed with --close")
                }
                if decision == .reject {
                    let senders = Set(flagged.map(\.from)).sorted().joined(separator: ", ")
                    let reason = "rejected by the operator after KYT flagged \(senders); funds are held"
                    transitions.append(try IntentStateMachine.transition(&intent, to: .rejected, reason: reason, at: now))
                    intent.settlementStatus = .held
                    intent.payment.errorMessage = reason
                    return (transitions, transitions)
                }
                intent.payment.errorMessage = nil
                intent.settlementStatus = nil
                for transfer in flagged {
                    try await ChainTransferRepository.setScreening(
                        transferId: transfer.id, .released, detail: (transfer.screeningDetail.map { $0 + "; " } ?? "") + "released by the operator",
                        on: db)
                }
            case .close:
                guard flagged.isEmpty else {
                    throw ReviewRefused(reason: "intent \(intent.id) holds a KYT-flagged payment; decide it with --release or --reject")
                }
                for transfer in transfers where transfer.kind == .mismatched {
                    try await ChainTransferRepository.reclassify(transferId: transfer.id, as: .held, on: db)
                }
            }
            transitions += try await evaluate(&intent, now: now, releasingDust: false, on: db)
            intent.updatedAt = now
            return (transitions, transitions)
        }
        for transition in result ?? [] {
            logger.notice(
                "intent reviewed by the operator",
                metadata: [
                    "intent_id": "\(intentId)", "decision": "\(decision.rawValue)", "from": "\(transition.from?.name ?? "-")",
                    "to": "\(transition.to.name)",
                ])
        }
        return result ?? []
    }

    private func evaluate(_ intent: inout CheckoutIntent, now: Date, releasingDust: Bool, on db: any SQLDatabase) async throws -> [StatusTransition] {
        let store = try await MerchantRepository.store(id: intent.storeId, on: db)
        var transfers = try await ChainTransferRepository.transfers(intentId: intent.id, on: db)
        // Money that did not move is not a payment: anyone can emit a zero-value Transfer with
        // any sender (`transferFrom(x, deposit, 0)` needs no allowance). The watcher records none;
        // this also keeps any older row from counting.
        let payments = transfers.filter { $0.kind == .payment && $0.state != .dropped && $0.amount > 0 }
        let accepted = payments.filter { $0.state == .confirmed && $0.screening.isClear }
        let expired: Bool =
            if let deposit = intent.deposit { deposit.expiresAt <= now } else { intent.createdAt.addingTimeInterval(checkoutLifetime) <= now }
        let lastDropped = transfers.last { $0.state == .dropped && $0.kind == .payment }
        let snapshot = PaymentSnapshot(
            status: intent.status, required: intent.deposit?.amountBaseUnits ?? 0,
            confirmedPaid: accepted.reduce(BigUInt(0)) { $0 + $1.amount },
            pendingCount: payments.filter { $0.state == .seen || $0.screening == .pending }.count,
            activeCount: payments.count,
            // Only money that is final decides a rejection: a flagged sender of a transfer a reorg
            // may still drop holds nothing yet.
            flaggedSender: payments.first { $0.screening == .flagged && $0.state == .confirmed }?.from,
            wrongCoinCount: transfers.filter { $0.kind == .mismatched && $0.state == .confirmed && $0.amount > 0 }.count, windowExpired: expired,
            lastDropped: lastDropped.map { "transfer \($0.transactionHash) from block \($0.blockNumber)" })

        var transitions: [StatusTransition] = []
        for decision in PaymentRules.steps(snapshot) {
            transitions.append(try IntentStateMachine.transition(&intent, to: decision.status, reason: decision.reason, at: now))
            switch decision.status {
            case .onChain:
                if let first = payments.first {
                    intent.payment.txHash = first.transactionHash
                    intent.payment.txFrom = first.from
                    // The browser's report counts once the chain shows a transfer in that transaction.
                    if intent.payment.paymentMethodType == .unknown {
                        intent.payment.paymentMethodType =
                            intent.walletReport?.transactionHash == first.transactionHash ? .walletConnect : .walletScan
                    }
                }
            case .tempWalletReceived:
                intent.payment.txHash = nil
                intent.payment.txFrom = nil
            case .confirmed, .underpaid:
                try await settle(&intent, credit: accepted, store: store, isLate: false, now: now, on: db)
                for index in transfers.indices where accepted.contains(where: { $0.id == transfers[index].id }) {
                    transfers[index].credited = true
                }
            case .failed, .timeout:
                intent.payment.errorMessage = decision.reason
            case .pendingManualOperation:
                intent.payment.errorMessage = decision.reason
                // KYT-flagged money is held until the operator decides; wrong-coin money was never the order's.
                if snapshot.flaggedSender != nil { intent.settlementStatus = .held }
            default:
                break
            }
        }

        // Money arriving for an intent that has ended (or confirmed beyond what settled it) is
        // a late payment: credited once and forwarded, never lost and never counted as the order's.
        // Below the late minimum it is held as dust until more arrives or the operator releases it.
        if intent.status.isTerminal, intent.status != .rejected {
            let late = transfers.filter {
                !$0.credited && [.payment, .late, .dust].contains($0.kind) && $0.state == .confirmed && $0.screening.isClear && $0.amount > 0
            }
            if let first = late.first {
                let total = late.reduce(BigUInt(0)) { $0 + $1.amount }
                let minimum = lateMinimum.baseUnits(decimals: first.decimals) ?? 0
                if releasingDust || total >= minimum {
                    // settle() stores each transfer, now labelled late and credited.
                    try await settle(
                        &intent,
                        credit: late.map {
                            var transfer = $0
                            transfer.kind = .late
                            return transfer
                        }, store: store, isLate: true, now: now, on: db)
                    logger.notice("late payment credited", metadata: ["intent_id": "\(intent.id)", "transfers": "\(late.count)"])
                } else {
                    // The intent does not change here, so nothing else guards this write:
                    // only a transfer still uncredited becomes dust.
                    for transfer in late where transfer.kind != .dust {
                        try await ChainTransferRepository.reclassify(transferId: transfer.id, as: .dust, on: db)
                    }
                    logger.notice(
                        "late payment below the minimum held as dust",
                        metadata: [
                            "intent_id": "\(intent.id)", "transfers": "\(late.count)", "units": "\(total)", "minimum_units": "\(minimum)",
                        ])
                }
            }
        }
        return transitions
    }

    /// Credits `transfers` (all on one chain and token) and queues their forwarding.
    private func settle(
        _ intent: inout CheckoutIntent, credit transfers: [ChainTransfer], store: Store?, isLate: Bool, now: Date, on db: any SQLDatabase
    ) async throws {
        guard let first = transfers.first else { return }
        let gross = transfers.reduce(BigUInt(0)) { $0 + $1.amount }
        let split = Settlement(
            paid: gross, required: isLate ? gross : (intent.deposit?.amountBaseUnits ?? gross),
            feeBasisPoints: store?.feeBasisPoints ?? defaultFeeBasisPoints)
        for var transfer in transfers {
            transfer.credited = true
            try await ChainTransferRepository.update(transfer, on: db)
        }
        let decimals = first.decimals
        func amount(_ units: BigUInt) -> DecimalAmount { DecimalAmount(units: units, scale: decimals) }
        if isLate {
            intent.latePaidAmount = (intent.latePaidAmount ?? .zero) + amount(gross)
        } else {
            intent.payment.actualPaidAmount = amount(split.paid)
            intent.payment.serviceFeeAmount = amount(split.fee)
            intent.payment.netIncomeAmount = amount(split.net)
            intent.overpaidAmount = split.overpaid > 0 ? amount(split.overpaid) : nil
            intent.payment.txTo = store?.settlementWallet(chainId: first.chainId) ?? intent.payment.txTo
        }
        let settlement = SettlementRecord(
            id: identifiers.objectId(at: now), intentId: intent.id, chainId: first.chainId, tokenContract: first.tokenContract,
            decimals: decimals, depositAddress: first.to, gross: split.paid, fee: split.fee, net: split.net,
            merchantAddress: store?.settlementWallet(chainId: first.chainId)?.lowercased(), feeAddress: feeAddress, state: .pending,
            nextAttemptAt: now,
            createdAt: now, updatedAt: now)
        try await SettlementRepository.insert(settlement, on: db)
        if intent.settlementStatus != .sending { intent.settlementStatus = .pending }
    }
}

/// What the operator decided about an intent waiting in PENDING_MANUAL_OPERATION.
public enum ReviewDecision: String, Sendable, CaseIterable {
    case release, reject, close
}

/// A review decision that does not fit the intent, with what to do instead.
public struct ReviewRefused: Error, Sendable, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}

extension ScreeningState {
    /// Cleared by KYT, not screened because the store has KYT off, or released by the operator.
    var isClear: Bool { self == .clear || self == .skipped || self == .released }
}
