import BigInt
import Foundation
import Hummingbird
import StableGateDomain
import StableGateEthereum
import StableGateStore

/// Renders the hosted checkout page (swift-mustache templates in `Resources/templates`).
struct CheckoutPageRenderer: Sendable {
    /// What the customer asked to see.
    enum Mode: Sendable {
        case normal
        /// Choose another network or coin.
        case changeNetwork
        /// Show the deposit address again to pay what is missing.
        case topUp
        /// "Cancel this payment?"
        case confirmCancel
    }

    let templates: PageTemplates

    /// The one "not found" page; its language links are relative (`?lang=…`), so it is the same
    /// whatever path was asked for.
    func notFound(locale: CheckoutLocale) -> String {
        templates.render(NotFoundPage(lang: locale.languageTag, t: texts(locale), languages: languages(locale, path: "")), "not-found")
    }

    /// The answer of every public checkout page route to an unknown or malformed token.
    func notFoundResponse(_ request: Request) -> Response {
        PageTemplates.html(notFound(locale: CheckoutPageRoutes.locale(request)), status: .notFound)
    }

    func page(_ snapshot: CheckoutService.Snapshot, locale: CheckoutLocale, csrf: String, mode: Mode, error: String?) -> String {
        let intent = snapshot.intent
        let t = texts(locale)
        var model = CheckoutPage(
            lang: locale.languageTag, t: t, intentId: intent.id, path: snapshot.path, status: intent.status.rawValue, csrf: csrf,
            title: "\(t["pageTitle"]!) · \(snapshot.storeName)",
            store: .init(name: snapshot.storeName, initials: initials(snapshot.storeName), logoURL: snapshot.storeLogoURL),
            order: .init(description: intent.order.orderDescription, id: intent.order.orderId),
            languages: languages(locale, path: snapshot.path), error: error,
            amount: .init(coins: grouped(MoneyRules.wireString(intent.amountCoins)), coin: intent.settlementCoin.code))
        if case .fiat(let currency, let cents, let rate, _) = intent.pricing {
            model.amount.fiat = "\(grouped(DecimalAmount(units: BigUInt(cents), scale: 2).plainString(minimumFractionDigits: 2))) \(currency.code)"
            model.amount.rate = locale.text(.rate, ["coin": intent.settlementCoin.code, "rate": rate.plainString(), "fiat": currency.code])
        }

        let status = intent.status
        let network = snapshot.chain?.name ?? ""
        let coin = intent.settlementCoin.code
        let accountPaying = status == .tempWalletReceived && (snapshot.accountPayment.map { $0.state != .failed } ?? false)
        // Money already on its way from the shopper's account: no cancel, no other network.
        let cancelable = [.created, .paying, .tempWalletReceived].contains(status) && !snapshot.windowEnded && !accountPaying
        if mode == .confirmCancel && cancelable {
            model.confirmCancel = true
        } else {
            switch status {
            case .created, .paying:
                model.choose = true
            case .tempWalletReceived where accountPaying:
                let payment = snapshot.accountPayment!
                model.accountPaying = .init(
                    body: locale.text(
                        .accountPayingBody,
                        [
                            "amount": grouped(MoneyRules.wireString(payment.decimalAmount)), "coin": coin, "network": network,
                        ]))
            case .tempWalletReceived where mode == .changeNetwork:
                model.choose = true
            case .tempWalletReceived where snapshot.windowEnded:
                model.ended = ended("expired", locale.text(.expiredTitle), locale.text(.expiredBody), snapshot)
            case .tempWalletReceived:
                model.pay = payModel(snapshot, locale: locale, network: network, coin: coin, units: intent.deposit?.amountBaseUnits ?? 0)
            case .onChain where mode == .topUp && !snapshot.windowEnded && snapshot.missing > 0:
                model.pay = payModel(snapshot, locale: locale, network: network, coin: coin, units: snapshot.missing)
            case .onChain:
                let current = snapshot.confirmationsCurrent ?? Int64(snapshot.confirmationsRequired)
                let partial = snapshot.missing > 0 && !snapshot.windowEnded
                model.detected = CheckoutPage.Detected(
                    body: locale.text(.detectedBody, ["network": network]),
                    confirmations: locale.text(.confirmations, ["current": String(current), "required": String(snapshot.confirmationsRequired)]),
                    confirmationsTemplate: locale.text(.confirmations, ["current": "{current}", "required": "{required}"]),
                    current: current, required: snapshot.confirmationsRequired, partial: partial,
                    received: partial ? "\(snapshot.amount(snapshot.paid + snapshot.pending)) \(coin)" : nil,
                    remaining: partial ? "\(snapshot.amount(snapshot.missing)) \(coin)" : nil,
                    tx: snapshot.firstPayment.map(txModel))
            case .confirmed:
                let paid = intent.payment.actualPaidAmount.map(MoneyRules.wireString) ?? MoneyRules.wireString(intent.amountCoins)
                var note: String?
                if let over = intent.overpaidAmount { note = locale.text(.overpaidNote, ["amount": MoneyRules.wireString(over), "coin": coin]) }
                if let late = intent.latePaidAmount { note = locale.text(.lateNote, ["amount": MoneyRules.wireString(late), "coin": coin]) }
                model.fundSent = CheckoutPage.FundSent(
                    body: locale.text(.fundSentBody, ["amount": grouped(paid), "coin": coin, "network": network]),
                    tx: snapshot.firstPayment.map(txModel),
                    note: note)
            case .underpaid:
                let received = intent.payment.actualPaidAmount.map(MoneyRules.wireString) ?? snapshot.amount(snapshot.paid)
                let missing =
                    intent.deposit.map { deposit -> String in
                        let paidUnits = intent.payment.actualPaidAmount?.baseUnits(decimals: deposit.tokenDecimals) ?? snapshot.paid
                        return snapshot.amount(deposit.amountBaseUnits > paidUnits ? deposit.amountBaseUnits - paidUnits : 0)
                    } ?? "0.00"
                model.ended = ended(
                    "underpaid", locale.text(.underpaidTitle), locale.text(.underpaidBody, ["received": received, "missing": missing, "coin": coin]),
                    snapshot)
            case .rejected:
                model.ended = ended("rejected", locale.text(.rejectedTitle), locale.text(.rejectedBody), snapshot)
            case .canceled:
                model.ended = ended("canceled", locale.text(.canceledTitle), locale.text(.canceledBody), snapshot)
            case .timeout:
                model.ended = ended("expired", locale.text(.expiredTitle), locale.text(.expiredBody), snapshot)
            case .pendingManualOperation:
                model.ended = ended("review", locale.text(.reviewTitle), locale.text(.reviewBody), snapshot)
            case .sendBack:
                model.ended = ended("send-back", locale.text(.sendBackTitle), locale.text(.sendBackBody), snapshot)
            case .failed:
                model.ended = ended("failed", locale.text(.failedTitle), locale.text(.failedBody), snapshot)
            }
        }
        if snapshot.accountsEnabled, model.choose || model.pay != nil, mode != .topUp, status != .onChain {
            model.payWithAccount = snapshot.path + "/account"
        }
        if error == nil, status == .tempWalletReceived, snapshot.accountPayment?.state == .failed, model.accountPaying == nil {
            model.error = locale.text(.accountPaymentFailed)
        }
        if model.choose {
            let selected = intent.payment.chainId.map { NetworkChoice(chainId: $0, coin: intent.settlementCoin).formValue }
            model.options = snapshot.options.enumerated().map { index, option in
                let value = NetworkChoice(chainId: option.chain.chainId, coin: option.token.stableCoin).formValue
                return CheckoutPage.Option(
                    value: value, coin: option.token.stableCoin.code, network: option.chain.name,
                    checked: selected.map { $0 == value } ?? (index == 0))
            }
            model.hasOptions = !model.options.isEmpty
        }
        if status.isTerminal || (status == .tempWalletReceived && snapshot.windowEnded), let redirect = intent.order.redirectURL {
            model.returnURL = Self.returnURL(redirect, intentId: intent.id)
        }
        model.cancelable = cancelable && !model.confirmCancel
        if !status.isTerminal {
            model.live = true
            model.autoRefresh = model.pay != nil ? 15 : 8
        }
        return templates.render(model, "checkout")
    }

    private func payModel(
        _ snapshot: CheckoutService.Snapshot, locale: CheckoutLocale, network: String, coin: String, units: BigUInt
    ) -> CheckoutPage.Pay {
        let intent = snapshot.intent
        let address = snapshot.depositAddress ?? ""
        let amount = snapshot.amount(units)
        let contract = intent.payment.coinContract ?? ""
        let uri = PaymentURI.erc20Transfer(token: contract, chainId: snapshot.chain?.chainId ?? 0, recipient: address, baseUnits: units)
        let label = locale.text(.qrLabel, ["amount": amount, "coin": coin, "network": network, "address": address])
        let seconds = snapshot.secondsLeft ?? 0
        let symbol = snapshot.chain?.nativeCurrencySymbol
        return CheckoutPage.Pay(
            address: address, amount: amount, coin: coin, network: network, qr: QRCode(uri)?.svg(label: label) ?? "",
            sendOnly: locale.text(.sendOnly, ["coin": coin, "network": network]), secondsLeft: seconds,
            timeLeft: String(format: "%d:%02d", seconds / 60, seconds % 60),
            payBefore: locale.text(.payBefore, ["time": intent.deposit.map { Self.time($0.expiresAt) } ?? ""]),
            chainIdHex: "0x" + String(snapshot.chain?.chainId ?? 0, radix: 16), tokenContract: contract,
            unitsHex: String(units, radix: 16), expiresEpoch: intent.deposit.map { Int64($0.expiresAt.timeIntervalSince1970) } ?? 0,
            walletPay: locale.text(.walletPay, ["amount": amount, "coin": coin]),
            walletSwitch: locale.text(.walletSwitch, ["network": network]),
            walletRPC: snapshot.chain?.walletRPCURL, nativeSymbol: symbol, nativeName: symbol.map { snapshot.chain?.nativeCurrencyName ?? $0 })
    }

    private func ended(_ kind: String, _ title: String, _ body: String, _ snapshot: CheckoutService.Snapshot) -> CheckoutPage.Ended {
        CheckoutPage.Ended(kind: kind, title: title, body: body, tx: snapshot.firstPayment.map(txModel))
    }

    private func txModel(_ view: CheckoutService.TransactionView) -> CheckoutPage.Transaction {
        CheckoutPage.Transaction(hash: view.transfer.transactionHash, explorer: view.explorerURL)
    }

    private func texts(_ locale: CheckoutLocale) -> [String: String] {
        Dictionary(uniqueKeysWithValues: CheckoutText.allCases.map { ($0.rawValue, locale.text($0)) })
    }

    private func languages(_ current: CheckoutLocale, path: String) -> [CheckoutPage.Language] {
        CheckoutLocale.allCases.map { .init(code: $0.languageTag, name: $0.nativeName, current: $0 == current, href: "\(path)?lang=\($0.rawValue)") }
    }

    /// The merchant's return link with the intent id added as a query parameter.
    static func returnURL(_ redirect: String, intentId: String) -> String {
        guard var components = URLComponents(string: redirect) else { return redirect }
        components.queryItems = (components.queryItems ?? []) + [URLQueryItem(name: "allscale_checkout_intent_id", value: intentId)]
        return components.string ?? redirect
    }

    private func initials(_ name: String) -> String {
        let words = name.split(whereSeparator: { $0 == " " || $0 == "-" }).prefix(2)
        return words.compactMap { $0.first.map { String($0).uppercased() } }.joined()
    }

    /// 12345.67 → 12,345.67 (display only; copy buttons copy the plain number).
    func grouped(_ plain: String) -> String {
        let parts = plain.split(separator: ".", maxSplits: 1)
        var integer = String(parts[0])
        var groups: [String] = []
        while integer.count > 3 {
            groups.insert(String(integer.suffix(3)), at: 0)
            integer.removeLast(3)
        }
        groups.insert(integer, at: 0)
        return groups.joined(separator: ",") + (parts.count > 1 ? "." + parts[1] : "")
    }

    /// `yyyy-MM-dd HH:mm` in UTC, as the pages print times.
    static func time(_ date: Date) -> String { PageTemplates.utcTime(date, format: "yyyy-MM-dd HH:mm") }
}
