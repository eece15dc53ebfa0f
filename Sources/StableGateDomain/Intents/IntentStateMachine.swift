import Foundation

/// One recorded change of an intent's status: the single source for webhooks, e-mails and the
/// dashboard timeline.
public struct StatusTransition: Sendable, Equatable {
    /// The status before, nil for the creation record.
    public let from: CheckoutStatus?
    public let to: CheckoutStatus
    /// Why it happened, in words an operator can act on.
    public let reason: String
    public let at: Date

    public init(from: CheckoutStatus?, to: CheckoutStatus, reason: String, at: Date) {
        self.from = from
        self.to = to
        self.reason = reason
        self.at = at
    }
}

/// A transition the state machine does not allow.
public struct IllegalTransition: Error, Sendable, Equatable, CustomStringConvertible {
    public let from: CheckoutStatus
    public let to: CheckoutStatus
    public var description: String { "illegal status transition \(from.name) → \(to.name)" }
}

/// The checkout intent lifecycle (docs/WIRE-CONTRACT.md §6.2) as one table.
///
///     CREATED → PAYING → TEMP_WALLET_RECEIVED → ON_CHAIN → CONFIRMED
///
/// Any open status may end in FAILED (a processing error), CANCELED (before money is on chain)
/// or TIMEOUT (the window ended with nothing received). ON_CHAIN ends in CONFIRMED or
/// UNDERPAID, or goes back to TEMP_WALLET_RECEIVED when a reorg drops the transfer. Money that
/// waits for the operator's decision moves the intent to PENDING_MANUAL_OPERATION (a
/// KYT-flagged sender, or money in the wrong coin or network when the window ends); the
/// operator's decision leads to REJECTED (KYT), back to ON_CHAIN (released: the rules then
/// confirm it), TIMEOUT (closed, the wrong-coin money stays held), or SEND_BACK (a refund in
/// flight), which ends CANCELED when the refund is sent or returns to the operator when it
/// fails. Choosing another network or coin re-enters TEMP_WALLET_RECEIVED. Terminal statuses
/// never change; money arriving later is recorded as a late payment, not as a transition.
public enum IntentStateMachine {
    /// The statuses reachable from `status` in one step.
    public static func successors(of status: CheckoutStatus) -> Set<CheckoutStatus> {
        switch status {
        case .created: [.paying, .tempWalletReceived, .onChain, .pendingManualOperation, .canceled, .failed, .timeout]
        case .paying: [.tempWalletReceived, .onChain, .pendingManualOperation, .canceled, .failed, .timeout]
        case .tempWalletReceived: [.tempWalletReceived, .onChain, .pendingManualOperation, .underpaid, .canceled, .failed, .timeout]
        case .onChain: [.tempWalletReceived, .confirmed, .pendingManualOperation, .underpaid, .failed, .timeout]
        case .pendingManualOperation: [.onChain, .rejected, .timeout, .sendBack, .failed]
        case .sendBack: [.canceled, .pendingManualOperation, .failed]
        case .confirmed, .failed, .rejected, .underpaid, .canceled, .timeout: []
        }
    }

    /// Whether `from → to` is allowed.
    public static func canTransition(from: CheckoutStatus, to: CheckoutStatus) -> Bool {
        successors(of: from).contains(to)
    }

    /// Moves `intent` to `status`, returning the record to store with it.
    public static func transition(
        _ intent: inout CheckoutIntent, to status: CheckoutStatus, reason: String, at date: Date
    ) throws(IllegalTransition) -> StatusTransition {
        guard canTransition(from: intent.status, to: status) else {
            throw IllegalTransition(from: intent.status, to: status)
        }
        let record = StatusTransition(from: intent.status, to: status, reason: reason, at: date)
        // A browser's report of a payment that never arrived is forgotten when the order ends
        // unpaid: it must not linger as if it said something about the order.
        if [.failed, .canceled, .timeout].contains(status) { intent.walletReport = nil }
        intent.status = status
        intent.updatedAt = date
        return record
    }
}
