/// The lifecycle status of a checkout intent (seed 002). The raw value is the wire value.
public enum CheckoutStatus: Int, CaseIterable, Sendable, Hashable, Codable {
    /// Checkout failed due to an internal or processing error.
    case failed = -1
    /// Rejected by KYT (Know Your Transaction) screening.
    case rejected = -2
    /// The paid amount is less than required.
    case underpaid = -3
    /// The customer canceled the checkout.
    case canceled = -4
    /// Created, not yet viewed by the customer.
    case created = 1
    /// The hosted checkout page has been opened.
    case viewed = 2
    /// A temporary deposit wallet has been assigned.
    case tempWalletReceived = 3
    /// An on-chain transfer was detected and awaits confirmation.
    case onChain = 10
    /// The payment is confirmed on chain.
    case confirmed = 20

    /// Upper-case name as printed in seed 002, e.g. `TEMP_WALLET_RECEIVED`.
    public var name: String {
        switch self {
        case .failed: "FAILED"
        case .rejected: "REJECTED"
        case .underpaid: "UNDERPAID"
        case .canceled: "CANCELED"
        case .created: "CREATED"
        case .viewed: "VIEWED"
        case .tempWalletReceived: "TEMP_WALLET_RECEIVED"
        case .onChain: "ON_CHAIN"
        case .confirmed: "CONFIRMED"
        }
    }

    /// Terminal statuses never change again (seed 002's "Terminal" column).
    public var isTerminal: Bool {
        switch self {
        case .failed, .rejected, .underpaid, .canceled, .confirmed: true
        case .created, .viewed, .tempWalletReceived, .onChain: false
        }
    }

    /// Looks a status up by its seed-002 name (case-insensitive).
    public init?(name: String) {
        guard let status = Self.allCases.first(where: { $0.name == name.uppercased() }) else { return nil }
        self = status
    }
}
