import BigInt
import Foundation
import StableGateDomain

/// A shopper's StableGate account ("AllScale Pay"): a login, separate from dashboard users,
/// and one custodial deposit address used on every EVM chain.
public struct ShopperAccount: Sendable, Equatable {
    public let id: String
    /// Lower-case.
    public let email: String
    /// bcrypt.
    public let passwordHash: String
    /// Where the account's key sits below the account path of the deposit seed.
    public let derivationIndex: Int64
    /// Lower-case hex; the same on every chain.
    public let depositAddress: String
    public let createdAt: Date
    public var disabledAt: Date?

    public init(
        id: String, email: String, passwordHash: String, derivationIndex: Int64, depositAddress: String, createdAt: Date, disabledAt: Date? = nil
    ) {
        self.id = id
        self.email = email
        self.passwordHash = passwordHash
        self.derivationIndex = derivationIndex
        self.depositAddress = depositAddress
        self.createdAt = createdAt
        self.disabledAt = disabledAt
    }

    /// The ledger account holding what the gateway owes this shopper.
    public var ledgerAccount: LedgerAccount { .shopper(id) }
}

/// Where a deposit to a shopper's address stands.
public enum AccountDepositState: String, Sendable {
    /// In a block, not yet deep enough.
    case seen
    /// Deep enough: credited to the balance (exactly once, by its ledger reference).
    case confirmed
    /// Its block left the canonical chain.
    case dropped
}

/// A token transfer into a shopper's deposit address.
public struct AccountDeposit: Sendable, Equatable {
    public let id: String
    public let accountId: String
    public let chainId: Int64
    public let transactionHash: String
    public let logIndex: Int64
    public var blockNumber: Int64
    public var blockHash: String
    public let tokenContract: String
    public let decimals: Int
    public let from: String
    public let amount: BigUInt
    public var state: AccountDepositState
    public let detectedAt: Date
    public var confirmedAt: Date?

    public init(
        id: String, accountId: String, chainId: Int64, transactionHash: String, logIndex: Int64, blockNumber: Int64, blockHash: String,
        tokenContract: String, decimals: Int, from: String, amount: BigUInt, state: AccountDepositState, detectedAt: Date, confirmedAt: Date? = nil
    ) {
        self.id = id
        self.accountId = accountId
        self.chainId = chainId
        self.transactionHash = transactionHash
        self.logIndex = logIndex
        self.blockNumber = blockNumber
        self.blockHash = blockHash
        self.tokenContract = tokenContract
        self.decimals = decimals
        self.from = from
        self.amount = amount
        self.state = state
        self.detectedAt = detectedAt
        self.confirmedAt = confirmedAt
    }

    /// The ledger reference of its credit: the on-chain log, so it is credited once whatever
    /// the number of passes, instances or reorg round trips.
    public var ledgerReference: String { "deposit:\(chainId):\(transactionHash):\(logIndex)" }

    /// The balanced credit of this deposit.
    public func ledgerTransfer() throws -> LedgerTransfer {
        try LedgerTransfer(
            reference: ledgerReference, kind: .deposit, asset: LedgerAsset(chainId: chainId, token: tokenContract), from: .custodyInflow,
            to: .shopper(accountId), amount: DecimalAmount(units: amount, scale: decimals))
    }
}

/// What an outgoing account transfer is for.
public enum AccountTransferKind: String, Sendable {
    /// Paying a checkout intent: to the intent's deposit address.
    case payment
    /// To an external address the shopper named.
    case withdrawal
}

/// Where an outgoing account transfer stands.
public enum AccountTransferState: String, Sendable {
    /// Approved and debited (the money is in flight in the ledger); nothing signed yet.
    case approved
    /// Its transaction is signed, broadcast or waiting to be mined.
    case sending
    /// Mined successfully: the in-flight money left custody.
    case sent
    /// Could not be sent (reverted, or gave up): the money went back to the shopper's balance.
    case failed
}

/// Money leaving a shopper's wallet on chain. The ledger debit and this row are written in one
/// transaction, before anything is signed; the sender then signs, stores and broadcasts, so a
/// crash at any point resumes the same transfer rather than starting another.
public struct AccountTransfer: Sendable, Equatable {
    public let id: String
    public let kind: AccountTransferKind
    public let accountId: String
    public let chainId: Int64
    /// Lower-case hex.
    public let tokenContract: String
    public let decimals: Int
    /// Base units of the token.
    public let amount: BigUInt
    /// Lower-case hex: the intent's deposit address or the withdrawal's recipient.
    public let to: String
    public let intentId: String?
    public var state: AccountTransferState
    public var attempts: Int
    public var lastError: String?
    public var nextAttemptAt: Date
    public let createdAt: Date
    public var updatedAt: Date

    public init(
        id: String, kind: AccountTransferKind, accountId: String, chainId: Int64, tokenContract: String, decimals: Int, amount: BigUInt, to: String,
        intentId: String?, state: AccountTransferState, attempts: Int = 0, lastError: String? = nil, nextAttemptAt: Date, createdAt: Date,
        updatedAt: Date
    ) {
        self.id = id
        self.kind = kind
        self.accountId = accountId
        self.chainId = chainId
        self.tokenContract = tokenContract.lowercased()
        self.decimals = decimals
        self.amount = amount
        self.to = to.lowercased()
        self.intentId = intentId
        self.state = state
        self.attempts = attempts
        self.lastError = lastError
        self.nextAttemptAt = nextAttemptAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    public var asset: LedgerAsset { LedgerAsset(chainId: chainId, token: tokenContract) }
    public var decimalAmount: DecimalAmount { DecimalAmount(units: amount, scale: decimals) }
    private var inFlight: LedgerAccount { kind == .payment ? .paymentsInFlight : .withdrawalsInFlight }

    /// Balance → in flight: written with the row itself.
    public func approvalPosting() throws -> LedgerTransfer {
        try LedgerTransfer(
            reference: "account-transfer:\(id)", kind: kind == .payment ? .paymentApproved : .withdrawalApproved, asset: asset,
            from: .shopper(accountId), to: inFlight, amount: decimalAmount)
    }

    /// In flight → out of custody: the transaction was mined.
    public func settlementPosting() throws -> LedgerTransfer {
        try LedgerTransfer(
            reference: "account-transfer:\(id):settled", kind: kind == .payment ? .paymentSettled : .withdrawalSettled, asset: asset,
            from: inFlight, to: .custodyOutflow, amount: decimalAmount)
    }

    /// In flight → back to the shopper: the transfer could not be made.
    public func returnPosting() throws -> LedgerTransfer {
        try LedgerTransfer(
            reference: "account-transfer:\(id):returned", kind: kind == .payment ? .paymentReturned : .withdrawalReturned, asset: asset,
            from: inFlight, to: .shopper(accountId), amount: decimalAmount)
    }
}
