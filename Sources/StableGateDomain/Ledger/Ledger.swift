import BigInt

/// The shopper-account ledger ("AllScale Pay", docs/ARCHITECTURE.md §7): double entry, append only.
///
/// Every movement of money is one ``LedgerTransfer``: `amount` leaves one account (a debit) and
/// arrives in another (a credit), so each posting is a balanced pair and the sum over all
/// accounts of one asset is always zero. A balance is never stored or updated in place: it is
/// the sum of the account's credits minus its debits. A transfer carries a `reference` that is
/// unique in the ledger, which makes recording it idempotent (a deposit credited twice, a
/// payment approved from two tabs, a retry after a crash all find the first posting).

/// An account of the ledger. Shopper accounts hold what the gateway owes a shopper; the others
/// are the gateway's side of each movement.
public enum LedgerAccount: Hashable, Sendable, CustomStringConvertible {
    /// A shopper's balance (credits − debits ≥ 0, always).
    case shopper(String)
    /// Money that arrived on chain into custody (the counterpart of deposits).
    case custodyInflow
    /// Money on its way out on chain for a checkout payment, until its transaction is final.
    case paymentsInFlight
    /// Money on its way out on chain for a withdrawal, until its transaction is final.
    case withdrawalsInFlight
    /// Money that has left custody on chain for good.
    case custodyOutflow

    /// The stable text stored in the database, e.g. `shopper:6b0f…`.
    public var code: String {
        switch self {
        case .shopper(let id): "shopper:" + id
        case .custodyInflow: "custody:inflow"
        case .paymentsInFlight: "custody:payments-in-flight"
        case .withdrawalsInFlight: "custody:withdrawals-in-flight"
        case .custodyOutflow: "custody:outflow"
        }
    }

    public init?(code: String) {
        switch code {
        case "custody:inflow": self = .custodyInflow
        case "custody:payments-in-flight": self = .paymentsInFlight
        case "custody:withdrawals-in-flight": self = .withdrawalsInFlight
        case "custody:outflow": self = .custodyOutflow
        default:
            guard code.hasPrefix("shopper:"), code.count > 8 else { return nil }
            self = .shopper(String(code.dropFirst(8)))
        }
    }

    public var description: String { code }

    /// Only shopper balances must never go below zero; the gateway's accounts are the other side.
    public var mustStayNonNegative: Bool { if case .shopper = self { true } else { false } }
}

/// What a balance is of: one token on one chain.
public struct LedgerAsset: Hashable, Sendable {
    public let chainId: Int64
    /// The token contract, lower-case hex.
    public let token: String

    public init(chainId: Int64, token: String) {
        self.chainId = chainId
        self.token = token.lowercased()
    }
}

/// Why money moved; stored with the posting.
public enum LedgerTransferKind: String, Sendable, CaseIterable {
    /// A confirmed on-chain deposit to the shopper's address.
    case deposit
    /// A shopper approved paying a checkout intent: balance → in flight.
    case paymentApproved = "payment_approved"
    /// The payment's transaction is final: in flight → out.
    case paymentSettled = "payment_settled"
    /// The payment could not be sent: in flight → back to the shopper.
    case paymentReturned = "payment_returned"
    case withdrawalApproved = "withdrawal_approved"
    case withdrawalSettled = "withdrawal_settled"
    case withdrawalReturned = "withdrawal_returned"
}

/// One balanced movement: `amount` of `asset` from `debit` to `credit`.
public struct LedgerTransfer: Sendable, Equatable {
    /// Unique in the ledger: the same reference is the same transfer (idempotency).
    public let reference: String
    public let kind: LedgerTransferKind
    public let asset: LedgerAsset
    public let debit: LedgerAccount
    public let credit: LedgerAccount
    public let amount: DecimalAmount

    /// Refuses a transfer that could not be balanced: a zero amount, or an account paying itself.
    public init(
        reference: String, kind: LedgerTransferKind, asset: LedgerAsset, from debit: LedgerAccount, to credit: LedgerAccount, amount: DecimalAmount
    ) throws(LedgerError) {
        guard !reference.isEmpty else { throw LedgerError.invalid("a transfer needs a reference") }
        guard !amount.isZero else { throw LedgerError.invalid("a transfer of zero moves nothing") }
        guard debit != credit else { throw LedgerError.invalid("\(debit) cannot pay itself") }
        self.reference = reference
        self.kind = kind
        self.asset = asset
        self.debit = debit
        self.credit = credit
        self.amount = amount
    }
}

/// Why the ledger refused a transfer.
public enum LedgerError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalid(String)
    /// The debited shopper balance is smaller than the amount.
    case insufficientFunds(account: String, balance: DecimalAmount, needed: DecimalAmount)
    /// The reference was already used for a different transfer.
    case referenceConflict(String)

    public var description: String {
        switch self {
        case .invalid(let reason): reason
        case .insufficientFunds(let account, let balance, let needed):
            "insufficient funds in \(account): balance \(balance.plainString()), needed \(needed.plainString())"
        case .referenceConflict(let reference): "reference \(reference) was already used for a different transfer"
        }
    }
}

/// One side of a posting, as stored.
public struct LedgerEntry: Sendable, Equatable {
    public enum Side: String, Sendable { case debit, credit }
    public let reference: String
    public let account: LedgerAccount
    public let asset: LedgerAsset
    public let side: Side
    public let amount: DecimalAmount

    public init(reference: String, account: LedgerAccount, asset: LedgerAsset, side: Side, amount: DecimalAmount) {
        self.reference = reference
        self.account = account
        self.asset = asset
        self.side = side
        self.amount = amount
    }

    /// The two entries of a transfer.
    public static func pair(_ transfer: LedgerTransfer) -> [LedgerEntry] {
        [
            LedgerEntry(reference: transfer.reference, account: transfer.debit, asset: transfer.asset, side: .debit, amount: transfer.amount),
            LedgerEntry(reference: transfer.reference, account: transfer.credit, asset: transfer.asset, side: .credit, amount: transfer.amount),
        ]
    }
}

/// Balances and the ledger's invariants, computed from entries alone.
public enum LedgerBook {
    /// Credits and debits of one account in one asset.
    public struct Totals: Sendable, Equatable {
        public var credits: DecimalAmount = .zero
        public var debits: DecimalAmount = .zero

        public init(credits: DecimalAmount = .zero, debits: DecimalAmount = .zero) {
            self.credits = credits
            self.debits = debits
        }

        /// credits − debits, or nil when debits exceed credits.
        public var balance: DecimalAmount? { credits.subtracting(debits) }
    }

    public static func totals(_ entries: [LedgerEntry]) -> [LedgerAccount: [LedgerAsset: Totals]] {
        var out: [LedgerAccount: [LedgerAsset: Totals]] = [:]
        for entry in entries {
            var totals = out[entry.account, default: [:]][entry.asset, default: Totals()]
            switch entry.side {
            case .credit: totals.credits = totals.credits + entry.amount
            case .debit: totals.debits = totals.debits + entry.amount
            }
            out[entry.account, default: [:]][entry.asset] = totals
        }
        return out
    }

    /// Everything wrong with a set of entries: a reference without exactly one debit and one
    /// equal credit, or a shopper balance below zero. Empty when the ledger is sound.
    public static func violations(_ entries: [LedgerEntry]) -> [String] {
        var problems: [String] = []
        for (reference, group) in Dictionary(grouping: entries, by: \.reference).sorted(by: { $0.key < $1.key }) {
            let debits = group.filter { $0.side == .debit }, credits = group.filter { $0.side == .credit }
            guard debits.count == 1, credits.count == 1, debits[0].amount == credits[0].amount, debits[0].asset == credits[0].asset else {
                problems.append("posting \(reference) is not one debit and one equal credit")
                continue
            }
        }
        for (account, assets) in totals(entries) where account.mustStayNonNegative {
            for (asset, totals) in assets where totals.balance == nil {
                problems.append("\(account) is below zero in \(asset.token) on chain \(asset.chainId)")
            }
        }
        return problems
    }
}

extension DecimalAmount {
    /// `self − other`, exactly; nil when that would be negative.
    public func subtracting(_ other: DecimalAmount) -> DecimalAmount? {
        let scale = Swift.max(self.scale, other.scale)
        let a = rescaled(to: scale)!.units, b = other.rescaled(to: scale)!.units
        return a >= b ? DecimalAmount(units: a - b, scale: scale) : nil
    }
}
