import BigInt

/// What the payment rules need to know about one intent at one moment.
public struct PaymentSnapshot: Sendable, Equatable {
    public var status: CheckoutStatus
    /// The amount due, in base units of the selected token.
    public var required: BigUInt
    /// Confirmed, credited payments (not late, not mismatched, not dropped).
    public var confirmedPaid: BigUInt
    /// Payments seen on chain and not yet confirmed (or not yet screened).
    public var pendingCount: Int
    /// Payments seen and not dropped by a reorg, confirmed or not.
    public var activeCount: Int
    /// A confirmed payment whose sender KYT flagged and the operator has not released, if any.
    public var flaggedSender: String?
    /// Confirmed transfers in a coin or on a network the intent did not choose, not yet
    /// decided by the operator.
    public var wrongCoinCount: Int
    /// Whether the payment window has ended.
    public var windowExpired: Bool
    /// A description of the last dropped payment, used as the reason when a reorg empties the intent.
    public var lastDropped: String?

    public init(
        status: CheckoutStatus, required: BigUInt, confirmedPaid: BigUInt = 0, pendingCount: Int = 0, activeCount: Int = 0,
        flaggedSender: String? = nil, wrongCoinCount: Int = 0, windowExpired: Bool = false, lastDropped: String? = nil
    ) {
        self.wrongCoinCount = wrongCoinCount
        self.status = status
        self.required = required
        self.confirmedPaid = confirmedPaid
        self.pendingCount = pendingCount
        self.activeCount = activeCount
        self.flaggedSender = flaggedSender
        self.windowExpired = windowExpired
        self.lastDropped = lastDropped
    }
}

/// The money of a settled intent: what was paid, the service fee, what the merchant nets.
public struct Settlement: Sendable, Equatable {
    /// Total received, in base units.
    public let paid: BigUInt
    public let fee: BigUInt
    public let net: BigUInt
    /// Paid beyond what was due (zero when exact or short).
    public let overpaid: BigUInt

    /// Splits `paid` with the fee rule of ``MoneyRules/serviceFee(paidBaseUnits:basisPoints:)``.
    public init(paid: BigUInt, required: BigUInt, feeBasisPoints: Int) {
        self.paid = paid
        self.fee = MoneyRules.serviceFee(paidBaseUnits: paid, basisPoints: feeBasisPoints)
        self.net = paid - fee
        self.overpaid = paid > required ? paid - required : 0
    }
}

/// One step the rules decide.
public struct PaymentDecision: Sendable, Equatable {
    public let status: CheckoutStatus
    public let reason: String
    /// Set when the decision settles the intent (CONFIRMED, UNDERPAID).
    public let settles: Bool
}

/// How on-chain facts move an intent through the state machine, as one pure function.
///
/// - A payment seen on chain (and not dropped) moves it to ON_CHAIN.
/// - A reorg that drops every payment takes it back to TEMP_WALLET_RECEIVED.
/// - A confirmed payment from a KYT-flagged sender moves it to PENDING_MANUAL_OPERATION: the
///   money is held and nothing more happens until the operator releases it (the intent goes on
///   as if the sender were clear) or rejects it (REJECTED, funds held) — `stablegate intents review`.
/// - Confirmed payments adding up to the amount due CONFIRM it (an overpayment is recorded).
/// - When the window ends, nothing pending: some payment → UNDERPAID; nothing credited but
///   money in the wrong coin or network → PENDING_MANUAL_OPERATION (the operator closes it);
///   nothing at all → TIMEOUT ("payment window expired"), also from ON_CHAIN, so no order waits
///   forever on transfers that carry nothing. Pending payments are waited for first, so a slow
///   chain never turns a full payment into an underpayment.
/// - SEND_BACK belongs to the refund that is in flight; the rules leave it alone.
/// - Nothing changes a terminal intent; later money is a late payment, handled elsewhere.
public enum PaymentRules {
    /// The next step for `snapshot`, or nil when nothing changes.
    public static func next(_ snapshot: PaymentSnapshot) -> PaymentDecision? {
        let status = snapshot.status
        guard !status.isTerminal, status != .sendBack else { return nil }
        if let sender = snapshot.flaggedSender {
            if status == .pendingManualOperation { return nil }
            if status != .onChain {
                return PaymentDecision(status: .onChain, reason: "payment received from \(sender)", settles: false)
            }
            return PaymentDecision(
                status: .pendingManualOperation, reason: "KYT screening flagged the sender \(sender); the money is held for the operator's review",
                settles: false)
        }
        if snapshot.activeCount > 0, status != .onChain {
            let reason = status == .pendingManualOperation ? "payment on chain, no longer held for review" : "payment detected on chain"
            return PaymentDecision(status: .onChain, reason: reason, settles: false)
        }
        if snapshot.activeCount == 0, status == .onChain {
            return PaymentDecision(
                status: .tempWalletReceived, reason: "chain reorganisation dropped \(snapshot.lastDropped ?? "the payment"); waiting for payment",
                settles: false)
        }
        if snapshot.required > 0, snapshot.confirmedPaid >= snapshot.required {
            let over = snapshot.confirmedPaid > snapshot.required ? " (overpaid)" : ""
            return PaymentDecision(status: .confirmed, reason: "payment confirmed on chain\(over)", settles: true)
        }
        if snapshot.windowExpired, snapshot.pendingCount == 0 {
            if snapshot.confirmedPaid > 0 {
                return PaymentDecision(status: .underpaid, reason: "payment window ended with less than the amount due received", settles: true)
            }
            if snapshot.wrongCoinCount > 0 {
                guard status != .pendingManualOperation else { return nil }
                return PaymentDecision(
                    status: .pendingManualOperation,
                    reason: "payment window ended with money received only in a coin or on a network the order did not choose; held for the operator",
                    settles: false)
            }
            return PaymentDecision(status: .timeout, reason: PaymentRules.windowExpiredReason, settles: false)
        }
        return nil
    }

    /// Why an intent ended TIMEOUT (also recognised by migration 10 in FAILED intents of
    /// earlier versions).
    public static let windowExpiredReason = "payment window expired with nothing received"

    /// Every step for `snapshot`, applied in order (for example ON_CHAIN then CONFIRMED when a
    /// payment is detected and confirmed in the same pass).
    public static func steps(_ snapshot: PaymentSnapshot) -> [PaymentDecision] {
        var current = snapshot
        var decisions: [PaymentDecision] = []
        while let decision = next(current), decisions.count < 4 {
            decisions.append(decision)
            current.status = decision.status
        }
        return decisions
    }
}
