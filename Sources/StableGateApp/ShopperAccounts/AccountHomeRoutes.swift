import Foundation
import HTTPTypes
import Hummingbird
import StableGateEthereum
import StableGateDomain
import StableGateStore


/// `/account` (balances, deposit address with QR, history) and `/account/withdraw` (form →
/// review → confirm; nothing moves before the confirmation).
struct AccountHomeRoutes {
    let pages: AccountPages

    func register(on router: Router<GatewayRequestContext>) {
        router.get("account") { request, _ in
            guard let identity = try await pages.identity(request) else { return AccountPages.login(next: "/account") }
            var notice: String?
            if let id = request.uri.queryParameters["withdrawal"].map(String.init), let transfer = try await pages.accounts.transfer(id: id),
                transfer.accountId == identity.account.id
            {
                notice = "Withdrawal of \(AccountPages.amount(transfer.decimalAmount)) approved; it is sent on chain within a minute."
            }
            return try await home(identity, notice: notice)
        }
        router.get("account/withdraw") { request, _ in
            guard let identity = try await pages.identity(request) else { return AccountPages.login(next: "/account/withdraw") }
            return try await withdrawForm(identity, form: [:], error: nil, status: .ok)
        }
        router.post("account/withdraw") { request, context in
            guard let identity = try await pages.identity(request) else { return AccountPages.login(next: "/account/withdraw") }
            let form = try await AccountPages.form(request)
            guard SessionManager.csrfMatches(identity.session, form["csrf"]) else { return pages.staleForm(identity, link: "/account/withdraw") }
            let withdrawal: AccountPaymentService.WithdrawalRequest
            do {
                withdrawal = try await pages.payments.withdrawal(form: form, account: identity.account, id: pages.identifiers.objectId(at: pages.clock.now))
            } catch let error as APIError {
                return try await withdrawForm(identity, form: form, error: "Not sent: \(error.message)", status: .badRequest)
            }
            let gas = await pages.payments.estimatedNetworkFee(chain: withdrawal.chain, token: withdrawal.token, account: identity.account, amount: withdrawal.units)
            return pages.page("withdraw", title: "Confirm withdrawal", identity: identity, [
                "review": true, "request": withdrawal.id, "option": form["option"] ?? "", "address": withdrawal.recipient.checksummed,
                "amount": withdrawal.amount.plainString(), "coin": withdrawal.token.stableCoin.code, "network": withdrawal.chain.name,
                "gas": gas.map { "\(MoneyRules.wireString($0)) \(withdrawal.chain.nativeCurrencySymbol ?? "ETH") (paid by StableGate)" } ?? "unknown now (paid by StableGate)",
            ])
        }
        router.post("account/withdraw/confirm") { request, context in
            guard let identity = try await pages.identity(request) else { return AccountPages.login(next: "/account/withdraw") }
            let form = try await AccountPages.form(request)
            guard SessionManager.csrfMatches(identity.session, form["csrf"]) else { return pages.staleForm(identity, link: "/account/withdraw") }
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
            context.logger.info("withdrawal approved", metadata: [
                "account_id": "\(identity.account.id)", "transfer_id": "\(transfer.id)", "chain_id": "\(transfer.chainId)",
            ])
            return PageTemplates.seeOther("/account?withdrawal=\(transfer.id)")
        }
    }

    private func home(_ identity: ShopperIdentity, notice: String?) async throws -> Response {
        let account = identity.account
        let balances = try await pages.payments.balances(of: account)
        let chains = pages.payments.chains.sorted { $0.chainId < $1.chainId }
        let address = EthereumAddress(account.depositAddress)?.checksummed ?? account.depositAddress
        let coins = Set(chains.flatMap { $0.tokens.map(\.stableCoin.code) }).sorted().joined(separator: " or ")
        let confirmations = Set(chains.map(\.confirmations)).sorted().map(String.init).joined(separator: "–")
        var history: [(at: Date, row: [String: Any])] = []
        func coin(_ chainId: Int64, _ token: String) -> String {
            chains.first { $0.chainId == chainId }?.tokens.first { $0.contract.lowercased == token.lowercased() }?.stableCoin.code ?? "?"
        }
        func network(_ chainId: Int64) -> String { chains.first { $0.chainId == chainId }?.name ?? "chain \(chainId)" }
        for deposit in try await pages.accounts.deposits(accountId: account.id) where deposit.state != .dropped {
            history.append((deposit.detectedAt, [
                "kind": "deposit", "when": CheckoutPageRenderer.time(deposit.detectedAt), "what": "Deposit on \(network(deposit.chainId))",
                "detail": "tx \(deposit.transactionHash)", "sign": "+",
                "amount": AccountPages.amount(DecimalAmount(units: deposit.amount, scale: deposit.decimals)), "coin": coin(deposit.chainId, deposit.tokenContract),
                "state": deposit.state == .confirmed ? "Credited" : "Confirming",
            ]))
        }
        let payoutHashes = try await pages.accounts.payoutHashes(accountId: account.id)
        for transfer in try await pages.accounts.transfers(accountId: account.id) {
            let hash = payoutHashes[transfer.id]
            let what = transfer.kind == .payment
                ? "Payment for checkout \(transfer.intentId ?? "")" : "Withdrawal to \(EthereumAddress(transfer.to)?.checksummed ?? transfer.to)"
            let state: String = switch transfer.state {
            case .approved: "Approved"
            case .sending: "Sending"
            case .sent: "Sent"
            case .failed: "Failed — returned to your balance"
            }
            var row: [String: Any] = [
                "kind": transfer.kind.rawValue, "when": CheckoutPageRenderer.time(transfer.createdAt), "what": "\(what) on \(network(transfer.chainId))", "sign": "−",
                "amount": AccountPages.amount(transfer.decimalAmount), "coin": coin(transfer.chainId, transfer.tokenContract), "state": state,
            ]
            if let hash { row["detail"] = "tx \(hash)" }
            history.append((transfer.createdAt, row))
        }
        history.sort { $0.at > $1.at }
        let label = "Deposit address \(address)"
        return pages.page("home", title: "Your account", identity: identity, notice: notice, [
            "balances": balances.map { balance in
                [
                    "chainId": String(balance.chain.chainId), "coin": balance.token.stableCoin.code, "network": balance.chain.name,
                    "available": AccountPages.amount(balance.available), "arriving": AccountPages.amount(balance.arriving),
                ]
            },
            "address": address, "qr": QRCode(address)?.svg(label: label) ?? "", "coins": coins.isEmpty ? "USDT or USDC" : coins,
            "networks": chains.map(\.name).joined(separator: ", "),
            "confirmationsText": confirmations == "1" ? "1 confirmation" : "\(confirmations) confirmations",
            "history": history.map(\.row), "hasHistory": !history.isEmpty,
        ])
    }

    private func withdrawForm(_ identity: ShopperIdentity, form: [String: String], error: String?, status: HTTPResponse.Status) async throws -> Response {
        let balances = try await pages.payments.balances(of: identity.account)
        let chosen = form["option"]
        let options: [[String: Any]] = balances.enumerated().map { index, balance in
            let value = NetworkChoice(chainId: balance.chain.chainId, coin: balance.token.stableCoin).formValue
            return ["value": value, "coin": balance.token.stableCoin.code, "network": balance.chain.name,
                    "available": AccountPages.amount(balance.available), "checked": chosen.map { $0 == value } ?? (index == 0)]
        }
        return pages.page("withdraw", title: "Withdraw", identity: identity, status: status, error: error, [
            "options": options, "address": form["address"] ?? "", "amount": form["amount"] ?? "",
        ])
    }
}
