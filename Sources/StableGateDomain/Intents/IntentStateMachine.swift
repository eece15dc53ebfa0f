#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

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

/// The checkout intent lifecycle (seed 002 and DESIGN.md §1) as one table.
///
///     CREATED → VIEWED → TEMP_WALLET_RECEIVED → ON_CHAIN → CONFIRMED
///
/// Any non-terminal status may end in FAILED or CANCELED before money is on chain;
/// ON_CHAIN ends in CONFIRMED, REJECTED (KYT) or UNDERPAID, or goes back to
/// TEMP_WALLET_RECEIVED when a reorg drops the transfer. Choosing another network or coin
/// re-enters TEMP_WALLET_RECEIVED. Terminal statuses never change; money arriving later is
/// recorded as a late payment, not as a transition.
public enum IntentStateMachine {
    /// The statuses reachable from `status` in one step.
    public static func successors(of status: CheckoutStatus) -> Set<CheckoutStatus> {
        switch status {
        case .created: [.viewed, .tempWalletReceived, .onChain, .canceled, .failed]
        case .viewed: [.tempWalletReceived, .onChain, .canceled, .failed]
        case .tempWalletReceived: [.tempWalletReceived, .onChain, .underpaid, .canceled, .failed]
        case .onChain: [.tempWalletReceived, .confirmed, .rejected, .underpaid, .failed]
        case .confirmed, .failed, .rejected, .underpaid, .canceled: []
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
        if status == .failed || status == .canceled { intent.walletReport = nil }
        intent.status = status
        intent.updatedAt = date
        return record
    }
}
