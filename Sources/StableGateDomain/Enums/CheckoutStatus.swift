/// The lifecycle status of a checkout intent: AllScale's original values plus its newer ones
/// (docs/WIRE-CONTRACT.md §6.1: TIMEOUT, PENDING_MANUAL_OPERATION, SEND_BACK, and 2 named PAYING).
/// The raw value is the wire value.
public enum CheckoutStatus: Int, CaseIterable, Sendable, Hashable, Codable {
    /// The payment window ended with nothing received.
    case timeout = -5
    /// The customer canceled the checkout.
    case canceled = -4
    /// The paid amount is less than required.
    case underpaid = -3
    /// Rejected by KYT (Know Your Transaction) screening; the money is held.
    case rejected = -2
    /// Checkout failed due to an internal or processing error.
    case failed = -1
    /// Created, not yet opened by the customer.
    case created = 1
    /// The customer opened the hosted checkout page (AllScale's older name: VIEWED).
    case paying = 2
    /// A temporary deposit wallet has been assigned.
    case tempWalletReceived = 3
    /// Money arrived that waits for the operator's decision: a KYT-flagged sender, or money
    /// in a coin or on a network the order did not choose (``PaymentRules``).
    case pendingManualOperation = 4
    /// The money is being sent back to the payer (a refund in flight).
    case sendBack = 5
    /// An on-chain transfer was detected and awaits confirmation.
    case onChain = 10
    /// The payment is confirmed on chain.
    case confirmed = 20

    /// AllScale's older name (VIEWED) for value 2; the wire value is the same.
    public static var viewed: CheckoutStatus { .paying }

    /// Upper-case name as docs/WIRE-CONTRACT.md §6.1 prints it, e.g. `TEMP_WALLET_RECEIVED`.
    public var name: String {
        switch self {
        case .timeout: "TIMEOUT"
        case .canceled: "CANCELED"
        case .underpaid: "UNDERPAID"
        case .rejected: "REJECTED"
        case .failed: "FAILED"
        case .created: "CREATED"
        case .paying: "PAYING"
        case .tempWalletReceived: "TEMP_WALLET_RECEIVED"
        case .pendingManualOperation: "PENDING_MANUAL_OPERATION"
        case .sendBack: "SEND_BACK"
        case .onChain: "ON_CHAIN"
        case .confirmed: "CONFIRMED"
        }
    }

    /// Names accepted besides ``name``: AllScale's older VIEWED for PAYING.
    public static let aliases: [String: CheckoutStatus] = ["VIEWED": .paying]

    /// Terminal statuses never change again: every negative value and CONFIRMED
    /// (integrations stop polling on them, docs/WIRE-CONTRACT.md §6.1).
    public var isTerminal: Bool { rawValue < 0 || self == .confirmed }

    /// Looks a status up by its name or an alias (case-insensitive).
    public init?(name: String) {
        let upper = name.uppercased()
        guard let status = Self.allCases.first(where: { $0.name == upper }) ?? Self.aliases[upper] else { return nil }
        self = status
    }
}
