import BigInt
import Foundation
import StableGateDomain

/// Why a transfer to a deposit address counts, or does not.
public enum TransferKind: String, Sendable {
    /// Toward the intent: the selected chain and coin, while the intent was open.
    case payment
    /// Arrived after the intent ended: credited and forwarded, reported separately.
    case late
    /// The wrong chain or coin for the intent: held for the operator, never counted. An open
    /// intent whose window ends with only such money waits in PENDING_MANUAL_OPERATION.
    case mismatched
    /// A mismatched transfer the operator has decided on (`intents review --close`): still held,
    /// still listed with the held money, but no longer keeping its intent in review.
    case held
    /// Late money below `payments.late.minimum`: recorded and held rather than forwarded one
    /// transfer at a time (forwarding costs gas; dust to public deposit addresses is cheap to
    /// send). Forwarded together with the next late money that reaches the minimum, or when the
    /// operator releases it (`stablegate transfers release-dust`).
    case dust
}

/// Where a transfer stands on chain.
public enum TransferState: String, Sendable {
    /// In a block, not yet deep enough.
    case seen
    /// Deep enough and still canonical.
    case confirmed
    /// Its block left the canonical chain.
    case dropped
}

/// The KYT verdict on a transfer's sender.
public enum ScreeningState: String, Sendable {
    case pending
    case clear
    case flagged
    /// The store has KYT off.
    case skipped
    /// Flagged, then released by the operator's review (`intents review --release`).
    case released
}

/// One ERC-20 transfer to a deposit address, as recorded. Unique on (chain, tx, log index):
/// a payment is never counted twice.
public struct ChainTransfer: Sendable, Equatable {
    public let chainId: Int64
    public let transactionHash: String
    public let logIndex: Int64
    public var blockNumber: Int64
    public var blockHash: String
    public let tokenContract: String
    public let stableCoin: StableCoin
    public let decimals: Int
    public let from: String
    public let to: String
    public let amount: BigUInt
    public let intentId: String
    public var kind: TransferKind
    public var state: TransferState
    public var screening: ScreeningState
    public var screeningDetail: String?
    /// Counted into a settlement (once, ever).
    public var credited: Bool
    public let detectedAt: Date
    public var confirmedAt: Date?

    public init(
        chainId: Int64, transactionHash: String, logIndex: Int64, blockNumber: Int64, blockHash: String, tokenContract: String,
        stableCoin: StableCoin, decimals: Int, from: String, to: String, amount: BigUInt, intentId: String, kind: TransferKind,
        state: TransferState, screening: ScreeningState, screeningDetail: String? = nil, credited: Bool = false, detectedAt: Date,
        confirmedAt: Date? = nil
    ) {
        self.chainId = chainId
        self.transactionHash = transactionHash
        self.logIndex = logIndex
        self.blockNumber = blockNumber
        self.blockHash = blockHash
        self.tokenContract = tokenContract
        self.stableCoin = stableCoin
        self.decimals = decimals
        self.from = from
        self.to = to
        self.amount = amount
        self.intentId = intentId
        self.kind = kind
        self.state = state
        self.screening = screening
        self.screeningDetail = screeningDetail
        self.credited = credited
        self.detectedAt = detectedAt
        self.confirmedAt = confirmedAt
    }

    /// `chain:tx:log`, the primary key.
    public var id: String { "\(chainId):\(transactionHash):\(logIndex)" }
}

/// Where a settlement's forwarding stands.
public enum SettlementState: String, Sendable {
    /// Ready to forward when its turn comes.
    case pending
    /// Forwarding transactions exist; waiting for them to be mined.
    case sending
    /// Done.
    case settled
    /// Not forwarded: KYT flagged the sender.
    case held
    /// Gave up; the funds stay in the deposit wallet for the operator.
    case failed
}

/// Money to forward from one deposit wallet: the net to the merchant, the fee to the operator.
public struct SettlementRecord: Sendable, Equatable {
    public let id: String
    public let intentId: String
    public let chainId: Int64
    public let tokenContract: String
    public let decimals: Int
    public let depositAddress: String
    public let gross: BigUInt
    public let fee: BigUInt
    public let net: BigUInt
    public var merchantAddress: String?
    public var feeAddress: String?
    public var state: SettlementState
    public var attempts: Int
    public var lastError: String?
    public var nextAttemptAt: Date
    public let createdAt: Date
    public var updatedAt: Date

    public init(
        id: String, intentId: String, chainId: Int64, tokenContract: String, decimals: Int, depositAddress: String, gross: BigUInt,
        fee: BigUInt, net: BigUInt, merchantAddress: String?, feeAddress: String?, state: SettlementState, attempts: Int = 0,
        lastError: String? = nil, nextAttemptAt: Date, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.intentId = intentId
        self.chainId = chainId
        self.tokenContract = tokenContract
        self.decimals = decimals
        self.depositAddress = depositAddress
        self.gross = gross
        self.fee = fee
        self.net = net
        self.merchantAddress = merchantAddress
        self.feeAddress = feeAddress
        self.state = state
        self.attempts = attempts
        self.lastError = lastError
        self.nextAttemptAt = nextAttemptAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// What a sweep transaction does.
public enum SweepKind: String, Sendable, CaseIterable {
    /// Native coin from the hot wallet to the deposit wallet, for gas.
    case gas
    /// Net tokens from the deposit wallet to the merchant.
    case merchant
    /// Fee tokens from the deposit wallet to the operator.
    case fee
    /// Tokens out of a shopper account's wallet (a checkout payment or a withdrawal).
    case payout
}

/// Where a sweep transaction stands.
public enum SweepState: String, Sendable {
    /// Signed and stored, not yet known to be broadcast (after a crash: broadcast again).
    case signed
    /// Accepted by the node.
    case broadcast
    /// Mined successfully.
    case mined
    /// Mined and reverted, or refused by the node for good.
    case failed
    /// Another attempt with the same nonce was mined instead.
    case replaced
}

/// One signed forwarding transaction. It is stored before it is broadcast, so a crash can
/// only ever lead to broadcasting the very same transaction again, never a second one.
public struct SweepTransaction: Sendable, Equatable {
    public let id: String
    public let settlementId: String
    public let chainId: Int64
    public let kind: SweepKind
    public let attempt: Int
    public let from: String
    public let to: String
    public let nonce: UInt64
    public let rawTransaction: String
    public let hash: String
    public let maxFeePerGas: BigUInt
    public var state: SweepState
    public var blockNumber: Int64?
    public var broadcastAt: Date?
    public let createdAt: Date
    public var updatedAt: Date

    public init(
        id: String, settlementId: String, chainId: Int64, kind: SweepKind, attempt: Int, from: String, to: String, nonce: UInt64,
        rawTransaction: String, hash: String, maxFeePerGas: BigUInt, state: SweepState, blockNumber: Int64? = nil,
        broadcastAt: Date? = nil, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.settlementId = settlementId
        self.chainId = chainId
        self.kind = kind
        self.attempt = attempt
        self.from = from
        self.to = to
        self.nonce = nonce
        self.rawTransaction = rawTransaction
        self.hash = hash
        self.maxFeePerGas = maxFeePerGas
        self.state = state
        self.blockNumber = blockNumber
        self.broadcastAt = broadcastAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
