import BigInt
import Foundation
import StableGateDomain
import StableGateEthereum
import StableGatePayments
import StableGateStore

/// What a shopper account can do with its money: balances, paying a checkout intent, and
/// withdrawing. Approvals write the ledger debit and the transfer in one transaction; the
/// chain watcher's ``ShopperTransferSender`` does the sending.
struct ShopperPaymentService: Sendable {
    let accounts: ShopperAccountRepository
    let ledger: LedgerRepository
    let intents: CheckoutIntentRepository
    let deposits: DepositService?
    let chains: [ChainConfiguration]
    let rpcs: [Int64: EthereumRPC]
    let clock: any WallClock
    let identifiers: any IdentifierGenerator

    /// One balance line: a token on a chain, what the ledger says is available, and what is
    /// arriving (seen on chain, not yet confirmed).
    struct Balance: Sendable {
        let chain: ChainConfiguration
        let token: TokenConfiguration
        let available: DecimalAmount
        let arriving: DecimalAmount
    }

    /// Every configured chain and token, with the account's balance (zero when it never had any).
    func balances(of account: ShopperAccount) async throws -> [Balance] {
        let ledgerBalances = try await ledger.balances(of: account.ledgerAccount)
        var arriving: [LedgerAsset: DecimalAmount] = [:]
        for deposit in try await accounts.seenDeposits(accountId: account.id) {
            let asset = LedgerAsset(chainId: deposit.chainId, token: deposit.tokenContract)
            arriving[asset] = (arriving[asset] ?? .zero) + DecimalAmount(units: deposit.amount, scale: deposit.decimals)
        }
        return chains.sorted { $0.chainId < $1.chainId }.flatMap { chain in
            chain.tokens.map { token in
                let asset = LedgerAsset(chainId: chain.chainId, token: token.contract.lowercased)
                return Balance(chain: chain, token: token, available: ledgerBalances[asset] ?? .zero, arriving: arriving[asset] ?? .zero)
            }
        }
    }

    /// What the account has available of `token` on `chain`.
    static func available(_ balances: [Balance], chain: ChainConfiguration, token: TokenConfiguration) -> DecimalAmount {
        balances.first { $0.chain.chainId == chain.chainId && $0.token.contract == token.contract }?.available ?? .zero
    }

    /// The estimated network fee of a token transfer from the account, in the chain's native
    /// coin (paid by the gateway's hot wallet, never taken from the shopper's balance).
    func estimatedNetworkFee(chain: ChainConfiguration, token: TokenConfiguration, account: ShopperAccount, amount: BigUInt) async -> DecimalAmount? {
        guard let rpc = rpcs[chain.chainId], let from = EthereumAddress(account.depositAddress) else { return nil }
        guard let wei = try? await rpc.estimatedTokenTransferCost(token: token.contract, from: from, to: from, amount: amount) else { return nil }
        return DecimalAmount(units: wei, scale: 18)
    }

    /// An approval needs this much of the payment window left, so the transfer (a gas top-up
    /// and the payment, each waiting for a block) lands inside it.
    static let minimumTimeLeft: TimeInterval = 120
    /// The smallest withdrawal: the gateway pays its gas, so dust withdrawals are refused.
    static let minimumWithdrawal = DecimalAmount("1")!

    /// Pays `intentId` from the account on `chainId` in `coin`. Idempotent per intent: a second
    /// approval (double click, second tab) returns the first payment and debits nothing.
    func approvePayment(intentId: String, account: ShopperAccount, chainId: Int64, coin: StableCoin) async throws -> AccountTransfer {
        // Many approvals at once (a frantic double click in two tabs) keep bumping the intent's
        // version while they choose its network; each round re-reads, and the first debit wins.
        var round = 0
        while true {
            round += 1
            do {
                return try await approvePaymentOnce(intentId: intentId, account: account, chainId: chainId, coin: coin)
            } catch is CheckoutIntentRepository.ConcurrentUpdate where round < 10 {
                try await Task.sleep(for: .milliseconds(Int.random(in: 5...50)))
            }
        }
    }

    private func approvePaymentOnce(intentId: String, account: ShopperAccount, chainId: Int64, coin: StableCoin) async throws -> AccountTransfer {
        guard let deposits else { throw APIError(.validation, "this gateway has no payment network configured") }
        guard let current = try await intents.find(id: intentId) else { throw APIError(.notFound, "checkout not found") }
        if let live = try await livePayment(intentId: intentId) { return live }
        guard [.created, .paying, .tempWalletReceived].contains(current.status) else {
            throw APIError(.validation, "this order can no longer be paid: it is \(current.status.name)", field: "status")
        }
        if current.status != .tempWalletReceived || current.payment.chainId != chainId || current.settlementCoin != coin {
            _ = try await deposits.select(intentId: intentId, chainId: chainId, coin: coin)
        }
        let now = clock.now
        let id = identifiers.objectId(at: now)
        let dialect = accounts.database.dialect
        let outcome = try await intents.modify(id: intentId) { intent, db -> (transitions: [StatusTransition], result: AccountTransfer)? in
            try await ShopperAccountRepository.lockPayments(intentId: intent.id, on: db, dialect: dialect)
            if try await ShopperAccountRepository.livePayment(intentId: intent.id, on: db) != nil {
                return nil  // another tab got there first: nothing new is debited, nothing written
            }
            guard intent.status == .tempWalletReceived, intent.payment.chainId == chainId, intent.settlementCoin == coin,
                let deposit = intent.deposit, let contract = intent.payment.coinContract
            else { throw APIError(.validation, "the order's payment changed while you were paying; please review it again", field: "status") }
            guard deposit.expiresAt > now.addingTimeInterval(Self.minimumTimeLeft) else {
                throw APIError(
                    .validation, "too little of this order's payment window is left to send a payment safely; ask the merchant for a new one",
                    field: "status")
            }
            guard intent.payment.txHash == nil else {
                throw APIError(.validation, "a payment for this order is already on its way; wait for it", field: "status")
            }
            let transfer = AccountTransfer(
                id: id, kind: .payment, accountId: account.id, chainId: chainId, tokenContract: contract, decimals: deposit.tokenDecimals,
                amount: deposit.amountBaseUnits, to: deposit.address, intentId: intent.id, state: .approved, nextAttemptAt: now, createdAt: now,
                updatedAt: now)
            try await ShopperAccountRepository.approve(transfer, on: db, dialect: dialect)
            intent.payment.paymentMethodType = .allScalePay
            intent.payment.txFrom = account.depositAddress
            intent.updatedAt = now
            return ([], transfer)
        }
        guard let outcome else {
            if let live = try await livePayment(intentId: intentId) { return live }
            throw APIError(.notFound, "checkout not found")
        }
        FaultPoint.afterAccountApproval.trigger()
        return outcome
    }

    /// The intent's account payment on its way (or sent), if any.
    func livePayment(intentId: String) async throws -> AccountTransfer? {
        guard let latest = try await accounts.latestPayment(intentId: intentId), latest.state != .failed else { return nil }
        return latest
    }

    /// A withdrawal the shopper reviewed: everything the confirmation form carries.
    struct WithdrawalRequest: Sendable {
        let id: String
        let chain: ChainConfiguration
        let token: TokenConfiguration
        let recipient: EthereumAddress
        let amount: DecimalAmount
        let units: BigUInt
    }

    /// Checks a withdrawal form (`option` = `chainId:coin`, `address`, `amount`) against the
    /// account's balance; `id` is the request's idempotency id (new on review, echoed on confirm).
    func withdrawal(form: [String: String], account: ShopperAccount, id: String) async throws -> WithdrawalRequest {
        guard let choice = NetworkChoice(formValue: form["option"]), let chain = chains.first(where: { $0.chainId == choice.chainId }),
            let token = chain.token(for: choice.coin)
        else { throw APIError.invalid("option", "choose a network and coin") }
        let addressText = (form["address"] ?? "").trimmingCharacters(in: .whitespaces)
        guard let recipient = EthereumAddress(addressText) else {
            throw APIError.invalid("address", "must be a 0x-prefixed 20-byte address (a mixed-case one must carry a valid checksum)")
        }
        guard recipient.lowercased != account.depositAddress.lowercased() else {
            throw APIError.invalid("address", "is this account's own deposit address")
        }
        guard let amount = DecimalAmount((form["amount"] ?? "").trimmingCharacters(in: .whitespaces)), !amount.isZero,
            let units = amount.baseUnits(decimals: token.decimals)
        else { throw APIError.invalid("amount", "must be a positive amount with at most \(token.decimals) decimals") }
        guard amount >= Self.minimumWithdrawal else {
            throw APIError.invalid("amount", "must be at least \(MoneyRules.wireString(Self.minimumWithdrawal)) \(token.stableCoin.code)")
        }
        let balance =
            try await ledger.balance(of: account.ledgerAccount, asset: LedgerAsset(chainId: chain.chainId, token: token.contract.lowercased)) ?? .zero
        guard amount <= balance else {
            throw APIError.invalid(
                "amount", "is more than your \(token.stableCoin.code) balance on \(chain.name) (\(MoneyRules.wireString(balance)))")
        }
        return WithdrawalRequest(id: id, chain: chain, token: token, recipient: recipient, amount: amount, units: units)
    }

    /// Approves a reviewed withdrawal: debit and transfer in one transaction. Confirming the same
    /// request twice returns the first transfer.
    func confirmWithdrawal(_ request: WithdrawalRequest, account: ShopperAccount) async throws -> AccountTransfer {
        if let existing = try await accounts.transfer(id: request.id) {
            guard existing.accountId == account.id else { throw APIError(.notFound, "withdrawal not found") }
            return existing
        }
        let now = clock.now
        let transfer = AccountTransfer(
            id: request.id, kind: .withdrawal, accountId: account.id, chainId: request.chain.chainId,
            tokenContract: request.token.contract.lowercased,
            decimals: request.token.decimals, amount: request.units, to: request.recipient.lowercased, intentId: nil, state: .approved,
            nextAttemptAt: now, createdAt: now, updatedAt: now)
        do {
            try await accounts.approve(transfer)
        } catch LedgerError.referenceConflict {
            // The same confirmation raced itself: the first one is the withdrawal.
            if let existing = try await accounts.transfer(id: request.id), existing.accountId == account.id { return existing }
            throw APIError(.notFound, "withdrawal not found")
        }
        FaultPoint.afterAccountApproval.trigger()
        return transfer
    }
}
