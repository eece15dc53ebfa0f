import Foundation
import HTTPTypes
import Hummingbird
import StableGateEthereum
import StableGateDomain
import StableGateStore


/// "Pay with StableGate account" on the checkout page (seed 004 §1.2): log in → balances per
/// network → choose → review amount and estimated network fee → approve. Approving debits the
/// balance and queues the on-chain transfer to the intent's deposit address; the normal
/// detection then completes the intent.
struct CheckoutAccountRoutes {
    let pages: AccountPages
    let checkout: CheckoutService
    let limiter: ClientRateLimiter
    /// For the one 404 page of every public checkout route.
    let renderer: CheckoutPageRenderer

    func register(on router: Router<GatewayRequestContext>) {
        router.get("checkout/:token/account") { request, context in
            try limit(context)
            let token = try context.parameters.require("token")
            // An unknown token gets the checkout's 404 page, logged in or not, like every other route.
            guard try await opened(token) != nil else { return renderer.notFoundResponse(request) }
            guard let identity = try await pages.identity(request) else { return AccountPages.login(next: CheckoutLinks.path(token: token) + "/account") }
            return try await choose(token: token, identity: identity, error: nil, status: .ok)
        }
        router.post("checkout/:token/account/review") { request, context in
            try limit(context)
            let token = try context.parameters.require("token")
            guard try await opened(token) != nil else { return renderer.notFoundResponse(request) }
            guard let identity = try await pages.identity(request) else { return AccountPages.login(next: CheckoutLinks.path(token: token) + "/account") }
            let form = try await AccountPages.form(request)
            guard SessionManager.csrfMatches(identity.session, form["csrf"]) else { return pages.staleForm(identity, link: CheckoutLinks.path(token: token) + "/account") }
            guard let (intent, path, storeName, options) = try await payable(token: token) else { return PageTemplates.seeOther(CheckoutLinks.path(token: token)) }
            guard let option = options.first(where: { $0.value == form["option"] }) else {
                return try await choose(token: token, identity: identity, error: "Choose a network to pay on.", status: .badRequest)
            }
            let balances = try await pages.payments.balances(of: identity.account)
            let available = AccountPaymentService.available(balances, chain: option.chain, token: option.token)
            guard available >= intent.amountCoins else {
                return try await choose(token: token, identity: identity, error: "Your \(option.token.stableCoin.code) balance on \(option.chain.name) is not enough.", status: .conflict)
            }
            let units = intent.amountCoins.baseUnits(decimals: option.token.decimals) ?? 0
            let gas = await pages.payments.estimatedNetworkFee(chain: option.chain, token: option.token, account: identity.account, amount: units)
            return pages.page("pay", title: "Review payment", identity: identity, header(intent, path: path, storeName: storeName).merging([
                "review": true, "option": option.value, "amount": AccountPages.amount(intent.amountCoins), "coin": option.token.stableCoin.code,
                "network": option.chain.name, "available": AccountPages.amount(available),
                "gas": gas.map { "\(MoneyRules.wireString($0)) \(option.chain.nativeCurrencySymbol ?? "ETH")" } ?? "unknown now",
            ]) { _, new in new })
        }
        router.post("checkout/:token/account/approve") { request, context in
            try limit(context)
            let token = try context.parameters.require("token")
            guard let id = try await opened(token)?.id else { return renderer.notFoundResponse(request) }
            guard let identity = try await pages.identity(request) else { return AccountPages.login(next: CheckoutLinks.path(token: token) + "/account") }
            let form = try await AccountPages.form(request)
            guard SessionManager.csrfMatches(identity.session, form["csrf"]) else { return pages.staleForm(identity, link: CheckoutLinks.path(token: token) + "/account") }
            guard let choice = NetworkChoice(formValue: form["option"]) else {
                return try await choose(token: token, identity: identity, error: "Choose a network to pay on.", status: .badRequest)
            }
            do {
                let transfer = try await pages.payments.approvePayment(intentId: id, account: identity.account, chainId: choice.chainId, coin: choice.coin)
                context.logger.info(transfer.accountId == identity.account.id ? "account payment approved" : "order already being paid by another account", metadata: [
                    "intent_id": "\(id)", "account_id": "\(identity.account.id)", "transfer_id": "\(transfer.id)", "chain_id": "\(transfer.chainId)",
                ])
            } catch LedgerError.insufficientFunds {
                return try await choose(token: token, identity: identity, error: "Your balance is not enough for this payment. Nothing was taken.", status: .conflict)
            } catch let error as APIError where error.code != .notFound {
                return try await choose(token: token, identity: identity, error: "Not paid: \(error.message)", status: .conflict)
            }
            return PageTemplates.seeOther(CheckoutLinks.path(token: token))
        }
    }

    /// The intent `token` opens, nil for an unknown or malformed token.
    private func opened(_ token: String) async throws -> CheckoutIntent? {
        do {
            return try await checkout.intent(token: token)
        } catch let failure as APIError where failure.code == .notFound {
            return nil
        }
    }

    private struct Option {
        let chain: ChainConfiguration
        let token: TokenConfiguration
        var value: String { NetworkChoice(chainId: chain.chainId, coin: token.stableCoin).formValue }
    }

    /// The intent and its networks when it can still be paid from an account; nil when it is
    /// paid, on its way, or over (the checkout page says which).
    private func payable(token: String) async throws -> (intent: CheckoutIntent, path: String, storeName: String, options: [Option])? {
        let snapshot = try await checkout.snapshot(token: token)
        let intent = snapshot.intent
        guard [.created, .paying, .tempWalletReceived].contains(intent.status), !snapshot.windowEnded, intent.payment.txHash == nil,
            snapshot.accountPayment.map({ $0.state == .failed }) ?? true
        else { return nil }
        return (intent, snapshot.path, snapshot.storeName, snapshot.options.map { Option(chain: $0.chain, token: $0.token) })
    }

    private func choose(token: String, identity: ShopperIdentity, error: String?, status: HTTPResponse.Status) async throws -> Response {
        let found: (intent: CheckoutIntent, path: String, storeName: String, options: [Option])?
        do {
            found = try await payable(token: token)
        } catch let failure as APIError where failure.code == .notFound {
            return pages.message("Checkout not found", "There is no checkout at this address.", identity: identity, status: .notFound)
        }
        guard let (intent, path, storeName, options) = found else { return PageTemplates.seeOther(CheckoutLinks.path(token: token)) }
        let balances = try await pages.payments.balances(of: identity.account)
        let selected = intent.payment.chainId.map { NetworkChoice(chainId: $0, coin: intent.settlementCoin).formValue }
        var firstPayable: String?
        let rows: [[String: Any]] = options.map { option in
            let available = AccountPaymentService.available(balances, chain: option.chain, token: option.token)
            let enough = available >= intent.amountCoins
            if enough, firstPayable == nil || option.value == selected { firstPayable = option.value }
            return ["value": option.value, "coin": option.token.stableCoin.code, "network": option.chain.name,
                    "available": AccountPages.amount(available), "enough": enough]
        }
        let marked = rows.map { row in row.merging(["checked": row["value"] as? String == firstPayable]) { _, new in new } }
        return pages.page("pay", title: "Pay with your StableGate account", identity: identity, status: status, error: error,
                          header(intent, path: path, storeName: storeName).merging(["options": marked, "hasPayable": firstPayable != nil]) { _, new in new })
    }

    private func header(_ intent: CheckoutIntent, path: String, storeName: String) -> [String: Any] {
        var model: [String: Any] = [
            "intentId": intent.id, "checkoutPath": path, "amountCoins": AccountPages.amount(intent.amountCoins), "amountCoin": intent.settlementCoin.code, "storeName": storeName,
        ]
        if let orderId = intent.order.orderId { model["orderId"] = orderId }
        return model
    }

    private func limit(_ context: GatewayRequestContext) throws {
        try limiter.admit(context, now: pages.clock.now)
    }
}
