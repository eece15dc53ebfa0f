import BigInt
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Mustache
import StableGateDomain
import StableGateEthereum
import StableGateStore

/// "Pay with StableGate account" on the checkout page: log in → balances per
/// network → choose → review amount and estimated network fee → approve. Approving debits the
/// balance and queues the on-chain transfer to the intent's deposit address; the normal
/// detection then completes the intent.
struct ShopperCheckoutRoutes {
    let pages: ShopperPages
    let checkout: CheckoutService

    /// Where a request without a session goes: the login page, back to this checkout afterwards.
    @Sendable static func loginFirst(_ request: Request, context: GatewayRequestContext) -> Response {
        ShopperPages.login(next: CheckoutLinks.path(token: context.parameters.get("token") ?? "") + "/account")
    }

    /// A form whose CSRF token did not match the session.
    @Sendable func refuseStaleForm(_ request: Request, context: ShopperContext) async throws -> Response {
        pages.staleForm(context.identity, link: CheckoutLinks.path(token: try context.parameters.require("token")) + "/account")
    }

    /// The shopper's balances on the checkout's networks, to choose one.
    @Sendable func networks(_ request: Request, context: ShopperContext) async throws -> Response {
        try await choose(token: try context.parameters.require("token"), identity: context.identity, error: nil, status: .ok)
    }

    /// The amount and the estimated network fee on the chosen network, to approve.
    @Sendable func review(_ request: Request, context: ShopperContext) async throws -> Response {
        let token = try context.parameters.require("token")
        let identity = context.identity
        guard let (intent, path, storeName, options) = try await payable(token: token) else {
            return PageTemplates.seeOther(CheckoutLinks.path(token: token))
        }
        guard let option = options.first(where: { $0.value == context.form["option"] }) else {
            return try await choose(token: token, identity: identity, error: "Choose a network to pay on.", status: .badRequest)
        }
        let balances = try await pages.payments.balances(of: identity.account)
        let available = ShopperPaymentService.available(balances, chain: option.chain, token: option.token)
        guard available >= intent.amountCoins else {
            return try await choose(
                token: token, identity: identity, error: "Your \(option.token.stableCoin.code) balance on \(option.chain.name) is not enough.",
                status: .conflict)
        }
        let units = intent.amountCoins.baseUnits(decimals: option.token.decimals) ?? 0
        let gas = await pages.payments.estimatedNetworkFee(chain: option.chain, token: option.token, account: identity.account, amount: units)
        return pages.page(
            "pay", title: "Review payment", identity: identity,
            PayPage(
                checkout: summary(intent, path: path, storeName: storeName),
                step: PayReviewStep(
                    option: option.value, amount: ShopperPages.amount(intent.amountCoins), coin: option.token.stableCoin.code,
                    network: option.chain.name, available: ShopperPages.amount(available),
                    gas: gas.map { "\(MoneyRules.wireString($0)) \(option.chain.nativeCurrencySymbol ?? "ETH")" } ?? "unknown now")))
    }

    /// Debits the balance and queues the on-chain transfer to the intent's deposit address.
    @Sendable func approve(_ request: Request, context: ShopperContext) async throws -> Response {
        let token = try context.parameters.require("token")
        let identity = context.identity
        guard let id = context.checkoutIntentId else {
            throw APIErrorResponse.internalMisconfiguration("checkout account route reached without its token check")
        }
        guard let choice = NetworkChoice(formValue: context.form["option"]) else {
            return try await choose(token: token, identity: identity, error: "Choose a network to pay on.", status: .badRequest)
        }
        do {
            let transfer = try await pages.payments.approvePayment(
                intentId: id, account: identity.account, chainId: choice.chainId, coin: choice.coin)
            context.logger.info(
                transfer.accountId == identity.account.id ? "account payment approved" : "order already being paid by another account",
                metadata: [
                    "intent_id": "\(id)", "account_id": "\(identity.account.id)", "transfer_id": "\(transfer.id)", "chain_id": "\(transfer.chainId)",
                ])
        } catch LedgerError.insufficientFunds {
            return try await choose(
                token: token, identity: identity, error: "Your balance is not enough for this payment. Nothing was taken.", status: .conflict)
        } catch let error as APIError where error.code != .notFound {
            return try await choose(token: token, identity: identity, error: "Not paid: \(error.message)", status: .conflict)
        }
        return PageTemplates.seeOther(CheckoutLinks.path(token: token))
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
        for option in options where ShopperPaymentService.available(balances, chain: option.chain, token: option.token) >= intent.amountCoins {
            if firstPayable == nil || option.value == selected { firstPayable = option.value }
        }
        let rows = options.map { option in
            let available = ShopperPaymentService.available(balances, chain: option.chain, token: option.token)
            return PayChoiceStep.Option(
                value: option.value, coin: option.token.stableCoin.code, network: option.chain.name, available: ShopperPages.amount(available),
                enough: available >= intent.amountCoins, checked: option.value == firstPayable)
        }
        return pages.page(
            "pay", title: "Pay with your StableGate account", identity: identity, status: status, error: error,
            PayPage(checkout: summary(intent, path: path, storeName: storeName), step: PayChoiceStep(options: rows, hasPayable: firstPayable != nil)))
    }

    private func summary(_ intent: CheckoutIntent, path: String, storeName: String) -> PayCheckoutSummary {
        PayCheckoutSummary(
            intentId: intent.id, checkoutPath: path, amountCoins: ShopperPages.amount(intent.amountCoins), amountCoin: intent.settlementCoin.code,
            storeName: storeName, orderId: intent.order.orderId)
    }
}

/// "Pay with StableGate account": the checkout it pays, then its step — choosing the network,
/// or reviewing the payment.
struct PayPage<Step: Sendable>: Sendable, MustacheParent {
    let checkout: PayCheckoutSummary
    let step: Step

    /// A template names the step's members and the checkout's alike.
    func child(named name: String) -> Any? { LayeredModel(step, checkout).child(named: name) }
}

/// The checkout being paid.
struct PayCheckoutSummary: Sendable {
    let intentId, checkoutPath, amountCoins, amountCoin, storeName: String
    let orderId: String?
}

/// The balances on the checkout's networks, to choose one.
struct PayChoiceStep: Sendable {
    struct Option: Sendable {
        let value, coin, network, available: String
        let enough, checked: Bool
    }

    let options: [Option]
    let hasPayable: Bool
}

/// The payment to approve.
struct PayReviewStep: Sendable {
    let review = true
    let option, amount, coin, network, available, gas: String
}
