import Foundation
import HTTPTypes
import Hummingbird
import Logging
import StableGateDomain
import StableGateEthereum
import StableGateStore

/// `/account` (balances, deposit address with QR, history) and `/account/withdraw` (form →
/// review → confirm; nothing moves before the confirmation).
struct ShopperHomeRoutes {
    let pages: ShopperPages

    /// Where a request without a session goes: the login page, and back afterwards.
    @Sendable static func loginFirst(_ request: Request, context: GatewayRequestContext) -> Response {
        ShopperPages.login(next: request.uri.path.hasPrefix("/account/withdraw") ? "/account/withdraw" : "/account")
    }

    @Sendable func home(_ request: Request, context: ShopperContext) async throws -> Response {
        let identity = context.identity
        var notice: String?
        if let id = request.uri.queryParameters["withdrawal"].map(String.init), let transfer = try await pages.accounts.transfer(id: id),
            transfer.accountId == identity.account.id
        {
            notice = "Withdrawal of \(ShopperPages.amount(transfer.decimalAmount)) approved; it is sent on chain within a minute."
        }
        return try await home(identity, notice: notice)
    }

    @Sendable func withdrawal(_ request: Request, context: ShopperContext) async throws -> Response {
        try await withdrawForm(context.identity, form: [:], error: nil, status: .ok)
    }

    @Sendable func reviewWithdrawal(_ request: Request, context: ShopperContext) async throws -> Response {
        let identity = context.identity
        let form = context.form.all
        let withdrawal: ShopperPaymentService.WithdrawalRequest
        do {
            withdrawal = try await pages.payments.withdrawal(
                form: form, account: identity.account, id: pages.identifiers.objectId(at: pages.clock.now))
        } catch let error as APIError {
            return try await withdrawForm(identity, form: form, error: "Not sent: \(error.message)", status: .badRequest)
        }
        let gas = await pages.payments.estimatedNetworkFee(
            chain: withdrawal.chain, token: withdrawal.token, account: identity.account, amount: withdrawal.units)
        return pages.page(
            "withdraw", title: "Confirm withdrawal", identity: identity,
            WithdrawalReviewPage(
                request: withdrawal.id, option: form["option"] ?? "", address: withdrawal.recipient.checksummed,
                amount: withdrawal.amount.plainString(), coin: withdrawal.token.stableCoin.code, network: withdrawal.chain.name,
                gas: gas.map { "\(MoneyRules.wireString($0)) \(withdrawal.chain.nativeCurrencySymbol ?? "ETH") (paid by StableGate)" }
                    ?? "unknown now (paid by StableGate)"))
    }

    @Sendable func confirmWithdrawal(_ request: Request, context: ShopperContext) async throws -> Response {
        let identity = context.identity
        let form = context.form.all
        guard let requestId = form["request"], ObjectIdFormat.isValid(requestId) else {
            return try await withdrawForm(identity, form: form, error: "Not sent: review the withdrawal first.", status: .badRequest)
        }
        let transfer: AccountTransfer
        do {
            if let existing = try await pages.accounts.transfer(id: requestId) {
                // A second click on "Confirm": the first one is the withdrawal.
                guard existing.accountId == identity.account.id else { return pages.staleForm(identity, link: "/account/withdraw") }
                transfer = existing
            } else {
                let withdrawal = try await pages.payments.withdrawal(form: form, account: identity.account, id: requestId)
                transfer = try await pages.payments.confirmWithdrawal(withdrawal, account: identity.account)
            }
        } catch let error as APIError {
            return try await withdrawForm(identity, form: form, error: "Not sent: \(error.message)", status: .badRequest)
        } catch let error as LedgerError {
            return try await withdrawForm(identity, form: form, error: "Not sent: \(error)", status: .conflict)
        }
        context.logger.info(
            "withdrawal approved",
            metadata: [
                "account_id": "\(identity.account.id)", "transfer_id": "\(transfer.id)", "chain_id": "\(transfer.chainId)",
            ])
        return PageTemplates.seeOther("/account?withdrawal=\(transfer.id)")
    }

    private func home(_ identity: ShopperIdentity, notice: String?) async throws -> Response {
        let account = identity.account
        let balances = try await pages.payments.balances(of: account)
        let chains = pages.payments.chains.sorted { $0.chainId < $1.chainId }
        let address = EthereumAddress(account.depositAddress)?.checksummed ?? account.depositAddress
        let coins = Set(chains.flatMap { $0.tokens.map(\.stableCoin.code) }).sorted().joined(separator: " or ")
        let confirmations = Set(chains.map(\.confirmations)).sorted().map(String.init).joined(separator: "–")
        var history: [(at: Date, row: HomePage.HistoryRow)] = []
        func coin(_ chainId: Int64, _ token: String) -> String {
            chains.first { $0.chainId == chainId }?.tokens.first { $0.contract.lowercased == token.lowercased() }?.stableCoin.code ?? "?"
        }
        func network(_ chainId: Int64) -> String { chains.first { $0.chainId == chainId }?.name ?? "chain \(chainId)" }
        for deposit in try await pages.accounts.deposits(accountId: account.id) where deposit.state != .dropped {
            history.append(
                (
                    deposit.detectedAt,
                    HomePage.HistoryRow(
                        kind: "deposit", when: CheckoutPageRenderer.time(deposit.detectedAt), what: "Deposit on \(network(deposit.chainId))",
                        detail: "tx \(deposit.transactionHash)", sign: "+",
                        amount: ShopperPages.amount(DecimalAmount(units: deposit.amount, scale: deposit.decimals)),
                        coin: coin(deposit.chainId, deposit.tokenContract),
                        state: deposit.state == .confirmed ? "Credited" : "Confirming")
                ))
        }
        let payoutHashes = try await pages.accounts.payoutHashes(accountId: account.id)
        for transfer in try await pages.accounts.transfers(accountId: account.id) {
            let what =
                transfer.kind == .payment
                ? "Payment for checkout \(transfer.intentId ?? "")" : "Withdrawal to \(EthereumAddress(transfer.to)?.checksummed ?? transfer.to)"
            let state: String =
                switch transfer.state {
                case .approved: "Approved"
                case .sending: "Sending"
                case .sent: "Sent"
                case .failed: "Failed — returned to your balance"
                }
            history.append(
                (
                    transfer.createdAt,
                    HomePage.HistoryRow(
                        kind: transfer.kind.rawValue, when: CheckoutPageRenderer.time(transfer.createdAt),
                        what: "\(what) on \(network(transfer.chainId))",
                        detail: payoutHashes[transfer.id].map { "tx \($0)" }, sign: "−", amount: ShopperPages.amount(transfer.decimalAmount),
                        coin: coin(transfer.chainId, transfer.tokenContract), state: state)
                ))
        }
        history.sort { $0.at > $1.at }
        let label = "Deposit address \(address)"
        return pages.page(
            "home", title: "Your account", identity: identity, notice: notice,
            HomePage(
                balances: balances.map { balance in
                    HomePage.Balance(
                        chainId: String(balance.chain.chainId), coin: balance.token.stableCoin.code, network: balance.chain.name,
                        available: ShopperPages.amount(balance.available), arriving: ShopperPages.amount(balance.arriving))
                },
                address: address, qr: QRCode(address)?.svg(label: label) ?? "", coins: coins.isEmpty ? "USDT or USDC" : coins,
                networks: chains.map(\.name).joined(separator: ", "),
                confirmationsText: confirmations == "1" ? "1 confirmation" : "\(confirmations) confirmations",
                history: history.map(\.row), hasHistory: !history.isEmpty))
    }

    private func withdrawForm(
        _ identity: ShopperIdentity, form: [String: String], error: String?, status: HTTPResponse.Status
    ) async throws -> Response {
        let balances = try await pages.payments.balances(of: identity.account)
        let chosen = form["option"]
        let options = balances.enumerated().map { index, balance in
            let value = NetworkChoice(chainId: balance.chain.chainId, coin: balance.token.stableCoin).formValue
            return WithdrawalFormPage.Option(
                value: value, coin: balance.token.stableCoin.code, network: balance.chain.name, available: ShopperPages.amount(balance.available),
                checked: chosen.map { $0 == value } ?? (index == 0))
        }
        return pages.page(
            "withdraw", title: "Withdraw", identity: identity, status: status, error: error,
            WithdrawalFormPage(options: options, address: form["address"] ?? "", amount: form["amount"] ?? ""))
    }
}

/// The account's home: balances, the deposit address with its QR code, and the history.
struct HomePage: Sendable {
    struct Balance: Sendable {
        let chainId, coin, network, available, arriving: String
    }

    struct HistoryRow: Sendable {
        let kind, when, what: String
        let detail: String?
        let sign, amount, coin, state: String
    }

    let balances: [Balance]
    let address: String
    /// `qr`: inline SVG.
    let qr, coins, networks, confirmationsText: String
    let history: [HistoryRow]
    let hasHistory: Bool
}

/// The withdrawal form.
struct WithdrawalFormPage: Sendable {
    /// A balance to withdraw from.
    struct Option: Sendable {
        let value, coin, network, available: String
        let checked: Bool
    }

    let options: [Option]
    let address, amount: String
}

/// A withdrawal to confirm: nothing moves before the confirmation.
struct WithdrawalReviewPage: Sendable {
    let review = true
    /// `request`: the withdrawal's id, so a second confirmation is the same withdrawal.
    let request, option, address, amount, coin, network, gas: String
}
